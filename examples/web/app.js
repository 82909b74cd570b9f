/*
 * Example frontend for contentapi: plain JavaScript, no build step.
 *
 * Routes (in the URL hash):
 *   #/                               every treatment
 *   #/?indication=<slug>&q=<words>   the list, filtered and/or searched
 *   #/treatment/<slug>               one treatment
 *
 * Everything from the API is inserted as text (textContent), except
 * Treatment.html, which the server sanitises and which goes (via innerHTML)
 * only into the article body, and search snippets, whose <mark> tags are
 * rebuilt from an inert parse (see appendSnippet).
 */
(function () {
  'use strict';

  var PAGE_SIZE = 50; // literal page sizes: the server prices a variable `first` at its maximum
  var SEARCH_SIZE = 20;
  var DEBOUNCE_MS = 250;

  var ENDPOINT = new URL(
    document.body.getAttribute('data-endpoint') || '../graphql',
    window.location.href
  ).toString();

  // Pictures come with an srcset of copies the server makes (WebP, sized for a card or
  // the carousel) and a tiny blurred preview shown until the picture arrives.
  var CARD_IMAGE = 'url width height alt srcSet(widths: [240, 480, 960], format: WEBP) placeholder';
  var LIST_FIELDS = 'slug title summary images { ' + CARD_IMAGE + ' }';
  // A card is a grid cell, 18rem to twice that wide (style.css), the whole width on a phone.
  var CARD_SIZES = '(min-width: 40rem) 24rem, 100vw';

  var TREATMENTS_QUERY =
    'query ExampleTreatments($after: String, $indication: String) {' +
    '  treatments(first: ' + PAGE_SIZE + ', after: $after, filter: { indication: $indication }) {' +
    '    totalCount pageInfo { hasNextPage endCursor } nodes { ' + LIST_FIELDS + ' }' +
    '  }' +
    '}';

  var SEARCH_QUERY =
    'query ExampleSearch($query: String!) {' +
    '  search(query: $query, first: ' + SEARCH_SIZE + ') {' +
    '    snippet treatment { ' + LIST_FIELDS + ' indications { slug } }' +
    '  }' +
    '}';

  var INDICATIONS_QUERY =
    'query ExampleIndications($after: String) {' +
    '  indications(first: 100, after: $after) {' +
    '    pageInfo { hasNextPage endCursor } nodes { slug name treatmentCount }' +
    '  }' +
    '}';

  var TREATMENT_QUERY =
    'query ExampleTreatment($slug: String!) {' +
    '  treatment(slug: $slug) {' +
    '    slug title html' +
    '    images { url width height alt title placeholder' +
    '      srcSet(widths: [320, 640, 960, 1280], format: WEBP) }' +
    '    indications { slug name }' +
    '  }' +
    '}';

  // Only a site whose content model (content/admin/config.yml, Decap CMS's) declares a
  // practitioners collection pointing at treatments has this field: asked for apart, so
  // the page still shows on a site without one (the section stays hidden).
  var PRACTITIONERS_QUERY =
    'query ExampleTreatmentPractitioners($slug: String!) {' +
    '  treatment(slug: $slug) { practitionersByTreatments { slug title role languages } }' +
    '}';

  function byTestId(id) {
    return document.querySelector('[data-testid="' + id + '"]');
  }

  var ui = {
    listView: byTestId('list-view'),
    controls: byTestId('controls'),
    search: byTestId('search'),
    filter: byTestId('indication-filter'),
    status: byTestId('status'),
    list: byTestId('treatment-list'),
    loadMore: byTestId('load-more'),
    treatmentView: byTestId('treatment-view'),
    title: byTestId('treatment-title'),
    error: byTestId('treatment-error'),
    images: byTestId('treatment-images'),
    body: byTestId('treatment-body'),
    indicationsSection: byTestId('treatment-indications-section'),
    indications: byTestId('treatment-indications'),
    practitionersSection: byTestId('treatment-practitioners-section'),
    practitioners: byTestId('treatment-practitioners'),
  };

  var indicationNames = {}; // slug -> name, once the filter is filled
  var listController = null; // aborts the list request a newer one replaces
  var listKey = null; // what the list on screen shows, to skip reloading it
  var listCursor = null;
  var lastStatus = null; // arguments of the last listStatus, to redo it when names arrive
  var treatmentController = null;

  // ---- GraphQL --------------------------------------------------------------

  function graphql(query, variables, signal) {
    return fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ query: query, variables: variables || {} }),
      credentials: 'same-origin',
      signal: signal,
    }).then(function (response) {
      return response.json().then(
        function (payload) {
          if (payload.errors && payload.errors.length) {
            throw new Error(
              payload.errors
                .map(function (error) {
                  return error.message;
                })
                .join('; ')
            );
          }
          if (!response.ok) throw new Error('HTTP ' + response.status);
          return payload.data;
        },
        function () {
          throw new Error('HTTP ' + response.status + ' (not JSON)');
        }
      );
    });
  }

  function isAbort(error) {
    return error && error.name === 'AbortError';
  }

  // ---- Routing --------------------------------------------------------------

  function parseRoute() {
    var hash = window.location.hash.replace(/^#/, '') || '/';
    var question = hash.indexOf('?');
    var path = question === -1 ? hash : hash.slice(0, question);
    var params = new URLSearchParams(question === -1 ? '' : hash.slice(question + 1));
    var match = /^\/treatment\/([^/]+)\/?$/.exec(path);
    if (match) {
      try {
        return { view: 'treatment', slug: decodeURIComponent(match[1]) };
      } catch (error) {
        return { view: 'treatment', slug: match[1] };
      }
    }
    return {
      view: 'list',
      q: (params.get('q') || '').trim(),
      indication: params.get('indication') || '',
    };
  }

  function listHash(q, indication) {
    var params = new URLSearchParams();
    if (q) params.set('q', q);
    if (indication) params.set('indication', indication);
    var query = params.toString();
    return '#/' + (query ? '?' + query : '');
  }

  function treatmentHash(slug) {
    return '#/treatment/' + encodeURIComponent(slug);
  }

  function render() {
    // #/native/... is native.js's view, drawn from Treatment.ast alone.
    if (/^#\/native[/?]/.test(window.location.hash)) {
      ui.listView.hidden = true;
      ui.treatmentView.hidden = true;
      return;
    }
    var route = parseRoute();
    if (route.view === 'treatment') {
      ui.listView.hidden = true;
      ui.treatmentView.hidden = false;
      showTreatment(route.slug);
    } else {
      ui.treatmentView.hidden = true;
      ui.listView.hidden = false;
      document.title = 'Treatments · contentapi example';
      if (ui.search.value.trim() !== route.q) ui.search.value = route.q;
      setFilterValue(route.indication);
      loadList(route.q, route.indication);
    }
  }

  // ---- The list -------------------------------------------------------------

  function setStatus(text, isError) {
    ui.status.textContent = text;
    ui.status.classList.toggle('is-error', Boolean(isError));
  }

  function plural(count, noun) {
    return count + ' ' + noun + (count === 1 ? '' : 's');
  }

  function loadList(q, indication) {
    var key = JSON.stringify([q, indication]);
    if (key === listKey) return;
    if (listController) listController.abort();
    listController = new AbortController();
    var signal = listController.signal;
    listKey = key;
    listCursor = null;
    lastStatus = null;
    ui.loadMore.hidden = true;
    ui.list.setAttribute('aria-busy', 'true');
    setStatus('Loading…');

    var request = q
      ? graphql(SEARCH_QUERY, { query: q }, signal).then(function (data) {
          var hits = data.search.filter(function (hit) {
            return (
              !indication ||
              hit.treatment.indications.some(function (item) {
                return item.slug === indication;
              })
            );
          });
          return { items: hits, total: hits.length, search: true };
        })
      : graphql(TREATMENTS_QUERY, { indication: indication || null }, signal).then(function (data) {
          var connection = data.treatments;
          return {
            items: connection.nodes.map(function (node) {
              return { treatment: node };
            }),
            total: connection.totalCount,
            pageInfo: connection.pageInfo,
          };
        });

    request.then(
      function (result) {
        if (signal.aborted) return;
        ui.list.replaceChildren.apply(ui.list, result.items.map(treatmentItem));
        ui.list.removeAttribute('aria-busy');
        listStatus(q, indication, result.total, result.search);
        updateLoadMore(result.pageInfo);
      },
      function (error) {
        if (isAbort(error) || signal.aborted) return;
        listKey = null; // let the same list be tried again
        ui.list.replaceChildren();
        ui.list.removeAttribute('aria-busy');
        setStatus('Could not load treatments: ' + error.message, true);
      }
    );
  }

  function listStatus(q, indication, total, isSearch) {
    lastStatus = [q, indication, total, isSearch];
    var text = total === 0 ? 'No treatments' : plural(total, 'treatment');
    if (isSearch) text += ' matching “' + q + '”';
    if (indication) text += ' for ' + (indicationNames[indication] || indication);
    setStatus(text + '.');
  }

  function updateLoadMore(pageInfo) {
    listCursor = pageInfo && pageInfo.hasNextPage ? pageInfo.endCursor : null;
    ui.loadMore.hidden = !listCursor;
  }

  function loadMore() {
    var route = parseRoute();
    if (!listCursor || route.view !== 'list' || route.q) return;
    var signal = listController ? listController.signal : undefined;
    ui.loadMore.disabled = true;
    graphql(TREATMENTS_QUERY, { after: listCursor, indication: route.indication || null }, signal)
      .then(
        function (data) {
          var connection = data.treatments;
          connection.nodes.forEach(function (node) {
            ui.list.appendChild(treatmentItem({ treatment: node }));
          });
          updateLoadMore(connection.pageInfo);
        },
        function (error) {
          if (!isAbort(error)) setStatus('Could not load more treatments: ' + error.message, true);
        }
      )
      .then(function () {
        ui.loadMore.disabled = false;
      });
  }

  function treatmentItem(hit) {
    var treatment = hit.treatment;
    var item = document.createElement('li');
    item.className = 'treatment-item';
    item.setAttribute('data-testid', 'treatment-item');
    item.setAttribute('data-slug', treatment.slug);

    var link = document.createElement('a');
    link.className = 'treatment-link';
    link.href = treatmentHash(treatment.slug);

    var image = treatment.images[0];
    if (image) {
      var img = imageElement(image, CARD_SIZES);
      img.setAttribute('data-testid', 'treatment-item-image');
      img.loading = 'lazy';
      link.appendChild(img);
    } else {
      var placeholder = document.createElement('div');
      placeholder.className = 'no-image';
      placeholder.setAttribute('aria-hidden', 'true');
      link.appendChild(placeholder);
    }

    var title = document.createElement('h2');
    title.setAttribute('data-testid', 'treatment-item-title');
    title.textContent = treatment.title;
    link.appendChild(title);
    item.appendChild(link);

    var text = document.createElement('p');
    text.className = 'treatment-summary';
    if (hit.snippet) {
      appendSnippet(text, hit.snippet);
    } else if (treatment.summary) {
      text.textContent = treatment.summary;
    }
    if (text.firstChild) item.appendChild(text);
    return item;
  }

  // A snippet is HTML-escaped text with matches in <mark>. It is parsed inert
  // (DOMParser runs no scripts and loads nothing) and rebuilt from text and
  // <mark> only, so nothing else can get in.
  function appendSnippet(parent, snippet) {
    var parsed = new DOMParser().parseFromString('<body>' + snippet, 'text/html');
    parsed.body.childNodes.forEach(function (node) {
      if (node.nodeType === Node.ELEMENT_NODE && node.nodeName === 'MARK') {
        var mark = document.createElement('mark');
        mark.textContent = node.textContent;
        parent.appendChild(mark);
      } else {
        parent.appendChild(document.createTextNode(node.textContent));
      }
    });
  }

  // `sizes` tells the browser how wide the picture is shown, so it fetches the
  // smallest copy of the srcset that is sharp there; `src` stays the file itself for
  // browsers without srcset. The placeholder (a data: URI under 1 KB) is the picture's
  // background until it has loaded.
  function imageElement(image, sizes) {
    var img = document.createElement('img');
    if (image.srcSet) {
      img.srcset = image.srcSet;
      img.sizes = sizes || (image.width ? carouselSizes(image.width) : '100vw');
    }
    img.src = image.url;
    if (image.width) img.width = image.width;
    if (image.height) img.height = image.height;
    img.alt = image.alt || '';
    img.decoding = 'async';
    if (image.placeholder) {
      img.classList.add('has-placeholder');
      img.style.backgroundImage = 'url("' + image.placeholder + '")';
    }
    img.addEventListener('load', function () {
      img.classList.remove('has-placeholder');
      img.style.backgroundImage = '';
    });
    img.addEventListener('error', function () {
      img.classList.remove('has-placeholder');
      img.style.backgroundImage = '';
      img.classList.add('is-broken');
    });
    return img;
  }

  // A carousel picture is shown at its own width, at most 80% of the window (style.css).
  function carouselSizes(width) {
    return '(max-width: ' + Math.ceil(width / 0.8) + 'px) 80vw, ' + width + 'px';
  }

  // ---- The indication filter ------------------------------------------------

  function loadIndications(after, collected) {
    return graphql(INDICATIONS_QUERY, { after: after || null }).then(function (data) {
      var connection = data.indications;
      var all = (collected || []).concat(connection.nodes);
      if (connection.pageInfo.hasNextPage && connection.nodes.length) {
        return loadIndications(connection.pageInfo.endCursor, all);
      }
      return all;
    });
  }

  function fillFilter(indications) {
    var options = indications.map(function (indication) {
      indicationNames[indication.slug] = indication.name;
      var option = document.createElement('option');
      option.value = indication.slug;
      option.textContent = indication.name + ' (' + indication.treatmentCount + ')';
      return option;
    });
    var all = document.createElement('option');
    all.value = '';
    all.textContent = 'All indications';
    ui.filter.replaceChildren.apply(ui.filter, [all].concat(options));
    ui.filter.setAttribute('data-loaded', 'true');
    var route = parseRoute();
    if (route.view === 'list') {
      setFilterValue(route.indication);
      listStatusRefresh();
    }
  }

  function setFilterValue(slug) {
    if (slug && !ui.filter.querySelector('option[value="' + CSS.escape(slug) + '"]')) {
      var option = document.createElement('option');
      option.value = slug;
      option.textContent = indicationNames[slug] || slug;
      ui.filter.appendChild(option);
    }
    ui.filter.value = slug;
  }

  // The status names the indication; once names are known, say it again.
  function listStatusRefresh() {
    if (lastStatus && ui.list.getAttribute('aria-busy') !== 'true') {
      listStatus.apply(null, lastStatus);
    }
  }

  // ---- One treatment --------------------------------------------------------

  function showTreatment(slug) {
    if (treatmentController) treatmentController.abort();
    treatmentController = new AbortController();
    var signal = treatmentController.signal;
    ui.treatmentView.setAttribute('aria-busy', 'true');
    ui.treatmentView.removeAttribute('data-slug');
    ui.title.textContent = 'Loading…';
    ui.error.hidden = true;
    ui.images.replaceChildren();
    ui.body.replaceChildren();
    ui.indications.replaceChildren();
    ui.indicationsSection.hidden = true;
    ui.practitioners.replaceChildren();
    ui.practitionersSection.hidden = true;
    window.scrollTo(0, 0);

    graphql(TREATMENT_QUERY, { slug: slug }, signal).then(
      function (data) {
        if (signal.aborted) return;
        ui.treatmentView.removeAttribute('aria-busy');
        var treatment = data.treatment;
        if (!treatment) {
          showTreatmentError('Not found', 'There is no treatment “' + slug + '”.');
          return;
        }
        fillTreatment(treatment);
        loadPractitioners(slug, signal);
      },
      function (error) {
        if (isAbort(error) || signal.aborted) return;
        ui.treatmentView.removeAttribute('aria-busy');
        showTreatmentError('Could not load the treatment', error.message);
      }
    );
  }

  function loadPractitioners(slug, signal) {
    graphql(PRACTITIONERS_QUERY, { slug: slug }, signal).then(
      function (data) {
        if (signal.aborted || !data.treatment) return;
        var people = data.treatment.practitionersByTreatments;
        ui.practitioners.replaceChildren.apply(
          ui.practitioners,
          people.map(function (person) {
            var item = document.createElement('li');
            item.setAttribute('data-testid', 'treatment-practitioner');
            item.setAttribute('data-slug', person.slug);
            var name = document.createElement('strong');
            name.textContent = person.title;
            item.appendChild(name);
            var about = [person.role].concat(
              person.languages.length ? ['speaks ' + person.languages.join(', ')] : []
            );
            item.appendChild(document.createTextNode(' · ' + about.join(' · ')));
            return item;
          })
        );
        ui.practitionersSection.hidden = people.length === 0;
      },
      function () {
        // No content model with practitioners on this site: nothing to show.
      }
    );
  }

  function showTreatmentError(title, message) {
    ui.title.textContent = title;
    document.title = title + ' · contentapi example';
    ui.error.textContent = message;
    ui.error.hidden = false;
  }

  function fillTreatment(treatment) {
    document.title = treatment.title + ' · contentapi example';
    ui.treatmentView.setAttribute('data-slug', treatment.slug);
    ui.title.textContent = treatment.title;

    ui.images.replaceChildren.apply(
      ui.images,
      treatment.images.map(function (image) {
        var figure = document.createElement('figure');
        var img = imageElement(image);
        img.setAttribute('data-testid', 'treatment-image');
        figure.appendChild(img);
        if (image.title) {
          var caption = document.createElement('figcaption');
          caption.textContent = image.title;
          figure.appendChild(caption);
        }
        return figure;
      })
    );
    ui.images.hidden = treatment.images.length === 0;

    // Treatment.html is sanitised by the server (nh3); it is the only HTML inserted.
    ui.body.innerHTML = treatment.html;

    ui.indications.replaceChildren.apply(
      ui.indications,
      treatment.indications.map(function (indication) {
        var item = document.createElement('li');
        var link = document.createElement('a');
        link.href = listHash('', indication.slug);
        link.setAttribute('data-testid', 'treatment-indication');
        link.setAttribute('data-slug', indication.slug);
        link.textContent = indication.name;
        item.appendChild(link);
        return item;
      })
    );
    ui.indicationsSection.hidden = treatment.indications.length === 0;
    ui.title.focus({ preventScroll: true });
  }

  // ---- Wiring ---------------------------------------------------------------

  var searchTimer = null;

  function onSearchInput() {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(function () {
      var q = ui.search.value.trim();
      var indication = ui.filter.value;
      // Typing replaces the history entry instead of adding one per keystroke.
      window.history.replaceState(null, '', listHash(q, indication));
      loadList(q, indication);
    }, DEBOUNCE_MS);
  }

  ui.controls.addEventListener('submit', function (event) {
    event.preventDefault();
    window.clearTimeout(searchTimer);
    var q = ui.search.value.trim();
    window.history.replaceState(null, '', listHash(q, ui.filter.value));
    loadList(q, ui.filter.value);
  });
  ui.search.addEventListener('input', onSearchInput);
  ui.filter.addEventListener('change', function () {
    window.clearTimeout(searchTimer);
    window.location.hash = listHash(ui.search.value.trim(), ui.filter.value);
  });
  ui.loadMore.addEventListener('click', loadMore);
  window.addEventListener('hashchange', render);

  loadIndications().then(fillFilter, function (error) {
    ui.filter.disabled = true;
    setStatus('Could not load indications: ' + error.message, true);
  });
  render();
})();

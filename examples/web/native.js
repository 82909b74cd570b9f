/*
 * The "native-style" treatment view: drawn from Treatment.ast alone (never html), the
 * way a mobile app draws native views. One function per mdast node type, the same
 * shape as the README's React Native renderer: View is a <div>, Text a <span> or <p>,
 * Image an <img>. Every value goes in as text or as a checked attribute; nothing is
 * parsed as HTML.
 *
 * Routes (in the URL hash):
 *   #/native/<slug>      a treatment by slug
 *   #/native?uri=<uri>   a treatment by uri (where a link's data.uri leads)
 */
(function () {
  'use strict';

  var ENDPOINT = new URL(
    document.body.getAttribute('data-endpoint') || '../graphql',
    window.location.href
  ).toString();

  var QUERY =
    'query ExampleNativeTreatment($slug: String, $uri: String) {' +
    '  treatment(slug: $slug, uri: $uri) {' +
    '    slug uri title ast' +
    '    images { id url width height alt title placeholder' +
    '      srcSet(widths: [320, 640, 960], format: WEBP) }' +
    '  }' +
    '}';

  var view = document.querySelector('[data-testid="native-view"]');
  var title = view.querySelector('[data-testid="native-title"]');
  var gallery = view.querySelector('[data-testid="native-images"]');
  var body = view.querySelector('[data-testid="native-body"]');
  var htmlLink = view.querySelector('[data-testid="native-html-link"]');
  var toNative = document.querySelector('[data-testid="native-link"]');
  var controller = null;

  // ---- Components, as React Native names them -------------------------------

  function element(tag, style, children) {
    var made = document.createElement(tag);
    if (style) made.className = 'native-' + style;
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      made.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return made;
  }

  function View(style, children) {
    return element('div', style, children);
  }

  function Text(style, children) {
    return element('span', style, children);
  }

  // Only http(s) and site-relative sources: the server sanitised the tree already, and
  // an app checks what it hands to an image view all the same.
  function safeUrl(url) {
    try {
      var parsed = new URL(url, window.location.href);
      return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
    } catch (error) {
      return null;
    }
  }

  function Image(image, fallback) {
    var source = image ? image.url : fallback.url;
    var img = document.createElement('img');
    img.setAttribute('data-testid', 'native-image');
    var src = safeUrl(source);
    if (src) img.src = src;
    if (image && image.srcSet) {
      img.srcset = image.srcSet;
      img.sizes = image.width ? '(max-width: ' + image.width + 'px) 100vw, ' + image.width + 'px' : '100vw';
    }
    if (image && image.width) img.width = image.width;
    if (image && image.height) img.height = image.height;
    img.alt = (image ? image.alt : fallback.alt) || '';
    if (image && image.id) img.setAttribute('data-image-id', image.id);
    img.decoding = 'async';
    return img;
  }

  // ---- One function per node type -------------------------------------------

  function renderers(imagesById) {
    return {
      root: function (node, r) {
        return View('root', r(node.children));
      },
      paragraph: function (node, r) {
        return element('p', 'paragraph', r(node.children));
      },
      heading: function (node, r) {
        var heading = Text('h' + node.depth, r(node.children));
        heading.setAttribute('role', 'heading');
        heading.setAttribute('aria-level', String(node.depth));
        heading.setAttribute('data-testid', 'native-heading');
        if (node.data && node.data.id) heading.setAttribute('data-native-id', node.data.id);
        return heading;
      },
      text: function (node) {
        return node.value;
      },
      emphasis: function (node, r) {
        return Text('italic', r(node.children));
      },
      strong: function (node, r) {
        return Text('bold', r(node.children));
      },
      delete: function (node, r) {
        return Text('strike', r(node.children));
      },
      inlineCode: function (node) {
        return Text('mono', [node.value]);
      },
      break: function () {
        return document.createElement('br');
      },
      link: function (node, r) {
        var link = element('a', 'link', r(node.children));
        if (node.data && node.data.uri) {
          // A page of this site: open it here, natively, not in a browser.
          link.href = '#/native?uri=' + encodeURIComponent(node.data.uri);
        } else if (/^#./.test(node.url)) {
          var anchor = decodeURIComponent(node.url.slice(1));
          link.href = '#';
          link.addEventListener('click', function (event) {
            event.preventDefault();
            var target = body.querySelector('[data-native-id="' + CSS.escape(anchor) + '"]');
            if (target) target.scrollIntoView();
          });
        } else if (/^(https?:\/\/|mailto:)/i.test(node.url)) {
          link.href = node.url;
          link.rel = 'noopener noreferrer';
        }
        // Else a path on the site that is no page this request may see (a draft, a
        // missing page): an app has nothing to open, so it stays text.
        if (node.title) link.title = node.title;
        return link;
      },
      image: function (node) {
        // data.id is the Image's global id: its sizes, srcSet and placeholder.
        return Image(node.data && imagesById[node.data.id], node);
      },
      list: function (node, r) {
        var list = View('list', node.children.map(function (item, index) {
          var marker = node.ordered ? (node.start === null ? 1 : node.start) + index + '. ' : '• ';
          var row = View('listItem', [Text('marker', [marker])].concat(r(item.children)));
          row.setAttribute('data-testid', 'native-list-item');
          return row;
        }));
        list.setAttribute('role', 'list');
        return list;
      },
      blockquote: function (node, r) {
        return View('quote', r(node.children));
      },
      code: function (node) {
        return element('pre', 'codeBlock', [node.value]);
      },
      thematicBreak: function () {
        return View('rule', []);
      },
      table: function (node, r) {
        return View('table', r(node.children));
      },
      tableRow: function (node, r) {
        return View('row', r(node.children));
      },
      tableCell: function (node, r) {
        return Text('cell', r(node.children));
      },
      // Raw HTML that mdast has no node for (a <details>, a <sup>): its text only.
      html: function (node) {
        var inert = new DOMParser().parseFromString('<body>' + node.value, 'text/html');
        return Text('html', [inert.body.textContent]);
      },
    };
  }

  function renderAst(tree, imagesById) {
    var table = renderers(imagesById);
    function render(nodes) {
      return nodes.map(function (node) {
        var draw = table[node.type];
        return draw ? draw(node, render) : null; // a node type this app does not know
      });
    }
    return render([tree])[0];
  }

  // ---- The view -------------------------------------------------------------

  function imageIds(tree) {
    var found = {};
    (function walk(node) {
      if (node.type === 'image' && node.data && node.data.id) found[node.data.id] = true;
      (node.children || []).forEach(walk);
    })(tree);
    return found;
  }

  function fill(treatment) {
    document.title = treatment.title + ' (native-style) · contentapi example';
    view.setAttribute('data-slug', treatment.slug);
    title.textContent = treatment.title;
    htmlLink.href = '#/treatment/' + encodeURIComponent(treatment.slug);
    var imagesById = {};
    treatment.images.forEach(function (image) {
      imagesById[image.id] = image;
    });
    // The carousel is not in the tree: its pictures are the images no node shows.
    var inTree = imageIds(treatment.ast);
    var carousel = treatment.images.filter(function (image) {
      return !inTree[image.id];
    });
    gallery.replaceChildren.apply(gallery, carousel.map(function (image) {
      return Image(image);
    }));
    gallery.hidden = carousel.length === 0;
    body.replaceChildren(renderAst(treatment.ast, imagesById));
  }

  function show(variables) {
    if (controller) controller.abort();
    controller = new AbortController();
    var signal = controller.signal;
    view.hidden = false;
    view.setAttribute('aria-busy', 'true');
    view.removeAttribute('data-slug');
    title.textContent = 'Loading…';
    gallery.replaceChildren();
    body.replaceChildren();
    window.scrollTo(0, 0);
    fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ query: QUERY, variables: variables }),
      credentials: 'same-origin',
      signal: signal,
    })
      .then(function (response) {
        return response.json();
      })
      .then(
        function (payload) {
          if (signal.aborted) return;
          view.removeAttribute('aria-busy');
          if (payload.errors && payload.errors.length) {
            title.textContent = 'Could not load the treatment';
            body.replaceChildren(Text('error', [payload.errors[0].message]));
          } else if (!payload.data || !payload.data.treatment) {
            title.textContent = 'Not found';
          } else {
            fill(payload.data.treatment);
          }
        },
        function (error) {
          if (signal.aborted || error.name === 'AbortError') return;
          view.removeAttribute('aria-busy');
          title.textContent = 'Could not load the treatment';
          body.replaceChildren(Text('error', [error.message]));
        }
      );
  }

  function route() {
    var hash = window.location.hash;
    var bySlug = /^#\/native\/([^/?]+)\/?$/.exec(hash);
    var byUri = /^#\/native\?(.*)$/.exec(hash);
    var treatment = /^#\/treatment\/([^/?]+)\/?$/.exec(hash);
    if (toNative) {
      toNative.href = treatment ? '#/native/' + treatment[1] : '#/';
    }
    if (bySlug) {
      show({ slug: decodeURIComponent(bySlug[1]) });
    } else if (byUri) {
      show({ uri: new URLSearchParams(byUri[1]).get('uri') || '' });
    } else {
      if (controller) controller.abort();
      view.hidden = true;
    }
  }

  window.addEventListener('hashchange', route);
  route();
})();

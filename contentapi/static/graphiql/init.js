/*
 * Boots the vendored GraphiQL 3 (UMD globals React, ReactDOM, GraphiQL).
 * Loaded as an external file so the page needs no inline script.
 * The endpoint comes from <div id="graphiql" data-endpoint="...">, resolved
 * against the page URL (default "/graphql").
 */
(function () {
  'use strict';

  var DEFAULT_QUERY = [
    '{',
    '  treatment(slug: "mesotherapy") {',
    '    title',
    '    images { src width }',
    '    indications { name slug }',
    '  }',
    '}',
    '',
  ].join('\n');

  var container = document.getElementById('graphiql');
  var endpoint = new URL(
    container.getAttribute('data-endpoint') || '/graphql',
    window.location.href
  ).toString();

  var fetcher = GraphiQL.createFetcher({ url: endpoint });

  var props = {
    fetcher: fetcher,
    defaultQuery: DEFAULT_QUERY,
    defaultEditorToolsVisibility: true,
  };
  // GraphiQL 3 shows the Docs explorer by default; name it explicitly so it
  // stays the reference plugin.
  if (GraphiQL.DOC_EXPLORER_PLUGIN) {
    props.referencePlugin = GraphiQL.DOC_EXPLORER_PLUGIN;
  }

  ReactDOM.createRoot(container).render(React.createElement(GraphiQL, props));
})();

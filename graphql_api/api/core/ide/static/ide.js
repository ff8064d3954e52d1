/*
 * GraphiQL, set up from a file this server serves: no inline script or style anywhere, the
 * page runs under `script-src 'self'; style-src 'self'`. Subscriptions go over graphql-ws to
 * the same endpoint. The page never writes queries, variables or headers to the URL, and
 * GraphiQL does not keep the headers pane (shouldPersistHeaders: false).
 */
(function () {
  "use strict";

  const ENDPOINT = window.location.origin + window.location.pathname;
  const SOCKET = ENDPOINT.replace(/^http/, "ws");
  const WELCOME = `# Inventory GraphQL API
#
# Sign in with the login mutation, then send
# {"Authorization": "Bearer <accessToken>"} in the headers pane.
# In the docs, "Requires:" says who may call a field.
# Run with Ctrl-Enter.
query Me {
  me {
    email
    role
  }
}
`;

  function start() {
    const root = document.getElementById("graphiql");
    if (!window.React || !window.ReactDOM || !window.GraphiQL || !window.GraphiQLPluginExplorer) {
      root.textContent = "GraphiQL's files did not load; see the browser console.";
      return;
    }
    root.textContent = "";
    const props = {
      fetcher: GraphiQL.createFetcher({ url: ENDPOINT, subscriptionUrl: SOCKET }),
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      defaultQuery: WELCOME,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    };
    ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
  }

  start();
})();

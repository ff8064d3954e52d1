/*
 * GraphiQL with a sign-in form of its own.
 *
 * Signing in by running `login` in GraphiQL's editor leaves the password in the query history
 * (and, with strawberry's page, in the URL). Here the form posts `login` with variables through
 * fetch, outside GraphiQL, so the password never reaches an editor, the URL or any storage. The
 * tokens stay in this tab's sessionStorage (gone when the tab closes), and the fetcher adds the
 * access token to every request GraphiQL makes: the Authorization header over HTTP, and
 * {"authorization": "Bearer <token>"} in connection_init over the WebSocket. GraphiQL itself
 * never sees the token, so its headers editor, history and storage do not hold it, and this
 * page never writes to the URL.
 *
 * No inline script or style anywhere: the page runs under `script-src 'self'; style-src 'self'`.
 */
(function () {
  "use strict";

  const ENDPOINT = window.location.origin + window.location.pathname;
  const SOCKET = ENDPOINT.replace(/^http/, "ws");
  const STORE = "graphql-api.ide.session";
  const EARLY_MS = 30 * 1000; // refresh this long before the access token expires
  const PAYLOAD = "accessToken accessTokenExpiresAt refreshToken user { email role }";
  const RESULT = `__typename ... on AuthPayload { ${PAYLOAD} } ... on Error { message }`;
  const LOGIN = `mutation SignIn($input: LoginInput!) { login(input: $input) { ${RESULT} } }`;
  const REFRESH = `mutation Refresh($input: RefreshTokenInput!) { refreshToken(input: $input) { ${RESULT} } }`;
  const LOGOUT = "mutation SignOut($input: LogoutInput!) { logout(input: $input) { ok } }";
  const WELCOME = `# Inventory GraphQL API
#
# Sign in with the form above. Your password goes only
# to the server: never into this editor, the URL or the
# history. Every request from here then carries your
# access token, subscriptions included.
#
# In the docs, "Requires:" says who may call a field.
# Run with Ctrl-Enter.
query Me {
  me {
    email
    role
  }
}
`;

  const byId = (id) => document.getElementById(id);
  let refreshing = null;
  let skew = 0; // server clock minus this browser's, from the Date header of our last response

  function readSession() {
    try {
      return JSON.parse(sessionStorage.getItem(STORE));
    } catch (error) {
      return null;
    }
  }

  function saveSession(payload) {
    if (payload) {
      const session = {
        accessToken: payload.accessToken,
        expiresAt: Date.parse(payload.accessTokenExpiresAt) - skew, // on this browser's clock
        refreshToken: payload.refreshToken,
        who: `${payload.user.email} (${payload.user.role})`,
      };
      sessionStorage.setItem(STORE, JSON.stringify(session));
    } else {
      sessionStorage.removeItem(STORE);
    }
    showSession("");
  }

  function showSession(message) {
    const session = readSession();
    byId("sign-in").hidden = Boolean(session);
    byId("signed-in").hidden = !session;
    byId("signed-in-who").textContent = session ? session.who : "";
    byId("session-message").textContent = message;
  }

  async function post(query, variables, token) {
    const headers = { "content-type": "application/json", accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const body = JSON.stringify({ query, variables });
    const response = await fetch(ENDPOINT, { method: "POST", headers, body, credentials: "omit", cache: "no-store" });
    const serverTime = Date.parse(response.headers.get("date"));
    if (!Number.isNaN(serverTime)) skew = serverTime - Date.now();
    const result = await response.json();
    if (result.errors && result.errors.length) throw new Error(result.errors[0].message);
    return result.data;
  }

  async function signIn(event) {
    event.preventDefault();
    const email = byId("sign-in-email").value;
    const password = byId("sign-in-password").value;
    byId("sign-in-password").value = "";
    try {
      const result = (await post(LOGIN, { input: { email, password } })).login;
      if (result.__typename === "AuthPayload") saveSession(result);
      else showSession(result.message);
    } catch (error) {
      showSession(error.message);
    }
  }

  async function signOut() {
    const token = await accessToken();
    const session = readSession();
    saveSession(null);
    if (!token || !session) return;
    try {
      // Ends the session on the server too: its refresh token stops working.
      await post(LOGOUT, { input: { refreshToken: session.refreshToken } }, token);
    } catch (error) {
      showSession(`Signed out here; the server said: ${error.message}`);
    }
  }

  function accessToken() {
    const session = readSession();
    if (!session) return Promise.resolve(null);
    if (Date.now() < session.expiresAt - EARLY_MS) return Promise.resolve(session.accessToken);
    // Refresh tokens are single use: concurrent requests share one refresh.
    refreshing = refreshing || refresh(session).finally(() => (refreshing = null));
    return refreshing;
  }

  async function refresh(session) {
    let result;
    try {
      result = (await post(REFRESH, { input: { refreshToken: session.refreshToken } })).refreshToken;
    } catch (error) {
      return session.accessToken; // server unreachable: keep the session, the next request retries
    }
    if (result.__typename === "AuthPayload") {
      saveSession(result);
      return result.accessToken;
    }
    saveSession(null);
    showSession(`Session ended (${result.message}); sign in again.`);
    return null;
  }

  function hasAuthorization(headers) {
    return Object.keys(headers || {}).some((name) => name.toLowerCase() === "authorization");
  }

  async function fetcher(params, options) {
    // An Authorization typed into the headers editor wins (to try another token on purpose).
    const token = hasAuthorization(options && options.headers) ? null : await accessToken();
    const auth = token ? { authorization: `Bearer ${token}` } : {};
    const inner = GraphiQL.createFetcher({
      url: ENDPOINT,
      subscriptionUrl: SOCKET,
      headers: auth,
      wsConnectionParams: auth,
      fetch: token ? watching(token) : window.fetch,
    });
    return inner(params, options);
  }

  // The server refused our token (signed out everywhere, password changed): refreshing
  // cannot help, so the page signs out. Read from a copy of the response, so that GraphiQL's
  // own reading of it is untouched.
  function watching(token) {
    return async (url, init) => {
      const response = await window.fetch(url, init);
      response
        .clone()
        .json()
        .then((result) => {
          const codes = ((result && result.errors) || []).map((error) => error.extensions && error.extensions.code);
          if (codes.includes("UNAUTHENTICATED") && readSession()?.accessToken === token) {
            saveSession(null);
            showSession("The server ended this session; sign in again.");
          }
        })
        .catch(() => {}); // not a JSON body (e.g. an incremental multipart response)
      return response;
    };
  }

  function start() {
    showSession("");
    byId("sign-in").addEventListener("submit", signIn);
    byId("sign-out").addEventListener("click", signOut);
    const root = byId("graphiql");
    if (!window.React || !window.ReactDOM || !window.GraphiQL || !window.GraphiQLPluginExplorer) {
      root.textContent = "GraphiQL's files did not load; see the browser console.";
      return;
    }
    root.textContent = "";
    const props = {
      fetcher,
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

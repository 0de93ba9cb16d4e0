// A realistic backend for the UI tests: four servers in four states, used by several tools,
// GitLab's exact scope catalogue (as GitLab publishes it) with its flagged scopes, a diagnosis
// with a redacted trace. Loaded into the page before the app, as window.__LATCHKEY_FIXTURE__.
(() => {
  const now = Math.floor(Date.now() / 1000);
  const entry = (tool, name, url, scope = { kind: "user" }) => ({
    tool, file: `/home/alex/${tool}.json`, line: 3, scope, name, transport: "http", url, enabled: true,
  });
  const use = (tool, tool_name, can_hand_off) => ({
    tool, tool_name, can_hand_off,
    note: can_hand_off
      ? `Latchkey can give ${tool_name} its sign-in.`
      : `${tool_name} signs in by itself, unless you connect it with "Use in…": it then runs \`latchkey bridge\` for the token.`,
  });
  const GITLAB = "https://gitlab.example.com/api/v4/mcp";
  const LINEAR = "https://mcp.linear.app/mcp";
  const SENTRY = "https://mcp.sentry.dev/mcp";
  const INTERNAL = "https://mcp.internal.example/mcp";
  // GitLab's scopes_supported, byte for byte, as the fixture AS serves it (set by the test
  // from tests/fixtures/serve.mjs, the one copy of the field report's list).
  const GITLAB_SCOPES = window.__GITLAB_SCOPES__;
  const FLAGS = {
    sudo: { kind: "administrative", explanation: "Lets the app act as any user of the server: only administrators can grant it, and most sign-ins fail if it is asked for." },
    admin_mode: { kind: "administrative", explanation: "Administrator mode: only administrators can grant it." },
    "user:*": { kind: "template", explanation: "A pattern, not a permission: the server lists it as a template for per-user scopes; asking for it literally is refused." },
  };
  const flagged = (name) => (FLAGS[name] ? { flag: FLAGS[name] } : {});
  const reason = (id, title, explanation, fix, detail) => ({ id, title, explanation, fix, detail });
  const linearReason = reason(
    "refresh_token_reused",
    "The sign-in server saw the saved session used twice and ended it",
    "Another program used the same renewal at the same time, so the server ended the session to be safe.",
    "sign_in",
    "invalid_grant: grant request is invalid (refresh token already used)",
  );
  window.__LATCHKEY_FIXTURE__ = {
    urls: { GITLAB, LINEAR, SENTRY, INTERNAL },
    dashboard: {
      servers: [
        {
          url: GITLAB, title: "gitlab", names: ["gitlab"],
          tools: [use("claude-code", "Claude Code", true), use("cursor", "Cursor", false)],
          used_by: [entry("claude-code", "gitlab", GITLAB), entry("cursor", "gitlab", GITLAB)],
          session: { issuer: "https://gitlab.example.com", client_id: "dyn-1", expires_at: now + 2 * 3600, renewable: true,
                     granted_scopes: ["mcp"], requested_scopes: ["mcp"], updated_at: now - 600 },
        },
        {
          url: LINEAR, title: "linear", names: ["linear"],
          tools: [use("claude-code", "Claude Code", true), use("gemini-cli", "Gemini CLI", true)],
          used_by: [entry("claude-code", "linear", LINEAR), entry("gemini-cli", "linear", LINEAR)],
          session: { issuer: "https://mcp.linear.app", client_id: "dyn-2", expires_at: now - 3600, renewable: true,
                     granted_scopes: ["read", "write"], requested_scopes: ["read", "write"], updated_at: now - 86400,
                     needs_sign_in: linearReason },
        },
        {
          url: SENTRY, title: "sentry", names: ["sentry"],
          tools: [use("vs-code", "VS Code", false)],
          used_by: [entry("vs-code", "sentry", SENTRY, { kind: "project", project: "/home/alex/work/api" })],
        },
        {
          url: INTERNAL, title: "internal-docs", names: ["internal-docs"],
          tools: [use("windsurf", "Windsurf", false)],
          used_by: [entry("windsurf", "internal-docs", INTERNAL)],
        },
      ],
      local_count: 3,
      errors: [{ tool: "vs-code", file: "/home/alex/.config/Code/User/mcp.json", scope: { kind: "user" }, line: 12, column: 5,
                 message: "a comma is missing after the \"github\" server" }],
    },
    health: [
      { server: GITLAB, health: "working", until: now + 2 * 3600, millis: 40 },
      { server: LINEAR, health: "needs_sign_in", reason: linearReason, millis: 55 },
      { server: SENTRY, health: "never_signed_in", reason: reason("no_credentials", "Not signed in yet", "Latchkey has no credentials for this server.", "sign_in", "not signed in"), millis: 61 },
      { server: INTERNAL, health: "unreachable", reason: reason("unreachable", "Cannot reach the server", "The connection failed: the server is down, or the address or network is wrong.", "retry", "connection refused"), millis: 12 },
    ],
    // Core's overview of this home (health/overview.rs; its test
    // `the_ui_fixtures_home_reads_as_the_ui_tests_expect` checks these very words): before
    // every server answered, all are "checking…".
    overview: (held) => {
      const row = (url, title, words, action, action_label, uses, urgency, health) => ({
        url, title, words, action, action_label, uses, urgency,
        ...(health ? { health: health.health, ...(health.reason ? { reason: health.reason } : {}) } : {}),
      });
      const h = (url) => held.find((x) => x.server === url);
      const errors = window.__LATCHKEY_FIXTURE__.dashboard.errors;
      const uses = {
        [LINEAR]: "Claude Code and Gemini CLI can be given it (Give to…).",
        [INTERNAL]: "Windsurf signs in by itself (Use in… connects it).",
        [SENTRY]: "VS Code signs in by itself (Use in… connects it).",
        [GITLAB]: "Claude Code can be given it (Give to…). Cursor signs in by itself (Use in… connects it).",
      };
      if (held.length < 4) {
        return {
          state: "checking", headline: "Checking 4 servers…", detail: "", action: "nothing", action_label: "",
          servers: [[INTERNAL, "internal-docs"], [GITLAB, "gitlab"], [LINEAR, "linear"], [SENTRY, "sentry"]]
            .map(([url, title]) => row(url, title, "checking…", "nothing", "", uses[url], 6, null)),
          config_problems: errors,
        };
      }
      return {
        state: "needs_sign_in", headline: "1 server needs you to sign in", detail: "",
        action: "sign_in_again", action_label: "Sign in again", action_server: LINEAR,
        servers: [
          row(LINEAR, "linear", "needs sign-in", "sign_in_again", "Sign in again", uses[LINEAR], 0, h(LINEAR)),
          row(INTERNAL, "internal-docs", "can't be reached", "try_again", "Try again", uses[INTERNAL], 3, h(INTERNAL)),
          row(SENTRY, "sentry", "not signed in", "sign_in", "Sign in", uses[SENTRY], 4, h(SENTRY)),
          row(GITLAB, "gitlab", "working", "nothing", "", uses[GITLAB], 7, h(GITLAB)),
        ],
        config_problems: errors,
      };
    },
    plan: (url) => {
      // A server on a host starting with "phish." sends the person to sign in at Microsoft
      // and asks for Microsoft Graph: core flags the scope and says the sites differ.
      const phish = new URL(url).host.startsWith("phish.");
      const recommended = phish
        ? [{ name: "mcp", source: "challenge" }, { name: "https://graph.microsoft.com/.default", source: "challenge",
            flag: { kind: "other_site", explanation: "Names an API at graph.microsoft.com, not this MCP server: the token would open that API too. Remove it unless you know this server needs it." } }]
        : [{ name: "mcp", source: "challenge" }];
      // Sentry's sign-in server (a Keycloak realm) lists no code_challenge_methods_supported:
      // its plan waits for the person to confirm PKCE with S256, in core's words.
      const unlisted = url === SENTRY;
      const issuer = phish ? "https://login.microsoftonline.com/common/v2.0" : unlisted ? "https://sso.sentry.example/realms/eng" : "https://gitlab.example.com";
      // As core's SignInPlan::sites (the last two labels make a site here).
      const host = (u) => new URL(u).host;
      const site = (u) => new URL(u).hostname.split(".").slice(-2).join(".");
      const crossSite = site(url) !== site(issuer);
      const sites = {
        server_host: host(url), sign_in_host: host(issuer), audience: url, cross_site: crossSite,
        ...(crossSite ? { warning: `${host(url)} sends you to sign in at ${host(issuer)}, a different site. That is normal when the server uses a sign-in service (Microsoft, Google, Okta, Auth0…); if you do not recognise ${host(issuer)}, do not sign in.` } : {}),
      };
      return {
        sites,
        plan: {
          server_url: url, resource: url, issuer,
          endpoints: { authorization: "https://gitlab.example.com/oauth/authorize", token: "https://gitlab.example.com/oauth/token", registration: "https://gitlab.example.com/oauth/register" },
          client: { method: "dynamic", registration_endpoint: "https://gitlab.example.com/oauth/register" },
          callback_port: null,
          scopes: recommended.slice(),
          recommended,
          scope_basis: "challenge",
          catalogue: GITLAB_SCOPES.map((name) => ({ name, requested: name === "mcp", ...flagged(name) })),
          problems: unlisted
            ? [{ severity: "blocking", message: `PKCE: ${issuer} does not publish code_challenge_methods_supported, so nothing says it accepts PKCE with S256, which MCP requires. If you trust that it does (most OpenID providers do), confirm to assume S256 at this sign-in server (on the command line: --assume-pkce-s256); Latchkey remembers the choice for it.` }]
            : [],
          pkce: unlisted ? { basis: "needs_confirmation" } : { basis: "advertised" },
          extra_params: [],
        },
        discovered: [
          { action: "Asked the server to start an MCP session without a token", url, outcome: "HTTP 401, asking for scope \"mcp\"" },
          { action: "Read the server's protected resource metadata", url: "https://gitlab.example.com/.well-known/oauth-protected-resource/api/v4/mcp", outcome: "sign-in server https://gitlab.example.com" },
          { action: "Read the sign-in server's metadata", url: "https://gitlab.example.com/.well-known/oauth-authorization-server", outcome: unlisted ? "23 scopes offered; no PKCE method listed; open registration" : "23 scopes offered; PKCE S256; open registration" },
        ],
      };
    },
    // The presets as core's oauth/providers.rs has them (the window asks provider_presets).
    presets: [
      { provider: "entra", name: "Microsoft Entra ID", fields: [
          { key: "tenant", label: "Directory (tenant) ID", help: "Entra admin center > App registrations > your app > Overview", example: "72f988bf-86f1-41af-91ab-2d7cd011db47", default: null },
          { key: "authority", label: "Sign-in address of your cloud", help: "https://login.microsoftonline.us for US Government, https://login.chinacloudapi.cn for China; else leave it", example: "https://login.microsoftonline.com", default: "https://login.microsoftonline.com" },
        ],
        register_as: "App registrations > New registration, platform \"Mobile and desktop applications\"",
        client_id_help: "Application (client) ID, on the app's Overview page", needs_client_secret: false },
      { provider: "okta", name: "Okta", fields: [
          { key: "domain", label: "Okta domain", help: "Admin console, top right menu under your name", example: "dev-123456.okta.com", default: null },
          { key: "authorization_server", label: "Authorization server ID", help: "Security > API > Authorization Servers (the ID column)", example: "default", default: "default" },
        ],
        register_as: "Applications > Create App Integration, \"OIDC\", type \"Native Application\"",
        client_id_help: "Client ID, on the app's General tab", needs_client_secret: false },
      { provider: "auth0", name: "Auth0", fields: [
          { key: "domain", label: "Auth0 domain", help: "Applications > your app > Settings > Domain", example: "example.us.auth0.com", default: null },
        ],
        register_as: "Applications > Create Application, type \"Native\"",
        client_id_help: "Client ID, on the app's Settings tab", needs_client_secret: false },
      { provider: "keycloak", name: "Keycloak", fields: [
          { key: "url", label: "Keycloak address", help: "The address you open the admin console at, without /admin", example: "https://sso.example.com", default: null },
          { key: "realm", label: "Realm", help: "The realm selector at the top left of the admin console", example: "engineering", default: null },
        ],
        register_as: "Clients > Create client, \"OpenID Connect\", Client authentication off, PKCE method S256",
        client_id_help: "Client ID, as you named the client", needs_client_secret: false },
      { provider: "google", name: "Google", fields: [],
        register_as: "Google Cloud console > APIs & Services > Credentials > Create credentials > OAuth client ID, type \"Desktop app\"",
        client_id_help: "Client ID, shown when the client is created (and on the Credentials page)", needs_client_secret: true },
    ],
    flags: FLAGS,
    // Failures as the shell sends them: core's error (code, message, hint) with the
    // catalogue's reason (commands.rs, From<Error> for AppError).
    errors: {
      unreachable: (url) => {
        const message = `could not reach ${url}: error sending request for url (${url}): client error (Connect): dns error: failed to lookup address information: Name or service not known`;
        return {
          code: "unreachable", message,
          hint: "The connection failed: the server is down, or the address or network is wrong. Try again in a minute.",
          reason: reason("unreachable", "Cannot reach the server", "The connection failed: the server is down, or the address or network is wrong.", "retry", message),
        };
      },
      accessDenied: (() => {
        const message = "the sign-in server denied access (the sign-in was cancelled or not allowed) during authorization (access_denied): The resource owner denied the request";
        return {
          code: "oauth_error", message,
          hint: "The sign-in was cancelled or your account is not allowed. Sign in again.",
          reason: reason("access_denied", "Sign-in was declined", "The sign-in was cancelled or your account is not allowed.", "sign_in", message),
        };
      })(),
    },
    why: {
      server: LINEAR, latchkey_version: "0.1.0", checked_at: now, status: "needs_sign_in", reason: linearReason,
      trace: [
        { method: "POST", url: "https://mcp.linear.app/oauth/token", status: 400, millis: 182,
          request_headers: [["content-type", "application/x-www-form-urlencoded"]],
          request_body: "grant_type=refresh_token&refresh_token=[redacted]&resource=https%3A%2F%2Fmcp.linear.app%2Fmcp",
          response_headers: [["content-type", "application/json"]],
          response_body: "{\"error\":\"invalid_grant\",\"error_description\":\"grant request is invalid (refresh token already used)\"}" },
      ],
    },
  };
})();

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
    // Sign-in with a code on another device (RFC 8628): what core sends while it waits, the QR
    // code drawn by core's qr::svg of the address with the code (latchkey_core::qr).
    device: {
      user_code: "WDJB-MJHT",
      verification_uri: "https://gitlab.example.com/oauth/device",
      verification_uri_complete: "https://gitlab.example.com/oauth/device?user_code=WDJB-MJHT",
      expires_in_secs: 600,
      qr_svg: "<?xml version=\"1.0\" standalone=\"yes\"?><svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"164\" height=\"164\" viewBox=\"0 0 164 164\" shape-rendering=\"crispEdges\"><rect x=\"0\" y=\"0\" width=\"164\" height=\"164\" fill=\"#ffffff\"/><path fill=\"#000000\" d=\"M16 16h4v4H16V16M20 16h4v4H20V16M24 16h4v4H24V16M28 16h4v4H28V16M32 16h4v4H32V16M36 16h4v4H36V16M40 16h4v4H40V16M52 16h4v4H52V16M76 16h4v4H76V16M80 16h4v4H80V16M92 16h4v4H92V16M96 16h4v4H96V16M108 16h4v4H108V16M120 16h4v4H120V16M124 16h4v4H124V16M128 16h4v4H128V16M132 16h4v4H132V16M136 16h4v4H136V16M140 16h4v4H140V16M144 16h4v4H144V16M16 20h4v4H16V20M40 20h4v4H40V20M48 20h4v4H48V20M52 20h4v4H52V20M60 20h4v4H60V20M64 20h4v4H64V20M84 20h4v4H84V20M88 20h4v4H88V20M96 20h4v4H96V20M104 20h4v4H104V20M120 20h4v4H120V20M144 20h4v4H144V20M16 24h4v4H16V24M24 24h4v4H24V24M28 24h4v4H28V24M32 24h4v4H32V24M40 24h4v4H40V24M52 24h4v4H52V24M56 24h4v4H56V24M60 24h4v4H60V24M72 24h4v4H72V24M80 24h4v4H80V24M88 24h4v4H88V24M96 24h4v4H96V24M100 24h4v4H100V24M104 24h4v4H104V24M108 24h4v4H108V24M120 24h4v4H120V24M128 24h4v4H128V24M132 24h4v4H132V24M136 24h4v4H136V24M144 24h4v4H144V24M16 28h4v4H16V28M24 28h4v4H24V28M28 28h4v4H28V28M32 28h4v4H32V28M40 28h4v4H40V28M48 28h4v4H48V28M52 28h4v4H52V28M60 28h4v4H60V28M104 28h4v4H104V28M108 28h4v4H108V28M112 28h4v4H112V28M120 28h4v4H120V28M128 28h4v4H128V28M132 28h4v4H132V28M136 28h4v4H136V28M144 28h4v4H144V28M16 32h4v4H16V32M24 32h4v4H24V32M28 32h4v4H28V32M32 32h4v4H32V32M40 32h4v4H40V32M56 32h4v4H56V32M64 32h4v4H64V32M68 32h4v4H68V32M72 32h4v4H72V32M76 32h4v4H76V32M84 32h4v4H84V32M92 32h4v4H92V32M96 32h4v4H96V32M100 32h4v4H100V32M108 32h4v4H108V32M112 32h4v4H112V32M120 32h4v4H120V32M128 32h4v4H128V32M132 32h4v4H132V32M136 32h4v4H136V32M144 32h4v4H144V32M16 36h4v4H16V36M40 36h4v4H40V36M48 36h4v4H48V36M56 36h4v4H56V36M68 36h4v4H68V36M72 36h4v4H72V36M76 36h4v4H76V36M84 36h4v4H84V36M96 36h4v4H96V36M100 36h4v4H100V36M120 36h4v4H120V36M144 36h4v4H144V36M16 40h4v4H16V40M20 40h4v4H20V40M24 40h4v4H24V40M28 40h4v4H28V40M32 40h4v4H32V40M36 40h4v4H36V40M40 40h4v4H40V40M48 40h4v4H48V40M56 40h4v4H56V40M64 40h4v4H64V40M72 40h4v4H72V40M80 40h4v4H80V40M88 40h4v4H88V40M96 40h4v4H96V40M104 40h4v4H104V40M112 40h4v4H112V40M120 40h4v4H120V40M124 40h4v4H124V40M128 40h4v4H128V40M132 40h4v4H132V40M136 40h4v4H136V40M140 40h4v4H140V40M144 40h4v4H144V40M64 44h4v4H64V44M68 44h4v4H68V44M92 44h4v4H92V44M100 44h4v4H100V44M104 44h4v4H104V44M16 48h4v4H16V48M20 48h4v4H20V48M24 48h4v4H24V48M28 48h4v4H28V48M32 48h4v4H32V48M40 48h4v4H40V48M44 48h4v4H44V48M48 48h4v4H48V48M52 48h4v4H52V48M56 48h4v4H56V48M64 48h4v4H64V48M72 48h4v4H72V48M80 48h4v4H80V48M84 48h4v4H84V48M96 48h4v4H96V48M104 48h4v4H104V48M108 48h4v4H108V48M112 48h4v4H112V48M116 48h4v4H116V48M124 48h4v4H124V48M132 48h4v4H132V48M140 48h4v4H140V48M16 52h4v4H16V52M24 52h4v4H24V52M28 52h4v4H28V52M32 52h4v4H32V52M36 52h4v4H36V52M52 52h4v4H52V52M88 52h4v4H88V52M92 52h4v4H92V52M96 52h4v4H96V52M100 52h4v4H100V52M104 52h4v4H104V52M108 52h4v4H108V52M120 52h4v4H120V52M136 52h4v4H136V52M140 52h4v4H140V52M144 52h4v4H144V52M20 56h4v4H20V56M28 56h4v4H28V56M36 56h4v4H36V56M40 56h4v4H40V56M52 56h4v4H52V56M60 56h4v4H60V56M64 56h4v4H64V56M76 56h4v4H76V56M84 56h4v4H84V56M88 56h4v4H88V56M96 56h4v4H96V56M100 56h4v4H100V56M104 56h4v4H104V56M116 56h4v4H116V56M124 56h4v4H124V56M128 56h4v4H128V56M132 56h4v4H132V56M140 56h4v4H140V56M16 60h4v4H16V60M20 60h4v4H20V60M24 60h4v4H24V60M36 60h4v4H36V60M44 60h4v4H44V60M52 60h4v4H52V60M56 60h4v4H56V60M60 60h4v4H60V60M72 60h4v4H72V60M76 60h4v4H76V60M80 60h4v4H80V60M96 60h4v4H96V60M100 60h4v4H100V60M104 60h4v4H104V60M108 60h4v4H108V60M116 60h4v4H116V60M128 60h4v4H128V60M136 60h4v4H136V60M16 64h4v4H16V64M20 64h4v4H20V64M32 64h4v4H32V64M36 64h4v4H36V64M40 64h4v4H40V64M44 64h4v4H44V64M48 64h4v4H48V64M52 64h4v4H52V64M60 64h4v4H60V64M76 64h4v4H76V64M80 64h4v4H80V64M84 64h4v4H84V64M96 64h4v4H96V64M104 64h4v4H104V64M108 64h4v4H108V64M112 64h4v4H112V64M116 64h4v4H116V64M124 64h4v4H124V64M128 64h4v4H128V64M132 64h4v4H132V64M20 68h4v4H20V68M24 68h4v4H24V68M28 68h4v4H28V68M32 68h4v4H32V68M36 68h4v4H36V68M48 68h4v4H48V68M56 68h4v4H56V68M64 68h4v4H64V68M68 68h4v4H68V68M72 68h4v4H72V68M84 68h4v4H84V68M88 68h4v4H88V68M92 68h4v4H92V68M96 68h4v4H96V68M100 68h4v4H100V68M104 68h4v4H104V68M108 68h4v4H108V68M116 68h4v4H116V68M120 68h4v4H120V68M124 68h4v4H124V68M140 68h4v4H140V68M144 68h4v4H144V68M16 72h4v4H16V72M24 72h4v4H24V72M40 72h4v4H40V72M68 72h4v4H68V72M72 72h4v4H72V72M80 72h4v4H80V72M84 72h4v4H84V72M96 72h4v4H96V72M100 72h4v4H100V72M104 72h4v4H104V72M120 72h4v4H120V72M124 72h4v4H124V72M128 72h4v4H128V72M140 72h4v4H140V72M16 76h4v4H16V76M20 76h4v4H20V76M32 76h4v4H32V76M36 76h4v4H36V76M44 76h4v4H44V76M48 76h4v4H48V76M52 76h4v4H52V76M64 76h4v4H64V76M68 76h4v4H68V76M76 76h4v4H76V76M80 76h4v4H80V76M92 76h4v4H92V76M96 76h4v4H96V76M100 76h4v4H100V76M108 76h4v4H108V76M112 76h4v4H112V76M124 76h4v4H124V76M136 76h4v4H136V76M16 80h4v4H16V80M32 80h4v4H32V80M40 80h4v4H40V80M44 80h4v4H44V80M48 80h4v4H48V80M64 80h4v4H64V80M72 80h4v4H72V80M84 80h4v4H84V80M92 80h4v4H92V80M96 80h4v4H96V80M104 80h4v4H104V80M112 80h4v4H112V80M116 80h4v4H116V80M124 80h4v4H124V80M128 80h4v4H128V80M140 80h4v4H140V80M16 84h4v4H16V84M20 84h4v4H20V84M36 84h4v4H36V84M44 84h4v4H44V84M48 84h4v4H48V84M52 84h4v4H52V84M56 84h4v4H56V84M88 84h4v4H88V84M92 84h4v4H92V84M108 84h4v4H108V84M120 84h4v4H120V84M132 84h4v4H132V84M140 84h4v4H140V84M144 84h4v4H144V84M20 88h4v4H20V88M24 88h4v4H24V88M28 88h4v4H28V88M40 88h4v4H40V88M48 88h4v4H48V88M56 88h4v4H56V88M60 88h4v4H60V88M64 88h4v4H64V88M76 88h4v4H76V88M80 88h4v4H80V88M96 88h4v4H96V88M100 88h4v4H100V88M112 88h4v4H112V88M132 88h4v4H132V88M140 88h4v4H140V88M32 92h4v4H32V92M44 92h4v4H44V92M52 92h4v4H52V92M60 92h4v4H60V92M72 92h4v4H72V92M76 92h4v4H76V92M80 92h4v4H80V92M88 92h4v4H88V92M96 92h4v4H96V92M100 92h4v4H100V92M108 92h4v4H108V92M116 92h4v4H116V92M124 92h4v4H124V92M136 92h4v4H136V92M20 96h4v4H20V96M32 96h4v4H32V96M36 96h4v4H36V96M40 96h4v4H40V96M48 96h4v4H48V96M60 96h4v4H60V96M80 96h4v4H80V96M84 96h4v4H84V96M108 96h4v4H108V96M112 96h4v4H112V96M116 96h4v4H116V96M124 96h4v4H124V96M128 96h4v4H128V96M140 96h4v4H140V96M16 100h4v4H16V100M24 100h4v4H24V100M28 100h4v4H28V100M44 100h4v4H44V100M52 100h4v4H52V100M56 100h4v4H56V100M64 100h4v4H64V100M68 100h4v4H68V100M72 100h4v4H72V100M76 100h4v4H76V100M80 100h4v4H80V100M88 100h4v4H88V100M92 100h4v4H92V100M96 100h4v4H96V100M108 100h4v4H108V100M112 100h4v4H112V100M120 100h4v4H120V100M132 100h4v4H132V100M140 100h4v4H140V100M144 100h4v4H144V100M16 104h4v4H16V104M24 104h4v4H24V104M36 104h4v4H36V104M40 104h4v4H40V104M44 104h4v4H44V104M48 104h4v4H48V104M68 104h4v4H68V104M72 104h4v4H72V104M76 104h4v4H76V104M96 104h4v4H96V104M104 104h4v4H104V104M116 104h4v4H116V104M120 104h4v4H120V104M124 104h4v4H124V104M132 104h4v4H132V104M140 104h4v4H140V104M16 108h4v4H16V108M24 108h4v4H24V108M36 108h4v4H36V108M44 108h4v4H44V108M48 108h4v4H48V108M64 108h4v4H64V108M68 108h4v4H68V108M76 108h4v4H76V108M80 108h4v4H80V108M92 108h4v4H92V108M100 108h4v4H100V108M104 108h4v4H104V108M116 108h4v4H116V108M128 108h4v4H128V108M132 108h4v4H132V108M136 108h4v4H136V108M16 112h4v4H16V112M40 112h4v4H40V112M44 112h4v4H44V112M56 112h4v4H56V112M64 112h4v4H64V112M72 112h4v4H72V112M84 112h4v4H84V112M88 112h4v4H88V112M104 112h4v4H104V112M112 112h4v4H112V112M116 112h4v4H116V112M120 112h4v4H120V112M124 112h4v4H124V112M128 112h4v4H128V112M144 112h4v4H144V112M48 116h4v4H48V116M52 116h4v4H52V116M80 116h4v4H80V116M84 116h4v4H84V116M92 116h4v4H92V116M96 116h4v4H96V116M100 116h4v4H100V116M112 116h4v4H112V116M128 116h4v4H128V116M132 116h4v4H132V116M136 116h4v4H136V116M144 116h4v4H144V116M16 120h4v4H16V120M20 120h4v4H20V120M24 120h4v4H24V120M28 120h4v4H28V120M32 120h4v4H32V120M36 120h4v4H36V120M40 120h4v4H40V120M48 120h4v4H48V120M52 120h4v4H52V120M56 120h4v4H56V120M60 120h4v4H60V120M64 120h4v4H64V120M76 120h4v4H76V120M80 120h4v4H80V120M96 120h4v4H96V120M100 120h4v4H100V120M104 120h4v4H104V120M108 120h4v4H108V120M112 120h4v4H112V120M120 120h4v4H120V120M128 120h4v4H128V120M132 120h4v4H132V120M140 120h4v4H140V120M16 124h4v4H16V124M40 124h4v4H40V124M60 124h4v4H60V124M72 124h4v4H72V124M76 124h4v4H76V124M80 124h4v4H80V124M100 124h4v4H100V124M108 124h4v4H108V124M112 124h4v4H112V124M128 124h4v4H128V124M132 124h4v4H132V124M136 124h4v4H136V124M144 124h4v4H144V124M16 128h4v4H16V128M24 128h4v4H24V128M28 128h4v4H28V128M32 128h4v4H32V128M40 128h4v4H40V128M48 128h4v4H48V128M52 128h4v4H52V128M60 128h4v4H60V128M84 128h4v4H84V128M88 128h4v4H88V128M92 128h4v4H92V128M104 128h4v4H104V128M112 128h4v4H112V128M116 128h4v4H116V128M120 128h4v4H120V128M124 128h4v4H124V128M128 128h4v4H128V128M16 132h4v4H16V132M24 132h4v4H24V132M28 132h4v4H28V132M32 132h4v4H32V132M40 132h4v4H40V132M48 132h4v4H48V132M56 132h4v4H56V132M64 132h4v4H64V132M68 132h4v4H68V132M72 132h4v4H72V132M88 132h4v4H88V132M92 132h4v4H92V132M96 132h4v4H96V132M100 132h4v4H100V132M112 132h4v4H112V132M116 132h4v4H116V132M124 132h4v4H124V132M128 132h4v4H128V132M140 132h4v4H140V132M144 132h4v4H144V132M16 136h4v4H16V136M24 136h4v4H24V136M28 136h4v4H28V136M32 136h4v4H32V136M40 136h4v4H40V136M48 136h4v4H48V136M52 136h4v4H52V136M56 136h4v4H56V136M68 136h4v4H68V136M72 136h4v4H72V136M80 136h4v4H80V136M88 136h4v4H88V136M100 136h4v4H100V136M104 136h4v4H104V136M108 136h4v4H108V136M116 136h4v4H116V136M120 136h4v4H120V136M132 136h4v4H132V136M136 136h4v4H136V136M16 140h4v4H16V140M40 140h4v4H40V140M48 140h4v4H48V140M64 140h4v4H64V140M68 140h4v4H68V140M76 140h4v4H76V140M80 140h4v4H80V140M88 140h4v4H88V140M92 140h4v4H92V140M96 140h4v4H96V140M100 140h4v4H100V140M104 140h4v4H104V140M124 140h4v4H124V140M132 140h4v4H132V140M136 140h4v4H136V140M16 144h4v4H16V144M20 144h4v4H20V144M24 144h4v4H24V144M28 144h4v4H28V144M32 144h4v4H32V144M36 144h4v4H36V144M40 144h4v4H40V144M48 144h4v4H48V144M52 144h4v4H52V144M64 144h4v4H64V144M72 144h4v4H72V144M96 144h4v4H96V144M104 144h4v4H104V144M108 144h4v4H108V144M112 144h4v4H112V144M132 144h4v4H132V144M140 144h4v4H140V144\"/></svg>",
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

// The Tauri IPC, mocked at the boundary the app's own code uses (window.__TAURI_INTERNALS__
// and the event plugin), answering from window.__LATCHKEY_FIXTURE__. Every call is recorded in
// window.__calls; window.__emit(event, payload) sends an event as the shell would. The scope
// edits behave as the backend's do for the fixture plan (add from the catalogue, remove,
// reset to recommended, refuse a name with a space). A server whose host starts with "down."
// cannot be reached (core's error, with its reason), until window.__reachable is set; one
// starting with "slow." never answers; a
// sign-in fails as the sign-in server's refusal while window.__signInRefused is set. While
// window.__noBrowserHere is set, a sign-in says no browser can open here (an SSH session
// without a display) and waits for its answer pasted back; the answer is
// PASTE_ANSWER below, anything else is refused as core refuses it.
(() => {
  const F = window.__LATCHKEY_FIXTURE__;
  const calls = (window.__calls = []);
  const callbacks = new Map();
  const listeners = new Map();
  let nextId = 1;
  const plans = new Map();
  // Sign-ins waiting in the browser: url -> their promise's reject.
  const pendingSignIns = new Map();
  // Pasted addresses that were not the answer, per server; the state of the mock's sign-in.
  const badPastes = new Map();
  const PASTE_STATE = "st-mock-1";
  // The issuers at which the person chose to assume PKCE with S256 (core's pkce-s256.json).
  const pkceChoices = new Set();
  const assumePkce = (p) => {
    p.pkce = { basis: "chosen_by_you" };
    p.problems = p.problems.filter((x) => !x.message.startsWith("PKCE: "));
    p.problems.push({ severity: "warning", message: `PKCE: ${p.issuer} does not list code_challenge_methods_supported; S256 is assumed because you chose so for this sign-in server (undo with: latchkey assumed-pkce --forget ${p.issuer}).` });
  };

  const TOOLS = [["claude-code", "Claude Code"], ["claude-desktop", "Claude Desktop"], ["cursor", "Cursor"], ["vs-code", "VS Code"], ["gemini-cli", "Gemini CLI"], ["codex", "Codex"], ["zed", "Zed"]];
  const HOW = {
    "claude-code": "asks Latchkey for fresh headers on every connection (headersHelper)",
    codex: "asks Latchkey for fresh headers on every connection (http_headers_helper)",
    bridge: "starts `latchkey bridge`, which adds a fresh token to every request",
  };
  // Per server: the tools it is connected to.
  const connectedTo = new Map();

  const transformCallback = (cb, once = false) => {
    const id = nextId++;
    callbacks.set(id, (data) => {
      if (once) callbacks.delete(id);
      return cb && cb(data);
    });
    return id;
  };

  window.__emit = (event, payload) => {
    for (const handler of listeners.get(event) || []) {
      const cb = callbacks.get(handler);
      if (cb) cb({ event, id: handler, payload });
    }
  };

  const fail = (code, message, hint) => Promise.reject({ code, message, hint });

  const commands = {
    dashboard: () => F.dashboard,
    last_health: () => F.health,
    overview: ({ health }) => F.overview(health),
    probe_all: () => {
      for (const h of F.health) window.__emit("health", h);
      return F.health;
    },
    take_pending_open: () => null,
    plan_sign_in: ({ url, client, scopes }) => {
      const host = new URL(url).host;
      if (host.startsWith("down.") && !window.__reachable) return Promise.reject(F.errors.unreachable(url));
      if (host.startsWith("slow.")) return new Promise(() => {});
      const v = F.plan(url);
      if (client?.client_id) {
        v.plan.client = { method: "pre_registered", client_id: client.client_id, auth_method: client.client_secret ? "client_secret_basic" : "none", has_secret: !!client.client_secret };
      }
      if (scopes?.length) v.plan.scopes = scopes.map((name) => v.plan.scopes.find((s) => s.name === name) ?? { name, source: "user" });
      if (v.plan.pkce.basis === "needs_confirmation" && pkceChoices.has(v.plan.issuer)) assumePkce(v.plan);
      // window.__deviceFlow: the sign-in server offers sign-in with a code (RFC 8628).
      if (window.__deviceFlow) v.plan.endpoints.device_authorization = "https://gitlab.example.com/oauth/authorize_device";
      plans.set(url, v);
      return v;
    },
    provider_presets: () => F.presets,
    redirect_uri: ({ port }) => ({ port: port ?? 33418, uri: `http://127.0.0.1:${port ?? 33418}/callback` }),
    // As core's ProviderInput: every missing value named with where it is found, else the
    // plan at the issuer the values make (here Entra's, known to accept S256 unlisted).
    plan_sign_in_with_provider: ({ url, client, scopes }) => {
      const preset = F.presets.find((p) => p.provider === client.provider);
      const missing = preset.fields.filter((f) => !(client.values[f.key] || f.default)).map((f) => `${f.label} (${f.key}): ${f.help}, e.g. ${f.example}`);
      if (!client.client_id) missing.push(`the client id: ${preset.client_id_help}`);
      const port = client.callback_port ?? 33418;
      if (missing.length) {
        return fail("provider_incomplete", `signing in with a ${preset.name} app needs: ${missing.join("; ")}`,
          `Register the app as: ${preset.register_as}, with the redirect URI http://127.0.0.1:${port}/callback. Then sign in again with its values.`);
      }
      const v = commands.plan_sign_in({ url, scopes });
      const issuer = `${client.values.authority || "https://login.microsoftonline.com"}/${client.values.tenant}/v2.0`;
      v.plan.issuer = issuer;
      v.plan.client = { method: "pre_registered", client_id: client.client_id, auth_method: "none", has_secret: false };
      v.plan.callback_port = port;
      v.plan.pkce = { basis: "known_issuer", provider: "Microsoft Entra ID" };
      v.plan.problems = [{ severity: "warning", message: `PKCE: ${issuer} is Microsoft Entra ID, whose metadata does not list code_challenge_methods_supported although it accepts PKCE with S256; Latchkey assumes S256 (never plain).` }];
      return v;
    },
    confirm_pkce: ({ url }) => {
      const v = plans.get(url);
      if (!v) return fail("no_plan", `There is no sign-in being prepared for ${url}.`, "Start again.");
      if (v.plan.pkce.basis === "needs_confirmation") {
        pkceChoices.add(v.plan.issuer);
        assumePkce(v.plan);
      }
      return v;
    },
    forget_pkce: ({ issuer }) => pkceChoices.delete(issuer),
    edit_scopes: ({ url, edit }) => {
      const v = plans.get(url);
      if (!v) return fail("no_plan", `There is no sign-in being prepared for ${url}.`, "Start again.");
      const p = v.plan;
      if (edit.kind === "add") {
        if (/\s/.test(edit.name) || edit.name === "") {
          return fail("invalid_plan", `"${edit.name}" is not a valid scope name (no spaces)`, "Use one scope name per entry.");
        }
        if (!p.scopes.some((s) => s.name === edit.name)) {
          const inCatalogue = p.catalogue.some((c) => c.name === edit.name);
          p.scopes.push({ name: edit.name, source: inCatalogue ? "catalogue" : "user", ...(F.flags[edit.name] ? { flag: F.flags[edit.name] } : {}) });
        }
      } else if (edit.kind === "remove") {
        p.scopes = p.scopes.filter((s) => s.name !== edit.name);
      } else {
        p.scopes = p.recommended.slice();
      }
      const names = p.scopes.map((s) => s.name);
      p.catalogue = p.catalogue.map((c) => ({ ...c, requested: names.includes(c.name) }));
      p.problems = p.problems.filter((x) => !x.scope).concat(p.scopes.filter((s) => s.flag && s.flag.kind === "administrative").map((s) => ({
        severity: "warning", scope: s.name, message: `${s.name}: only administrators can grant this; the sign-in may be refused.`,
      })));
      return v;
    },
    // "Use in…": the installed tools (Windsurf is not), connected per server; Zed's config
    // changes while it is written, as core refuses then.
    use_in: ({ url }) => {
      const on = connectedTo.get(url) ?? new Set(url.includes("gitlab") ? ["claude-code"] : []);
      connectedTo.set(url, on);
      return TOOLS.map(([tool, tool_name]) => ({ tool, tool_name, connected: on.has(tool), how: HOW[tool] ?? HOW.bridge }));
    },
    connect_tools: ({ url, tools }) => tools.map((tool) => {
      const name = TOOLS.find(([t]) => t === tool)[1];
      if (tool === "zed") {
        return { tool, ok: false, message: `${name}: /home/alex/.config/zed/settings.json changed while Latchkey was editing it, so it was left as it is Another program (or you) changed it a moment ago; try again.` };
      }
      connectedTo.get(url).add(tool);
      return { tool, ok: true, message: `${name} ${HOW[tool] ?? HOW.bridge}: gitlab.`, backup: `/home/alex/.config/${tool}.json.latchkey-backup` };
    }),
    disconnect_tools: ({ url, tools }) => tools.map((tool) => {
      connectedTo.get(url).delete(tool);
      return { tool, ok: true, message: `${TOOLS.find(([t]) => t === tool)[1]} is back as it was: gitlab.` };
    }),
    why: () => F.why,
    // Core's sentence on the tools after a sign-out (SignedOut::tools_note).
    sign_out: () => "Withdrawn from Gemini CLI (gitlab). Codex may keep a copy of the token until it expires.",
    // Without save: a preview (nothing written); with it: written.
    export_diagnostics: ({ save }) => ({
      path: "/home/alex/Downloads/latchkey-diagnostics-mcp.linear.app-1764540000.json",
      folder: "/home/alex/Downloads",
      text: JSON.stringify(F.why, null, 2),
      summary: `Server: ${F.why.server}\n${F.why.trace.length} requests with their answers (tokens, codes and secrets replaced by [redacted]):`,
      written: !!save,
    }),
    show_in_folder: () => null,
    // A sign-in waits in the browser until it is cancelled (then it fails as "cancelled", as
    // the shell's does). With the registration kept from before (dyn-1) the page comes with
    // core's words for a page that says the app is unknown; with registerAgain, core first
    // says it dropped that registration and the page opens with a new one (dyn-2).
    sign_in: ({ url, registerAgain, device }) => new Promise((_, reject) => {
      if (window.__signInRefused) return reject(F.errors.accessDenied);
      pendingSignIns.set(url, reject);
      // With a code on another device: core says why, then shows the code until it is
      // approved there (never, here) or the sign-in is cancelled.
      if (device) {
        window.__emit("sign-in-progress", { url, step: "waiting_for_device", browser_opened: false,
          method: "device_code", method_words: "through a code you enter on another device",
          method_why: "You asked to sign in with a code on another device; https://gitlab.example.com offers it",
          device: F.device });
        return;
      }
      if (window.__noBrowserHere) {
        window.__emit("sign-in-progress", {
          url, step: "waiting_for_browser", browser_opened: false,
          sign_in_url: "https://gitlab.example.com/oauth/authorize?client_id=dyn-1",
          method: "paste_back", method_words: "by pasting back the address your browser ends on",
          method_why: "This is an SSH session without a display, so no browser can open here: open the address in a browser on any computer, then paste back the address it ends on",
        });
        return;
      }
      if (registerAgain) {
        window.__emit("sign-in-progress", { url, step: "registering_again", browser_opened: true,
          notice: "As you asked, Latchkey dropped its registration at https://gitlab.example.com and registers again." });
      }
      window.__emit("sign-in-progress", {
        url, step: "waiting_for_browser", browser_opened: true,
        sign_in_url: `https://gitlab.example.com/oauth/authorize?client_id=${registerAgain ? "dyn-2" : "dyn-1"}`,
        method: "browser", method_words: "in your browser on this machine",
        method_why: "The sign-in page opened in a browser on this machine, and its answer comes straight back to Latchkey",
        ...(registerAgain ? {} : { register_again: "If the sign-in page says the app is unknown or not allowed (for example invalid_client, unauthorized_client or \"client not found\"), https://gitlab.example.com has forgotten Latchkey's registration: register again." }),
      });
    }),
    // Core's paste_back rule, for the mock's one sign-in at 127.0.0.1:33418.
    paste_sign_in_answer: ({ url, address }) => {
      if (!pendingSignIns.has(url)) return { kind: "not_waiting" };
      const what = "Paste the whole address from the browser's address bar after signing in (it starts with http://127.0.0.1:33418/callback?code=).";
      badPastes.set(url, (badPastes.get(url) ?? 0));
      const refuse = (m) => {
        const bad = badPastes.get(url) + 1;
        badPastes.set(url, bad);
        return { kind: "not_the_answer", message: `${m} ${what}`, left: Math.max(0, 5 - bad) };
      };
      let u;
      try { u = new URL(address.trim()); } catch { return refuse("That is not a web address."); }
      if (u.host !== "127.0.0.1:33418" || u.pathname !== "/callback") {
        return refuse(`That address is from another sign-in: it goes to http://${u.host}${u.pathname}, and this sign-in waits at http://127.0.0.1:33418/callback.`);
      }
      if (u.searchParams.get("state") !== PASTE_STATE) {
        return refuse("That address is from another sign-in: its state is not the one this sign-in sent (it may be from an earlier attempt).");
      }
      window.__emit("sign-in-progress", { url, step: "exchanging", browser_opened: false });
      return { kind: "accepted" };
    },
    cancel_sign_in: ({ url }) => {
      const reject = pendingSignIns.get(url);
      pendingSignIns.delete(url);
      reject?.({ code: "cancelled", message: "The sign-in was cancelled.", hint: "Start it again when you are ready." });
      return null;
    },
    "plugin:event|listen": ({ event, handler }) => {
      if (!listeners.has(event)) listeners.set(event, []);
      listeners.get(event).push(handler);
      return handler;
    },
    "plugin:event|unlisten": ({ event, eventId }) => {
      const l = listeners.get(event) || [];
      const i = l.indexOf(eventId);
      if (i !== -1) l.splice(i, 1);
      return null;
    },
  };

  window.__TAURI_INTERNALS__ = {
    transformCallback,
    unregisterCallback: (id) => callbacks.delete(id),
    invoke: async (cmd, args = {}) => {
      calls.push({ cmd, args: JSON.parse(JSON.stringify(args ?? {})) });
      const f = commands[cmd];
      if (!f) return fail("unknown_command", `the mock backend has no command ${cmd}`);
      return f(args);
    },
    metadata: { currentWindow: { label: "main" }, currentWebview: { windowLabel: "main", label: "main" } },
  };
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = { unregisterListener: () => {} };
})();

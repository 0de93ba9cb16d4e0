// The Tauri IPC, mocked at the boundary the app's own code uses (window.__TAURI_INTERNALS__
// and the event plugin), answering from window.__LATCHKEY_FIXTURE__. Every call is recorded in
// window.__calls; window.__emit(event, payload) sends an event as the shell would. The scope
// edits behave as the backend's do for the fixture plan (add from the catalogue, remove,
// reset to recommended, refuse a name with a space).
(() => {
  const F = window.__LATCHKEY_FIXTURE__;
  const calls = (window.__calls = []);
  const callbacks = new Map();
  const listeners = new Map();
  let nextId = 1;
  const plans = new Map();

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
    probe_all: () => {
      for (const h of F.health) window.__emit("health", h);
      return F.health;
    },
    take_pending_open: () => null,
    plan_sign_in: ({ url }) => {
      const v = F.plan(url);
      plans.set(url, v);
      return v;
    },
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
      p.problems = p.scopes.filter((s) => s.flag && s.flag.kind === "administrative").map((s) => ({
        severity: "warning", scope: s.name, message: `${s.name}: only administrators can grant this; the sign-in may be refused.`,
      }));
      return v;
    },
    why: () => F.why,
    export_diagnostics: () => "/home/alex/Downloads/latchkey-diagnostics-mcp.linear.app.json",
    sign_in: ({ url }) => new Promise(() => {
      window.__emit("sign-in-progress", { url, step: "waiting_for_browser", sign_in_url: "https://gitlab.example.com/oauth/authorize?client_id=dyn-1", browser_opened: true });
    }),
    cancel_sign_in: () => null,
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

// The one place where the UI reaches the Latchkey backend (the Tauri shell): typed wrappers
// over the shell's commands and events, with the types generated from Rust (src/bindings).
// The screens never import @tauri-apps/api themselves, so tests mock the IPC at one
// boundary (window.__TAURI_INTERNALS__) and the same screens run in a plain browser.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AppError } from "../bindings/AppError";
import type { ClientInput } from "../bindings/ClientInput";
import type { ConnectResult } from "../bindings/ConnectResult";
import type { Dashboard } from "../bindings/Dashboard";
import type { Diagnosis } from "../bindings/Diagnosis";
import type { ExportedDiagnostics } from "../bindings/ExportedDiagnostics";
import type { HandoffResult } from "../bindings/HandoffResult";
import type { OpenServer } from "../bindings/OpenServer";
import type { PasteOutcome } from "../bindings/PasteOutcome";
import type { Overview } from "../bindings/Overview";
import type { PlanView } from "../bindings/PlanView";
import type { Preset } from "../bindings/Preset";
import type { ProviderClientInput } from "../bindings/ProviderClientInput";
import type { RedirectUri } from "../bindings/RedirectUri";
import type { ScopeEdit } from "../bindings/ScopeEdit";
import type { ServerHealth } from "../bindings/ServerHealth";
import type { SessionEvent } from "../bindings/SessionEvent";
import type { Settings } from "../bindings/Settings";
import type { SignInProgress } from "../bindings/SignInProgress";
import type { SignInResult } from "../bindings/SignInResult";
import type { Tool } from "../bindings/Tool";
import type { ToolChoice } from "../bindings/ToolChoice";

/** Event names, as the shell emits them (src-tauri/src/api.rs `events`). */
export const EVENTS = {
  dashboardChanged: "dashboard-changed",
  health: "health",
  sessionEvent: "session-event",
  signInProgress: "sign-in-progress",
  openServer: "open-server",
} as const;

/** Any failure of a command, as an AppError: the shell's own, or one made from what the
 * IPC threw (a string, an Error). */
export function asAppError(e: unknown): AppError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    return e as AppError;
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: "ipc", message, hint: "Try again; if it keeps failing, restart Latchkey." };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw asAppError(e);
  }
}

export const api = {
  dashboard: () => call<Dashboard>("dashboard"),
  probeAll: () => call<ServerHealth[]>("probe_all"),
  lastHealth: () => call<ServerHealth[]>("last_health"),
  /** Core's overview (overall line, each server's state and action, urgency order) of the
   * health the UI holds. */
  overview: (health: ServerHealth[]) => call<Overview>("overview", { health }),
  /** The plan, with the app the person registered (else automatic) and the scopes they chose
   * (else the recommended ones). */
  planSignIn: (url: string, client?: ClientInput, scopes?: string[]) =>
    call<PlanView>("plan_sign_in", { url, client: client ?? null, scopes: scopes ?? null }),
  /** The plan with an app registered at a provider with a preset (Entra, Okta...). */
  planSignInWithProvider: (url: string, client: ProviderClientInput, scopes?: string[]) =>
    call<PlanView>("plan_sign_in_with_provider", { url, client, scopes: scopes ?? null }),
  providerPresets: () => call<Preset[]>("provider_presets"),
  /** The redirect URI to register for a callback port (none: the presets' fixed port). */
  redirectUri: (port?: number) => call<RedirectUri>("redirect_uri", { port: port ?? null }),
  /** Confirms that PKCE with S256 may be assumed at the kept plan's sign-in server. */
  confirmPkce: (url: string) => call<PlanView>("confirm_pkce", { url }),
  /** Forgets that choice for a sign-in server; true when there was one. */
  forgetPkce: (issuer: string) => call<boolean>("forget_pkce", { issuer }),
  editScopes: (url: string, edit: ScopeEdit) => call<PlanView>("edit_scopes", { url, edit }),
  /** Signs in with the kept plan; `registerAgain`: Latchkey first drops its registration at
   * the sign-in server and registers anew (the page said the app is unknown); `device`: with
   * a code entered on another device instead of the browser (RFC 8628). */
  signIn: (url: string, registerAgain?: boolean, device?: boolean) =>
    call<SignInResult>("sign_in", {
      url,
      ...(registerAgain ? { registerAgain: true } : {}),
      ...(device ? { device: true } : {}),
    }),
  cancelSignIn: (url: string) => call<void>("cancel_sign_in", { url }),
  /** The address the browser ended on, pasted by the person (the browser is on another
   * computer, or its answer did not reach Latchkey): core checks it as the listener checks
   * an answer and the waiting sign-in goes on with it. It holds the sign-in code. */
  pasteSignInAnswer: (url: string, address: string) =>
    call<PasteOutcome>("paste_sign_in_answer", { url, address }),
  /** Core's sentence on the tools (what was withdrawn, who keeps a copy), if any. */
  signOut: (url: string) => call<string | null>("sign_out", { url }),
  handOff: (url: string, tool: Tool) => call<HandoffResult>("hand_off", { url, tool }),
  /** The installed tools, each ticked where the server is connected to it ("Use in…"). */
  useIn: (url: string) => call<ToolChoice[]>("use_in", { url }),
  /** Connects the server to these tools (their entry, or a new one; backups kept). */
  connectTools: (url: string, tools: Tool[]) => call<ConnectResult[]>("connect_tools", { url, tools }),
  /** Puts these tools' entries back as they were before connecting. */
  disconnectTools: (url: string, tools: Tool[]) => call<ConnectResult[]>("disconnect_tools", { url, tools }),
  why: (url: string) => call<Diagnosis>("why", { url }),
  /** Writes the diagnostics file (the Downloads folder, else Latchkey's own): where it went,
   * and the redacted text it holds. */
  /** Without `save`: a preview, nothing written; with it: writes the diagnosis previewed. */
  exportDiagnostics: (url: string, save = false) => call<ExportedDiagnostics>("export_diagnostics", { url, save }),
  /** Opens the folder of a diagnostics file Latchkey wrote, in the file manager. */
  showInFolder: (path: string) => call<void>("show_in_folder", { path }),
  takePendingOpen: () => call<OpenServer | null>("take_pending_open"),
  getSettings: () => call<Settings>("get_settings"),
  setStartAtLogin: (enabled: boolean) => call<Settings>("set_start_at_login", { enabled }),
};

export interface Listeners {
  dashboardChanged?: (d: Dashboard) => void;
  health?: (h: ServerHealth) => void;
  sessionEvent?: (e: SessionEvent) => void;
  signInProgress?: (p: SignInProgress) => void;
  openServer?: (o: OpenServer) => void;
}

/** Subscribes to the shell's events; returns one function that unsubscribes them all. */
export async function subscribe(l: Listeners): Promise<() => void> {
  const offs: UnlistenFn[] = [];
  const on = async <T>(name: string, f?: (p: T) => void) => {
    if (f) offs.push(await listen<T>(name, (e) => f(e.payload)));
  };
  await on(EVENTS.dashboardChanged, l.dashboardChanged);
  await on(EVENTS.health, l.health);
  await on(EVENTS.sessionEvent, l.sessionEvent);
  await on(EVENTS.signInProgress, l.signInProgress);
  await on(EVENTS.openServer, l.openServer);
  return () => offs.forEach((off) => off());
}

// Plain words for the values the backend sends. No protocol logic: only how to say things.
import type { Fix } from "../bindings/Fix";
import type { Health } from "../bindings/Health";
import type { ScopeSource } from "../bindings/ScopeSource";
import type { ClientChoice } from "../bindings/ClientChoice";
import type { PkceS256 } from "../bindings/PkceS256";

/** A status, as a badge label and a tone for its colour. */
export function healthWords(h: Health | undefined): { label: string; tone: "ok" | "warn" | "bad" | "idle" } {
  switch (h) {
    case "working":
      return { label: "Working", tone: "ok" };
    case "refreshable":
      return { label: "Working (renews on next use)", tone: "ok" };
    case "expiring_soon":
      return { label: "Ends soon", tone: "warn" };
    case "needs_sign_in":
      return { label: "Needs sign-in", tone: "bad" };
    case "never_signed_in":
      return { label: "Not signed in", tone: "idle" };
    case "unreachable":
      return { label: "Unreachable", tone: "warn" };
    case "misconfigured":
      return { label: "Set up wrong", tone: "bad" };
    default:
      return { label: "Checking…", tone: "idle" };
  }
}

/** "in 5 minutes", "in about 2 hours", "3 days ago": when `at` (seconds since the epoch) is. */
export function relativeTime(at: number, now: number = Date.now() / 1000): string {
  const d = Math.round(at - now);
  const abs = Math.abs(d);
  let text: string;
  if (abs < 60) text = "less than a minute";
  else if (abs < 3570) {
    const m = Math.round(abs / 60);
    text = `${m} minute${m === 1 ? "" : "s"}`;
  } else if (abs < 86400 * 2) {
    const h = Math.round(abs / 3600);
    text = `about ${h} hour${h === 1 ? "" : "s"}`;
  } else {
    const days = Math.round(abs / 86400);
    text = `${days} days`;
  }
  return d >= 0 ? `in ${text}` : `${text} ago`;
}

/** When a session ends, in words, for the dashboard. */
export function sessionEnds(expiresAt: number | undefined, renewable: boolean, now?: number): string {
  if (expiresAt === undefined) return "No end date given by the sign-in server";
  const when = relativeTime(expiresAt, now);
  if (renewable) {
    return when.startsWith("in ")
      ? `Token renews automatically (current one ends ${when})`
      : `Token ended ${when}; Latchkey renews it on next use`;
  }
  return when.startsWith("in ") ? `Session ends ${when}` : `Session ended ${when}`;
}

export function scopeSourceWords(s: ScopeSource): string {
  switch (s) {
    case "challenge":
      return "Asked for by the server when it refused access";
    case "resource_metadata":
      return "Listed by the server itself";
    case "offline_access":
      return "Lets Latchkey renew your session without asking you again";
    case "catalogue":
      return "Added by you from the sign-in server's list";
    case "user":
      return "Added by you";
  }
}

export function clientWords(c: ClientChoice): string {
  switch (c.method) {
    case "dynamic":
      return "Latchkey registers itself with the sign-in server automatically.";
    case "metadata_document":
      return "Latchkey identifies itself with its published app description.";
    case "pre_registered":
      return `Using the app you registered (client id ${c.client_id}).`;
    case "missing":
      return "This sign-in server does not let apps register themselves: enter the app you registered there.";
  }
}

/** What PKCE is, in a phrase, for people who have never heard of it. */
export const PKCE_IS = "PKCE (a one-time proof that makes a stolen sign-in code useless)";

/** The plan's note on how Latchkey knows the sign-in server accepts PKCE with S256; none when
 * its metadata says so. */
export function pkceNote(p: PkceS256, issuer: string): string | null {
  switch (p.basis) {
    case "advertised":
      return null;
    case "known_issuer":
      return `${p.provider} is known to accept ${PKCE_IS} with its secure method, S256, although its settings do not list it. Latchkey uses S256, never the weak "plain" method.`;
    case "chosen_by_you":
      return `You chose to let Latchkey assume that ${issuer} accepts ${PKCE_IS} with its secure method, S256, although its settings do not say so. Latchkey remembers this choice for that sign-in server.`;
    case "needs_confirmation":
      return `${issuer} does not say whether it accepts ${PKCE_IS} with its secure method, S256. Before your browser opens, you will be asked to confirm that Latchkey may assume it does.`;
  }
}

/** The label of the button that carries out a fix. */
export function fixButton(f: Fix): string | null {
  switch (f) {
    case "sign_in":
      return "Sign in again";
    case "sign_in_with_recommended_scopes":
      return "Sign in with the recommended permissions";
    case "sign_in_with_more_scopes":
      return "Sign in with more permissions";
    case "configure_client":
      return "Enter your registered app";
    case "retry":
      return "Check again";
    case "check_address":
      return "Check again";
    case "unlock_keychain":
      return "Check again";
    case "contact_server_operator":
      return "Export diagnostics for the operator";
    case "nothing":
      return null;
  }
}

/** Whether a fix is carried out by signing in (the wizard) rather than by checking again. */
export function fixSignsIn(f: Fix): boolean {
  return f === "sign_in" || f === "sign_in_with_recommended_scopes" || f === "sign_in_with_more_scopes" || f === "configure_client";
}

const TOOL_NAMES: Record<string, string> = {
  "claude-code": "Claude Code",
  "claude-desktop": "Claude Desktop",
  cursor: "Cursor",
  "vs-code": "VS Code",
  "gemini-cli": "Gemini CLI",
  codex: "Codex",
  windsurf: "Windsurf",
  zed: "Zed",
};

/** A tool's name as people know it. */
export function toolName(id: string): string {
  return TOOL_NAMES[id] ?? id;
}

// The one place where the UI reaches the Latchkey backend (the Tauri shell).
//
// Every screen imports from here, never from @tauri-apps/api directly, so the same
// screens run inside the app (Tauri IPC) and in a plain browser or a unit test
// (a mock backend). Add a method here for each typed command/event the shell exposes.
import { getVersion } from "@tauri-apps/api/app";
import { isTauri } from "@tauri-apps/api/core";

export interface Backend {
  /** Which backend answers: the real app, or the browser/test mock. */
  readonly kind: "tauri" | "mock";
  /** The app's version, as Tauri reads it from tauri.conf.json / Cargo.toml. */
  appVersion(): Promise<string>;
}

/** What the mock backend reports as the version, so a browser build is recognisable. */
export const MOCK_VERSION = "0.0.0-browser";

/** The backend of the real app: Tauri IPC. */
export function tauriBackend(): Backend {
  return {
    kind: "tauri",
    appVersion: () => getVersion(),
  };
}

/** A backend for a plain browser and for tests; override any method. */
export function mockBackend(overrides: Partial<Omit<Backend, "kind">> = {}): Backend {
  return {
    kind: "mock",
    appVersion: async () => MOCK_VERSION,
    ...overrides,
  };
}

/** Tauri's backend when running inside the app, else the mock. */
export function selectBackend(inTauri: boolean = isTauri()): Backend {
  return inTauri ? tauriBackend() : mockBackend();
}

let current: Backend | undefined;

/** The backend in use; chosen on first use. */
export function backend(): Backend {
  current ??= selectBackend();
  return current;
}

/** Replace the backend (tests, or a browser harness with scripted answers). */
export function setBackend(next: Backend | undefined): void {
  current = next;
}

/** The app's version, from whichever backend is in use. */
export function appVersion(): Promise<string> {
  return backend().appVersion();
}

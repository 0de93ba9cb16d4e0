import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { MOCK_VERSION, appVersion, backend, mockBackend, setBackend } from "./backend";

// @tauri-apps/api's IPC mocks live on `window`; vitest runs these tests in node.
const g = globalThis as unknown as { window?: unknown; isTauri?: boolean };

describe("backend", () => {
  beforeEach(() => {
    g.window = globalThis;
    setBackend(undefined);
  });

  afterEach(() => {
    clearMocks();
    delete g.isTauri;
    delete g.window;
    setBackend(undefined);
  });

  it("uses the mock outside Tauri", async () => {
    expect(backend().kind).toBe("mock");
    await expect(appVersion()).resolves.toBe(MOCK_VERSION);
  });

  it("asks the app plugin for the version inside Tauri", async () => {
    g.isTauri = true; // what the Tauri webview sets
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "plugin:app|version") return "1.2.3";
      throw new Error(`unexpected command ${cmd}`);
    });

    expect(backend().kind).toBe("tauri");
    await expect(appVersion()).resolves.toBe("1.2.3");
    expect(calls).toEqual(["plugin:app|version"]);
  });

  it("lets a test script the backend", async () => {
    setBackend(mockBackend({ appVersion: async () => "9.9.9" }));
    await expect(appVersion()).resolves.toBe("9.9.9");
  });
});

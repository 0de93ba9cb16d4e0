import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { api, asAppError } from "./backend";

// @tauri-apps/api's IPC mocks live on `window`; vitest runs these tests in node.
const g = globalThis as unknown as { window?: unknown };

describe("backend", () => {
  beforeEach(() => {
    g.window = globalThis;
  });
  afterEach(() => {
    clearMocks();
    delete g.window;
  });

  it("calls the shell's commands by name with their arguments", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "edit_scopes") return { plan: { scopes: [{ name: "mcp", source: "challenge" }] }, discovered: [] };
      if (cmd === "hand_off") return { message: "done", target: "/x" };
      return null;
    });
    const v = await api.editScopes("https://a.example/mcp", { kind: "add", name: "mcp" });
    expect(v.plan.scopes[0].name).toBe("mcp");
    await api.handOff("https://a.example/mcp", "claude-code");
    await api.planSignIn("https://a.example/mcp");
    expect(calls).toEqual([
      { cmd: "edit_scopes", args: { url: "https://a.example/mcp", edit: { kind: "add", name: "mcp" } } },
      { cmd: "hand_off", args: { url: "https://a.example/mcp", tool: "claude-code" } },
      { cmd: "plan_sign_in", args: { url: "https://a.example/mcp", client: null } },
    ]);
  });

  it("turns every failure into an AppError with something to do", async () => {
    mockIPC((cmd) => {
      if (cmd === "sign_in") throw { code: "cancelled", message: "The sign-in was cancelled.", hint: "Start it again." };
      throw "plain text from the IPC";
    });
    await expect(api.signIn("https://a.example/mcp")).rejects.toEqual({
      code: "cancelled",
      message: "The sign-in was cancelled.",
      hint: "Start it again.",
    });
    const e = await api.dashboard().catch((x) => x);
    expect(e.code).toBe("ipc");
    expect(e.message).toBe("plain text from the IPC");
    expect(e.hint).toMatch(/Try again/);
    expect(asAppError(new Error("boom")).message).toBe("boom");
  });
});

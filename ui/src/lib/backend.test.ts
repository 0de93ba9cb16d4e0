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
      { cmd: "plan_sign_in", args: { url: "https://a.example/mcp", client: null, scopes: null } },
    ]);
  });

  it("asks for presets, plans with one, and confirms or forgets the PKCE choice", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "provider_presets") return [{ provider: "entra", name: "Microsoft Entra ID", fields: [] }];
      if (cmd === "redirect_uri") return { port: 33418, uri: "http://127.0.0.1:33418/callback" };
      if (cmd === "forget_pkce") return true;
      return { plan: { pkce: { basis: "chosen_by_you" } }, discovered: [] };
    });
    const u = "https://a.example/mcp";
    expect((await api.providerPresets())[0].provider).toBe("entra");
    expect((await api.redirectUri()).uri).toBe("http://127.0.0.1:33418/callback");
    await api.redirectUri(8765);
    const entra = { provider: "entra" as const, values: { tenant: "contoso" }, client_id: "app", client_secret: "s" };
    await api.planSignInWithProvider(u, entra, ["mcp"]);
    await api.planSignIn(u, { client_id: "mine" }, ["mcp", "read"]);
    expect((await api.confirmPkce(u)).plan.pkce).toEqual({ basis: "chosen_by_you" });
    expect(await api.forgetPkce("https://idp.example")).toBe(true);
    expect(calls).toEqual([
      { cmd: "provider_presets", args: {} },
      { cmd: "redirect_uri", args: { port: null } },
      { cmd: "redirect_uri", args: { port: 8765 } },
      { cmd: "plan_sign_in_with_provider", args: { url: u, client: entra, scopes: ["mcp"] } },
      { cmd: "plan_sign_in", args: { url: u, client: { client_id: "mine" }, scopes: ["mcp", "read"] } },
      { cmd: "confirm_pkce", args: { url: u } },
      { cmd: "forget_pkce", args: { issuer: "https://idp.example" } },
    ]);
  });

  it("exports diagnostics (where, and the text) and shows their folder", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    const file = "/home/a/Downloads/latchkey-diagnostics-a.example-1.json";
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "export_diagnostics") return { path: file, folder: "/home/a/Downloads", text: "{}", summary: "", written: true };
      return null;
    });
    const d = await api.exportDiagnostics("https://a.example/mcp", true);
    expect(d.text).toBe("{}");
    await api.showInFolder(d.path);
    expect(calls).toEqual([
      { cmd: "export_diagnostics", args: { url: "https://a.example/mcp", save: true } },
      { cmd: "show_in_folder", args: { path: file } },
    ]);
  });

  it("keeps the reason a failure comes with", async () => {
    const reason = { id: "unreachable", title: "Cannot reach the server", explanation: "Down.", fix: "retry", detail: "dns" };
    mockIPC(() => {
      throw { code: "unreachable", message: "could not reach x: dns", hint: "Down. Try again in a minute.", reason };
    });
    const e = await api.planSignIn("https://a.example/mcp").catch((x) => x);
    expect(e.reason).toEqual(reason);
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

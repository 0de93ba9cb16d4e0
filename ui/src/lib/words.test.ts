import { describe, expect, it } from "vitest";
import { clientWords, pkceNote, fixButton, fixSignsIn, healthWords, relativeTime, sessionEnds, toolName } from "./words";

describe("words", () => {
  it("says every status in plain words with a tone", () => {
    expect(healthWords("working")).toEqual({ label: "Working", tone: "ok" });
    expect(healthWords("needs_sign_in").tone).toBe("bad");
    expect(healthWords("expiring_soon").label).toBe("Ends soon");
    expect(healthWords(undefined).label).toBe("Checking…");
  });

  it("says when things happen relative to now", () => {
    const now = 1_000_000;
    expect(relativeTime(now + 30, now)).toBe("in less than a minute");
    expect(relativeTime(now + 60, now)).toBe("in 1 minute");
    expect(relativeTime(now + 25 * 60, now)).toBe("in 25 minutes");
    expect(relativeTime(now + 3 * 3600, now)).toBe("in about 3 hours");
    expect(relativeTime(now + 3599, now)).toBe("in about 1 hour");
    expect(relativeTime(now - 5 * 86400, now)).toBe("5 days ago");
    expect(sessionEnds(now + 600, false, now)).toBe("Session ends in 10 minutes");
    expect(sessionEnds(now - 600, false, now)).toBe("Session ended 10 minutes ago");
    expect(sessionEnds(now + 600, true, now)).toMatch(/renews automatically/);
    expect(sessionEnds(now - 600, true, now)).toBe("Token ended 10 minutes ago; Latchkey renews it on next use");
    expect(sessionEnds(undefined, false, now)).toMatch(/No end date/);
  });

  it("names the client and the fix's action", () => {
    expect(clientWords({ method: "missing" })).toMatch(/enter the app you registered/);
    expect(clientWords({ method: "pre_registered", client_id: "abc", auth_method: "none", has_secret: false })).toMatch(/abc/);
    expect(fixButton("sign_in_with_more_scopes")).toBe("Sign in with more permissions");
    expect(fixButton("nothing")).toBeNull();
    expect(fixSignsIn("configure_client")).toBe(true);
    expect(fixSignsIn("retry")).toBe(false);
    expect(toolName("vs-code")).toBe("VS Code");
  });

  it("says how PKCE with S256 is known, never without saying what PKCE is", () => {
    expect(pkceNote({ basis: "advertised" }, "https://idp.example")).toBeNull();
    for (const p of [{ basis: "known_issuer", provider: "Microsoft Entra ID" }, { basis: "chosen_by_you" }, { basis: "needs_confirmation" }] as const) {
      const words = pkceNote(p, "https://idp.example")!;
      expect(words).toMatch(/PKCE \(a one-time proof/);
      expect(words).toMatch(/S256/);
    }
    expect(pkceNote({ basis: "known_issuer", provider: "Microsoft Entra ID" }, "x")).toMatch(/^Microsoft Entra ID/);
    expect(pkceNote({ basis: "needs_confirmation" }, "https://idp.example")).toMatch(/confirm/);
  });
});

// The built UI (ui/dist) in Debian's Chromium, driven by playwright-core, with the Tauri IPC
// mocked at the boundary (ipc-mock.js) and a realistic backend (fixture.js). Screenshots go
// to tests/artifacts/ui-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const dist = path.join(root, "ui/dist");
const artifacts = path.join(root, "tests/artifacts");
const CHROMIUM = process.env.LATCHKEY_CHROMIUM || "/usr/bin/chromium";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png" };
let server, base, browser;

// The GitLab-like catalogue of the fixture AS, so the UI is shown the very same list.
const serveSource = fs.readFileSync(path.join(root, "tests/fixtures/serve.mjs"), "utf8");
const GITLAB_SCOPES = JSON.parse(
  serveSource.match(/const GITLAB_SCOPES = (\[[^\]]*\]);/)[1].replace(/'/g, '"').replace(/,\s*\]/, "]"),
);

before(async () => {
  assert.ok(fs.existsSync(path.join(dist, "index.html")), "build the UI first: npm --prefix ui run build");
  server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, "http://x").pathname);
    let file = path.join(dist, path.normalize(rel).replace(/^([/\\])+/, ""));
    if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(dist, "index.html");
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] || "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}/`;
  // playwright-core gives the browser a fresh, empty profile of its own.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  fs.mkdirSync(artifacts, { recursive: true });
});

after(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
});

async function open(colorScheme = "light") {
  const page = await browser.newPage({ viewport: { width: 760, height: 900 }, colorScheme, permissions: ["clipboard-read", "clipboard-write"] });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // Only the page's own server: nothing may leave 127.0.0.1.
  await page.route("**/*", (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
  await page.addInitScript(`window.__GITLAB_SCOPES__ = ${JSON.stringify(GITLAB_SCOPES)};`);
  await page.addInitScript({ path: path.join(here, "fixture.js") });
  await page.addInitScript({ path: path.join(here, "ipc-mock.js") });
  await page.goto(base);
  await page.locator('[data-testid="server-row"]').first().waitFor();
  return { page, errors };
}

const row = (page, url) => page.locator(`[data-testid="server-row"][data-url="${url}"]`);
const urls = { GITLAB: "https://gitlab.example.com/api/v4/mcp", LINEAR: "https://mcp.linear.app/mcp", SENTRY: "https://mcp.sentry.dev/mcp", INTERNAL: "https://mcp.internal.example/mcp" };

test("the dashboard shows every server with its status, session and tools, in light and dark", async () => {
  for (const scheme of ["light", "dark"]) {
    const { page, errors } = await open(scheme);
    await assert.doesNotReject(row(page, urls.INTERNAL).and(page.locator('[data-health="unreachable"]')).waitFor());
    assert.equal(await page.locator('[data-testid="server-row"]').count(), 4);
    assert.equal(await row(page, urls.GITLAB).getAttribute("data-health"), "working");
    assert.equal(await row(page, urls.LINEAR).getAttribute("data-health"), "needs_sign_in");
    assert.equal(await row(page, urls.SENTRY).getAttribute("data-health"), "never_signed_in");
    assert.equal((await row(page, urls.GITLAB).locator('[data-testid="status"]').textContent()).trim(), "Working");
    assert.equal((await row(page, urls.LINEAR).locator('[data-testid="status"]').textContent()).trim(), "Needs sign-in");
    // The overall line first, with the one action that fits; rows by urgency, then name.
    assert.equal((await page.locator('[data-testid="overall-headline"]').textContent()).trim(), "1 server needs you to sign in");
    assert.equal((await page.locator('[data-testid="overall-action"]').textContent()).trim(), "Sign in again");
    assert.deepEqual(
      await page.locator('[data-testid="server-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.url)),
      [urls.LINEAR, urls.INTERNAL, urls.SENTRY, urls.GITLAB],
    );
    assert.match(await row(page, urls.GITLAB).locator('[data-testid="uses"]').textContent(), /Claude Code can be given it \(Give to…\)\. Cursor signs in by itself \(Use in… connects it\)\./);
    assert.match(await row(page, urls.GITLAB).locator('[data-testid="session-end"]').textContent(), /renews automatically.*in about 2 hours/);
    assert.match(await row(page, urls.LINEAR).locator('[data-testid="reason"]').textContent(), /saw the saved session used twice/);
    assert.match(await row(page, urls.INTERNAL).locator('[data-testid="reason"]').textContent(), /Cannot reach the server/);
    // The right actions per row.
    assert.equal(await row(page, urls.SENTRY).locator('[data-testid="sign-in"]').count(), 1);
    assert.equal(await row(page, urls.SENTRY).locator('[data-testid="sign-out"]').count(), 0);
    assert.equal(await row(page, urls.LINEAR).locator('[data-testid="reauth"]').textContent(), "Sign in again");
    assert.deepEqual(
      await row(page, urls.LINEAR).locator('[data-testid="hand-off"]').allTextContents(),
      ["Give to Claude Code", "Give to Gemini CLI"],
    );
    // Each state's primary action: sign in, sign in again, try again; nothing for a working one.
    assert.equal((await row(page, urls.INTERNAL).locator('[data-testid="retry"]').textContent()).trim(), "Try again");
    assert.equal(await row(page, urls.GITLAB).locator("button.primary").count(), 0);
    assert.equal(await row(page, urls.SENTRY).locator('[data-testid="sign-in"].primary').count(), 1);
    assert.match(await page.locator('[data-testid="local-count"]').textContent(), /3 local servers/);
    assert.match(await page.locator('[data-testid="config-errors"]').textContent(), /VS Code: .*line 12 — a comma is missing/);
    assert.match(await row(page, urls.LINEAR).locator('[data-testid="session-end"]').textContent(), /refused to renew/);
    // Readable: the badge's text and background differ in both themes.
    const badge = await row(page, urls.LINEAR).locator('[data-testid="status"]').evaluate((el) => {
      const s = getComputedStyle(el);
      return [s.color, s.backgroundColor];
    });
    assert.notEqual(badge[0], badge[1]);
    await page.screenshot({ path: path.join(artifacts, `ui-dashboard-${scheme}.png`), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  }
});

test("the scope step removes, adds and resets scopes and says why a scope is flagged", async () => {
  const { page, errors } = await open();
  await row(page, urls.GITLAB).locator('[data-testid="reauth"]').click();
  const wizard = page.locator('[data-testid="wizard"]');
  await wizard.locator('[data-testid="discovered"]').waitFor();
  assert.match(await wizard.locator('[data-testid="discovered"]').textContent(), /protected resource metadata/);
  await wizard.locator('[data-testid="wizard-next"]').click();
  const scopes = () => wizard.locator('[data-testid="scope"]').evaluateAll((els) => els.map((e) => e.dataset.scope));
  await wizard.locator('[data-testid="scope"]').first().waitFor();
  assert.deepEqual(await scopes(), ["mcp"]);
  assert.match(await wizard.locator('[data-testid="scope"][data-scope="mcp"]').textContent(), /Asked for by the server/);

  // The catalogue: 22 to add (mcp is already asked for), filterable, with flags explained.
  await wizard.locator("summary", { hasText: "Add a permission" }).click();
  assert.equal(GITLAB_SCOPES.length, 23);
  assert.equal(await wizard.locator('[data-testid="catalogue-scope"]').count(), 22);
  await wizard.locator('[data-testid="catalogue-filter"]').fill("su");
  assert.deepEqual(
    await wizard.locator('[data-testid="catalogue-scope"]').evaluateAll((els) => els.map((e) => e.dataset.scope)),
    ["sudo"],
  );
  assert.match(await wizard.locator('[data-testid="catalogue-scope"][data-scope="sudo"] [data-testid="scope-flag"]').textContent(), /act as any user/);
  await wizard.locator('[data-testid="catalogue-scope"][data-scope="sudo"] [data-testid="add-scope"]').click();
  await wizard.locator('[data-testid="scope"][data-scope="sudo"]').waitFor();
  assert.deepEqual(await scopes(), ["mcp", "sudo"]);
  assert.match(await wizard.locator('[data-testid="scope"][data-scope="sudo"] [data-testid="scope-flag"]').textContent(), /only administrators can grant it/);
  assert.match(await wizard.locator('[data-testid="plan-problem"]').textContent(), /only administrators/);
  await page.screenshot({ path: path.join(artifacts, "ui-wizard-scopes.png"), fullPage: true });

  await wizard.locator('[data-testid="scope"][data-scope="mcp"] [data-testid="remove-scope"]').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="scope"]').length === 1);
  assert.deepEqual(await scopes(), ["sudo"]);

  // A name with a space is refused with the backend's words, and nothing changes.
  await wizard.locator('[data-testid="custom-scope"]').fill("read write");
  await wizard.locator('[data-testid="custom-scope"]').press("Enter");
  await wizard.locator('[data-testid="error"]').waitFor();
  assert.match(await wizard.locator('[data-testid="error"]').textContent(), /not a valid scope name/);
  assert.deepEqual(await scopes(), ["sudo"]);

  await wizard.locator('[data-testid="reset-scopes"]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="scope"]')?.dataset.scope === "mcp");
  assert.deepEqual(await scopes(), ["mcp"]);

  const edits = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "edit_scopes").map((c) => c.args.edit));
  assert.deepEqual(edits, [
    { kind: "add", name: "sudo" },
    { kind: "remove", name: "mcp" },
    { kind: "add", name: "read write" },
    { kind: "reset" },
  ]);

  // On to the client and the browser: the waiting state can be cancelled.
  await wizard.locator('[data-testid="wizard-next"]').click();
  assert.match(await wizard.locator('[data-testid="client-choice"]').textContent(), /registers itself/);
  await wizard.locator('[data-testid="start-sign-in"]').click();
  await wizard.locator('[data-testid="waiting"]').waitFor();
  await wizard.locator('[data-testid="cancel-sign-in"]').click();
  await page.waitForFunction(() => window.__calls.some((c) => c.cmd === "cancel_sign_in"));
  assert.deepEqual(errors, []);
  await page.close();
});

test("while the sign-in page is open, the person can register again when it says the app is unknown", async () => {
  for (const scheme of ["light", "dark"]) {
    const { page, errors } = await open(scheme);
    const wizard = await toAppStep(page, urls.GITLAB);
    await wizard.locator('[data-testid="start-sign-in"]').click();
    const offer = wizard.locator('[data-testid="register-again-offer"]');
    await offer.waitFor();
    assert.match(await offer.textContent(), /If the sign-in page says the app is unknown.*invalid_client/);
    await page.screenshot({ path: path.join(artifacts, `ui-wizard-register-again-${scheme}.png`), fullPage: true });
    await wizard.locator('[data-testid="register-again"]').click();
    // The running sign-in is cancelled first, then a new one registers again.
    await page.waitForFunction(() => window.__calls.filter((c) => c.cmd === "sign_in").length === 2);
    const order = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "sign_in" || c.cmd === "cancel_sign_in").map((c) => c.cmd));
    assert.deepEqual(order, ["sign_in", "cancel_sign_in", "sign_in"]);
    assert.deepEqual(await callsOf(page, "sign_in"), [{ url: urls.GITLAB }, { url: urls.GITLAB, registerAgain: true }]);
    await wizard.locator('[data-testid="sign-in-notice"]').waitFor();
    assert.match(await wizard.locator('[data-testid="sign-in-notice"]').textContent(), /dropped its registration/);
    // Still waiting in the browser, with the new registration: no offer any more.
    await wizard.locator('[data-testid="waiting"]').waitFor();
    assert.equal(await offer.count(), 0);
    if (scheme === "light") await page.screenshot({ path: path.join(artifacts, "ui-wizard-registering-again.png"), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  }
});

test("the why view shows the reason, the fix as a button, and the trace behind a disclosure", async () => {
  const { page, errors } = await open();
  await row(page, urls.LINEAR).locator('[data-testid="why"]').click();
  const why = page.locator('[data-testid="why"]');
  await why.locator('[data-testid="reason-title"]').waitFor();
  assert.equal(await why.locator('[data-testid="reason-title"]').textContent(), "The sign-in server saw the saved session used twice and ended it.");
  assert.equal(await why.locator('[data-testid="fix-button"]').textContent(), "Sign in again");
  const trace = why.locator('[data-testid="trace"]');
  assert.equal(await trace.evaluate((d) => d.open), false, "the trace is behind a disclosure");
  await trace.locator("summary").click();
  assert.match(await trace.textContent(), /refresh_token=\[redacted\]/);
  await why.locator('[data-testid="export-diagnostics"]').click();
  await why.locator('[data-testid="save-diagnostics"]').click();
  assert.match(await why.locator('[data-testid="exported"]').textContent(), /latchkey-diagnostics-mcp\.linear\.app-\d+\.json/);
  await page.screenshot({ path: path.join(artifacts, "ui-why.png"), fullPage: true });
  // The fix signs in again: the wizard opens on this server.
  await why.locator('[data-testid="fix-button"]').click();
  await page.locator('[data-testid="wizard"]').waitFor();
  const planned = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "plan_sign_in").map((c) => c.args.url));
  assert.deepEqual(planned, [urls.LINEAR]);
  assert.deepEqual(errors, []);
  await page.close();
});

test("a tool's step-up through the tray opens the wizard on the wider scopes, for review", async () => {
  const { page, errors } = await open();
  // The tray opens the window with latchkey://login?url=...&scope=... when `latchkey bridge`
  // was refused with insufficient_scope; the window hears it as open-server.
  await page.evaluate((url) => window.__emit("open-server", { url, view: "sign_in", scopes: ["read_api", "read_repository"] }), urls.GITLAB);
  await page.locator('[data-testid="wizard"]').waitFor();
  const sent = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "plan_sign_in").map((c) => c.args));
  assert.deepEqual(sent, [{ url: urls.GITLAB, client: null, scopes: ["read_api", "read_repository"] }]);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the keyboard reaches every action, and Escape goes back", async () => {
  const { page, errors } = await open();
  const focused = async () => page.evaluate(() => {
    const el = document.activeElement;
    return { testid: el?.dataset?.testid ?? null, url: el?.closest('[data-testid="server-row"]')?.dataset.url ?? null };
  });
  const seen = [];
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press("Tab");
    const f = await focused();
    if (f.testid) seen.push(`${f.testid}@${f.url ?? "-"}`);
  }
  for (const want of ["recheck@-", `reauth@${urls.GITLAB}`, `hand-off@${urls.GITLAB}`, `sign-out@${urls.GITLAB}`, `why@${urls.GITLAB}`, `sign-in@${urls.SENTRY}`]) {
    assert.ok(seen.includes(want), `Tab never reached ${want}: ${seen.join(", ")}`);
  }
  // Focus "Why?" of the unreachable server, open it with Enter, and come back with Escape.
  await row(page, urls.INTERNAL).locator('[data-testid="why"]').focus();
  await page.keyboard.press("Enter");
  await page.locator('[data-testid="why"]').and(page.locator("section")).waitFor();
  await page.keyboard.press("Escape");
  await page.locator('[data-testid="server-row"]').first().waitFor();
  assert.equal(await page.locator('section[data-testid="why"]').count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

/** Opens the wizard on a row (its sign-in or sign-in-again button) and goes to the app step. */
async function toAppStep(page, url) {
  await row(page, url).locator('[data-testid="sign-in"], [data-testid="reauth"]').first().click();
  const wizard = page.locator('[data-testid="wizard"]');
  await wizard.locator('[data-testid="discovered"]').waitFor();
  await wizard.locator('[data-testid="wizard-next"]').click();
  await wizard.locator('[data-testid="scope"]').first().waitFor();
  await wizard.locator('[data-testid="wizard-next"]').click();
  await wizard.locator('[data-testid="app-choice"]').waitFor();
  return wizard;
}

const callsOf = (page, cmd) => page.evaluate((c) => window.__calls.filter((x) => x.cmd === c).map((x) => x.args), cmd);

test("a sign-in server that does not list PKCE waits for the person's confirmation before the browser opens", async () => {
  for (const scheme of ["light", "dark"]) {
    const { page, errors } = await open(scheme);
    await row(page, urls.SENTRY).locator('[data-testid="sign-in"]').click();
    const wizard = page.locator('[data-testid="wizard"]');
    // The plan step says it first, in words, with what PKCE is.
    const note = wizard.locator('[data-testid="pkce-note"]');
    await note.waitFor();
    assert.equal(await note.getAttribute("data-basis"), "needs_confirmation");
    assert.match(await note.textContent(), /does not say whether it accepts PKCE \(a one-time proof that makes a stolen sign-in code useless\)/);
    if (scheme === "light") await page.screenshot({ path: path.join(artifacts, "ui-wizard-pkce-note.png"), fullPage: true });
    await wizard.locator('[data-testid="wizard-next"]').click();
    await wizard.locator('[data-testid="scope"]').first().waitFor();
    // Core's problem (with its command-line words) is not a scope problem: not listed here.
    assert.equal(await wizard.locator('[data-testid="plan-problem"]').count(), 0);
    await wizard.locator('[data-testid="wizard-next"]').click();

    const confirm = wizard.locator('[data-testid="pkce-confirm"]');
    await confirm.waitFor();
    const words = (await confirm.textContent()).replace(/\s+/g, " ");
    assert.match(words, /code_challenge_methods_supported/);
    assert.match(words, /https:\/\/sso\.sentry\.example\/realms\/eng/);
    assert.match(words, /S256 \(never the weak “plain” one\)/);
    assert.match(words, /remembers your choice/);
    assert.match(words, /latchkey assumed-pkce --forget https:\/\/sso\.sentry\.example\/realms\/eng/);
    const start = wizard.locator('[data-testid="start-sign-in"]');
    assert.equal(await start.isDisabled(), true, "no sign-in before the confirmation");
    assert.match(await wizard.locator('[data-testid="start-blocked"]').textContent(), /Confirm the check at the top of this step first/);
    await page.screenshot({ path: path.join(artifacts, `ui-wizard-pkce-${scheme}.png`), fullPage: true });

    await wizard.locator('[data-testid="confirm-pkce"]').click();
    await wizard.locator('[data-testid="pkce-confirmed"]').waitFor();
    assert.equal(await confirm.count(), 0);
    assert.equal(await start.isDisabled(), false);
    assert.deepEqual(await callsOf(page, "confirm_pkce"), [{ url: urls.SENTRY }]);
    await page.screenshot({ path: path.join(artifacts, `ui-wizard-pkce-confirmed-${scheme}.png`), fullPage: true });

    if (scheme === "light") {
      // The plan step now shows the choice, and undoes it: the plan asks again.
      await wizard.locator("button", { hasText: "Back" }).last().click();
      await wizard.locator("button", { hasText: "Back" }).last().click();
      await note.and(page.locator('[data-basis="chosen_by_you"]')).waitFor();
      assert.match(await note.textContent(), /You chose to let Latchkey assume/);
      await wizard.locator('[data-testid="forget-pkce"]').click();
      await wizard.locator('[data-testid="pkce-forgotten"]').waitFor();
      assert.equal(await note.getAttribute("data-basis"), "needs_confirmation");
      assert.deepEqual(await callsOf(page, "forget_pkce"), [{ issuer: "https://sso.sentry.example/realms/eng" }]);
    } else {
      await start.click();
      await wizard.locator('[data-testid="waiting"]').waitFor();
      assert.deepEqual(await callsOf(page, "sign_in"), [{ url: urls.SENTRY }]);
    }
    assert.deepEqual(errors, []);
    await page.close();
  }
});

test("an app registered at Entra: its values, where to find them, the redirect URI to register, and the plan made with them", async () => {
  for (const scheme of ["light", "dark"]) {
    const { page, errors } = await open(scheme);
    const wizard = await toAppStep(page, urls.GITLAB);
    assert.deepEqual(
      await wizard.locator('[data-testid="app-preset"]').evaluateAll((els) => els.map((e) => e.dataset.provider)),
      ["entra", "okta", "auth0", "keycloak", "google"],
    );
    await wizard.locator('[data-testid="app-preset"][data-provider="entra"]').check();
    const form = wizard.locator('[data-testid="preset-form"][data-provider="entra"]');
    await form.waitFor();
    assert.match(await form.locator('[data-testid="register-as"]').textContent(), /platform "Mobile and desktop applications"/);
    await form.locator('[data-testid="redirect-uri"]').waitFor();
    assert.equal(await form.locator('[data-testid="redirect-uri"]').textContent(), "http://127.0.0.1:33418/callback");
    assert.equal(await form.locator('[data-testid="callback-port"]').inputValue(), "33418");
    const tenant = form.locator('[data-testid="preset-field"][data-key="tenant"]');
    assert.equal(await tenant.getAttribute("placeholder"), "72f988bf-86f1-41af-91ab-2d7cd011db47");
    assert.match(await form.textContent(), /Directory \(tenant\) ID \(required\)/);
    assert.match(await form.textContent(), /Where to find it: Entra admin center > App registrations > your app > Overview/);
    assert.match(await form.textContent(), /Where to find it: Application \(client\) ID, on the app's Overview page/);
    assert.equal(await form.locator('[data-testid="preset-field"][data-key="authority"]').inputValue(), "https://login.microsoftonline.com");
    assert.equal(await form.locator('[data-testid="client-secret"]').count(), 0, "Entra needs no secret for a desktop app");
    // The field's help is its accessible description.
    assert.match(await tenant.evaluate((el) => document.getElementById(el.getAttribute("aria-describedby")).textContent), /Overview/);
    // Until the app is used, the sign-in waits, and says why.
    assert.equal(await wizard.locator('[data-testid="start-sign-in"]').isDisabled(), true);
    assert.match(await wizard.locator('[data-testid="start-blocked"]').textContent(), /press “Use this Microsoft Entra ID app” first/);
    await page.screenshot({ path: path.join(artifacts, `ui-wizard-preset-${scheme}.png`), fullPage: true });

    if (scheme === "light") {
      // Copy puts the exact URI on the clipboard.
      await form.locator('[data-testid="copy-redirect-uri"]').click();
      await form.locator('[data-testid="copy-redirect-uri"]', { hasText: "Copied" }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), "http://127.0.0.1:33418/callback");
      // Without the tenant and client id: the backend's words, with what to do.
      await form.locator('[data-testid="use-app"]').click();
      const error = wizard.locator('[data-testid="error"]');
      await error.waitFor();
      assert.match(await error.textContent(), /Directory \(tenant\) ID \(tenant\): Entra admin center/);
      assert.match(await error.textContent(), /Register the app as/);
      await page.screenshot({ path: path.join(artifacts, "ui-wizard-preset-error.png"), fullPage: true });
      // Another port: another redirect URI.
      await form.locator('[data-testid="callback-port"]').fill("8765");
      await form.locator('[data-testid="redirect-uri"]', { hasText: ":8765/" }).waitFor();
      await form.locator('[data-testid="callback-port"]').fill("33418");
      await form.locator('[data-testid="redirect-uri"]', { hasText: ":33418/" }).waitFor();
    }
    await tenant.fill("contoso.onmicrosoft.com");
    await form.locator('[data-testid="client-id"]').fill("11111111-2222-3333-4444-555555555555");
    await form.locator('[data-testid="use-app"]').click();
    await wizard.locator('[data-testid="client-choice"]', { hasText: "11111111-2222" }).waitFor();
    assert.equal(await wizard.locator('[data-testid="error"]').count(), 0);
    const sent = (await callsOf(page, "plan_sign_in_with_provider")).at(-1);
    assert.deepEqual(sent, {
      url: urls.GITLAB,
      client: { provider: "entra", values: { tenant: "contoso.onmicrosoft.com", authority: "https://login.microsoftonline.com" },
                client_id: "11111111-2222-3333-4444-555555555555", callback_port: 33418 },
      scopes: ["mcp"],
    });
    assert.equal(await wizard.locator('[data-testid="start-sign-in"]').isDisabled(), false);
    await page.screenshot({ path: path.join(artifacts, `ui-wizard-preset-planned-${scheme}.png`), fullPage: true });

    // Google asks for the client secret as well; it is sent once and never shown back.
    await wizard.locator('[data-testid="app-preset"][data-provider="google"]').check();
    const google = wizard.locator('[data-testid="preset-form"][data-provider="google"]');
    await google.waitFor();
    assert.equal(await google.locator('[data-testid="client-secret"]').count(), 1);
    assert.equal(await google.locator('[data-testid="preset-field"]').count(), 0);
    assert.deepEqual(errors, []);
    await page.close();
  }
});

test("the keyboard reaches the PKCE confirmation and the presets", async () => {
  const { page, errors } = await open();
  const wizard = await toAppStep(page, urls.SENTRY);
  const focusedTestid = () => page.evaluate(() => document.activeElement?.dataset?.testid ?? null);
  // From the wizard's top, Tab reaches the confirmation; Enter confirms.
  await wizard.locator('[data-testid="close-wizard"]').focus();
  let reached = false;
  for (let i = 0; i < 20 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = (await focusedTestid()) === "confirm-pkce";
  }
  assert.ok(reached, "Tab reaches the confirmation");
  await page.keyboard.press("Enter");
  await wizard.locator('[data-testid="pkce-confirmed"]').waitFor();
  reached = false;
  for (let i = 0; i < 12 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = (await focusedTestid()) === "start-sign-in";
  }
  assert.ok(reached, "then the sign-in button, now enabled");
  // The choice of app is one radio group: arrows move from Automatic to a preset.
  await wizard.locator('[data-testid="app-auto"]').focus();
  await page.keyboard.press("ArrowDown");
  await wizard.locator('[data-testid="own-form"]').waitFor();
  await page.keyboard.press("ArrowDown");
  await wizard.locator('[data-testid="preset-form"][data-provider="entra"]').waitFor();
  await page.keyboard.press("Tab");
  const next = await page.evaluate(() => ({ testid: document.activeElement?.dataset?.testid, key: document.activeElement?.dataset?.key }));
  assert.ok(["copy-redirect-uri", "preset-field"].includes(next.testid), JSON.stringify(next));
  assert.deepEqual(errors, []);
  await page.close();
});

test("Use in…: a checkbox per installed tool; saving connects the ticked ones and puts back the unticked", async () => {
  const { page, errors } = await open();
  const r = row(page, urls.GITLAB);
  await r.locator('[data-testid="use-in-open"]').click();
  const boxes = r.locator('[data-testid="use-in-tool"]');
  await boxes.first().waitFor();
  assert.deepEqual(
    await boxes.evaluateAll((els) => els.map((e) => [e.dataset.tool, e.checked])),
    [["claude-code", true], ["claude-desktop", false], ["cursor", false], ["vs-code", false], ["gemini-cli", false], ["codex", false], ["zed", false]],
  );
  assert.equal(await r.locator('[data-testid="use-in-apply"]').isDisabled(), true, "nothing to save yet");
  await r.locator('[data-testid="use-in-tool"][data-tool="claude-desktop"]').check();
  await r.locator('[data-testid="use-in-tool"][data-tool="cursor"]').check();
  await r.locator('[data-testid="use-in-tool"][data-tool="zed"]').check();
  await r.locator('[data-testid="use-in-tool"][data-tool="claude-code"]').uncheck();
  await r.locator('[data-testid="use-in-apply"]').click();
  await r.locator('[data-testid="use-in-done"]').first().waitFor();
  const calls = await page.evaluate(() => window.__calls.filter((c) => c.cmd.endsWith("connect_tools")));
  assert.deepEqual(calls, [
    { cmd: "connect_tools", args: { url: urls.GITLAB, tools: ["claude-desktop", "cursor", "zed"] } },
    { cmd: "disconnect_tools", args: { url: urls.GITLAB, tools: ["claude-code"] } },
  ]);
  const done = await r.locator('[data-testid="use-in-done"]').allTextContents();
  assert.match(done.join("\n"), /Claude Desktop starts `latchkey bridge`.*previous version kept in/);
  assert.match(done.join("\n"), /Claude Code is back as it was/);
  // A tool that could not be connected says why and what to do, and stays unticked.
  assert.match(await r.locator('[data-testid="use-in-error"]').textContent(), /Zed: .*changed while Latchkey was editing it.*try again/);
  await page.waitForFunction(() => document.querySelector('[data-testid="use-in-tool"][data-tool="claude-code"]')?.checked === false);
  assert.deepEqual(
    await boxes.evaluateAll((els) => els.filter((e) => e.checked).map((e) => e.dataset.tool)),
    ["claude-desktop", "cursor"],
  );
  await page.screenshot({ path: path.join(artifacts, "ui-use-in.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("a server is added by pasting its URL: the sign-in wizard opens for it", async () => {
  const { page, errors } = await open();
  await page.locator('[data-testid="add-url"]').fill("https://mcp.new-server.example/mcp");
  await page.locator('[data-testid="add-submit"]').click();
  await page.locator('[data-testid="wizard"]').waitFor();
  const plans = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "plan_sign_in").map((c) => c.args.url));
  assert.deepEqual(plans, ["https://mcp.new-server.example/mcp"]);
  assert.deepEqual(errors, []);
  await page.close();
});

const stepStates = (page) =>
  page.locator('[data-testid="steps"] li').evaluateAll((els) => Object.fromEntries(els.map((e) => [e.dataset.step, e.dataset.state])));
const seconds = (text) => Number(text.match(/(\d+) s/)[1]);

test("an unreachable server: a plain sentence first, the technical detail under Details, the first step failed, and Try again asks again", async () => {
  const { page, errors } = await open();
  const url = "https://down.example.net/mcp";
  await page.locator('[data-testid="add-url"]').fill(url);
  await page.locator('[data-testid="add-submit"]').click();
  const wizard = page.locator('[data-testid="wizard"]');
  const failure = wizard.locator('[data-testid="wizard-failure"]');
  await failure.waitFor();
  assert.equal(await failure.getAttribute("data-failed"), "discovered");
  const error = failure.locator('[data-testid="error"]');
  // The first words are plain; the resolver's words wait, hidden, under "Details".
  assert.equal(await error.locator('[data-testid="error-title"]').textContent(), "Cannot reach the server.");
  assert.match(await error.locator('[data-testid="error-what-to-do"]').textContent(), /server is down, or the address or network is wrong\. Try again/);
  const visible = await error.innerText();
  assert.ok(visible.startsWith("Cannot reach the server."), visible);
  assert.doesNotMatch(visible, /lookup address|dns error/);
  const details = error.locator('[data-testid="error-details"]');
  assert.equal(await details.evaluate((d) => d.open), false, "the detail is collapsed");
  // Nothing was found: the first step is failed, none is done.
  assert.deepEqual(await stepStates(page), { discovered: "failed", scopes: "todo", client: "todo", waiting: "todo", result: "todo" });
  assert.equal(await wizard.locator('[data-testid="discovered"]').count(), 0);
  await page.screenshot({ path: path.join(artifacts, "ui-wizard-failure.png"), fullPage: true });
  await details.locator("summary").click();
  assert.match(await details.innerText(), /failed to lookup address information/);
  await page.screenshot({ path: path.join(artifacts, "ui-wizard-failure-details.png"), fullPage: true });

  // Try again asks the server again, the same way; now it answers.
  await page.evaluate(() => (window.__reachable = true));
  await failure.locator('[data-testid="try-again"]').click();
  await wizard.locator('[data-testid="discovered"]').waitFor();
  assert.equal(await failure.count(), 0);
  assert.deepEqual(await callsOf(page, "plan_sign_in"), [
    { url, client: null, scopes: null },
    { url, client: null, scopes: null },
  ]);
  assert.equal((await stepStates(page)).discovered, "current");
  assert.deepEqual(errors, []);
  await page.close();
});

test("while the server is asked, the time counts up and Cancel goes back", async () => {
  const { page, errors } = await open();
  await page.locator('[data-testid="add-url"]').fill("https://slow.example.net/mcp");
  await page.locator('[data-testid="add-submit"]').click();
  const pending = page.locator('[data-testid="discovering"]');
  await pending.waitFor();
  assert.match(await pending.textContent(), /Asking slow\.example\.net how to sign in/);
  await page.waitForFunction(() => /([1-9]\d*) s/.test(document.querySelector('[data-testid="discovering"] [data-testid="elapsed"]')?.textContent ?? ""));
  await pending.locator('[data-testid="cancel-discovery"]').click();
  await page.locator('[data-testid="server-row"]').first().waitFor();
  assert.equal(await page.locator('[data-testid="wizard"]').count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test("waiting for the browser: the time counts up, the sign-in server is named, and Cancel stops the sign-in", async () => {
  const { page, errors } = await open();
  const wizard = await toAppStep(page, urls.GITLAB);
  await wizard.locator('[data-testid="start-sign-in"]').click();
  const waiting = wizard.locator('[data-testid="waiting"]');
  await waiting.waitFor();
  assert.equal(await waiting.locator('[data-testid="sign-in-host"]').textContent(), "gitlab.example.com");
  const elapsed = waiting.locator('[data-testid="elapsed"]');
  const first = seconds(await elapsed.textContent());
  assert.ok(first <= 1, `starts at zero: ${first}`);
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="waiting"] [data-testid="elapsed"]').textContent.match(/(\d+) s/)[1]) >= 2);
  assert.ok(seconds(await elapsed.textContent()) > first, "the time waited increases");
  assert.deepEqual(await stepStates(page), { discovered: "done", scopes: "done", client: "done", waiting: "current", result: "todo" });
  await page.screenshot({ path: path.join(artifacts, "ui-wizard-waiting.png"), fullPage: true });

  await waiting.locator('[data-testid="cancel-sign-in"]').click();
  // Back on the app step, where the browser was opened from, with nothing in error.
  await wizard.locator('[data-testid="app-choice"]').waitFor();
  assert.deepEqual(await callsOf(page, "cancel_sign_in"), [{ url: urls.GITLAB }]);
  assert.equal((await stepStates(page)).client, "current");
  assert.equal(await wizard.locator('[data-testid="error"]').count(), 0);
  assert.equal(await wizard.locator('[data-testid="start-sign-in"]').isDisabled(), false);
  assert.deepEqual(errors, []);
  await page.close();
});

test("sign-in on another device: the code, the address with Copy, its QR code, the time left, and Cancel", async () => {
  for (const scheme of ["light", "dark"]) {
    const { page, errors } = await open(scheme);
    await page.evaluate(() => (window.__deviceFlow = true));
    const wizard = await toAppStep(page, urls.GITLAB);
    // Offered only where the sign-in server has a device authorization endpoint.
    const offer = wizard.locator('[data-testid="start-device-sign-in"]');
    assert.equal(await offer.textContent(), "Sign in on another device");
    if (scheme === "light") await page.screenshot({ path: path.join(artifacts, "ui-wizard-device-offer.png"), fullPage: true });
    await offer.click();
    const waiting = wizard.locator('[data-testid="device-waiting"]');
    await waiting.waitFor();
    assert.deepEqual(await callsOf(page, "sign_in"), [{ url: urls.GITLAB, device: true }]);
    assert.equal(await waiting.locator('[data-testid="device-user-code"]').textContent(), "WDJB-MJHT");
    assert.equal(await waiting.locator('[data-testid="device-address"]').textContent(), "https://gitlab.example.com/oauth/device");
    assert.match(await waiting.locator('[data-testid="device-why"]').textContent(), /You asked to sign in with a code on another device/);
    assert.equal(await waiting.locator('[data-testid="sign-in-host"]').textContent(), "gitlab.example.com");
    // The QR code is core's SVG, shown as an image, and it has loaded.
    const qr = waiting.locator('[data-testid="device-qr"]');
    assert.match(await qr.getAttribute("src"), /^data:image\/svg\+xml/);
    assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 100), "the QR code image loads");
    // The time left counts down from the code's lifetime.
    const left = waiting.locator('[data-testid="device-time-left"]');
    const first = await left.textContent();
    assert.match(first, /^(10:00|9:5\d)$/);
    await page.waitForFunction((f) => document.querySelector('[data-testid="device-time-left"]').textContent !== f, first);
    assert.deepEqual(await stepStates(page), { discovered: "done", scopes: "done", client: "done", waiting: "current", result: "todo" });
    assert.equal((await wizard.locator('[data-step="waiting"]').textContent()).trim().replace(/\s+/g, " "), "Other device");
    // Copy puts the address on the clipboard.
    await waiting.locator('[data-testid="copy-device-address"]').click();
    // The clipboard write is asynchronous: the button says so once it is done.
    await page.waitForFunction(() => document.querySelector('[data-testid="copy-device-address"]').textContent === "Copied", null, { timeout: 10000 });
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), "https://gitlab.example.com/oauth/device");
    await page.screenshot({ path: path.join(artifacts, `ui-wizard-device-code-${scheme}.png`), fullPage: true });
    // Cancel stops the sign-in and goes back to the app step.
    await waiting.locator('[data-testid="cancel-sign-in"]').click();
    await wizard.locator('[data-testid="app-choice"]').waitFor();
    assert.deepEqual(await callsOf(page, "cancel_sign_in"), [{ url: urls.GITLAB }]);
    assert.deepEqual(errors, []);
    await page.close();
  }
});

test("without a device authorization endpoint the wizard offers only the browser", async () => {
  const { page, errors } = await open();
  const wizard = await toAppStep(page, urls.GITLAB);
  assert.equal(await wizard.locator('[data-testid="start-device-sign-in"]').count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test("a sign-in that fails says so plainly, marks the browser step failed, and Try again signs in again", async () => {
  const { page, errors } = await open();
  const wizard = await toAppStep(page, urls.GITLAB);
  await page.evaluate(() => (window.__signInRefused = true));
  await wizard.locator('[data-testid="start-sign-in"]').click();
  const failure = wizard.locator('[data-testid="wizard-failure"]');
  await failure.waitFor();
  assert.equal(await failure.getAttribute("data-failed"), "waiting");
  assert.equal(await failure.locator('[data-testid="error-title"]').textContent(), "Sign-in was declined.");
  assert.equal(await failure.locator('[data-testid="error-details"]').evaluate((d) => d.open), false);
  assert.deepEqual(await stepStates(page), { discovered: "done", scopes: "done", client: "done", waiting: "failed", result: "todo" });
  await page.screenshot({ path: path.join(artifacts, "ui-wizard-sign-in-failed.png"), fullPage: true });
  await page.evaluate(() => (window.__signInRefused = false));
  await failure.locator('[data-testid="try-again"]').click();
  await wizard.locator('[data-testid="waiting"]').waitFor();
  assert.deepEqual(await callsOf(page, "sign_in"), [{ url: urls.GITLAB }, { url: urls.GITLAB }]);
  assert.equal((await stepStates(page)).waiting, "current");
  assert.deepEqual(errors, []);
  await page.close();
});

test("with no browser here, the wizard says why, offers the paste field at once, refuses what is not the answer, and takes the answer", async () => {
  for (const scheme of ["light", "dark"]) {
    const { page, errors } = await open(scheme);
    const wizard = await toAppStep(page, urls.GITLAB);
    await page.evaluate(() => (window.__noBrowserHere = true));
    await wizard.locator('[data-testid="start-sign-in"]').click();
    const method = wizard.locator('[data-testid="sign-in-method"]');
    await method.waitFor();
    assert.equal(await method.getAttribute("data-method"), "paste_back");
    assert.match(await method.textContent(), /The answer comes back by pasting back the address your browser ends on\./);
    assert.match(await method.textContent(), /This is an SSH session without a display, so no browser can open here/);
    const form = wizard.locator('[data-testid="paste-back"]');
    await form.waitFor();
    assert.match(await form.textContent(), /Paste the address your browser ended on/);
    const input = form.locator('[data-testid="paste-address"]');
    const message = form.locator('[data-testid="paste-message"]');
    assert.equal(await form.locator('[data-testid="paste-submit"]').isDisabled(), true);
    // Garbage, then another sign-in's address: each refused in words, and still waiting.
    await input.fill("hello there");
    await form.locator('[data-testid="paste-submit"]').click();
    await message.waitFor();
    assert.match(await message.textContent(), /That is not a web address\. Paste the whole address .*Latchkey is still waiting \(4 more tries\)/s);
    assert.equal(await input.inputValue(), "", "the pasted text does not stay on screen");
    await input.fill("http://127.0.0.1:40001/callback?code=c0de-other&state=st-other");
    await input.press("Enter");
    await page.waitForFunction(() => /3 more tries/.test(document.querySelector('[data-testid="paste-message"]')?.textContent ?? ""));
    assert.match(await message.textContent(), /from another sign-in: it goes to http:\/\/127\.0\.0\.1:40001\/callback/);
    assert.doesNotMatch(await message.textContent(), /c0de-other/);
    await page.screenshot({ path: path.join(artifacts, `ui-wizard-paste-back-${scheme}.png`), fullPage: true });
    // The answer.
    await input.fill("http://127.0.0.1:33418/callback?code=c0de-1&state=st-mock-1&iss=https%3A%2F%2Fgitlab.example.com");
    await form.locator('[data-testid="paste-submit"]').click();
    await wizard.locator('[data-testid="waiting"]', { hasText: "Almost done" }).waitFor();
    const pastes = await callsOf(page, "paste_sign_in_answer");
    assert.equal(pastes.length, 3);
    assert.ok(pastes.every((p) => p.url === urls.GITLAB && typeof p.address === "string"), JSON.stringify(pastes.map((p) => p.url)));
    assert.equal(await wizard.locator('[data-testid="paste-back"]').count(), 0, "no paste field while the tokens are fetched");
    assert.deepEqual(errors, []);
    await page.close();
  }
});

test("when the browser opened here but its answer did not come back, the paste field appears after 20 s", async () => {
  const { page, errors } = await open();
  await page.clock.install();
  const wizard = await toAppStep(page, urls.GITLAB);
  await wizard.locator('[data-testid="start-sign-in"]').click();
  const method = wizard.locator('[data-testid="sign-in-method"]');
  await method.waitFor();
  assert.equal(await method.getAttribute("data-method"), "browser");
  assert.match(await method.textContent(), /in your browser on this machine/);
  await page.clock.fastForward(10_000);
  assert.equal(await wizard.locator('[data-testid="paste-back"]').count(), 0, "not at once: the browser may still come back");
  await page.clock.fastForward(11_000);
  await wizard.locator('[data-testid="paste-back"]').waitFor();
  assert.deepEqual(errors, []);
  await page.close();
});

test("exported diagnostics are previewed first, then say where they went, copy the same redacted text, and show their folder", async () => {
  const { page, errors } = await open();
  await row(page, urls.LINEAR).locator('[data-testid="why"]').click();
  const why = page.locator('[data-testid="why"]');
  await why.locator('[data-testid="reason-title"]').waitFor();
  await why.locator('[data-testid="export-diagnostics"]').click();
  // A preview first: where it goes and what it holds; nothing is written yet.
  const preview = why.locator('[data-testid="export-preview"]');
  await preview.waitFor();
  assert.match(await preview.locator('[data-testid="preview-path"]').textContent(), /latchkey-diagnostics-mcp\.linear\.app-\d+\.json$/);
  assert.match(await preview.locator('[data-testid="preview-summary"]').textContent(), /requests with their answers/);
  assert.deepEqual(await callsOf(page, "export_diagnostics"), [{ url: urls.LINEAR, save: false }]);
  await page.screenshot({ path: path.join(artifacts, "ui-why-export-preview.png"), fullPage: true });
  await preview.locator('[data-testid="cancel-export"]').click();
  assert.equal(await preview.count(), 0);
  await why.locator('[data-testid="export-diagnostics"]').click();
  await preview.locator('[data-testid="save-diagnostics"]').click();
  const exported = why.locator('[data-testid="exported"]');
  await exported.waitFor();
  assert.equal(await exported.locator('[data-testid="exported-folder"]').textContent(), "/home/alex/Downloads");
  const file = await exported.locator('[data-testid="exported-path"]').textContent();
  assert.match(file, /^\/home\/alex\/Downloads\/latchkey-diagnostics-mcp\.linear\.app-\d+\.json$/);
  await exported.locator('[data-testid="copy-diagnostics"]').click();
  await exported.locator('[data-testid="copy-diagnostics"]', { hasText: "Copied" }).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  const want = await page.evaluate(() => JSON.stringify(window.__LATCHKEY_FIXTURE__.why, null, 2));
  assert.equal(copied, want, "the clipboard holds what the file holds");
  assert.match(copied, /refresh_token=\[redacted\]/);
  await exported.locator('[data-testid="show-in-folder"]').click();
  await page.waitForFunction(() => window.__calls.some((c) => c.cmd === "show_in_folder"));
  assert.deepEqual(await callsOf(page, "show_in_folder"), [{ path: file }]);
  await page.screenshot({ path: path.join(artifacts, "ui-why-exported.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("the failure and the wait read well in the dark theme too", async () => {
  const { page, errors } = await open("dark");
  await page.locator('[data-testid="add-url"]').fill("https://down.example.net/mcp");
  await page.locator('[data-testid="add-submit"]').click();
  const failed = page.locator('[data-testid="steps"] li[data-state="failed"]');
  await failed.waitFor();
  const [color, background] = await failed.evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]);
  assert.notEqual(color, background);
  await page.screenshot({ path: path.join(artifacts, "ui-wizard-failure-dark.png"), fullPage: true });
  await page.locator('[data-testid="wizard-failure"] button', { hasText: "Back" }).click();
  const wizard = await toAppStep(page, urls.GITLAB);
  await wizard.locator('[data-testid="start-sign-in"]').click();
  await wizard.locator('[data-testid="waiting"] [data-testid="elapsed"]').waitFor();
  await page.screenshot({ path: path.join(artifacts, "ui-wizard-waiting-dark.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("the overall action signs in the most urgent server, and Check all again says when it ran", async () => {
  const { page, errors } = await open();
  await page.locator('[data-testid="overall-action"]').waitFor();
  await page.locator('[data-testid="recheck"]').click();
  await page.locator('[data-testid="checked"]').waitFor();
  assert.match(await page.locator('[data-testid="checked"]').textContent(), /^Checked at \d/);
  await page.locator('[data-testid="overall-action"]').click();
  await page.locator('[data-testid="wizard"]').waitFor();
  const sent = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "plan_sign_in").map((c) => c.args.url));
  assert.deepEqual(sent, [urls.LINEAR]);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the dashboard uses a wide window's width: one compact row per server", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.route("**/*", (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
  await page.addInitScript(`window.__GITLAB_SCOPES__ = ${JSON.stringify(GITLAB_SCOPES)};`);
  await page.addInitScript({ path: path.join(here, "fixture.js") });
  await page.addInitScript({ path: path.join(here, "ipc-mock.js") });
  await page.goto(base);
  await page.locator('[data-testid="overall-action"]').waitFor();
  const list = await page.locator("ul.list").boundingBox();
  assert.ok(list.width > 1000, `the list is ${list.width} px wide in a 1280 px window`);
  await page.screenshot({ path: path.join(artifacts, "ui-dashboard-wide.png"), fullPage: true });
  for (const url of Object.values(urls)) {
    const box = await row(page, url).boundingBox();
    assert.ok(box.height < 150, `${url}'s row is ${box.height} px tall`);
  }
  await page.close();
});

test("in a narrow window the overall action keeps its words on one line", async () => {
  const page = await browser.newPage({ viewport: { width: 720, height: 800 } });
  await page.route("**/*", (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
  await page.addInitScript(`window.__GITLAB_SCOPES__ = ${JSON.stringify(GITLAB_SCOPES)};`);
  await page.addInitScript({ path: path.join(here, "fixture.js") });
  await page.addInitScript({ path: path.join(here, "ipc-mock.js") });
  await page.goto(base);
  const action = page.locator('[data-testid="overall-action"]');
  await action.waitFor();
  // A long headline and detail beside it (several servers named, as in a busy home).
  await page.locator('[data-testid="overall-headline"]').evaluate((d) => {
    d.textContent = "GitLab, Linear, Sentry, Atlassian, Notion and the internal tools server need you to sign in again before your AI tools can use them.";
  });
  const lines = await action.evaluate((b) => {
    const range = document.createRange();
    range.selectNodeContents(b);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  });
  assert.equal(lines, 1, "Sign in again wraps");
  await page.screenshot({ path: path.join(artifacts, "ui-dashboard-narrow.png") });
  await page.close();
});

test("a sign-in a link started says so, shows both hosts and the audience, warns of another site and an other site's API, and asks again before the browser opens", async () => {
  const { page, errors } = await open();
  const PHISH = "https://phish.example.net/mcp";
  await page.evaluate((url) => window.__emit("open-server", { url, view: "sign_in", scopes: [], started_by_link: true }), PHISH);
  const wizard = page.locator('[data-testid="wizard"]');
  const warning = wizard.locator('[data-testid="link-warning"]');
  await warning.waitFor();
  assert.equal((await warning.textContent()).trim().replace(/\s+/g, " "), "A link asked Latchkey to sign you in to phish.example.net. Continue only if you started this.");
  await wizard.locator('[data-testid="discovered"]').waitFor();
  assert.equal(await wizard.locator('[data-testid="site-server"]').textContent(), "phish.example.net");
  assert.equal(await wizard.locator('[data-testid="site-sign-in"]').textContent(), "login.microsoftonline.com");
  assert.equal(await wizard.locator('[data-testid="site-audience"]').textContent(), PHISH);
  assert.match(await wizard.locator('[data-testid="cross-site"]').textContent(), /a different site/);
  await page.screenshot({ path: path.join(artifacts, "ui-wizard-link-started.png"), fullPage: true });
  await wizard.locator('[data-testid="wizard-next"]').click();
  const graph = wizard.locator('[data-testid="scope"][data-scope="https://graph.microsoft.com/.default"]');
  assert.match(await graph.locator('[data-testid="scope-flag"]').textContent(), /an API at graph\.microsoft\.com/);
  await wizard.locator('[data-testid="wizard-next"]').click();
  await wizard.locator('[data-testid="app-choice"]').waitFor();
  // The first press asks again; the browser opens only after the second yes.
  await wizard.locator('[data-testid="start-sign-in"]').click();
  const confirm = wizard.locator('[data-testid="link-confirm"]');
  await confirm.waitFor();
  assert.deepEqual(await callsOf(page, "sign_in"), []);
  assert.equal(await wizard.locator('[data-testid="start-sign-in"]').isDisabled(), true);
  await confirm.locator('[data-testid="link-confirm-scopes"]').waitFor();
  await page.screenshot({ path: path.join(artifacts, "ui-wizard-link-confirm.png"), fullPage: true });
  await confirm.locator('[data-testid="link-confirm-no"]').click();
  assert.equal(await confirm.count(), 0);
  assert.deepEqual(await callsOf(page, "sign_in"), []);
  await wizard.locator('[data-testid="start-sign-in"]').click();
  await wizard.locator('[data-testid="link-confirm-yes"]').click();
  await wizard.locator('[data-testid="waiting"]').waitFor();
  assert.equal((await callsOf(page, "sign_in")).length, 1);
  assert.deepEqual(errors, []);
  await page.close();
});

test("a sign-in started in Latchkey on one site neither warns of a link nor asks again", async () => {
  const { page, errors } = await open();
  const wizard = await toAppStep(page, urls.GITLAB);
  assert.equal(await wizard.locator('[data-testid="link-warning"]').count(), 0);
  await wizard.locator('[data-testid="start-sign-in"]').click();
  await wizard.locator('[data-testid="waiting"]').waitFor();
  assert.equal(await wizard.locator('[data-testid="link-confirm"]').count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the sign-in server of another site is warned of even without a link", async () => {
  const { page, errors } = await open();
  await row(page, urls.SENTRY).locator('[data-testid="sign-in"]').click();
  const wizard = page.locator('[data-testid="wizard"]');
  await wizard.locator('[data-testid="discovered"]').waitFor();
  assert.match(await wizard.locator('[data-testid="cross-site"]').textContent(), /sso\.sentry\.example, a different site/);
  assert.equal(await wizard.locator('[data-testid="link-warning"]').count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test("a new link while a wizard is open never replaces it without asking", async () => {
  const { page, errors } = await open();
  const wizard = await toAppStep(page, urls.GITLAB);
  await page.evaluate(() => window.__emit("open-server", { url: "https://phish.example.net/mcp", view: "sign_in", scopes: [], started_by_link: true }));
  const prompt = page.locator('[data-testid="switch-prompt"]');
  await prompt.waitFor();
  assert.match((await prompt.textContent()).replace(/\s+/g, " "), /Another sign-in was asked for: phish\.example\.net\. Switch\?/);
  await page.screenshot({ path: path.join(artifacts, "ui-wizard-switch-prompt.png"), fullPage: true });
  // Staying keeps the wizard where it was.
  await prompt.locator('[data-testid="switch-stay"]').click();
  assert.equal(await prompt.count(), 0);
  assert.equal((await stepStates(page)).client, "current");
  assert.equal(await wizard.locator('[data-testid="link-warning"]').count(), 0);
  // Asked again, switching opens the new one, with its link warning.
  await page.evaluate(() => window.__emit("open-server", { url: "https://phish.example.net/mcp", view: "sign_in", scopes: [], started_by_link: true }));
  await prompt.locator('[data-testid="switch-go"]').click();
  await page.locator('[data-testid="link-warning"]').waitFor();
  assert.match(await page.locator('#wizard-title').textContent(), /phish\.example\.net/);
  assert.deepEqual(errors, []);
  await page.close();
});

test("signing out says what was taken back from the tools and which keep a copy", async () => {
  const { page, errors } = await open();
  await row(page, urls.GITLAB).locator('[data-testid="sign-out"]').click();
  const notice = row(page, urls.GITLAB).locator('[data-testid="notice"]');
  await notice.waitFor();
  assert.match(await notice.textContent(), /Signed out of gitlab\. Withdrawn from Gemini CLI \(gitlab\)\. Codex may keep a copy of the token until it expires\./);
  assert.deepEqual(errors, []);
  await page.close();
});

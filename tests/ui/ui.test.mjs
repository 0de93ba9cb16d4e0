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
  const page = await browser.newPage({ viewport: { width: 760, height: 900 }, colorScheme });
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
    assert.match(await row(page, urls.GITLAB).textContent(), /Used by\s*Claude Code,\s*Cursor/);
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
    assert.match(await row(page, urls.GITLAB).textContent(), /Cursor has no way to take a sign-in/);
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
  await page.screenshot({ path: path.join(artifacts, "ui-wizard-waiting.png"), fullPage: true });
  await wizard.locator('[data-testid="cancel-sign-in"]').click();
  await page.waitForFunction(() => window.__calls.some((c) => c.cmd === "cancel_sign_in"));
  assert.deepEqual(errors, []);
  await page.close();
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
  assert.match(await why.locator('[data-testid="exported"]').textContent(), /latchkey-diagnostics-mcp\.linear\.app\.json/);
  await page.screenshot({ path: path.join(artifacts, "ui-why.png"), fullPage: true });
  // The fix signs in again: the wizard opens on this server.
  await why.locator('[data-testid="fix-button"]').click();
  await page.locator('[data-testid="wizard"]').waitFor();
  const planned = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "plan_sign_in").map((c) => c.args.url));
  assert.deepEqual(planned, [urls.LINEAR]);
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

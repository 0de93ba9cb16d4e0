#!/usr/bin/env bash
# Runs every test of Latchkey: formatting, lints, Rust unit and end-to-end tests (against
# oidc-provider, an MCP SDK server and gnome-keyring, all on 127.0.0.1), the app's startup
# smoke test under Xvfb, the UI's unit tests and the fixtures' self-test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
source scripts/env.sh

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
export LATCHKEY_FIXTURE_QUIET=1

say "Formatting"
cargo fmt --all -- --check

say "Checking the UI's types, and building it"
npm --prefix ui run check --silent
npm --prefix ui run build --silent

say "Building the app with the UI embedded, and its tray (for the real-app tests)"
# Copies aside, side by side as installed: another build in the shared target dir (without the
# feature) would replace target/debug/latchkey-app while the tests run. tests/e2e/app.rs checks
# that the copy embeds the current ui/dist, runs it under Xvfb and drives it through
# tauri-driver.
cargo build --locked -p latchkey-app --features custom-protocol -p latchkey-tray
mkdir -p "$CARGO_TARGET_DIR/app-e2e"
for bin in latchkey-app latchkey-tray; do
  cp "$CARGO_TARGET_DIR/debug/$bin" "$CARGO_TARGET_DIR/app-e2e/$bin.tmp"
  mv "$CARGO_TARGET_DIR/app-e2e/$bin.tmp" "$CARGO_TARGET_DIR/app-e2e/$bin"
done
export LATCHKEY_APP_BIN="$CARGO_TARGET_DIR/app-e2e/latchkey-app"
for d in /var/cache/latchkey/cargo-bin "${XDG_CACHE_HOME:-$HOME/.cache}/latchkey/cargo-bin"; do
  if [[ -x "$d/bin/tauri-driver" ]]; then export LATCHKEY_TAURI_DRIVER="$d/bin/tauri-driver"; break; fi
done
# Screenshots and logs of the real-app tests stay in tests/artifacts (also after a failure).
trap 'echo "Real-app screenshots and logs: $PWD/tests/artifacts/"' EXIT

say "Lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "Rust tests (unit, end-to-end, app smoke test, the real app under Xvfb)"
cargo test --workspace --locked

say "UI unit tests"
npm --prefix ui test --silent

say "The built UI in Chromium (IPC mocked at the boundary)"
node --test tests/ui/

say "Fixture self-test"
node --test tests/fixtures/

say "Fuzzing every parser of outside input briefly (AFL++; scripts/fuzz.sh TARGET SECONDS for long runs)"
# cargo-afl and AFL++ from setup.sh's tool cache; the instrumented build in its own target dir.
for d in /var/cache/latchkey/cargo-bin "${XDG_CACHE_HOME:-$HOME/.cache}/latchkey/cargo-bin"; do
  if [[ -x "$d/bin/cargo-afl" ]]; then afl_tools="$d"; break; fi
done
PATH="${afl_tools:?cargo-afl is missing: run scripts/setup.sh}/bin:$PATH" XDG_DATA_HOME="$afl_tools/share" \
  FUZZ_TARGET_DIR="$CARGO_TARGET_DIR-fuzz" FUZZ_SECONDS="${FUZZ_SECONDS:-3}" ./scripts/fuzz-smoke.sh

# A cold build of the app takes minutes: on CI (CI=true) always, elsewhere when asked.
if [[ "${CI:-}" == "true" || "${LATCHKEY_CHECK_RUN_COMMAND:-}" == "1" ]]; then
  say "The README's run command on an empty target directory: it builds everything and the tray starts"
  ./scripts/check-run-command.sh
else
  say "Skipped: the README's run command from an empty target directory (CI=true or LATCHKEY_CHECK_RUN_COMMAND=1 runs it)"
fi

say "All tests passed"

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

say "Building the UI"
npm --prefix ui run build --silent

say "Lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "Rust tests (unit, end-to-end, app smoke test)"
cargo test --workspace --locked

say "UI unit tests"
npm --prefix ui test --silent

say "Fixture self-test"
node --test tests/fixtures/

say "All tests passed"

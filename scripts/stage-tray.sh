#!/usr/bin/env bash
# Run by `tauri build` before it bundles (build.beforeBundleCommand): builds the tray program
# and puts it where tauri.conf.json's bundle.linux.deb.files takes it from, so that the package
# installs /usr/bin/latchkey-tray next to /usr/bin/latchkey-app (the app becomes it).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p latchkey-tray
mkdir -p gen/bundle
cp "${CARGO_TARGET_DIR:-target}/release/latchkey-tray" gen/bundle/latchkey-tray

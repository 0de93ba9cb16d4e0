#!/usr/bin/env bash
# Builds and starts the Latchkey app (tray icon and window). Needs a desktop session; on a
# machine without one, it starts the app on a virtual display (Xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
source scripts/env.sh

npm --prefix ui run build --silent
cargo build --locked -p latchkey-cli
# The tray is its own program beside the app (the app hands over to it at start).
cargo build --locked -p latchkey-app --features custom-protocol -p latchkey-tray
app="$CARGO_TARGET_DIR/debug/latchkey-app"
echo "The command line is at $CARGO_TARGET_DIR/debug/latchkey"
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
  exec "$app"
else
  echo "No display found: starting the app on a virtual display (Xvfb)."
  exec xvfb-run -a dbus-run-session -- "$app"
fi

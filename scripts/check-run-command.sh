#!/usr/bin/env bash
# The README's run command on a fresh machine: `./scripts/run-app.sh` with an empty cargo
# target directory must build every program the app needs and start the app in the tray
# (the tray writes its ready file, and a latchkey-tray process runs), within a time limit.
# HOME, the state folder and the D-Bus session are private to this check; nothing of the real
# home is read or written. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

limit=${LATCHKEY_RUN_CHECK_SECONDS:-1800}
work=$(mktemp -d /var/tmp/latchkey-run-check.XXXXXX 2>/dev/null || mktemp -d)
cleanup() {
  [[ -n "${app_pid:-}" ]] && kill -- "-$app_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/home" "$work/target"
ready="$work/ready"

# rustup and cargo stay where they are; everything else of the person is this temp folder.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export npm_config_cache="${npm_config_cache:-$HOME/.npm}"
started=$(date +%s)
set -m
env -u DISPLAY -u WAYLAND_DISPLAY -u DBUS_SESSION_BUS_ADDRESS \
  HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share" \
  XDG_RUNTIME_DIR="$work/run" LATCHKEY_STATE_DIR="$work/state" \
  CARGO_TARGET_DIR="$work/target" LATCHKEY_READY_FILE="$ready" BROWSER=true \
  ./scripts/run-app.sh >"$work/run.log" 2>&1 &
app_pid=$!
set +m
mkdir -p "$work/run" && chmod 700 "$work/run"

while :; do
  if [[ -s "$ready" ]] && pgrep -f "^$work/target/debug/latchkey-tray" >/dev/null; then
    break
  fi
  if ! kill -0 "$app_pid" 2>/dev/null; then
    echo "run-app.sh ended before the tray started; its output:" >&2
    tail -n 40 "$work/run.log" >&2
    exit 1
  fi
  if (($(date +%s) - started > limit)); then
    echo "the tray did not start within $limit s of ./scripts/run-app.sh; its output:" >&2
    tail -n 40 "$work/run.log" >&2
    exit 1
  fi
  sleep 2
done
echo "run-app.sh built everything from an empty target directory and the tray started in $(($(date +%s) - started)) s ($(cat "$ready"))"

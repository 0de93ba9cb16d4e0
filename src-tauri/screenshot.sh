#!/usr/bin/env bash
# Screenshot of the real Latchkey window: builds the UI and the app (debug, with the UI
# embedded as in a release), starts it under Xvfb in its own D-Bus session, waits until the
# main window is mapped and painted, captures the screen, and stops the app.
#
#   src-tauri/screenshot.sh OUTPUT.png
#
# Needs (Debian): xvfb xauth dbus-x11 xdotool imagemagick, plus the Tauri build packages.
# The app's output goes to OUTPUT.log beside the picture. GTK_THEME=Adwaita:dark gives the
# dark colour scheme (WebKitGTK then reports prefers-color-scheme: dark).
# Env: CARGO_TARGET_DIR (default ./target), LATCHKEY_SCREENSHOT_TIMEOUT (seconds, default 60),
#      LATCHKEY_SCREENSHOT_SIZE (default 1024x768), LATCHKEY_SCREENSHOT_NO_BUILD=1 to skip
#      the builds.
set -euo pipefail

if [[ "${1:-}" == "--inside" ]]; then
  # Second stage: inside xvfb-run and dbus-run-session.
  out=$2 bin=$3 timeout=$4
  # WebKitGTK on Xvfb has no GPU: without these it may paint nothing (or abort) on a
  # software-only X server. Set one to 0 beforehand to try without it.
  export WEBKIT_DISABLE_COMPOSITING_MODE=${WEBKIT_DISABLE_COMPOSITING_MODE-1}
  export WEBKIT_DISABLE_DMABUF_RENDERER=${WEBKIT_DISABLE_DMABUF_RENDERER-1}
  export NO_AT_BRIDGE=1 # no accessibility bus: less noise, nothing to capture there
  log=${out%.png}.log
  "$bin" >"$log" 2>&1 &
  app=$!
  stop() { kill "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true; }
  trap stop EXIT

  deadline=$((SECONDS + timeout))
  win=""
  until win=$(xdotool search --onlyvisible --name '^Latchkey$' 2>/dev/null | head -n1) && [[ -n "$win" ]]; do
    if ! kill -0 "$app" 2>/dev/null; then
      echo "the app exited before showing its window; its output:" >&2
      cat "$log" >&2
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "no Latchkey window after ${timeout}s; app output:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.5
  done

  # Mapped is not painted: capture until the screen shows more than a few colours (text,
  # the logo), or until the deadline, and keep the last capture either way.
  while :; do
    sleep 1
    import -window root "$out"
    colours=$(convert "$out" -format %k info:)
    ((colours > 64)) && break
    if ((SECONDS >= deadline)); then
      echo "window $win stayed blank ($colours colours) for ${timeout}s; app output:" >&2
      cat "$log" >&2
      exit 1
    fi
  done
  echo "window $win captured ($colours colours) into $out"
  exit 0
fi

out=${1:?usage: src-tauri/screenshot.sh OUTPUT.png}
[[ "$out" == /* ]] || out="$PWD/$out"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
timeout=${LATCHKEY_SCREENSHOT_TIMEOUT:-60}
size=${LATCHKEY_SCREENSHOT_SIZE:-1024x768}

for tool in xvfb-run dbus-run-session xdotool import convert; do
  command -v "$tool" >/dev/null || {
    echo "missing $tool (Debian: apt-get install xvfb xauth dbus-x11 xdotool imagemagick)" >&2
    exit 1
  }
done

if [[ "${LATCHKEY_SCREENSHOT_NO_BUILD:-}" != 1 ]]; then
  cd "$root"
  [[ -d ui/node_modules ]] || npm ci --prefix ui
  npm --prefix ui run build
  # Without tauri's custom-protocol feature a build is a "dev" build that loads the Vite dev
  # server (build.devUrl) instead of the embedded ui/dist; `tauri build` sets it the same way.
  CARGO_TARGET_DIR="$target" cargo build -p latchkey-app --features tauri/custom-protocol
fi
bin="$target/debug/latchkey-app"
[[ -x "$bin" ]] || { echo "no app binary at $bin" >&2; exit 1; }

mkdir -p "$(dirname "$out")"
exec xvfb-run -a -s "-screen 0 ${size}x24" \
  dbus-run-session -- bash "${BASH_SOURCE[0]}" --inside "$out" "$bin" "$timeout"

#!/usr/bin/env bash
# Installs everything Latchkey needs to build, run and test on Debian/Ubuntu (as root), and
# skips whatever is already there. Called by scripts/run-app.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Build: Tauri's Linux libraries. Tests: a virtual display, a private D-Bus session with
# gnome-keyring's Secret Service, Chromium for the UI, and tools for screenshots.
APT_PACKAGES=(
  build-essential pkg-config curl file
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libssl-dev libxdo-dev
  xvfb xauth dbus dbus-x11 gnome-keyring libsecret-tools
  chromium xdotool imagemagick x11-utils librsvg2-bin
  # The real-app tests: WebKitWebDriver (under tauri-driver), an XEmbed system tray that
  # hosts the app's icon on Xvfb (stalonetray is not in Debian 12; trayer is), and a small
  # window manager so windows are closed the way a person closes them (wmctrl -c).
  webkit2gtk-driver trayer openbox wmctrl
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "Installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "Run this as root (or with sudo): apt-get must install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for tool in cargo node npm; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: install Rust (rustup) and Node.js 20+ first" >&2; exit 1; }
done
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=18)?0:1)' \
  || { echo "Node.js 20.18 or newer is needed (found $(node --version))" >&2; exit 1; }
if command -v rustup >/dev/null; then
  for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
  done
fi

# npm packages from the lock files; skipped when the lock file has not changed since.
for dir in ui tests/fixtures tests/ui; do
  stamp="$dir/node_modules/.latchkey-lock-stamp"
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    say "Installing npm packages in $dir"
    # `npm ci` refuses a lock file that lacks other platforms' optional packages (rollup,
    # tauri-cli), which some registries leave out; `install --no-save` keeps the lock as is.
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error 2>/dev/null \
      || npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error
    echo "$want" >"$stamp"
  fi
done

# tauri-driver (the W3C WebDriver front of the app, over WebKitWebDriver) for the real-app
# tests: installed once into a cache outside the clone, pinned.
TAURI_DRIVER_VERSION=2.1.0
if [[ -w /var/cache || $(id -u) -eq 0 ]]; then
  tools_root=/var/cache/latchkey/cargo-bin
else
  tools_root="${XDG_CACHE_HOME:-$HOME/.cache}/latchkey/cargo-bin"
fi
# cargo records what it installed in .crates.toml under the root.
if [[ ! -x "$tools_root/bin/tauri-driver" ]] \
  || ! grep -q "^\"tauri-driver $TAURI_DRIVER_VERSION " "$tools_root/.crates.toml" 2>/dev/null; then
  say "Installing tauri-driver $TAURI_DRIVER_VERSION into $tools_root"
  CARGO_TARGET_DIR="$tools_root/build" cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" \
    --locked --root "$tools_root" --quiet
  rm -rf "$tools_root/build"
fi

# cargo-afl (AFL++ on stable Rust) for the bounded fuzzing pass of the tests
# (scripts/fuzz-smoke.sh): installed once into the same cache, pinned; AFL++ itself is built
# (with the C compiler) into its data folder there, not the home folder.
CARGO_AFL_VERSION=0.18.2
if [[ ! -x "$tools_root/bin/cargo-afl" ]] \
  || ! grep -q "^\"cargo-afl $CARGO_AFL_VERSION " "$tools_root/.crates.toml" 2>/dev/null; then
  say "Installing cargo-afl $CARGO_AFL_VERSION into $tools_root"
  CARGO_TARGET_DIR="$tools_root/build" cargo install cargo-afl --version "$CARGO_AFL_VERSION" \
    --locked --root "$tools_root" --quiet
  rm -rf "$tools_root/build"
fi
if ! compgen -G "$tools_root/share/afl.rs/*/afl.rs-$CARGO_AFL_VERSION/afl/bin/afl-fuzz" >/dev/null; then
  say "Building AFL++ for cargo-afl"
  XDG_DATA_HOME="$tools_root/share" "$tools_root/bin/cargo-afl" afl config --build >/dev/null
fi

# Crates: fetched once into cargo's cache; builds reuse a target dir outside the clone.
say "Fetching crates"
cargo fetch --locked -q 2>/dev/null || cargo fetch -q

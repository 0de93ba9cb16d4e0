# Shared set-up of the benchmarks (sourced, not run): the release `latchkey`, a temporary
# folder cleaned on exit, a private session D-Bus with an unlocked gnome-keyring Secret Service,
# and the fixture server on 127.0.0.1.

# Builds the release `latchkey` ($bin); makes $work, a temporary folder, and `pids`, the
# processes killed on exit.
bench_start() {
  cargo build -q --release --locked -p latchkey-cli
  bin="$CARGO_TARGET_DIR/release/latchkey"
  work=$(mktemp -d)
  pids=()
  trap 'kill "${pids[@]}" $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
}

# A private D-Bus and keychain, an isolated HOME and state folder under $work.
bench_keychain() {
  export HOME=$work/home XDG_DATA_HOME=$work/home/data XDG_CONFIG_HOME=$work/home/config
  export XDG_RUNTIME_DIR=$work/run LATCHKEY_STATE_DIR=$work/state LATCHKEY_KEYCHAIN_SERVICE=latchkey-bench
  mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  cat >"$work/bus.conf" <<CONF
<busconfig><type>session</type><listen>unix:dir=$XDG_RUNTIME_DIR</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
CONF
  coproc BUS { exec dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile --print-address=1 2>/dev/null; }
  pids+=("$BUS_PID")
  read -r -u "${BUS[0]}" DBUS_SESSION_BUS_ADDRESS
  export DBUS_SESSION_BUS_ADDRESS
  (printf bench | exec gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1) &
  pids+=($!)
  for _ in $(seq 100); do
    dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
      org.freedesktop.Secret.Service.ReadAlias string:default 2>/dev/null | grep -q /collection/ && break
    sleep 0.05
  done
}

# Starts the fixture server with scenario $1 (JSON) in the background; sets fixture_mcp_url
# and fixture_log_url. $2 names its READY file under $work (default "fixture").
bench_fixture() {
  local ready=$work/${2:-fixture}
  [[ -d tests/fixtures/node_modules ]] || npm ci --prefix tests/fixtures --no-audit --no-fund
  LATCHKEY_FIXTURE_QUIET=1 LATCHKEY_FIXTURE_IGNORE_STDIN=1 node tests/fixtures/serve.mjs "$1" \
    >"$ready" 2>/dev/null </dev/null &
  pids+=($!)
  for _ in $(seq 300); do grep -q '^READY ' "$ready" && break; sleep 0.05; done
  grep -q '^READY ' "$ready" || { echo "the fixture server did not start" >&2; exit 1; }
  fixture_mcp_url=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().split(" ",1)[1])["mcp_url"])' "$ready")
  fixture_log_url=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().split(" ",1)[1])["log_url"])' "$ready")
}

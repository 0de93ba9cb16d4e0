#!/usr/bin/env bash
# Benchmark: `latchkey bridge URL` against mcp-remote (npm, pinned in bench/package.json and
# bench/package-lock.json, installed into bench/node_modules) and against the MCP SDK's own
# Streamable HTTP client talking to the same fixture server directly (no bridge at all).
#
# The client is the MCP TypeScript SDK's (tests/fixtures/bridge-client.mjs). For each way in
# it measures: the time from starting the bridge to the first tools/list answer, the time of
# each of N tools/call (p50/p99), and the bridge process's resident memory after the calls
# (VmRSS, and its peak VmHWM). The per-request overhead is a bridge's p50/p99 less that of the
# fastest HTTP client at hand: a keep-alive Python http.client POSTing the same tools/call
# (the SDK's own HTTP client, in Node, is slower than a stdio hop plus the bridge). The
# fixture is warmed up first (Node's JIT), so no way pays for it.
# Targets for latchkey bridge: RSS under 15 MB, p50 overhead under 1 ms, start under 50 ms;
# each figure is printed with its ratio to mcp-remote. Not a test: it never fails on a slow
# machine, only when something does not work at all.
#
#   bench/bridge.sh [CALLS]          default: 1000
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
calls=${1:-1000}
for tool in dbus-daemon gnome-keyring-daemon node python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/setup.sh" >&2; exit 1; }
done
[[ -d bench/node_modules/mcp-remote ]] || npm ci --prefix bench --no-audit --no-fund
cargo build -q --release --locked -p latchkey-cli
bin="$CARGO_TARGET_DIR/release/latchkey"

work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
source bench/lib.sh
bench_keychain
export BROWSER=$PWD/tests/fixtures/browser.mjs
bench_fixture '{}'
"$bin" login "$fixture_mcp_url" --json >"$work/login.json" 2>"$work/login.err" \
  || { echo "sign-in failed:" >&2; cat "$work/login.err" >&2; exit 1; }
BRIDGE_CLIENT_TOKEN=$("$bin" token "$fixture_mcp_url")
export BRIDGE_CLIENT_TOKEN

# Warm-up, discarded: the fixture's code paths compiled before anything is measured.
node tests/fixtures/bridge-client.mjs '[{"op":"calls","name":"whoami","count":300}]' --http "$fixture_mcp_url" >/dev/null 2>&1
steps="[{\"op\":\"list\"},{\"op\":\"calls\",\"name\":\"whoami\",\"count\":$calls},{\"op\":\"rss\"}]"
client=tests/fixtures/bridge-client.mjs
echo "bridge: $calls tools/call each through latchkey bridge ($bin), mcp-remote 0.15.1, and direct HTTP"
node "$client" "$steps" "$bin" bridge "$fixture_mcp_url" >"$work/latchkey.jsonl" 2>"$work/latchkey.err"
node "$client" "$steps" node bench/node_modules/mcp-remote/dist/proxy.js "$fixture_mcp_url" \
  --header "Authorization:Bearer $BRIDGE_CLIENT_TOKEN" >"$work/mcp-remote.jsonl" 2>"$work/mcp-remote.err"
node "$client" "${steps%,*}]" --http "$fixture_mcp_url" >"$work/direct.jsonl" 2>"$work/direct.err"
python3 - "$fixture_mcp_url" "$calls" >"$work/raw.json" <<'PY'
import http.client, json, sys, time, urllib.parse, os
url = urllib.parse.urlsplit(sys.argv[1])
calls = int(sys.argv[2])
conn = http.client.HTTPConnection(url.hostname, url.port)
headers = {"authorization": "Bearer " + os.environ["BRIDGE_CLIENT_TOKEN"], "content-type": "application/json",
           "accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25"}
body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}})
times = []
for i in range(calls):
    t = time.perf_counter()
    conn.request("POST", url.path, body, headers)
    r = conn.getresponse()
    r.read()
    times.append(round((time.perf_counter() - t) * 1e6))
    assert r.status == 200, r.status
print(json.dumps({"micros": times}))
PY

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]

def load(name):
    lines = [json.loads(l) for l in open(f"{work}/{name}.jsonl") if l.strip()]
    by = {l["op"]: l for l in lines}
    if not by.get("calls", {}).get("ok"):
        err = open(f"{work}/{name}.err").read()[-2000:]
        sys.exit(f"{name} did not work: {lines}\n{err}")
    return by

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]

runs = {n: load(n) for n in ("latchkey", "mcp-remote", "direct")}
direct = runs["direct"]["calls"]["micros"]
raw = json.load(open(f"{work}/raw.json"))["micros"]
d50, d99 = pct(raw, 0.5), pct(raw, 0.99)
figures = {}
for name in ("latchkey", "mcp-remote"):
    r = runs[name]
    calls = r["calls"]["micros"]
    figures[name] = {
        "start_ms": r["list"]["since_start"] / 1000,
        "p50_ms": pct(calls, 0.5) / 1000,
        "p99_ms": pct(calls, 0.99) / 1000,
        "overhead_p50_ms": (pct(calls, 0.5) - d50) / 1000,
        "overhead_p99_ms": (pct(calls, 0.99) - d99) / 1000,
        "rss_mb": r["rss"]["kib"] / 1024,
        "peak_rss_mb": r["rss"]["peak_kib"] / 1024,
    }
print(f"direct HTTP, the SDK's client (no bridge): start {runs['direct']['list']['since_start'] / 1000:.1f} ms, "
      f"tools/call p50 {pct(direct, 0.5) / 1000:.3f} ms, p99 {pct(direct, 0.99) / 1000:.3f} ms")
print(f"direct HTTP, keep-alive http.client (the overhead's baseline): tools/call p50 {d50 / 1000:.3f} ms, "
      f"p99 {d99 / 1000:.3f} ms")
rows = [
    ("start to first tools/list", "start_ms", "ms", 50),
    ("tools/call p50", "p50_ms", "ms", None),
    ("tools/call p99", "p99_ms", "ms", None),
    ("overhead p50 (vs raw HTTP)", "overhead_p50_ms", "ms", 1),
    ("overhead p99 (vs raw HTTP)", "overhead_p99_ms", "ms", None),
    ("RSS after the calls", "rss_mb", "MB", 15),
    ("peak RSS", "peak_rss_mb", "MB", None),
]
print(f"{'':28} {'latchkey':>12} {'mcp-remote':>12} {'ratio':>8}  target")
for label, key, unit, target in rows:
    a, b = figures["latchkey"][key], figures["mcp-remote"][key]
    ratio = f"{a / b:.2f}" if b > 0 else "-"
    goal = "" if target is None else f"< {target} {unit}: {'met' if a < target else 'MISSED'}"
    print(f"{label:28} {a:9.3f} {unit:2} {b:9.3f} {unit:2} {ratio:>8}  {goal}")
PY

#!/usr/bin/env bash
# Benchmark: a refresh storm. N processes at a time call `latchkey token URL` over and over for
# T seconds against the fixture authorization server (oidc-provider, refresh tokens rotated on
# every refresh, a reused one revokes the whole grant), once per access token lifetime (4 s,
# 60 s, 3600 s by default), with the default settings (no LATCHKEY_REFRESH_MARGIN_SECS). For
# each lifetime it prints calls per second, the refreshes the AS saw against the expiry
# windows in the run (a window: the lifetime less the renewal margin), refusals (a reused
# refresh token shows as invalid_grant), failed calls, and the p50/p99 latency of one call.
#
# The peer, measured in the same run under the same load: `secret-tool lookup` of the same
# keychain item, N at a time (the floor of any helper that reads the Secret Service).
# Target: about one refresh per expiry window, no invalid_grant, p99 under 50 ms (the
# access token's copy in the kernel keyring serves most calls). Not a test: it never fails on
# a slow machine, only when something does not work at all.
#
#   bench/storm.sh [PROCESSES] [LIFETIME...]      defaults: 16, and 4 60 3600
#   STORM_SECONDS=T bench/storm.sh                 run T seconds per lifetime (default: two
#                                                  and a half lifetimes, between 20 and 160 s)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
procs=${1:-16}
shift || true
lifetimes=("${@:-4 60 3600}")
read -r -a lifetimes <<<"${lifetimes[*]}"
for tool in dbus-daemon gnome-keyring-daemon secret-tool node python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/setup.sh" >&2; exit 1; }
done
source bench/lib.sh
bench_start
bench_keychain
unset LATCHKEY_REFRESH_MARGIN_SECS LATCHKEY_HOT_CACHE
export BROWSER=$PWD/tests/fixtures/browser.mjs

echo "storm: $procs processes calling 'latchkey token' ($bin), default settings"
for lifetime in "${lifetimes[@]}"; do
  seconds=${STORM_SECONDS:-$(( lifetime * 5 / 2 < 20 ? 20 : (lifetime * 5 / 2 > 160 ? 160 : lifetime * 5 / 2) ))}
  bench_fixture "{\"as\":{\"access_token_ttl\":$lifetime}}" "fixture-$lifetime"
  "$bin" login "$fixture_mcp_url" --json >"$work/login-$lifetime.json" 2>"$work/login-$lifetime.err" \
    || { echo "sign-in failed:" >&2; cat "$work/login-$lifetime.err" >&2; exit 1; }
  python3 - "$bin" "$fixture_mcp_url" "$fixture_log_url" "$procs" "$seconds" "$lifetime" <<'PY'
import json, statistics, subprocess, sys, threading, time, urllib.request
binary, url, log_url = sys.argv[1], sys.argv[2], sys.argv[3]
procs, seconds, lifetime = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])

def storm(cmd, duration):
    """`procs` workers run `cmd` back to back for `duration` seconds: latencies (ms), failures."""
    lat, failed, lock = [], [], threading.Lock()
    end = time.monotonic() + duration
    def worker():
        while time.monotonic() < end:
            t = time.perf_counter()
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            ms = (time.perf_counter() - t) * 1000
            with lock:
                if r.returncode == 0 and r.stdout.strip():
                    lat.append(ms)
                else:
                    failed.append(r.stderr.decode(errors="replace").strip())
    threads = [threading.Thread(target=worker) for _ in range(procs)]
    for th in threads: th.start()
    for th in threads: th.join()
    return sorted(lat), failed

def pct(xs, p):
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")

started = time.monotonic()
lat, failed = storm([binary, "token", url], seconds)
elapsed = time.monotonic() - started
log = json.load(urllib.request.urlopen(log_url))
refreshes = log["refresh_count"]
refused = [t["error"] for t in log["token"] if t.get("error")]
# The margin for one request: a tenth of the lifetime, at least 1 s, at most 60 s and half.
margin = min(max(lifetime // 10, 1), lifetime // 2, 60)
# Whole windows: a renewal is due once each has passed (none in a run shorter than one).
windows = int(elapsed // max(lifetime - margin, 1))
peer, peer_failed = storm(["secret-tool", "lookup", "service", "latchkey-bench", "username", url], min(seconds, 10))
calls = len(lat) + len(failed)
p50, p99 = pct(lat, .5), pct(lat, .99)
print(f"lifetime {lifetime:>5} s, {elapsed:5.1f} s: {calls / elapsed:7.1f} calls/s  "
      f"refreshes {refreshes} for {windows} whole expiry windows ({refreshes / windows if windows else float('nan'):.2f} per window)  "
      f"refused {len(refused)} {sorted(set(refused)) or ''}  failed calls {len(failed)}")
print(f"    latchkey token   p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  (n={len(lat)})")
print(f"    secret-tool peer p50 {pct(peer, .5):6.2f} ms  p99 {pct(peer, .99):6.2f} ms  (n={len(peer)}, failed {len(peer_failed)})")
print(f"    ratios latchkey/secret-tool: p50 {p50 / pct(peer, .5):.2f}, p99 {p99 / pct(peer, .99):.2f}")
if failed:
    print("    first failure:", failed[0][:300])
PY
done

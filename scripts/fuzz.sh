#!/usr/bin/env bash
# Fuzzes one parser of outside input with AFL++ (cargo-afl, stable Rust) for a while:
#   scripts/fuzz.sh TARGET SECONDS     e.g. scripts/fuzz.sh tool_config 600
#   scripts/fuzz.sh list               the targets
# With FUZZ_EXECS=N the run also stops after about N executions in all (a resumed run counts
# the executions of the runs before it), e.g. FUZZ_EXECS=10000000 scripts/fuzz.sh links 7200.
# Targets live in fuzz/src/lib.rs; the seed corpus in fuzz/seeds/TARGET (fuzz/make-seeds.sh).
# Findings land in $FUZZ_OUT/TARGET/default/{crashes,hangs} (default fuzz/out); each one
# becomes a unit test with its bytes in crates/core once fixed. A run touches neither the
# network nor the home folder: the targets call parsers on bytes, nothing else.
# Needs `cargo install cargo-afl` (it builds AFL++ with the C compiler on install).
# The instrumented build goes to $FUZZ_TARGET_DIR (default: $CARGO_TARGET_DIR-fuzz, else
# fuzz/target), never the workspace's target directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
targets="www_authenticate metadata token_response register tool_config links callback paste_back redact"
if [ "${1:-}" = list ] || [ $# -lt 2 ]; then
  echo "usage: $0 TARGET SECONDS; targets: $targets" >&2
  [ "${1:-}" = list ] && exit 0 || exit 2
fi
target="$1"
seconds="$2"
case " $targets " in *" $target "*) ;; *) echo "unknown target $target; targets: $targets" >&2; exit 2 ;; esac
if ! cargo afl --version >/dev/null 2>&1; then
  echo "cargo-afl is not installed: run 'cargo install cargo-afl'" >&2
  exit 2
fi
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:+$CARGO_TARGET_DIR-fuzz}}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/fuzz/target}"
out="${FUZZ_OUT:-$root/fuzz/out}/$target"
if [ "${FUZZ_NO_BUILD:-}" != 1 ]; then
  (cd "$root/fuzz" && cargo afl build --release --quiet --bin "$target")
fi
mkdir -p "$out"
# Resume a previous run's queue when there is one, else start from the seeds.
input="$root/fuzz/seeds/$target"
[ -d "$out/default/queue" ] && input=-
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
  AFL_NO_AFFINITY=1
# -t: a hang is one input taking over five seconds (a loaded machine slows the first runs).
limit=(-V "$seconds")
[ -n "${FUZZ_EXECS:-}" ] && limit+=(-E "$FUZZ_EXECS")
cargo afl fuzz -i "$input" -o "$out" "${limit[@]}" -t 5000 \
  "$CARGO_TARGET_DIR/release/$target" >"$out.log" 2>&1 || {
  echo "afl-fuzz failed for $target; its output:" >&2
  tail -30 "$out.log" >&2
  exit 1
}
stats="$out/default/fuzzer_stats"
get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
crashes="$(get saved_crashes)"
hangs="$(get saved_hangs)"
echo "$target: $(get execs_done) executions in $(get run_time) s, corpus $(get corpus_count), $crashes crashes, $hangs hangs"
if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
  echo "findings in $out/default/crashes and $out/default/hangs" >&2
  exit 1
fi

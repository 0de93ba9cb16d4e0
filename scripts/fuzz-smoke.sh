#!/usr/bin/env bash
# A bounded fuzzing pass for scripts/test.sh: every target for a few seconds from the seed
# corpus (FUZZ_SECONDS, default 5), failing on any crash or hang. Each run starts afresh.
# Skipped, with a note, where cargo-afl is not installed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${FUZZ_SECONDS:-5}"
if ! cargo afl --version >/dev/null 2>&1; then
  echo "fuzz-smoke: skipped (cargo-afl is not installed: cargo install cargo-afl)"
  exit 0
fi
export FUZZ_OUT="$(mktemp -d "${TMPDIR:-/tmp}/latchkey-fuzz-smoke.XXXXXX")"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:+$CARGO_TARGET_DIR-fuzz}}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/fuzz/target}"
(cd "$root/fuzz" && cargo afl build --release --quiet)
failed=0
for t in www_authenticate metadata token_response register tool_config links callback paste_back redact; do
  FUZZ_NO_BUILD=1 "$root/scripts/fuzz.sh" "$t" "$seconds" || failed=1
done
if [ $failed = 0 ]; then
  rm -rf "$FUZZ_OUT"
else
  echo "fuzz-smoke: findings kept in $FUZZ_OUT" >&2
fi
exit $failed

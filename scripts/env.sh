# Shared settings for the scripts: a cargo target dir outside the clone, reused across
# clones and CI runs, so a fresh checkout does not rebuild WebKit bindings from nothing.
if [[ -z "${CARGO_TARGET_DIR:-}" ]]; then
  if [[ -w /var/cache || $(id -u) -eq 0 ]]; then
    export CARGO_TARGET_DIR=/var/cache/latchkey/target
  else
    export CARGO_TARGET_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/latchkey/target"
  fi
fi
mkdir -p "$CARGO_TARGET_DIR"

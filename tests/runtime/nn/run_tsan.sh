#!/bin/sh
# Runs a ThreadSanitizer test binary. TSan needs its own shadow layout of the address space, which
# some kernels' address randomisation breaks at start-up ("unexpected memory mapping"): then once
# more without randomisation, and if TSan still cannot start, a skip (77), not a failure of the
# code under test.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" >"$out" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "unexpected memory mapping\|ThreadSanitizer: failed to" "$out" && command -v setarch >/dev/null; then
  setarch "$(uname -m)" -R "$@" >"$out" 2>&1
  rc=$?
  if [ $rc -ne 0 ] && grep -q "unexpected memory mapping\|ThreadSanitizer: failed to" "$out"; then
    cat "$out"
    echo "run_tsan: ThreadSanitizer cannot start on this kernel; skipped" >&2
    exit 77
  fi
fi
cat "$out"
exit $rc

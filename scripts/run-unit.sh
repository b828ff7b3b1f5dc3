#!/usr/bin/env bash
# Runs each cmocka unit-test binary (built with ASan+UBSan) and totals the
# results. Prints "unit: N passed, N failed" and exits non-zero on failure.
# Each binary runs in its own private network namespace (scripts/netns-run.sh:
# only lo, with the special-purpose addresses the tests name), so no unit
# test can send a packet off this machine; no namespace, no unit tests.
set -u
netns="$(dirname "$0")/netns-run.sh"
if ! why=$("$netns" true 2>&1); then
  printf '%s\n' "$why"
  echo "unit: 0 passed, 1 failed"
  echo "unit: failing: no private network namespace for the unit tests"
  exit 1
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
pass=0; fail=0; bad=()
for t in "$@"; do
  out=$("$netns" "$t" 2>&1); rc=$?
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
  pass=$((pass + p)); fail=$((fail + f))
  if [ $rc -ne 0 ] || [ "$f" -ne 0 ]; then
    bad+=("$(basename "$t")")
    [ "$f" -eq 0 ] && fail=$((fail + 1))   # crashed or sanitizer report: count it
    printf '%s\n' "$out" | tail -40
  fi
  printf '  %-28s %3d passed %3d failed\n' "$(basename "$t")" "$p" "$f"
done
echo "unit: $pass passed, $fail failed"
[ ${#bad[@]} -eq 0 ] || { echo "unit: failing: ${bad[*]}"; exit 1; }

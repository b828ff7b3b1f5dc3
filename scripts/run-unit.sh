#!/usr/bin/env bash
# Runs each cmocka unit-test binary (built with ASan+UBSan) and totals the
# results. Prints "unit: N passed, N failed" and exits non-zero on failure.
set -u
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
pass=0; fail=0; bad=()
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
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

#!/usr/bin/env bash
# `make test`: source checks, unit tests (ASan+UBSan), fuzz smoke, system
# tests. Ends with one line "test: N passed, N failed" over all of them.
set -u
cd "$(dirname "$0")/.."
total_pass=0; total_fail=0; failed=()
step() { # name, command...
  local name=$1; shift
  echo "== $name"
  local log; log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line p f
  line=$(grep -E '([0-9]+) passed' "$log" | tail -1)
  p=$(printf '%s' "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)
  f=$(printf '%s' "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || echo 0)
  total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0}))
  if [ "$rc" -ne 0 ]; then failed+=("$name"); [ "${f:-0}" -eq 0 ] && total_fail=$((total_fail+1)); fi
  rm -f "$log"
}
step "source checks" scripts/check-src.sh
step "unit tests (ASan+UBSan)" make --no-print-directory -s unit
step "fuzz smoke" make --no-print-directory -s fuzz-smoke
step "system tests" make --no-print-directory -s system
echo
[ ${#failed[@]} -eq 0 ] || echo "failing steps: ${failed[*]}"
echo "test: $total_pass passed, $total_fail failed"
[ ${#failed[@]} -eq 0 ]

#!/usr/bin/env bash
# Runs each libFuzzer target for a few seconds over its committed seed corpus
# (fuzz/corpus/<target>/). A crash, leak or sanitizer report fails the run;
# new inputs go to a scratch directory, never into the repository.
set -u
secs=${1:-10}; shift
fail=0; pass=0
for t in "$@"; do
  name=$(basename "$t")
  seeds="fuzz/corpus/${name#fuzz_}"
  scratch=$(mktemp -d)
  if [ -d "$seeds" ]; then cp -r "$seeds"/. "$scratch"/ 2>/dev/null; fi
  if "$t" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -artifact_prefix="$scratch/" \
      -print_final_stats=1 "$scratch" >"$scratch.log" 2>&1; then
    pass=$((pass+1)); echo "  $name: ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$scratch.log" | awk '{print $2}') runs)"
  else
    fail=$((fail+1)); echo "  $name: FAILED"; tail -40 "$scratch.log"
    ls "$scratch"/crash-* "$scratch"/leak-* 2>/dev/null
  fi
  rm -rf "$scratch" "$scratch.log"
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]

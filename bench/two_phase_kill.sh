#!/usr/bin/env bash
# Two-phase issuance under kill -9 at full size (issue 7): the randomized
# phase of tests/system/test_two_phase.py with 1,000 operations by default
# (REST issuances and revocations through `quill serve`, which is killed -9
# at random moments and started again, next to CLI processes of which half
# are killed -9 at random moments), then a restart and every check of the
# test: each certificate a client received is stored, no serial twice in
# the store or the journal, every serial the journal holds is stored, no
# reservation left, every acknowledged revocation on the CRL.
#
# Usage: bench/two_phase_kill.sh [REST_OPS] [CLI_PROCESSES] [SERVE_KILLS] [SEED]
#        (defaults 1000 100 8, seed from the clock; printed so a run repeats)
# Needs build/quill and build/quill-test (make build build-test). Prints the
# figures line of the test ("... s: N REST operations ..."). Loopback only,
# temporary directories. `make test` runs the same sizes (with a seed from the clock).
set -euo pipefail
cd "$(dirname "$0")/.."
export QUILL_KILL_OPS=${1:-1000} QUILL_KILL_CLI_OPS=${2:-100} QUILL_KILL_SERVE_KILLS=${3:-8}
[ -n "${4:-}" ] && export QUILL_KILL_SEED=$4
export QUILL_BIN="$PWD/build/quill" QUILL_TEST_BIN="$PWD/build/quill-test"
start=$(date +%s.%N)
/usr/bin/python3 -m pytest -q -s -p no:cacheprovider \
  tests/system/test_two_phase.py -k random_kills_under_load 2>&1 |
  grep -E "^seed|REST operations|passed|failed|Error|assert" || true
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { printf "whole run (with the lint of every certificate): %.1f s\n", e - s }'

#!/usr/bin/env bash
# Runs the system tests (pytest with Debian's interpreter) against build/quill,
# in a private network namespace (scripts/netns-run.sh).
set -u
cd "$(dirname "$0")/.."
export QUILL_BIN="$PWD/build/quill"
export QUILL_TEST_BIN="$PWD/build/quill-test"  # the same with pause points (testhook.h)
# Inside a private network namespace holding only its own loopback (the
# backstop of docs/internals/testing.md, "Network isolation"): whatever a
# test or the code under test does, no packet can leave this machine.
scripts/netns-run.sh /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/system "$@"
rc=$?
# pytest's 5 means "no tests collected": that is a failure here too
exit $rc

#!/usr/bin/env bash
# A private network namespace for tests, so that no test can send a packet
# off this machine, whatever the code under test does
# (docs/internals/testing.md, "Network isolation").
#
# The namespace holds one device, its own loopback `lo`, with the
# special-purpose addresses the tests name (ADDRESSES below) added to it, and
# no other device and no route: a connection to any address not on `lo`
# fails at once (ENETUNREACH) without a packet, and one to an address of
# ADDRESSES can only reach a listener inside the namespace, where a test
# counts it. The host's own loopback services are out of reach too.
#
# Usage:
#   scripts/netns-run.sh COMMAND [ARG...]
#       runs COMMAND in a new namespace set up as above (scripts/run-unit.sh
#       runs every unit-test binary so); the namespace ends with COMMAND.
#   scripts/netns-run.sh --setup
#       sets up the namespace this process is in, which must be a new one
#       (tests/system/netns.py calls it after unshare(CLONE_NEWNET)).
#
# Needs root (CAP_SYS_ADMIN); as another user, an unprivileged user
# namespace (unshare --map-root-user) where the kernel allows one. When no
# namespace can be made, or it does not look as described, exits 125 with a
# sentence on stderr and never runs COMMAND: a test that cannot be isolated
# fails, it never runs unisolated and never skips.
set -euo pipefail

# Each address a test resolves a name to or redirects to, whose refusal it
# checks: they exist here only, on lo. Keep in step with the tests (and
# docs/internals/testing.md).
ADDRESSES=(
  10.0.0.1/32          # private-use (RFC 1918): redirect targets
  10.0.0.5/32          # private-use (RFC 1918): a name's A record
  100.64.0.1/32        # shared address space (carrier-grade NAT)
  169.254.169.254/32   # the cloud instance metadata service (link-local)
  fd00::1/128          # unique-local
  fe80::1/128          # IPv6 link-local (reached as fe80::1%lo)
)
# An address that is NOT set up: tests show a connection to it fails at once.
# (scripts and tests name it: 10.0.0.99)

die() {
  echo "netns-run: $*" >&2
  exit 125
}

setup() {
  command -v ip >/dev/null ||
    die "'ip' not found: install the Debian package iproute2 (scripts/deps.sh test)"
  # never touch the machine's own network: this must be a new namespace,
  # which holds only lo, still down
  local devs
  devs=$(ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')
  [ "$devs" = "lo " ] ||
    die "refused: this network namespace holds other devices than lo ($devs): it is not a new one"
  ip -o link show lo | grep -q '[<,]UP[,>]' &&
    die "refused: lo is up already, so this is not a new network namespace"
  ip link set lo up || die "cannot bring lo up in the new network namespace"
  local a fam
  for a in "${ADDRESSES[@]}"; do
    fam=-4
    case $a in *:*) fam=-6 ;; esac
    if [ $fam = -6 ]; then
      ip -6 addr add "$a" dev lo nodad || die "cannot add $a to lo (IPv6 disabled?)"
    else
      ip -4 addr add "$a" dev lo || die "cannot add $a to lo"
    fi
  done
  # no route but the kernel's own ones for lo
  local routes
  routes=$(ip -4 route show table main; ip -6 route show table main | grep -v ' dev lo ' || true)
  [ -z "$routes" ] || die "the new network namespace has routes off lo: $routes"
}

if [ "${1:-}" = --setup ]; then
  [ $# -eq 1 ] || die "--setup takes no arguments"
  setup
  exit 0
fi
if [ "${1:-}" = --inside ]; then
  shift
  setup
  exec "$@"
fi
[ $# -gt 0 ] || die "usage: scripts/netns-run.sh COMMAND [ARG...] | --setup"

command -v unshare >/dev/null || die "'unshare' not found: install the Debian package util-linux"
flags=(--net)
[ "$(id -u)" -eq 0 ] || flags=(--user --map-root-user --net)
if ! why=$(unshare "${flags[@]}" true 2>&1); then
  die "cannot create a private network namespace (unshare ${flags[*]}: ${why:-failed}):" \
    "run the tests as root, or where unprivileged user namespaces are allowed" \
    "(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0)"
fi
exec unshare "${flags[@]}" -- "$0" --inside "$@"

#!/usr/bin/env bash
# Installs the Debian packages quill needs to build, run and test, and only
# those missing. Used by `make deps` (and so by `make run` and `make test`).
# Usage: scripts/deps.sh [build|test|bench]   (test includes build; bench
# includes test and adds what only benchmarks use)
set -euo pipefail
want=${1:-build}
build_pkgs=(
  build-essential pkg-config
  libssl-dev libsqlite3-dev libjansson-dev libmicrohttpd-dev libpsl-dev
  libinih-dev publicsuffix ca-certificates openssl
  libunbound-dev libcurl4-openssl-dev dns-root-data libgnutls28-dev libseccomp-dev
)
test_pkgs=(
  certbot lego python3-josepy python3-acme
  clang libclang-rt-14-dev libfuzzer-14-dev libcmocka-dev
  gnutls-bin default-jre-headless python3 python3-pytest python3-cryptography
  python3-yaml python3-jsonschema python3-aiosmtpd
  sqlite3 strace iproute2 util-linux
  knot knot-dnsutils nginx-light unbound faketime
  wrk
)
# bench/ only (not needed by `make test`): Pebble and its challenge server
# for bench/acme.sh
bench_pkgs=(
  pebble
)
pkgs=("${build_pkgs[@]}")
[ "$want" = test ] || [ "$want" = bench ] && pkgs+=("${test_pkgs[@]}")
[ "$want" = bench ] && pkgs+=("${bench_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

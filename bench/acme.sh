#!/usr/bin/env bash
# ACME server CPU per complete order (issue 8 target: at most 0.75 ms with
# durable SQLite storage), side by side in one run with Debian's Pebble.
#
# Usage: bench/acme.sh [ORDERS] [WORKERS]   (defaults 300, 8)
#
# ../shared/tools/acmeload.py drives complete orders (newOrder,
# authorization, http-01 challenge, finalize, download) against each server
# in turn and reads the server's CPU time from /proc (--server-pid).
# pebble-challtestsrv answers http-01 for both (acmeload publishes the key
# authorizations through its management API) and is the DNS server of both
# (every name -> 127.0.0.1). quill: `quill serve` on a fresh data dir
# (SQLite, WAL, synchronous as shipped), [validation] http_port at
# challtestsrv, the test switch allow_private_addresses (loopback), rate
# limits off. Pebble: its own TLS certificate (openssl, 127.0.0.1),
# PEBBLE_VA_NOSLEEP=1 and PEBBLE_WFE_NONCEREJECT=0 so it neither sleeps nor
# rejects nonces at random.
# Loopback only, inside a private network namespace (scripts/netns-run.sh);
# everything lives in a temporary directory removed at the end.
set -euo pipefail
orders=${1:-300}; workers=${2:-8}
here="$(cd "$(dirname "$0")" && pwd)"
if [ -z "${QUILL_BENCH_NETNS:-}" ]; then
  exec env QUILL_BENCH_NETNS=1 "$here/../scripts/netns-run.sh" "$here/acme.sh" "$@"
fi
q="${QUILL_BENCH_BIN:-$here/../build/quill}"
load="$here/../../shared/tools/acmeload.py"
[ -x "$q" ] || { echo "build/quill missing: make build" >&2; exit 1; }
[ -f "$load" ] || { echo "$load missing" >&2; exit 1; }
command -v pebble >/dev/null || { echo "pebble missing: apt-get install pebble (make deps-bench)" >&2; exit 1; }
d=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$d"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_tcp() { for _ in $(seq 1 300); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }
dns_port=$(freeport); http01_port=$(freeport); mgmt_port=$(freeport)
pebble-challtestsrv -dns01 "127.0.0.1:$dns_port" -http01 "127.0.0.1:$http01_port" \
  -https01 "" -tlsalpn01 "" -management "127.0.0.1:$mgmt_port" -defaultIPv6 "" \
  >"$d/challtestsrv.log" 2>&1 &
pids+=($!); cts=$!
wait_tcp "$mgmt_port"
domain=acmeload.quill-test.org
common=(--workers "$workers" --orders "$orders" --challenge http-01 --domain "$domain"
        --publisher challtestsrv --challtestsrv "http://127.0.0.1:$mgmt_port" --aux-pid "$cts")

# ---- quill ----
export QUILL_CA_PASSPHRASE=bench-passphrase-123
http_port=$(freeport); api_port=$(freeport)
data="$d/quill"
"$q" --data "$data" ca init >/dev/null
cat > "$data/quill.conf" <<EOF
[server]
base_url = http://127.0.0.1:$http_port
[dns]
resolver = 127.0.0.1:$dns_port
trust_anchor_file =
[validation]
http_port = $http01_port
allow_private_addresses = true
[acme]
orders_per_hour = 0
failed_validations_per_hour = 0
[api]
rate_per_second = 0
[log]
level = warn
EOF
"$q" --data "$data" serve --listen "127.0.0.1:$http_port" --api-listen "127.0.0.1:$api_port" \
  >"$d/serve.log" 2>&1 &
pids+=($!); qpid=$!
wait_tcp "$api_port"
"$q" --data "$data" --json ca list |
  python3 -c 'import json,sys; print([c["certificate"] for c in json.load(sys.stdin)["cas"] if c["is_root"]][0], end="")' \
  > "$d/quill-root.pem"
echo "== quill (SQLite), $orders orders, $workers workers"
# QUILL_BENCH_PERF=FILE: a call-graph profile of quill serve (and its
# signer) during the run, written to FILE (perf report -i FILE)
# the signer (a child of serve) counts as server CPU too
spid=$(pgrep -P "$qpid" | head -1 || true)
if [ -n "${QUILL_BENCH_STRACE:-}" ]; then
  strace -f -c -e trace=fdatasync,fsync -o "$QUILL_BENCH_STRACE" -p "$qpid" 2>/dev/null &
  perfpid=$!
fi
if [ -n "${QUILL_BENCH_PERF:-}" ]; then
  what=(-F 499)
  # QUILL_BENCH_PERF_EVENT: an event instead of CPU samples (e.g. a uprobe)
  [ -n "${QUILL_BENCH_PERF_EVENT:-}" ] && what=(-e "$QUILL_BENCH_PERF_EVENT")
  perf record -q --call-graph dwarf,16384 "${what[@]}" -o "$QUILL_BENCH_PERF" -p "$qpid${spid:+,$spid}" 2>/dev/null &
  perfpid=$!
fi
/usr/bin/python3 "$load" --directory "https://127.0.0.1:$api_port/acme/directory" \
  --ca-bundle "$d/quill-root.pem" --server-pid "$qpid" ${spid:+--server-pid "$spid"} --label quill "${common[@]}" \
  | tee "$d/quill.out" || { tail -20 "$d/serve.log"; }
if [ -n "${perfpid:-}" ]; then kill -INT "$perfpid"; wait "$perfpid" || true; fi

# ---- Pebble ----
[ -n "${QUILL_BENCH_ONLY_QUILL:-}" ] && exit 0
pport=$(freeport); pmgmt=$(freeport)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$d/pebble-key.pem" -out "$d/pebble-cert.pem" 2>/dev/null
cat > "$d/pebble.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$pport", "managementListenAddress": "127.0.0.1:$pmgmt",
  "certificate": "$d/pebble-cert.pem", "privateKey": "$d/pebble-key.pem",
  "httpPort": $http01_port, "tlsPort": 5001, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF
PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config "$d/pebble.json" \
  -dnsserver "127.0.0.1:$dns_port" >"$d/pebble.log" 2>&1 &
pids+=($!); ppid_=$!
wait_tcp "$pport"
echo "== Pebble, $orders orders, $workers workers"
/usr/bin/python3 "$load" --directory "https://127.0.0.1:$pport/dir" \
  --ca-bundle "$d/pebble-cert.pem" --server-pid "$ppid_" --label pebble \
  --poll-target challenge "${common[@]}" | tee "$d/pebble.out" || { tail -20 "$d/pebble.log"; }

#!/usr/bin/env bash
# OCSP responder throughput and latency (issue 6 target: at least 50,000
# responses per second on loopback with keep-alive, p99 at most 5 ms),
# measured side by side in one run with `openssl ocsp -index ... -multi 2`
# on the same CA material.
#
# Usage: bench/ocsp.sh [CERTS] [SECONDS] [CONNECTIONS] [WRK_THREADS]
#        (defaults 10000, 10, 32, 1)
#
# 1. a data dir with a CA; `quill serve` on loopback ports;
# 2. CERTS certificates issued through the REST API (private profile,
#    keep-alive, 4 client threads), then waits until the OCSP refresher has
#    an answer for each (quill_ocsp_cache_responses);
# 3. one prepared DER OCSPRequest (openssl ocsp -reqout, no nonce) for the
#    last certificate; both responders are checked with `openssl ocsp` first
#    (good, "Response verify OK");
# 4. wrk with bench/ocsp_post.lua against quill's POST /ocsp;
# 5. openssl ocsp -index index.txt (every certificate, from quill's
#    database) -rsigner/-rkey the same issuing CA (its key decrypted into the
#    temporary directory with the bench passphrase) -multi 2, and the same
#    wrk run against it;
# 6. prints requests per second, p50/p99 latency and bytes per answer of
#    both.
# Loopback only: the whole run happens inside a private network namespace
# (scripts/netns-run.sh: only its own `lo`), because `openssl ocsp -port`
# listens on every address and has no option to bind to loopback.
# Everything lives in a temporary directory removed at the end.
set -euo pipefail
n=${1:-10000}; secs=${2:-10}; conns=${3:-32}; wthreads=${4:-1}
here="$(cd "$(dirname "$0")" && pwd)"
if [ -z "${QUILL_BENCH_NETNS:-}" ]; then
  exec env QUILL_BENCH_NETNS=1 "$here/../scripts/netns-run.sh" "$here/ocsp.sh" "$@"
fi
q="$here/../build/quill"
[ -x "$q" ] || { echo "build/quill missing: make build" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk (make deps)" >&2; exit 1; }
d=$(mktemp -d)
pids=()  # quill serve
ossl=""  # openssl ocsp -multi: it does not stop on SIGTERM, and leaves its children
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$ossl" ]; then
    # its children by their parent's pid (/proc), then itself
    kill -KILL $(cat "/proc/$ossl/task/$ossl/children" 2>/dev/null) "$ossl" 2>/dev/null || true
  fi
  for p in "${pids[@]}" $ossl; do wait "$p" 2>/dev/null || true; done
  rm -rf "$d"
}
trap cleanup EXIT
export QUILL_CA_PASSPHRASE=bench-passphrase-123
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http_port=$(freeport); api_port=$(freeport); ossl_port=$(freeport)
data="$d/data"
"$q" --data "$data" ca init >/dev/null
cat > "$data/quill.conf" <<EOF
[server]
base_url = http://127.0.0.1:$http_port
[api]
rate_per_second = 0
[log]
level = warn
EOF
"$q" --data "$data" serve --listen "127.0.0.1:$http_port" --api-listen "127.0.0.1:$api_port" \
  >"$d/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && break; sleep 0.1
done
token=$("$q" --data "$data" --json key create --tenant default --role user --label bench |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["key"]["token"])')
ca_id=$("$q" --data "$data" --json ca list |
  python3 -c 'import json,sys; print([c["id"] for c in json.load(sys.stdin)["cas"] if not c["is_root"]][0])')
root_id=$("$q" --data "$data" --json ca list |
  python3 -c 'import json,sys; print([c["id"] for c in json.load(sys.stdin)["cas"] if c["is_root"]][0])')
curl -sf "http://127.0.0.1:$http_port/ca/$root_id.pem" > "$d/root.pem"
curl -sf "http://127.0.0.1:$http_port/ca/$ca_id.pem" > "$d/issuing.pem"

echo "issuing $n certificates through the REST API ..."
t0=$(date +%s.%N)
TOKEN="$token" PORT="$api_port" N="$n" ROOT="$d/root.pem" python3 - <<'EOF'
import http.client, json, os, ssl, threading
ctx = ssl.create_default_context(cafile=os.environ["ROOT"])
n, port, token = int(os.environ["N"]), int(os.environ["PORT"]), os.environ["TOKEN"]
def work(start, step):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
    for i in range(start, n, step):
        body = json.dumps({"profile": "private", "names": [f"b{i}.bench.example.com"],
                           "key": "ec256"})
        c.request("POST", "/api/v1/orders", body=body,
                  headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        if r.status != 201:
            raise SystemExit(f"order {i}: {r.status} {data[:300]!r}")
ts = [threading.Thread(target=work, args=(k, 4)) for k in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
EOF
t1=$(date +%s.%N)
awk -v n="$n" -v s="$t0" -v e="$t1" 'BEGIN { printf "  %d certificates in %.1f s\n", n, e - s }'
echo "waiting for the OCSP refresher to answer for each ..."
for _ in $(seq 1 1200); do
  have=$(curl -s "http://127.0.0.1:$http_port/metrics" |
    awk '$1 == "quill_ocsp_cache_responses" { print int($2) }')
  [ "${have:-0}" -ge "$n" ] && break; sleep 0.25
done
t2=$(date +%s.%N)
awk -v h="${have:-0}" -v s="$t1" -v e="$t2" 'BEGIN { printf "  %d answers in memory %.1f s after the last issuance\n", h, e - s }'

# the last certificate, its request, and both responders checked
last=$("$q" --data "$data" --json cert list | python3 -c 'import json,sys; print(max(c["id"] for c in json.load(sys.stdin)["certificates"]))')
"$q" --data "$data" cert download "$last" --format pem --out "$d/leaf" >/dev/null
openssl ocsp -issuer "$d/issuing.pem" -cert "$d/leaf/cert.pem" -no_nonce -reqout "$d/req.der" >/dev/null
check() { # url: a verified good answer (tries for 10 s while the responder starts)
  local out
  for _ in $(seq 1 50); do
    out=$(openssl ocsp -issuer "$d/issuing.pem" -cert "$d/leaf/cert.pem" -no_nonce \
      -CAfile "$d/root.pem" -url "$1" 2>&1) || true
    grep -q "Connection refused" <<<"$out" || break
    sleep 0.2
  done
  if ! grep -q "Response verify OK" <<<"$out" || ! grep -q ": good" <<<"$out"; then
    echo "no verified good answer from $1:" >&2
    echo "$out" >&2
    cat "$d/openssl.log" >&2 2>/dev/null || true
    exit 1
  fi
}
check "http://127.0.0.1:$http_port/ocsp"

# openssl's responder on the same CA material: the issuing CA signs itself
keyfile=$(sqlite3 "$data/quill.db" "SELECT key_file FROM cas WHERE id = $ca_id")
openssl pkey -in "$data/$keyfile" -passin env:QUILL_CA_PASSPHRASE -out "$d/issuing.key"
sqlite3 -separator $'\t' "$data/quill.db" \
  "SELECT CASE WHEN revoked_at IS NULL THEN 'V' ELSE 'R' END,
          substr(strftime('%Y%m%d%H%M%S', not_after, 'unixepoch'), 3) || 'Z',
          CASE WHEN revoked_at IS NULL THEN ''
               ELSE substr(strftime('%Y%m%d%H%M%S', revoked_at, 'unixepoch'), 3) || 'Z' END,
          upper(serial), 'unknown', '/CN=' || id
   FROM certificates WHERE ca_id = $ca_id" > "$d/index.txt"
openssl ocsp -index "$d/index.txt" -port "$ossl_port" -rsigner "$d/issuing.pem" \
  -rkey "$d/issuing.key" -CA "$d/issuing.pem" -nmin 60 -multi 2 >"$d/openssl.log" 2>&1 &
ossl=$!
# (no bare TCP probe: a malformed request makes openssl's -multi responder stop)
check "http://127.0.0.1:$ossl_port/"

bench() { # name url
  local out
  out=$(OCSP_REQ="$d/req.der" wrk -t"$wthreads" -c"$conns" -d"${secs}s" --latency \
    -s "$here/ocsp_post.lua" "$2")
  echo "$out" > "$d/wrk-$1.txt"
  echo "$out" | awk -v name="$1" '
    /Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
    /requests in/ { reqs = $1 }
    /Non-2xx/ { bad = $NF }
    /Socket errors/ { err = $0 }
    END { printf "%-8s %10.0f responses/s   p50 %-9s p99 %-9s requests %s%s%s\n", name, rps, p50, p99, reqs,
          bad ? "   non-2xx " bad : "", err ? "   " err : "" }'
}
echo
echo "wrk -t$wthreads -c$conns -d${secs}s, POST of one $(stat -c %s "$d/req.der")-byte request, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
bench quill "http://127.0.0.1:$http_port/ocsp"
bench openssl "http://127.0.0.1:$ossl_port/"
resp_size() { # url: the size of one answer (openssl ocsp -respout)
  timeout 10 openssl ocsp -issuer "$d/issuing.pem" -cert "$d/leaf/cert.pem" -no_nonce -noverify -url "$1" \
    -respout "$d/resp.der" >/dev/null 2>&1 && stat -c %s "$d/resp.der"
}
echo "answer sizes: quill $(resp_size "http://127.0.0.1:$http_port/ocsp") bytes," \
  "openssl $(resp_size "http://127.0.0.1:$ossl_port/") bytes"

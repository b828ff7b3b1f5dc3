#!/usr/bin/env bash
# Issuance throughput of the CLI path (process start, store, signer fork,
# signature, transaction), sequential and with parallel processes on one
# data directory. Usage: bench/issue.sh [N] [PARALLEL]   (defaults 200, 4)
# Prints certificates per second for each mode. Loopback only, temp dir.
set -euo pipefail
n=${1:-200}; par=${2:-4}
q="$(cd "$(dirname "$0")/.." && pwd)/build/quill"
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
export QUILL_CA_PASSPHRASE=bench-passphrase-123
"$q" --data "$d" ca init >/dev/null
"$q" --data "$d" ca init --key rsa2048 >/dev/null
rate() { awk -v n="$1" -v s="$2" -v e="$3" 'BEGIN { printf "%.1f", n / (e - s) }'; }
for alg in ec256 rsa2048; do
  s=$(date +%s.%N)
  for i in $(seq 1 "$n"); do
    "$q" --data "$d" cert apply --name "b$i.$alg.example.com" --key "$alg" >/dev/null
  done
  e=$(date +%s.%N)
  echo "apply $alg sequential: $n certificates, $(rate "$n" "$s" "$e") per second"
done
s=$(date +%s.%N)
seq 1 "$n" | xargs -P "$par" -I{} "$q" --data "$d" cert apply --name "p{}.example.com" \
  --key ec256 >/dev/null
e=$(date +%s.%N)
echo "apply ec256 with $par processes: $n certificates, $(rate "$n" "$s" "$e") per second"
csr="$d/b.csr"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/b.key" \
  -subj /CN=s.example.com -out "$csr" 2>/dev/null
s=$(date +%s.%N)
for i in $(seq 1 "$n"); do "$q" --data "$d" cert sign --csr "$csr" >/dev/null; done
e=$(date +%s.%N)
echo "sign (CSR given) sequential: $n certificates, $(rate "$n" "$s" "$e") per second"
echo "database: $(du -h "$d/quill.db" | cut -f1) for $(( 4 * n )) certificates"

#!/usr/bin/env bash
# CRLs at scale: N revoked certificates under one issuing CA (default
# 1,000,000), then, in the same run:
#   - the time to open the database (`quill ca list`) and what the old open
#     path paid on top of it every time (PRAGMA foreign_key_check, which now
#     runs only after a migration);
#   - `quill crl` (every CRL of every CA made again: the shards, the
#     unsharded CRLs) wall time and peak RSS (/usr/bin/time -v: the largest of
#     quill and its signer);
#   - `openssl ca -gencrl` over an index.txt with the same entries, with a
#     P-256 key like quill's default issuing CA;
#   - the ratio of the two (target: quill <= 2 s, <= 100 MB, <= 0.2 x openssl).
# Usage: bench/crl.sh [N] [SHARDS]   (defaults 1000000, 16). Needs about
# 3.5 GB of disk for 1M rows (real-sized rows). Temp dir, removed at exit.
set -euo pipefail
n=${1:-1000000}; shards=${2:-16}
here="$(cd "$(dirname "$0")" && pwd)"
q="$here/../build/quill"
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
export QUILL_CA_PASSPHRASE=bench-passphrase-123
mkdir -p "$d/data"
printf '[crl]\nshards = %s\n' "$shards" > "$d/data/quill.conf"
"$q" --data "$d/data" ca init >/dev/null
ca=$("$q" --data "$d/data" --json ca list | /usr/bin/python3 -c \
  'import json,sys; print([c["id"] for c in json.load(sys.stdin)["cas"] if not c["is_root"]][0])')
tmpl=$("$q" --data "$d/data" --json cert apply --name template.bench.example.com --key ec256 |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["certificate"]["id"])')
/usr/bin/python3 "$here/crl_fill.py" "$d/data" "$ca" "$tmpl" "$n" "$shards" "$d/index.txt"
echo "database: $(du -h "$d/data/quill.db" | cut -f1)"

# the fill wrote without fsync: put it on disk now, or the first fsync
# measured below would pay for gigabytes of it
sqlite3 "$d/data/quill.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
sync "$d/data/quill.db" "$d/index.txt"

# what every open used to pay, and what an open costs now
s=$(date +%s.%N); sqlite3 "$d/data/quill.db" "PRAGMA foreign_key_check" >/dev/null
e=$(date +%s.%N); fk=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }')
s=$(date +%s.%N); "$q" --data "$d/data" ca list >/dev/null
e=$(date +%s.%N); open=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')
echo "database open (quill ca list): $open s; PRAGMA foreign_key_check (every open, before): $fk s"

measure() { # label, command...: prints "<seconds> <max RSS kB> <CPU seconds>"
  local out="$d/time.$1"; shift
  /usr/bin/time -v -o "$out" "$@" >/dev/null
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0;
                for (i = 1; i <= n; i++) s = s * 60 + t[i]; w = s }
              /Maximum resident set size/ { r = $2 }
              /User time|System time/ { c += $2 }
              END { printf "%.2f %d %.2f\n", w, r, c }' "$out"
}

read -r qs qr qc < <(measure quill "$q" --data "$d/data" crl)
entries=$("$q" --data "$d/data" --json crl --ca "$ca" --out "$d/check.pem" |
  /usr/bin/python3 -c 'import json,sys; print(sum(c["entries"] for c in json.load(sys.stdin)["crls"]))')
echo "quill crl: $qs s (CPU $qc s), max RSS $((qr / 1024)) MB, $entries entries in" \
  "$((shards + 1)) CRLs of CA $ca"

# the same entries through openssl ca
o="$d/ossl"; mkdir -p "$o"
openssl ecparam -name prime256v1 -genkey -noout -out "$o/ca.key" 2>/dev/null
openssl req -new -x509 -key "$o/ca.key" -subj "/CN=Bench CA" -days 30 -out "$o/ca.pem" 2>/dev/null
cp "$d/index.txt" "$o/index.txt"; echo "unique_subject = no" > "$o/index.txt.attr"
echo 01 > "$o/crlnumber"
cat > "$o/ca.cnf" <<EOF
[ ca ]
default_ca = bench
[ bench ]
dir = $o
database = \$dir/index.txt
crlnumber = \$dir/crlnumber
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
default_md = sha256
default_crl_days = 7
unique_subject = no
EOF
read -r os or oc < <(measure openssl openssl ca -config "$o/ca.cnf" -gencrl -out "$o/crl.pem")
echo "openssl ca -gencrl: $os s (CPU $oc s), max RSS $((or / 1024)) MB," \
  "$(grep -c . "$o/index.txt") entries in 1 CRL"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores: figures above 2 mean waiting)"
awk -v q="$qs" -v o="$os" 'BEGIN { printf "ratio quill/openssl: %.3f (target <= 0.2)\n", q / o }'

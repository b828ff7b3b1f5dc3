#!/usr/bin/env bash
# `make run` on a fresh checkout: makes the data directory with a default
# configuration and a random CA passphrase file (0600) the first time. This
# is the developer default; production installs keep the passphrase
# elsewhere (docs/operations.md).
set -eu
data=${1:-var}
umask 077
mkdir -p "$data/secrets"
abs=$(cd "$data" && pwd)
if [ ! -f "$data/secrets/ca.passphrase" ]; then
  od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$data/secrets/ca.passphrase"
  echo >> "$data/secrets/ca.passphrase"
  echo "first run: generated $data/secrets/ca.passphrase"
fi
if [ ! -f "$data/quill.conf" ]; then
  cat > "$data/quill.conf" <<CONF
# quill configuration (see docs/configuration.md)
[server]
listen = 127.0.0.1:8080
base_url = http://127.0.0.1:8080

[ca]
passphrase_file = $abs/secrets/ca.passphrase
CONF
  echo "first run: wrote $data/quill.conf"
fi

#!/usr/bin/env bash
# Bans a few simple mistakes (after curl's checksrc and s2n's
# grep_simple_mistakes.sh): unbounded string functions, atoi, plain memcmp
# on secrets, and front doors reaching past the service.
set -u
cd "$(dirname "$0")/.."
fail=0; checks=0
ban() { # pattern, why, paths...
  local pat=$1 why=$2; shift 2
  checks=$((checks+1))
  local hits; hits=$(grep -rnE "$pat" "$@" 2>/dev/null | grep -v 'check-src: allow')
  if [ -n "$hits" ]; then echo "banned ($why):"; echo "$hits"; fail=$((fail+1)); fi
}
ban '\b(sprintf|vsprintf|strcpy|strcat|gets|atoi|atol)\(' "unbounded or unchecked libc call" src fuzz
ban '(^|[^_A-Za-z])memcmp\([^)]*(token|nonce|hmac|secret|mac|pass)' "use CRYPTO_memcmp for secrets" src
ban '#include [<"](openssl/|sqlite3|libpq|(\.\./)?store/)' "front doors go through the service" src/cli src/api src/http src/acme
ban '#include [<"](openssl/|sqlite3|microhttpd|(\.\./)?(store|service|http|pki)/)' "policy is pure" src/policy
ban '#include [<"](microhttpd|(\.\./)?(http|api|cli)/)' "the service does not know front doors" src/service
echo "check-src: $((checks-fail)) passed, $fail failed"
[ $fail -eq 0 ]

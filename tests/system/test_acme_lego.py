"""ACME (issue 8) with Debian's lego against a real `quill serve`: http-01
(lego's own server on a picked loopback port, which [validation] http_port
points at), dns-01 with lego's `exec` provider (a script writing the TXT
record into the test suite's Knot DNS) and tls-alpn-01 (lego's TLS server on
a picked port, [validation] tls_alpn_port). Each obtains a certificate,
renews it (`lego renew`) and revokes it; the chain is checked with openssl,
the SAN with the cryptography library, the revocation on the CRL and
through OCSP. lego trusts quill's HTTPS certificate through
LEGO_CA_CERTIFICATES.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import acme_util
from api_client import Api
from conftest import pick_port
from test_orders import ZONE, configure, dns_lab

LEGO = "/usr/bin/lego"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("acme-lego-dns")) as lab_:
        yield lab_


@pytest.fixture
def acme(ca_dir, lab, tmp_path):
    http_port, alpn_port = pick_port(), pick_port()
    configure(ca_dir, lab.recursor.addr,
              extra=f"http_port = {http_port}\ntls_alpn_port = {alpn_port}\n"
                    "timeout_ms = 5000\n")
    api = Api(ca_dir, tmp_path / "serve")
    api.http01_port, api.alpn_port = http_port, alpn_port
    try:
        yield api
    finally:
        api.close()


def lego(api, tmp, names, challenge, *cmd, env=None):
    assert Path(LEGO).exists(), "lego is missing: scripts/deps.sh installs it"
    e = dict(os.environ)
    e["LEGO_CA_CERTIFICATES"] = str(api.root_pem)
    e.update(env or {})
    args = [LEGO, "--server", api.url + "/acme/directory", "--path", str(tmp / "lego"),
            "--accept-tos", "--email", "lego-test@" + ZONE, *challenge]
    for n in names:
        args += ["--domains", n]
    r = subprocess.run(args + list(cmd), capture_output=True, text=True, env=e, timeout=180)
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:], api.logs())
    return r


def files(tmp, name):
    d = tmp / "lego" / "certificates"
    base = name.replace("*", "_")
    return d / f"{base}.crt", d / f"{base}.issuer.crt"


def obtain_renew_revoke(api, tmp, names, challenge, env=None, reason=(1, "keyCompromise")):
    lego(api, tmp, names, challenge, "run", "--no-bundle", env=env)
    cert_pem, chain_pem = files(tmp, names[0])
    first = acme_util.check_cert(api, tmp, cert_pem, chain_pem, names)
    acme_util.assert_good(api, tmp, cert_pem)
    # renew: --days larger than the lifetime renews at once
    lego(api, tmp, names, challenge, "renew", "--days", "3650", "--no-bundle", "--no-random-sleep", env=env)
    second = acme_util.check_cert(api, tmp, cert_pem, chain_pem, names)
    assert second.serial_number != first.serial_number
    lego(api, tmp, names, challenge, "revoke", "--keep", "--reason", str(reason[0]), env=env)
    acme_util.assert_revoked(api, tmp, second, cert_pem, reason=reason[1])
    # the first one is untouched
    first_pem = tmp / "first.pem"
    from cryptography.hazmat.primitives.serialization import Encoding
    first_pem.write_bytes(first.public_bytes(Encoding.PEM))
    acme_util.assert_good(api, tmp, first_pem)


def test_lego_http01(lab, acme, tmp_path):
    name = f"www.lego-http.{ZONE}"
    lab.set(name, "A", "127.0.0.1")
    obtain_renew_revoke(acme, tmp_path, [name],
                        ["--http", "--http.port", f"127.0.0.1:{acme.http01_port}"])


def test_lego_tls_alpn01(lab, acme, tmp_path):
    names = [f"lego-alpn.{ZONE}", f"www.lego-alpn.{ZONE}"]
    for n in names:
        lab.set(n, "A", "127.0.0.1")
    obtain_renew_revoke(acme, tmp_path, names,
                        ["--tls", "--tls.port", f"127.0.0.1:{acme.alpn_port}"],
                        reason=(4, "superseded"))


EXEC = """#!{py}
import subprocess, sys
sys.path.insert(0, {tests!r})
from knot import KNOTC, txt
action, fqdn, value = sys.argv[1], sys.argv[2], sys.argv[3]
cmd = [KNOTC, "-s", {sock!r}]
subprocess.run(cmd + ["zone-begin", {zone!r}], check=True, capture_output=True)
if action == "present":
    subprocess.run(cmd + ["zone-set", {zone!r}, fqdn, "0", "TXT", txt(value)], check=True,
                   capture_output=True)
else:
    subprocess.run(cmd + ["zone-unset", {zone!r}, fqdn, "TXT"], capture_output=True)
subprocess.run(cmd + ["zone-commit", {zone!r}], check=True, capture_output=True)
"""


def test_lego_dns01_exec(lab, acme, tmp_path):
    names = [f"lego-dns.{ZONE}", f"*.lego-dns.{ZONE}"]
    script = tmp_path / "exec.py"
    script.write_text(EXEC.format(py=sys.executable, tests=str(Path(__file__).parent),
                                  sock=lab.knot.sock, zone=ZONE + "."))
    script.chmod(0o755)
    env = {"EXEC_PATH": str(script), "EXEC_PROPAGATION_TIMEOUT": "30",
           "EXEC_POLLING_INTERVAL": "1"}
    obtain_renew_revoke(acme, tmp_path, names,
                        ["--dns", "exec", "--dns.resolvers", lab.recursor.addr,
                         "--dns.disable-cp"], env=env)

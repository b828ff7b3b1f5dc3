"""ACME (issue 8) with Debian's certbot against a real `quill serve`: http-01
with --standalone (certbot's own web server on a picked loopback port, which
[validation] http_port points at) and dns-01 with --manual hooks that write
the TXT record into the test suite's Knot DNS. Each obtains a certificate,
renews it, and revokes it; the chain is checked with openssl, the SAN with
the cryptography library, the revocation through the CRL and OCSP.

certbot trusts quill's HTTPS certificate through REQUESTS_CA_BUNDLE.
OCSP: `openssl ocsp` asks quill's /ocsp (acme_util.assert_revoked).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from api_client import Api
import acme_util
from conftest import pick_port
from test_orders import US, ZONE, configure, dns_lab

CERTBOT = "/usr/bin/certbot"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("acme-certbot-dns")) as lab_:
        yield lab_


@pytest.fixture
def acme(ca_dir, lab, tmp_path):
    http_port = pick_port()
    configure(ca_dir, lab.recursor.addr,
              extra=f"http_port = {http_port}\ntimeout_ms = 5000\n")
    api = Api(ca_dir, tmp_path / "serve")
    api.http01_port = http_port
    try:
        yield api
    finally:
        api.close()


def certbot(api, tmp, *args, env=None, check=True):
    assert Path(CERTBOT).exists(), "certbot is missing: scripts/deps.sh installs it"
    e = dict(os.environ)
    e["REQUESTS_CA_BUNDLE"] = str(api.root_pem)
    e.update(env or {})
    cmd = [CERTBOT, *args, "--non-interactive", "--server", api.url + "/acme/directory",
           "--config-dir", str(tmp / "etc"), "--work-dir", str(tmp / "work"), "--logs-dir",
           str(tmp / "logs")]
    r = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=180)
    if check:
        assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:], api.logs())
    return r


def check_cert(api, tmp, live, names):
    return acme_util.check_cert(api, tmp, live / "cert.pem", live / "chain.pem", names)


def test_certbot_http01_standalone(lab, acme, tmp_path):
    name = f"www.cb-http.{ZONE}"
    lab.set(name, "A", "127.0.0.1")
    args = ["--standalone", "--http-01-port", str(acme.http01_port), "--http-01-address",
            "127.0.0.1", "--agree-tos", "--register-unsafely-without-email"]
    certbot(acme, tmp_path, "certonly", *args, "-d", name)
    live = tmp_path / "etc" / "live" / name
    first = check_cert(acme, tmp_path, live, [name])
    acme_util.assert_good(acme, tmp_path, live / "cert.pem")

    # renew: a new certificate with the same names (the authorization is
    # reused within the BR period, so no new challenge is needed)
    certbot(acme, tmp_path, "renew", "--force-renewal", "--no-random-sleep-on-renew", "--cert-name", name, *args[:5])
    second = check_cert(acme, tmp_path, live, [name])
    assert second.serial_number != first.serial_number

    certbot(acme, tmp_path, "revoke", "--cert-path", str(live / "cert.pem"), "--reason",
            "superseded", "--no-delete-after-revoke")
    acme_util.assert_revoked(acme, tmp_path, second, live / "cert.pem", reason="superseded")


HOOK = """#!{py}
import os, subprocess, sys
sys.path.insert(0, {tests!r})
from knot import KNOTC, txt
owner = "_acme-challenge." + os.environ["CERTBOT_DOMAIN"] + "."
value = os.environ["CERTBOT_VALIDATION"]
cmd = [KNOTC, "-s", {sock!r}]
def c(*a):
    subprocess.run(cmd + list(a), check=True, capture_output=True)
c("zone-begin", {zone!r})
if sys.argv[1] == "auth":
    c("zone-set", {zone!r}, owner, "0", "TXT", txt(value))
else:
    subprocess.run(cmd + ["zone-unset", {zone!r}, owner, "TXT"], capture_output=True)
c("zone-commit", {zone!r})
"""


def test_certbot_dns01_manual_hooks(lab, acme, tmp_path):
    names = [f"*.cb-dns.{ZONE}", f"cb-dns.{ZONE}"]
    hook = tmp_path / "hook.py"
    sock = lab.knot.sock  # the control socket of the lab's knotd
    hook.write_text(HOOK.format(py=sys.executable, tests=str(Path(__file__).parent), sock=sock,
                                zone=ZONE + "."))
    hook.chmod(0o755)
    args = ["--manual", "--preferred-challenges", "dns", "--manual-auth-hook",
            f"{hook} auth", "--manual-cleanup-hook", f"{hook} cleanup", "--agree-tos",
            "--register-unsafely-without-email"]
    certbot(acme, tmp_path, "certonly", *args, *sum((["-d", n] for n in names), []))
    live = tmp_path / "etc" / "live" / f"cb-dns.{ZONE}"
    if not live.exists():
        live = next((tmp_path / "etc" / "live").glob("*cb-dns*"))
    first = check_cert(acme, tmp_path, live, names)
    certbot(acme, tmp_path, "renew", "--force-renewal", "--no-random-sleep-on-renew", "--cert-name", live.name, *args[:7])
    second = check_cert(acme, tmp_path, live, names)
    assert second.serial_number != first.serial_number
    certbot(acme, tmp_path, "revoke", "--cert-path", str(live / "cert.pem"), "--reason",
            "keycompromise", "--no-delete-after-revoke")
    acme_util.assert_revoked(acme, tmp_path, second, live / "cert.pem", reason="keyCompromise")


def test_directory(acme):
    r = acme.call("GET", "/acme/directory")
    assert r.status == 200, r.body
    d = r.json
    for k in ("newNonce", "newAccount", "newOrder", "revokeCert", "keyChange", "renewalInfo"):
        assert d[k].startswith(acme.url + "/acme/"), d
    assert d["meta"]["externalAccountRequired"] is False
    assert d["meta"]["caaIdentities"] == [US]
    assert "classic" in d["meta"]["profiles"]
    r = acme.call("HEAD", "/acme/new-nonce")
    assert r.status == 200 and len(r.headers["Replay-Nonce"]) == 43

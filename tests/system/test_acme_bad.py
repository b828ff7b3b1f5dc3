"""ACME (issue 8): hand-made bad requests against a real `quill serve`, each
answered with the right RFC 8555 problem type and changing nothing (the ACME
and certificate tables hold the same rows before and after, and the
account or order keeps its state): a wrong url, a reused nonce, an expired
nonce ([acme] nonce_seconds = 10), alg none, HS256, a kid of another
account, jwk and kid together, a payload over the cap, a CSR with an extra
name, a blocked key (account and CSR), an EAB key used twice or with a bad
MAC. JWS are built with python3-cryptography (acme_mini.py).
"""

import json
import sqlite3
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from acme_mini import Http01Server, Mini, b64u, csr_der, es256, problem, spki_sha256
from api_client import Api
from conftest import ok, pick_port
from test_orders import ZONE, configure, dns_lab

TABLES = ("acme_accounts", "acme_orders", "acme_authzs", "acme_eab_keys", "orders",
          "certificates", "serials", "blocked_keys")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("acme-bad-dns")) as lab_:
        yield lab_


@pytest.fixture
def acme(ca_dir, lab, tmp_path):
    http_port = pick_port()
    configure(ca_dir, lab.recursor.addr,
              extra=f"http_port = {http_port}\ntimeout_ms = 5000\n[acme]\nnonce_seconds = 10\n")
    api = Api(ca_dir, tmp_path / "serve")
    srv = Http01Server(http_port)
    api.mini = Mini(api)
    api.http01 = srv
    try:
        yield api
    finally:
        srv.close()
        api.close()


def counts(api):
    db = sqlite3.connect(f"file:{api.data}/quill.db?mode=ro", uri=True)
    try:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        db.close()


class Unchanged:
    def __init__(self, api):
        self.api = api

    def __enter__(self):
        self.before = counts(self.api)

    def __exit__(self, *exc):
        if exc[0] is None:
            assert counts(self.api) == self.before


def test_jws_refusals(acme):
    m = acme.mini
    a, b = m.account(), m.account()
    new_order = m.dir["newOrder"]
    ids = {"identifiers": [{"type": "dns", "value": f"x.{ZONE}"}]}
    with Unchanged(acme):
        # the protected url is not the URL the request went to
        problem(m.send(new_order, m.jws(a.key, m.dir["newAccount"], ids, kid=a.kid)),
                "unauthorized")
        # alg none, and HS256 (a MAC is only for EAB)
        r = problem(m.send(new_order, m.jws(a.key, new_order, ids, kid=a.kid, alg="none",
                                            sign=lambda d: b"")), "badSignatureAlgorithm")
        problem(m.send(new_order, m.jws(a.key, new_order, ids, kid=a.kid, alg="HS256",
                                        sign=lambda d: b"\0" * 32)), "badSignatureAlgorithm")
        # a's key with b's kid: the signature does not verify with b's key
        problem(m.send(new_order, m.jws(a.key, new_order, ids, kid=b.kid)), "malformed")
        # a acting on b's account
        problem(m.post(a, b.kid, {"contact": ["mailto:x@" + ZONE]}), "unauthorized")
        # jwk and kid together
        problem(m.send(new_order, m.jws(a.key, new_order, ids, kid=a.kid, jwk=True)),
                "malformed")
        # a payload over the JWS cap (64 KiB), within the route's body cap
        big = {"identifiers": ids["identifiers"], "x": "a" * (100 * 1024)}
        problem(m.post(a, new_order, big), "malformed")
        # a body over the route's cap (256 KiB): refused before any handler,
        # still as an ACME problem document
        huge = {"identifiers": ids["identifiers"], "x": "a" * (300 * 1024)}
        problem(m.post(a, new_order, huge), "malformed", 413)
        # the wrong media type
        problem(m.send(new_order, m.jws(a.key, new_order, ids, kid=a.kid),
                       ctype="application/json"), "malformed")
    assert r["type"].endswith("badSignatureAlgorithm")


def test_nonces(acme):
    m = acme.mini
    a = m.account()
    n = m.nonce()
    r = m.get(a, a.kid, nonce=n)
    assert r.status == 200, r
    with Unchanged(acme):
        r = m.post(a, a.kid, {"contact": ["mailto:reused@" + ZONE]}, nonce=n)
        problem(r, "badNonce", 400)
        assert len(r.headers["Replay-Nonce"]) == 43  # a fresh one to go on with
        # a nonce nobody issued
        problem(m.post(a, a.kid, {"contact": ["mailto:u@" + ZONE]}, nonce=b64u(b"\1" * 32)),
                "badNonce")
        # expired: [acme] nonce_seconds = 10
        old = m.nonce()
        time.sleep(11.5)
        problem(m.post(a, a.kid, {"contact": ["mailto:late@" + ZONE]}, nonce=old), "badNonce")
    # nothing changed: no contact
    assert m.get(a, a.kid).json["contact"] == []


def ready_order(acme, lab, a, name):
    m = acme.mini
    lab.set(name, "A", "127.0.0.1")
    r = m.order(a, [("dns", name)])
    assert r.status == 201, r
    m.http01_solve(a, r.json, acme.http01)
    url = r.headers["Location"]
    assert m.get(a, url).json["status"] == "ready"
    return url


def test_csr_refusals(acme, lab):
    m = acme.mini
    a = m.account()
    name = f"csr.bad.{ZONE}"
    url = ready_order(acme, lab, a, name)
    key = ec.generate_private_key(ec.SECP256R1())
    with Unchanged(acme):
        problem(m.finalize(a, url, csr_der(key, [name, f"extra.{ZONE}"])), "badCSR")
    assert m.get(a, url).json["status"] == "ready"
    # a blocked key: refused in the CSR, and as an account key
    blocked = ec.generate_private_key(ec.SECP256R1())
    ok(acme.data, "blocked-keys", "add", "--spki-sha256", spki_sha256(blocked), "--reason",
       "test")
    with Unchanged(acme):
        problem(m.finalize(a, url, csr_der(blocked, [name])), "badCSR")
        nu = m.dir["newAccount"]
        problem(m.send(nu, m.jws(blocked, nu, {"termsOfServiceAgreed": True}, jwk=True)),
                "badPublicKey")
    assert m.get(a, url).json["status"] == "ready"
    # and the right CSR still works
    pem = m.issue(a, url, key, [name])
    assert pem.count("BEGIN CERTIFICATE") >= 2


def test_eab(acme):
    m = acme.mini
    ok(acme.data, "tenant", "create", "eabtest")
    out = ok(acme.data, "eab", "create", "--tenant", "eabtest", "--label", "t")
    kid, mac = out["eab"]["kid"], out["eab"]["hmac_key"]
    nu = m.dir["newAccount"]
    # a bad MAC (the right kid, another key)
    k1 = ec.generate_private_key(ec.SECP256R1())
    wrong = b64u(b"\x07" * 32)
    with Unchanged(acme):
        problem(m.send(nu, m.jws(k1, nu, {"termsOfServiceAgreed": True,
                                          "externalAccountBinding": m.eab(k1, kid, wrong)},
                                 jwk=True)), "unauthorized")
        # binding another key than the one signing
        other = ec.generate_private_key(ec.SECP256R1())
        problem(m.send(nu, m.jws(k1, nu, {"termsOfServiceAgreed": True,
                                          "externalAccountBinding": m.eab(other, kid, mac)},
                                 jwk=True)), "unauthorized")
    m.account(k1, eab=m.eab(k1, kid, mac))
    # used once already (max-accounts 1)
    k2 = ec.generate_private_key(ec.SECP256R1())
    with Unchanged(acme):
        problem(m.send(nu, m.jws(k2, nu, {"termsOfServiceAgreed": True,
                                          "externalAccountBinding": m.eab(k2, kid, mac)},
                                 jwk=True)), "unauthorized")

"""ACME (issue 8) profiles, IP identifiers and ARI against a real
`quill serve`, with the hand-made client of acme_mini.py (Debian's certbot
and lego know neither profiles nor ARI): meta.profiles; an unknown profile
is invalidProfile; tlsserver certificates last 45 days and shortlived ones
160 hours; an IP address identifier (RFC 8738) is refused by classic and
issued by shortlived after http-01 (never offered dns-01); renewalInfo
answers a window with Retry-After, in the past once the certificate is
revoked; `replaces` must name a certificate of the same account that is not
replaced yet.
"""

import base64
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from acme_mini import Http01Server, Mini, b64u, problem
from api_client import Api
from conftest import pick_port
from test_orders import ZONE, configure, dns_lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("acme-prof-dns")) as lab_:
        yield lab_


@pytest.fixture
def acme(ca_dir, lab, tmp_path):
    http_port = pick_port()
    configure(ca_dir, lab.recursor.addr,
              extra=f"http_port = {http_port}\ntimeout_ms = 5000\n"
                    "[acme]\norders_per_hour = 3\n")
    api = Api(ca_dir, tmp_path / "serve")
    srv = Http01Server(http_port)
    api.mini = Mini(api)
    api.http01 = srv
    try:
        yield api
    finally:
        srv.close()
        api.close()


def get_cert(acme, a, idents, profile=None, **extra):
    m = acme.mini
    body = dict(extra)
    if profile:
        body["profile"] = profile
    r = m.order(a, idents, **body)
    assert r.status == 201, r
    if profile:
        assert r.json["profile"] == profile
    m.http01_solve(a, r.json, acme.http01)
    key = ec.generate_private_key(ec.SECP256R1())
    names = [v for t, v in idents if t == "dns"]
    ips = [v for t, v in idents if t == "ip"]
    pem = m.issue(a, r.headers["Location"], key, names, ips)
    return x509.load_pem_x509_certificate(pem.encode()), r.headers["Location"]


def nb(c):
    return c.not_valid_before.replace(tzinfo=dt.timezone.utc)


def na(c):
    return c.not_valid_after.replace(tzinfo=dt.timezone.utc)


def lifetime(c):
    return na(c) - nb(c) + dt.timedelta(seconds=1)


def certid(c):
    aki = c.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    n = c.serial_number
    sb = n.to_bytes((n.bit_length() + 8) // 8, "big")  # a leading 0 when the high bit is set
    return b64u(aki.key_identifier) + "." + b64u(sb)


def test_profiles(acme, lab):
    m = acme.mini
    prof = m.dir["meta"]["profiles"]
    assert set(prof) == {"classic", "tlsserver", "shortlived"}, prof
    a = m.account()
    problem(m.order(a, [("dns", f"p.{ZONE}")], profile="nope"), "invalidProfile", 400)
    name = f"tls.prof.{ZONE}"
    lab.set(name, "A", "127.0.0.1")
    c, _ = get_cert(acme, a, [("dns", name)], profile="tlsserver")
    assert lifetime(c) == dt.timedelta(days=45)
    # IP addresses: refused by classic, issued by shortlived
    problem(m.order(a, [("ip", "127.0.0.1")]), "rejectedIdentifier")
    problem(m.order(a, [("dns", "127.0.0.1")], profile="shortlived"), "malformed")
    r = m.order(a, [("ip", "127.0.0.1")], profile="shortlived")
    assert r.status == 201, r
    z = m.get(a, r.json["authorizations"][0]).json
    assert z["identifier"] == {"type": "ip", "value": "127.0.0.1"}
    assert {ch["type"] for ch in z["challenges"]} == {"http-01", "tls-alpn-01"}
    c, _ = get_cert(acme, a, [("ip", "127.0.0.1"), ("dns", name)], profile="shortlived")
    assert lifetime(c) == dt.timedelta(hours=160)
    san = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(i) for i in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_ari_and_replaces(acme, lab):
    m = acme.mini
    a, b = m.account(), m.account()
    name = f"ari.{ZONE}"
    lab.set(name, "A", "127.0.0.1")
    c, _ = get_cert(acme, a, [("dns", name)])
    cid = certid(c)
    base = m.dir["renewalInfo"].rstrip("/")
    r = acme.call("GET", m.path(base + "/" + cid))
    assert r.status == 200, r
    w = r.json["suggestedWindow"]
    start = dt.datetime.fromisoformat(w["start"].replace("Z", "+00:00"))
    end = dt.datetime.fromisoformat(w["end"].replace("Z", "+00:00"))
    assert nb(c) < start < end < na(c)
    assert int(r.headers["Retry-After"]) > 0
    # malformed and unknown certIDs
    assert acme.call("GET", m.path(base + "/not-a-certid")).status == 400
    unknown = cid.split(".")[0] + "." + b64u(b"\x01\x02\x03")
    assert acme.call("GET", m.path(base + "/" + unknown)).status == 404

    # replaces: another account may not name it
    problem(m.order(b, [("dns", name)], replaces=cid), "malformed")
    # the rate limit (3 orders an hour) does not count replacements
    for i in range(2):  # with the first order: 3
        n = f"rl{i}.{ZONE}"
        assert m.order(a, [("dns", n)]).status == 201
    problem(m.order(a, [("dns", f"rl9.{ZONE}")]), "rateLimited", 429)
    c2, _ = get_cert(acme, a, [("dns", name)], replaces=cid)
    assert c2.serial_number != c.serial_number
    problem(m.order(a, [("dns", name)], replaces=cid), "alreadyReplaced", 409)

    # revoked: the window is in the past (renew now)
    pem = c2.public_bytes(__import__("cryptography.hazmat.primitives.serialization",
                                     fromlist=["Encoding"]).Encoding.DER)
    r = m.post(a, m.dir["revokeCert"], {"certificate": b64u(pem), "reason": 4})
    assert r.status == 200, r
    r = acme.call("GET", m.path(base + "/" + certid(c2)))
    end = dt.datetime.fromisoformat(r.json["suggestedWindow"]["end"].replace("Z", "+00:00"))
    assert end < dt.datetime.now(dt.timezone.utc)

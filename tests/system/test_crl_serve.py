"""Sharded CRLs as `quill serve` publishes them (docs/internals/crl.md): the
HTTP caching headers (Cache-Control bounded by nextUpdate, ETag with a 304
answer to If-None-Match, Last-Modified = thisUpdate, Expires = nextUpdate),
a REST API revocation whose CRL the job workers make after the commit, and
the CRL age gauge of /metrics."""

import datetime as dt
import email.utils
import re
import time
import urllib.request

import pytest
from cryptography import x509

from api_client import Api, private_order
from conftest import crl_number, idp_url
from test_serve import get, issuing_ca, make_server, server  # noqa: F401 (fixtures)


def http_date(value):
    """An IMF-fixdate header value as an aware datetime (RFC 9110 5.6.7)."""
    assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|"
                        r"Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT", value), value
    return email.utils.parsedate_to_datetime(value)


def conditional_get(url, etag, method="GET"):
    req = urllib.request.Request(url, method=method, headers={"If-None-Match": etag})
    return get(req)


def started_crls(server):
    """Waits until serve has made every CRL again at start (the numbers then
    stay until a revocation)."""
    deadline = time.monotonic() + 30
    while True:
        server.log.seek(0)
        if 'msg="CRLs made"' in server.log.read():
            return
        assert time.monotonic() < deadline, server.logs()
        time.sleep(0.05)


def test_crl_caching_headers_and_304(server):
    started_crls(server)
    ca = issuing_ca(server.data)
    url = f"{server.base}/crl/{ca['id']}/3.crl"
    status, headers, der = get(url)
    assert status == 200 and headers["Content-Type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(der)
    assert idp_url(crl).endswith(f"/crl/{ca['id']}/3.crl")
    # relying parties keep it at most 5 minutes, and never past nextUpdate
    m = re.fullmatch(r"public, max-age=(\d+)", headers["Cache-Control"])
    assert m and 0 < int(m.group(1)) <= 300, headers["Cache-Control"]
    etag = headers["ETag"]
    assert etag == f'"crl-{crl_number(crl)}"'
    utc = dt.timezone.utc
    assert http_date(headers["Last-Modified"]) == crl.last_update.replace(tzinfo=utc)
    assert http_date(headers["Expires"]) == crl.next_update.replace(tzinfo=utc)
    # the same CRL again: 304, no body, the same validators
    status, h304, body = conditional_get(url, etag)
    assert status == 304 and body == b"", (status, body[:40])
    assert h304["ETag"] == etag and h304["Cache-Control"] == headers["Cache-Control"]
    for inm in (f'W/{etag}', f'"crl-0", {etag}', "*"):
        assert conditional_get(url, inm)[0] == 304, inm
    # another tag, or another shard's: the CRL itself
    for inm in ('"crl-0"', etag.replace('"crl-', '"crl-9')):
        status, _, again = conditional_get(url, inm)
        assert status == 200 and again == der, inm
    # HEAD: the headers without the body
    status, hh, body = get(urllib.request.Request(url, method="HEAD"))
    assert status == 200 and body == b"" and hh["ETag"] == etag
    # the unsharded CRL and the root's carry them too
    for path in (f"/crl/{ca['id']}.crl", f"/crl/{ca['parent_id']}.crl"):
        status, h, der = get(server.base + path)
        assert status == 200 and h["ETag"] == f'"crl-{crl_number(x509.load_der_x509_crl(der))}"'
        assert h["Cache-Control"].startswith("public, max-age=")


def test_crl_age_in_metrics(server):
    ca = issuing_ca(server.data)
    deadline = time.monotonic() + 10
    while True:  # the main loop records the CRLs every second
        text = get(server.base + "/metrics")[2].decode()
        ages = {(m.group(1), m.group(2)): float(m.group(3)) for m in re.finditer(
            r'^quill_crl_age_seconds\{ca="(\d+)",shard="([a-z0-9]+)"\} (\S+)$', text, re.M)}
        if len(ages) >= 18 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "# TYPE quill_crl_age_seconds gauge" in text
    want = {(str(ca["id"]), str(k)) for k in range(16)} | {(str(ca["id"]), "unsharded"),
                                                           (str(ca["parent_id"]), "unsharded")}
    assert want <= set(ages), sorted(set(ages))
    # made at start: seconds old, not days
    assert all(0 <= v < 120 for v in ages.values()), ages


@pytest.fixture
def api(ca_dir, tmp_path):
    a = Api(ca_dir, tmp_path / "api")
    yield a
    a.close()


def test_api_revocation_reaches_its_crl_through_the_workers(api):
    """A revocation over the REST API commits without signing; the request
    thread's commit wakes the job workers, which make the certificate's
    shard CRL within seconds."""
    token = api.key("user")
    o = private_order(api, token, "api-crl.example.com")
    cert = api.get(f"/api/v1/certificates/{o['certificate_id']}", token,
                   check="/api/v1/certificates/{id}").json["certificate"]
    assert isinstance(cert["crl_shard"], int) and 0 <= cert["crl_shard"] < 16, cert
    url = f"{api.base}/crl/{cert['ca_id']}/{cert['crl_shard']}.crl"
    before = x509.load_der_x509_crl(get(url)[2])
    serial = int(cert["serial"], 16)
    assert before.get_revoked_certificate_by_serial_number(serial) is None
    t0 = time.monotonic()
    r = api.post(f"/api/v1/certificates/{cert['id']}/revoke", token, {"reason": "superseded"},
                 check="/api/v1/certificates/{id}/revoke")
    assert r.status == 200, r
    while True:
        crl = x509.load_der_x509_crl(get(url)[2])
        entry = crl.get_revoked_certificate_by_serial_number(serial)
        if entry is not None:
            break
        assert time.monotonic() - t0 < 15, f"not on its CRL after 15 s: {api.logs()}"
        time.sleep(0.05)
    assert crl_number(crl) > crl_number(before)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == \
        x509.ReasonFlags.superseded
    assert abs(entry.revocation_date - dt.datetime.utcnow()) < dt.timedelta(minutes=5)
    assert "kind=crl" in api.logs()

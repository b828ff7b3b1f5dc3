"""A small hand-made ACME client for the ACME system tests that need
requests no standard client sends (bad JWS, reused nonces, IP identifiers,
profiles, ARI, replaces). JWS are built here with python3-cryptography
(ES256 account keys); every request goes to a real `quill serve` through
api_client.Api.call.

    m = Mini(api)                 # directory read
    acct = m.account()            # newAccount with a fresh P-256 key
    r = m.post(acct, url, {...})  # signed with the account's kid
"""

import base64
import hashlib
import http.server
import json
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import NameOID


def b64u(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwk_of(key):
    n = key.public_key().public_numbers()
    return {"crv": "P-256", "kty": "EC", "x": b64u(n.x.to_bytes(32, "big")),
            "y": b64u(n.y.to_bytes(32, "big"))}


def thumbprint(key):
    j = jwk_of(key)
    canon = json.dumps({k: j[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    return b64u(hashlib.sha256(canon.encode()).digest())


def es256(key, data):
    r, s = utils.decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def csr_der(key, names, ips=()):
    import ipaddress
    sans = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(a))
                                                for a in ips]
    b = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
    b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def spki_sha256(key):
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


class Account:
    def __init__(self, key, kid):
        self.key, self.kid = key, kid


class Mini:
    def __init__(self, api):
        self.api = api
        r = api.call("GET", "/acme/directory")
        assert r.status == 200, r.body
        self.dir = r.json

    def path(self, url):
        assert url.startswith(self.api.url), url
        return url[len(self.api.url):]

    def nonce(self):
        r = self.api.call("HEAD", "/acme/new-nonce")
        return r.headers["Replay-Nonce"]

    def jws(self, key, url, payload, kid=None, jwk=False, nonce=None, protected=None,
            alg="ES256", sign=None):
        p = {"alg": alg, "nonce": nonce or self.nonce(), "url": url}
        if kid:
            p["kid"] = kid
        if jwk:
            p["jwk"] = jwk_of(key)
        p.update(protected or {})
        ph = b64u(json.dumps(p))
        pl = "" if payload is None else b64u(payload if isinstance(payload, (bytes, str))
                                             else json.dumps(payload))
        sig = sign(f"{ph}.{pl}".encode()) if sign else es256(key, f"{ph}.{pl}".encode())
        return json.dumps({"protected": ph, "payload": pl, "signature": b64u(sig)})

    def send(self, url, body, ctype="application/jose+json"):
        r = self.api.call("POST", self.path(url), raw=body, headers={"Content-Type": ctype})
        # problem documents are application/problem+json (RFC 7807)
        if r.json is None and r.body and "json" in (r.headers.get("Content-Type") or ""):
            r.json = json.loads(r.body)
        return r

    def post(self, acct, url, payload, **kw):
        return self.send(url, self.jws(acct.key, url, payload, kid=acct.kid, **kw))

    def account(self, key=None, eab=None):
        key = key or ec.generate_private_key(ec.SECP256R1())
        url = self.dir["newAccount"]
        payload = {"termsOfServiceAgreed": True}
        if eab:
            payload["externalAccountBinding"] = eab
        r = self.send(url, self.jws(key, url, payload, jwk=True))
        assert r.status == 201, r.body
        return Account(key, r.headers["Location"])

    def eab(self, key, kid, hmac_b64, url=None):
        import hmac
        url = url or self.dir["newAccount"]
        ph = b64u(json.dumps({"alg": "HS256", "kid": kid, "url": url}))
        pl = b64u(json.dumps(jwk_of(key)))
        mk = base64.urlsafe_b64decode(hmac_b64 + "=" * (-len(hmac_b64) % 4))
        sig = hmac.new(mk, f"{ph}.{pl}".encode(), hashlib.sha256).digest()
        return {"protected": ph, "payload": pl, "signature": b64u(sig)}

    def order(self, acct, idents, **extra):
        ids = [{"type": t, "value": v} for t, v in idents]
        r = self.post(acct, self.dir["newOrder"], {"identifiers": ids, **extra})
        return r

    def get(self, acct, url, **kw):
        return self.post(acct, url, None, **kw)

    def poll(self, acct, url, want, deadline_s=30):
        end = time.monotonic() + deadline_s
        while True:
            r = self.get(acct, url)
            if r.json.get("status") in want or time.monotonic() > end:
                return r
            time.sleep(0.2)

    def http01_solve(self, acct, order, server):
        """Answers every authorization of `order` by http-01 through
        `server` (an Http01Server); returns the order when ready."""
        for au in order["authorizations"]:
            z = self.get(acct, au).json
            ch = next(c for c in z["challenges"] if c["type"] == "http-01")
            server.tokens[ch["token"]] = ch["token"] + "." + thumbprint(acct.key)
            r = self.post(acct, ch["url"], {})
            assert r.status == 200, r.body
            z = self.poll(acct, au, ("valid", "invalid"))
            assert z.json["status"] == "valid", z.body

    def finalize(self, acct, order_url, csr):
        o = self.get(acct, order_url).json
        r = self.post(acct, o["finalize"], {"csr": b64u(csr)})
        return r

    def issue(self, acct, order_url, key, names, ips=()):
        r = self.finalize(acct, order_url, csr_der(key, names, ips))
        assert r.status == 200, r.body
        o = self.poll(acct, order_url, ("valid", "invalid"), 60).json
        assert o["status"] == "valid", o
        pem = self.get(acct, o["certificate"]).body.decode()
        return pem


class Http01Server:
    """Answers /.well-known/acme-challenge/<token> on 127.0.0.1:port."""

    def __init__(self, port):
        tokens = self.tokens = {}

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                t = self.path.rsplit("/", 1)[-1]
                body = tokens.get(t)
                self.send_response(200 if body else 404)
                self.end_headers()
                if body:
                    self.wfile.write(body.encode())

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def problem(r, typ, status=None):
    """Asserts `r` is an ACME problem document of type `typ`."""
    assert "application/problem+json" in (r.headers.get("Content-Type") or ""), r
    assert r.json["type"] == "urn:ietf:params:acme:error:" + typ, r
    if status:
        assert r.status == status, r
    assert r.json.get("detail"), r
    return r.json

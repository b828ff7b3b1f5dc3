"""What the REST API tests share: a real `quill serve` with both listeners on
picked loopback ports, an HTTPS client that trusts only quill's root, keys
made with the CLI, and the contract (docs/openapi.yaml) to validate every
JSON answer against.

`Api(data, tmp)` starts the daemon (the normal build, or the test build with
pause points when `binary`/`env` say so) and stops it at close(). `call()`
returns a Response (status, headers, body bytes, json) and, when told the
route's pattern, validates the answer against the OpenAPI file.
"""

import http.client
import json
import re
import socket
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, RefResolver

from conftest import QUILL, REPO, ok, pick_port, quill_env

OPENAPI = REPO / "docs" / "openapi.yaml"


class Contract:
    """docs/openapi.yaml, loaded once: routes and response schemas."""

    _doc = None

    def __init__(self):
        if Contract._doc is None:
            Contract._doc = yaml.safe_load(OPENAPI.read_text())
        self.doc = Contract._doc
        self.resolver = RefResolver.from_schema(self.doc)

    def routes(self):
        out = set()
        for path, ops in self.doc["paths"].items():
            for m in ops:
                if m in ("get", "post", "put", "delete", "patch"):
                    out.add((m.upper(), path))
        return out

    def operation(self, method, pattern):
        ops = self.doc["paths"].get(pattern)
        assert ops is not None, f"{pattern} is not in docs/openapi.yaml"
        op = ops.get(method.lower())
        assert op is not None, f"{method} {pattern} is not in docs/openapi.yaml"
        return op

    def _resolve(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            _, obj = self.resolver.resolve(obj["$ref"])
        return obj

    def check(self, method, pattern, resp):
        """Asserts that `resp` is one the file documents for this route:
        the status (or default), the content type, and for JSON the schema."""
        op = self.operation(method, pattern)
        responses = op["responses"]
        r = responses.get(str(resp.status)) or responses.get("default")
        assert r is not None, f"{method} {pattern}: status {resp.status} is not documented"
        r = self._resolve(r)
        content = r.get("content")
        if not content:
            assert not resp.body, f"{method} {pattern}: {resp.status} has a body: {resp.body!r}"
            return
        ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
        assert ctype in content, f"{method} {pattern}: content type {ctype!r} not in {list(content)}"
        if ctype == "application/json":
            schema = content[ctype]["schema"]
            Draft202012Validator(schema, resolver=self.resolver).validate(resp.json)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        ctype = (headers.get("Content-Type") or "")
        self.json = json.loads(body) if ctype.startswith("application/json") and body else None

    def error(self):
        assert self.json and "error" in self.json, (self.status, self.body[:500])
        return self.json["error"]

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Api:
    """A running `quill serve` and a client for it."""

    def __init__(self, data, tmp, conf="", binary=QUILL, env=None, threads=4):
        self.data = Path(data)
        self.tmp = Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        extra = f"[server]\nthreads = {threads}\n" + conf
        conf_path = self.data / "quill.conf"
        old = conf_path.read_text() if conf_path.exists() else ""
        conf_path.write_text(merge_conf(old, extra))
        self.port, self.api_port = pick_port(), pick_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"https://127.0.0.1:{self.api_port}"
        self.contract = Contract()
        self.log_path = self.tmp / "serve.log"
        self.log = open(self.log_path, "a+")
        self.proc = subprocess.Popen(
            [binary, "serve", "--data", str(self.data), "--listen", f"127.0.0.1:{self.port}",
             "--api-listen", f"127.0.0.1:{self.api_port}"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env if env is not None else quill_env())
        self._wait()
        roots = [c for c in ok(self.data, "ca", "list")["cas"] if c["is_root"]]
        self.root_pem = self.tmp / "roots.pem"
        self.root_pem.write_text("".join(c["certificate"] for c in roots))
        self.ctx = ssl.create_default_context(cafile=str(self.root_pem))

    def _wait(self):
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, f"serve exited: {self.logs()}"
            try:
                with socket.create_connection(("127.0.0.1", self.api_port), timeout=1):
                    with urllib.request.urlopen(self.base + "/healthz", timeout=1) as r:
                        if r.status == 200:
                            return
            except OSError:
                pass
            assert time.monotonic() < deadline, f"serve not ready: {self.logs()}"
            time.sleep(0.05)

    def logs(self):
        self.log.flush()
        return self.log_path.read_text()[-4000:]

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def key(self, role="user", tenant="default", label=""):
        """A new API key (made with the CLI, as an operator would); its token."""
        args = ["--tenant", tenant, "key", "create", "--role", role]
        if label:
            args += ["--label", label]
        return ok(self.data, *args)["key"]["token"]

    def call(self, method, path, token=None, body=None, raw=None, headers=None, check=None,
             conn=None):
        """One request. `body` is sent as JSON, `raw` as given. With `check`
        (the route's pattern, e.g. "/api/v1/certificates/{id}") the answer
        is validated against docs/openapi.yaml."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        elif raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
            h.setdefault("Content-Type", "application/json")
        own = conn is None
        c = conn or http.client.HTTPSConnection("127.0.0.1", self.api_port, context=self.ctx,
                                                timeout=60)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            resp = Response(r.status, r.headers, r.read())
        finally:
            if own:
                c.close()
        if check:
            self.contract.check(method, check, resp)
        return resp

    def oversized(self, method, path, token, length, check=None):
        """Announces a body of `length` bytes and reads the answer before
        sending any of it (the server answers 413 from Content-Length
        alone; a client that sent it all would meet a closed connection)."""
        raw = socket.create_connection(("127.0.0.1", self.api_port), timeout=30)
        with self.ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall((f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                       f"Content-Length: {length}\r\n\r\n").encode())
            r = http.client.HTTPResponse(s)
            r.begin()
            resp = Response(r.status, r.headers, r.read())
        if check:
            self.contract.check(method, check, resp)
        return resp

    def get(self, path, token, check=None, **kw):
        return self.call("GET", path, token, check=check, **kw)

    def post(self, path, token, body=None, check=None, **kw):
        return self.call("POST", path, token, body=body, check=check, **kw)


def merge_conf(old, extra):
    """Appends INI `extra` to `old`, folding repeated sections together (the
    configuration reader refuses nothing but unknown keys; a repeated key
    would win by order, so keep it simple: one section header each)."""
    sections = {}
    order = []
    for text in (old, extra):
        cur = None
        for line in text.splitlines():
            m = re.match(r"\s*\[(\w+)\]\s*$", line)
            if m:
                cur = m.group(1)
                if cur not in sections:
                    sections[cur] = []
                    order.append(cur)
                continue
            if line.strip():
                assert cur, f"a setting outside a section: {line!r}"
                key = line.split("=", 1)[0].strip()
                sections[cur] = [l for l in sections[cur]
                                 if l.split("=", 1)[0].strip() != key] + [line]
    return "".join(f"[{s}]\n" + "".join(l + "\n" for l in sections[s]) for s in order)


def private_order(api, token, *names, key="ec256", check=True):
    r = api.post("/api/v1/orders", token, {"profile": "private", "names": list(names),
                                          "key": key},
                 check="/api/v1/orders" if check else None)
    assert r.status == 201, r
    o = r.json["order"]
    assert o["status"] == "issued" and isinstance(o["certificate_id"], int), o
    return o

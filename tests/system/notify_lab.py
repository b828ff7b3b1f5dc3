"""What the notification tests share: a real webhook receiver (Python's
http.server on 127.0.0.1, a port it picks) that records every request and
answers each path as told, a real SMTP sink (Debian's python3-aiosmtpd,
`python3 -m aiosmtpd` with its Maildir handler, on a loopback port), a
`quill serve` configured to notify quickly, and the signature check a
receiver would do (HMAC-SHA256 over the exact body bytes)."""

import hashlib
import hmac
import http.server
import json
import mailbox
import socket
import subprocess
import threading
import time
from pathlib import Path

from api_client import Api, Contract
from conftest import pick_port

SECRET = "a long webhook secret, 0123456789"


class Receiver:
    """A webhook receiver. `answers[path]` is the list of statuses to give,
    one per request (the last one repeats); 200 when not told."""

    def __init__(self, port=0):
        self.requests = []
        self.answers = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with outer.lock:
                    outer.requests.append({"path": self.path, "headers": dict(self.headers),
                                           "body": body, "at": time.time()})
                    todo = outer.answers.get(self.path, [200])
                    status = todo.pop(0) if len(todo) > 1 else todo[0]
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def received(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r["path"] == path]

    def events(self, path=None):
        return [json.loads(r["body"]) for r in self.received(path)]

    def wait(self, pred, what, timeout=30):
        """Waits until pred(requests) is true; returns the requests."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.received()
            if pred(got):
                return got
            assert time.monotonic() < deadline, f"the receiver never got {what}: {got}"
            time.sleep(0.1)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class SmtpSink:
    """aiosmtpd with the Maildir handler: every message lands in a Maildir
    (with X-MailFrom and X-RcptTo, the envelope)."""

    def __init__(self, d):
        self.dir = Path(d) / "maildir"
        self.port = pick_port()
        self.log = open(Path(d) / "smtp.log", "w")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
             "-c", "aiosmtpd.handlers.Mailbox", str(self.dir)],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            assert self.proc.poll() is None, "aiosmtpd exited: " + Path(d, "smtp.log").read_text()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "aiosmtpd did not start"
                time.sleep(0.1)

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def messages(self):
        if not self.dir.exists():
            return []
        return list(mailbox.Maildir(str(self.dir), create=False))

    def wait(self, n, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            got = self.messages()
            if len(got) >= n:
                return got
            assert time.monotonic() < deadline, f"{len(got)} messages, wanted {n}"
            time.sleep(0.1)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def notify_conf(allow_private=True, smtp=None, extra=""):
    """[notify] settings that make tests quick (first retry after 1 s, an
    expiry scan every second), plus the SMTP sink."""
    conf = ("[notify]\n"
            f"allow_private_addresses = {'true' if allow_private else 'false'}\n"
            "retry_base_seconds = 1\nexpiry_scan_seconds = 1\ntimeout_ms = 3000\n")
    if smtp:
        conf += f"[smtp]\nurl = {smtp}\nfrom = quill@example.com\n"
    return conf + extra


def signature_ok(request, secret=SECRET):
    """The receiver's check: HMAC-SHA256 of the exact body bytes."""
    want = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, request["headers"].get("X-Quill-Signature", ""))


def check_notification(body):
    """A webhook body validates against the Notification schema of
    docs/openapi.yaml."""
    from jsonschema import Draft202012Validator
    c = Contract()
    schema = c.doc["components"]["schemas"]["Notification"]
    Draft202012Validator(schema, resolver=c.resolver).validate(body)


def register(api, token, url, secret=SECRET, status=201):
    r = api.post("/api/v1/webhooks", token, {"url": url, "secret": secret},
                 check="/api/v1/webhooks")
    assert r.status == status, r
    return r.json["webhook"] if status == 201 else r.error()


def deliveries(api, token, hook_id):
    p = "/api/v1/webhooks/{id}/deliveries"
    r = api.get(f"/api/v1/webhooks/{hook_id}/deliveries", token, check=p)
    assert r.status == 200, r
    return r.json["deliveries"]


def wait_deliveries(api, token, hook_id, pred, what, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        d = deliveries(api, token, hook_id)
        if pred(d):
            return d
        assert time.monotonic() < deadline, f"never {what}: {d}"
        time.sleep(0.2)


def start(data, tmp, conf, **kw):
    """A `quill serve` with `conf`; the caller closes it."""
    return Api(data, tmp, conf=conf, **kw)

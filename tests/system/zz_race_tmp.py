import subprocess, time, json
from conftest import QUILL, quill_env, ok
from nginx import Nginx
from test_orders import configure, dns_lab, order_apply, order_show
import pytest

@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("x")) as l: yield l

def test_race(lab, ca_dir, tmp_path):
    n = Nginx(workdir=tmp_path/"ng"); n.start()
    try:
        configure(ca_dir, lab.recursor.addr, extra=f"[validation]\nhttp_port = {n.port}\ntimeout_ms = 8000\n")
        lab.set("race.example.test", "A", "127.0.0.1")
        o = order_apply(ca_dir, "race.example.test", method="file")
        ch = o["names"][0]["challenge"]; token = ch["url"].rsplit("/",1)[1][:-4]
        n.put_validation_file(token, ch["content"])
        n._set_location(n.validation_path(token), "limit_rate 120;")
        t=time.time()
        p = subprocess.Popen([QUILL, "--data", str(ca_dir), "--json", "order", "validate", str(o["id"])], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=quill_env())
        time.sleep(0.8)
        c = ok(ca_dir, "order", "cancel", o["id"])["order"]
        print("cancel ->", c["status"], time.time()-t)
        out, err = p.communicate()
        print("validate ->", p.returncode, out[:300], err[-300:], time.time()-t)
        print("show ->", json.dumps(order_show(ca_dir, o["id"]))[:400])
    finally:
        n.stop()

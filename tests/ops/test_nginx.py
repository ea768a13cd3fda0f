"""The documented pair, Debian's nginx with the repository's site file (deploy/nginx/
xinka-verifier.conf) in front of gunicorn with two workers, under bad input: spoofed and
malformed X-Forwarded-For (the limiter keys on the real client), a huge header, an oversized
body, slow clients holding connections open. No 5xx, no worker stuck, the limits hold.

The test changes only what must differ on a test machine: the listen addresses, the certificate
paths, the log paths and the upstream port (each replacement must match the file exactly once).
"""
import concurrent.futures
import datetime
import http.client
import ipaddress
import json
import pathlib
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hardware.sim.ports import free_port

from .conftest import unavailable
from .test_workers import BAD_TAP

ROOT = pathlib.Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "xinka-verifier.conf"
HOST = "v.example.cn"


def _certificate(d):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(key, hashes.SHA256()))
    (d / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "privkey.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


def _site(d, http_port, https_port, upstream_port):
    text = SITE.read_text(encoding="utf-8")
    for old, new in (
            ("    listen 80;\n", f"    listen 127.0.0.1:{http_port};\n"),
            ("    listen [::]:80;\n", ""),
            ("    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https_port} ssl http2;\n"),
            ("    listen [::]:443 ssl http2;\n", ""),
            ("/etc/xinka/tls/fullchain.pem", str(d / "fullchain.pem")),
            ("/etc/xinka/tls/privkey.pem", str(d / "privkey.pem")),
            ("/var/log/nginx/xinka-verifier.access.log", str(d / "access.log")),
            ("/var/log/nginx/xinka-verifier.error.log", str(d / "error.log")),
            ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};")):
        assert text.count(old) == 1, f"{old!r} is no longer in {SITE.name}"
        text = text.replace(old, new)
    return text


class Nginx:
    def __init__(self, d, upstream_port):
        exe = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
        if exe is None:
            unavailable("nginx is not installed (Debian's nginx package)")
        self.d = d
        d.mkdir(parents=True, exist_ok=True)
        _certificate(d)
        self.http_port, self.port = free_port(), free_port()
        (d / "site.conf").write_text(_site(d, self.http_port, self.port, upstream_port))
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (d / sub).mkdir(exist_ok=True)
        (d / "nginx.conf").write_text(f"""
daemon off;
worker_processes 1;
user root;
pid {d}/nginx.pid;
error_log {d}/main-error.log warn;
events {{ worker_connections 512; }}
http {{
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    include {d}/site.conf;
}}
""")
        cmd = [exe, "-p", str(d), "-c", str(d / "nginx.conf")]
        check = subprocess.run(cmd + ["-t"], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr           # the site file is valid nginx
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while not self._listening():
            assert self.proc.poll() is None, self.proc.stderr.read().decode()
            assert time.monotonic() < deadline, "nginx did not listen in 30 s"
            time.sleep(0.05)
        self.tls = ssl.create_default_context(cafile=str(d / "fullchain.pem"))

    def _listening(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def request(self, method, path, body=None, headers=None, port=None):
        """(status, headers, body) over HTTPS (or plain HTTP to `port`)."""
        if port is None:
            c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls,
                                            timeout=30)
        else:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            c.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def raw(self, head):
        """The status nginx answers to these request bytes (the rest of the body unsent)."""
        with socket.create_connection(("127.0.0.1", self.port), 10) as plain, \
                self.tls.wrap_socket(plain, server_hostname=HOST) as s:
            s.sendall(head)
            line = s.makefile("rb").readline()
        return int(line.split()[1])

    def verify(self, headers=None, body=BAD_TAP):
        return self.request("POST", "/api/v1/verify", body,
                            {"Content-Type": "application/cbor", **(headers or {})})

    def error_log(self):
        return "".join(p.read_text(errors="replace") for p in
                       (self.d / "error.log", self.d / "main-error.log") if p.exists())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture
def db_kind():
    """The documented deployment: PostgreSQL (tests/ops/test_workers.py covers SQLite)."""
    return "postgresql"


@pytest.fixture
def pair(serve, redis_url, tmp_path):
    """(nginx, served): gunicorn with two workers, the limit on Redis, one proxy in front."""
    served = serve(workers=2, RATE_LIMIT_PER_MIN=20, RATE_LIMIT_STORAGE_URI=redis_url,
                   PROXY_FIX_X_FOR=1)
    nginx = Nginx(tmp_path / "nginx", served.port)
    yield nginx, served
    nginx.stop()


def _no_server_error(served, nginx):
    assert "Traceback" not in served.log_text()
    statuses = [int(m.group(1)) for line in (nginx.d / "access.log").read_text().splitlines()
                for m in [re.search(r'" (\d{3}) ', line)] if m]
    assert statuses and max(statuses) < 500, statuses


def _access_lines(served, at_least):
    """gunicorn's access lines once at least `at_least` are written (each is written just
    after its response went out)."""
    deadline = time.monotonic() + 30
    while len(served.access_lines()) < at_least:
        assert time.monotonic() < deadline, served.access_lines()
        time.sleep(0.05)
    return served.access_lines()


SPOOFED = ["203.0.113.7", "203.0.113.7, 198.51.100.1", "garbage", "", ",,,", "::::::",
           "1.2.3.4" * 200, "unknown", "127.0.0.1", "10.0.0.1, 127.0.0.1"]


def test_the_limiter_keys_on_the_real_client_whatever_x_forwarded_for_says(pair):
    nginx, served = pair
    answers = [nginx.verify({"X-Forwarded-For": SPOOFED[i % len(SPOOFED)]})
               for i in range(30)]
    codes = [a[0] for a in answers]
    assert codes.count(400) == 20 and codes.count(429) == 10, codes   # one client: 20/min
    assert codes[:20] == [400] * 20
    assert all(json.loads(b)["reason"] == "rate_limited" and "Retry-After" in h
               for s, h, b in answers if s == 429)
    # (had the limiter believed the spoofed addresses, ten "clients" would each have sent 3)
    # plain http only redirects to https, and /metrics is not served through the proxy
    status, headers, _ = nginx.request("GET", "/t/abc", port=nginx.http_port)
    assert status == 301 and headers["Location"] == f"https://{HOST}/t/abc"
    assert nginx.request("GET", "/metrics")[0] == 404
    assert nginx.request("GET", "/healthz")[0] == 200
    _no_server_error(served, nginx)


def test_huge_headers_and_bodies_get_4xx_and_never_reach_a_worker_or_a_5xx(pair):
    nginx, served = pair
    before = len(served.access_lines())
    status, _, _ = nginx.verify({"X-Padding": "x" * 20000})                 # one huge header
    assert status == 400
    status, _, _ = nginx.request("GET", "/t/" + "A" * 9000)                 # a huge request line
    assert status == 414
    status = nginx.raw(b"POST /api/v1/checkins HTTP/1.1\r\nHost: " + HOST.encode() +
                       b"\r\nContent-Type: application/json\r\nContent-Length: "
                       + str(5 * 1024 * 1024).encode() + b"\r\n\r\n{")   # over 4 MiB
    assert status == 413
    assert len(served.access_lines()) == before              # nginx refused them by itself
    # a body nginx lets through but the app's own limit refuses: 413 with the reason
    status, _, body = nginx.verify(body=b"\x00" * 8192)
    assert status == 413 and json.loads(body)["reason"] == "oversized"
    assert nginx.verify()[0] == 400                          # and the next request is fine
    _no_server_error(served, nginx)


def _open(s):
    """The server neither answered nor closed this connection (nothing to read)."""
    s.setblocking(False)
    try:
        s.recv(1)
        return False
    except (ssl.SSLWantReadError, BlockingIOError):
        return True
    finally:
        s.setblocking(True)


def test_slow_clients_hold_no_worker(pair):
    """48 clients send their request a byte at a time and never finish while the test runs
    (gunicorn has 2 workers x 4 threads); nginx buffers them, so every ordinary request is
    answered meanwhile and none of the slow requests has reached gunicorn."""
    nginx, served = pair
    stop = threading.Event()
    slow = []
    for _ in range(48):
        s = nginx.tls.wrap_socket(socket.create_connection(("127.0.0.1", nginx.port), 10),
                                  server_hostname=HOST)
        s.sendall(b"POST /api/v1/verify HTTP/1.1\r\nHost: " + HOST.encode()
                  + b"\r\nContent-Type: application/cbor\r\nContent-Length: 1000\r\n\r\n")
        slow.append(s)

    def dribble():
        while not stop.wait(0.5):
            for s in slow:
                s.sendall(b"\x00")
    t = threading.Thread(target=dribble)
    t.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: nginx.verify(), range(16)))
        assert [a[0] for a in answers] == [400] * 16
        assert len(_access_lines(served, 16)) == 16          # the slow ones never got there
        assert sum(map(_open, slow)) == 48                   # ... and were still under way
    finally:
        stop.set()
        t.join()
    for s in slow:
        s.close()
    assert nginx.verify()[0] == 400
    _no_server_error(served, nginx)

"""The demo's world (demo/__main__.py): keys, the verifier as a real HTTP server process, and badges
issued by the real provisioning tool over pseudo-terminals.

Everything lives in one state folder (`./run/demo/` by default) and is made only once: a second
run finds the keys, the database and the flash images and reuses them.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

from cryptography.hazmat.primitives import serialization

from host import wire
from host.wire import keys

AUTHORITY_ID = "CN-ZJ-HZ-COMMERCE"
AGENCIES = [("A330100", "杭州安心家政服务有限公司"), ("A330101", "杭州好帮手家政有限公司")]
PASSPHRASE = "demo passphrase 演示口令"     # the agencies' key files (demo only)
NDEF_HOST = "v.example.cn"                  # host in the badges' NFC URLs
STATUS_BASE = "https://" + NDEF_HOST
STAFF_USER, STAFF_PASSWORD = "demo", "xinka-demo-2026"
DAY = 86400


def pem_private(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def pem_public(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def make_keys(d, now):
    """Authority key, per agency an encrypted issuing key (the desk's) and a status key (the
    verifier's), and the authority-signed trust list naming both. Made once."""
    from provisioning import agency_key
    if (d / "trust.cwt").exists():
        return False
    (d / "status-keys").mkdir(parents=True, exist_ok=True)
    authority = keys.generate()
    (d / "authority.key.pem").write_bytes(pem_private(authority))
    (d / "authority.pem").write_bytes(pem_public(authority))
    entries = []
    for aid, name in AGENCIES:
        desk = d / "desk" / aid
        desk.mkdir(parents=True, exist_ok=True)
        issuing = agency_key.create(str(desk / "agency.key"), PASSPHRASE)
        status_key = keys.generate()
        (d / "status-keys" / f"{aid}.pem").write_bytes(pem_private(status_key))
        entries.append(wire.Agency(aid, name, (issuing, status_key), now - 120 * DAY,
                                   now + 3 * 365 * DAY))
    trust = wire.build_trust_list(authority, AUTHORITY_ID, entries, seq=1, iat=now - 90 * DAY,
                                  exp=now + 365 * DAY)
    (d / "trust.cwt").write_bytes(trust)
    return True


def identity_env(d):
    """The demo's ID-number seal key, person-hash secret and session-cookie key, made once in
    its folder (a real deployment keeps them in its configuration, docs/operator.md §6)."""
    path = d / "identity.json"
    k = json.loads(path.read_text()) if path.exists() else {}
    if not {"seal", "person", "session"} <= set(k):
        for name in ("seal", "person", "session"):
            k.setdefault(name, os.urandom(32).hex())
        d.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(k))
        path.chmod(0o600)
    return {"XINKA_ID_SEAL_KEYS": json.dumps({"demo": k["seal"]}),
            "XINKA_ID_SEAL_KEY_ID": "demo",
            "XINKA_PERSON_HASH_KEYS": json.dumps({"demo": k["person"]}),
            "XINKA_PERSON_HASH_KEY_ID": "demo",
            "XINKA_SECRET_KEY": k["session"]}


class Verifier:
    """`flask --app verifier` commands and the service under gunicorn on 127.0.0.1:port."""

    def __init__(self, d, port, workers=2):
        self.d, self.port, self.workers = d, port, workers
        self.url = f"http://127.0.0.1:{port}"
        self.proc = None
        self.env = dict(os.environ,
                        XINKA_DATABASE_URL=f"sqlite:///{d / 'verifier.sqlite'}",
                        XINKA_AUTHORITY_KEY=str(d / "authority.pem"),
                        XINKA_STATUS_KEY_DIR=str(d / "status-keys"),
                        XINKA_STATUS_BASE_URL=STATUS_BASE,
                        XINKA_RATE_LIMIT_PER_MIN="0",
                        XINKA_STATUS_CHECK_MS="500", **identity_env(d))

    def flask(self, *args, check=True):
        r = subprocess.run([sys.executable, "-m", "flask", "--app", "verifier", *args],
                           env=self.env, cwd=self.d, capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise SystemExit(f"flask {' '.join(args)} failed:\n{r.stdout}{r.stderr}")
        return r.stdout.strip()

    def setup(self, state):
        """Schema, trust list, agencies, keys, terminals, a console user (first run only)."""
        self.flask("db-upgrade")
        if state.get("verifier"):
            return
        self.flask("trust-import", str(self.d / "trust.cwt"))
        v = {"api_keys": {}, "terminals": {}}
        for aid, name in AGENCIES:
            self.flask("agency-create", aid, name)
            v["api_keys"][aid] = self.flask("apikey-create", "--agency", aid, "--label", "desk")
            v["terminals"][aid] = {}
            for kind in ("desk", "esp32"):
                tid = f"T-{aid}-{kind.upper()}"
                v["terminals"][aid][kind] = [tid, self.flask("terminal-create", aid, tid,
                                                             "--label", kind)]
            self.flask("status-publish", aid)
        self.flask("staff-create", AGENCIES[0][0], STAFF_USER, "--name", "演示管理员",
                   "--password", STAFF_PASSWORD)
        state["verifier"] = v

    def start(self):
        log = open(self.d / "verifier.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--bind",
             f"127.0.0.1:{self.port}", "--graceful-timeout", "5", "verifier:create_app()"],
            env=self.env, cwd=self.d, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise SystemExit(f"the verifier did not start; see {self.d / 'verifier.log'}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"the verifier did not answer on {self.url}")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()           # gunicorn: graceful stop of its workers
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()

    def call(self, method, path, body=None, key=None):
        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())


def desk_profile(d, aid, verifier, api_key):
    desk = d / "desk" / aid
    prof = {"agency_id": aid, "key_file": "agency.key", "trust_list": "../../trust.cwt",
            "authority_key": "../../authority.pem", "verifier": verifier.url,
            "ndef_host": NDEF_HOST, "log_file": "issuance.log", "api_key": api_key,
            "validity_days": 730}
    (desk / "agency.json").write_text(json.dumps(prof, indent=1))
    return desk / "agency.json"


def chip_id(i):
    return bytes.fromhex("A4CF12") + (0xD000 + i).to_bytes(3, "big")


def issue_badges(d, build, verifier, state, plan, issued_at, say):
    """Issue every badge of `plan` ({index: (agency, worker ref)}) not yet issued: a blank
    badge (firmware under MicroPython on a pty) and `provision issue`'s steps (provisioning
    .issue.Issuer over the serial link, the verifier's registry over HTTP)."""
    from hardware.sim.serial_badge import SerialBadge
    from provisioning.device import Device
    from provisioning.issue import Issuer, Profile
    badges = state.setdefault("badges", {})
    issuers = {}
    todo = [i for i in sorted(plan) if str(i) not in badges]
    for n, i in enumerate(todo, 1):
        aid, worker = plan[i]
        if aid not in issuers:
            prof = Profile.load(desk_profile(d, aid, verifier,
                                             state["verifier"]["api_keys"][aid]))
            issuers[aid] = Issuer.prepare(prof, PASSPHRASE, now=lambda: issued_at)
        bdir = d / "badges" / f"badge{i}"
        if bdir.exists():
            shutil.rmtree(bdir)             # a half-issued badge from an interrupted run
        bdir.mkdir(parents=True)
        sb = SerialBadge(build, bdir / "flash.bin", chip_id(i), log=str(bdir / "usb.log"))
        sb.start()
        t0 = time.monotonic()
        try:
            dev = Device.open(sb.port)
            try:
                res = issuers[aid].issue(dev, worker, lambda step: None)
            finally:
                dev.close()
        finally:
            sb.stop()
        badges[str(i)] = {"agency": aid, "worker": worker, "serial": res.serial,
                          "badge_id": res.registration["id"], "kid": res.kid.hex(),
                          "status_idx": res.status_idx}
        say(f"badge {i}: {worker} at {aid}, serial {res.serial}, status index "
            f"{res.status_idx}, issued over {sb.port} in {time.monotonic() - t0:.1f} s "
            f"[{n}/{len(todo)}]")
    return len(todo)


NAMES = ["王秀英", "李桂兰", "张丽娟", "刘玉梅", "陈淑珍", "杨春燕", "赵红霞", "黄美玲", "周翠英",
         "吴海燕", "徐凤英", "孙晓梅"]
CERTS = [[("育婴员", "三级"), ("家政服务员", "四级")], [("养老护理员", "四级")],
         [("母婴护理员", "三级")]]


def demo_records(certs, now, tz):
    """The records an agency enters for a demo worker: certificates, a health certificate
    and an insurance, all checked against the originals."""
    from host.localtime import local_date

    def day(t):
        return local_date(t, tz).isoformat()
    out = [("skill_certificate", {"title": t, "level": lv, "number": f"{i + 1:04d}-2025",
                                  "source": "杭州市职业技能鉴定中心",
                                  "issued_on": day(now - 300 * DAY)})
           for i, (t, lv) in enumerate(certs)]
    out.append(("health_certificate", {"number": "JK-2026-0815", "source": "杭州市疾控中心",
                                       "issued_on": day(now - 165 * DAY),
                                       "valid_until": day(now + 200 * DAY)}))
    out.append(("insurance", {"type": "personal_accident", "number": "PA-88231",
                              "source": "中国人寿", "issued_on": day(now - 65 * DAY),
                              "valid_until": day(now + 300 * DAY)}))
    return out


def seed_profiles(verifier, state, now):
    """What an agency enters for each worker in its console: a name, certificates, a health
    certificate and an insurance the employer page shows (first run only; the grade is the
    credit rules')."""
    if state.get("profiles"):
        return
    from sqlalchemy import select

    from verifier import create_app
    from verifier.models import Worker
    from verifier.services import records
    app = create_app({"DATABASE_URL": verifier.env["XINKA_DATABASE_URL"],
                      "AUTHORITY_KEY": verifier.env["XINKA_AUTHORITY_KEY"]})
    x = app.extensions["xinka"]
    with x.db.session() as s:
        for i, b in sorted(state["badges"].items(), key=lambda kv: int(kv[0])):
            w = s.scalar(select(Worker).where(Worker.agency_id == b["agency"],
                                              Worker.worker_ref == b["worker"]))
            w.name = NAMES[int(i) % len(NAMES)]
            records.add_many(s, b["agency"], w.worker_ref,
                             demo_records(CERTS[int(i) % len(CERTS)], now,
                                          app.config["TIMEZONE"]), "verified", now, "demo",
                             app.config["TIMEZONE"])
    x.db.engine.dispose()
    state["profiles"] = True

"""`provision batch` over several simulated badges plugged in one after another; the badge's
link answering in the frames the host decodes; the issuance log and the agency key file."""
import os
import threading
import time

import pytest

from provisioning import agency_key, issuance_log
from provisioning.cli import main
from provisioning.errors import BadPassphrase, ConfigError, IdNumberRejected
from sqlalchemy import select
from testkit.desk import AGENCY
from tests.host.test_idnumber import GOOD, with_check_digit, wrong_check_digit
from verifier.models import Person
from xinka import frames


def test_batch_badges_plugged_in_one_after_another(badge_factory, desk, passphrase, tmp_path,
                                                   capsys):
    prof, akey, trust, authority, v, d = desk
    ports = tmp_path / "dev"
    ports.mkdir()
    badges = [badge_factory(n) for n in (1, 2, 3)]

    def plug():   # a new "USB port" appears every 0.7 s
        for i, b in enumerate(badges):
            time.sleep(0.7)
            os.symlink(b.port, ports / f"ttyACM{i}")
    t = threading.Thread(target=plug)
    t.start()
    (tmp_path / "workers.txt").write_text("W-0001\nW-0002\nW-0003\n")
    rc = main(["--profile", str(prof), "batch", "--count", "3", "--port-glob",
               str(ports / "ttyACM*"), "--workers", str(tmp_path / "workers.txt"),
               "--wait", "60"])
    t.join()
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "1/3" in out and "2/3" in out and "3/3" in out
    table = out.split("summary")[1]
    for i in range(len(badges)):
        assert f"A4CF1200000{i + 1}" in table
        assert f"W-000{i + 1}" in table
    assert table.count(" ok ") == 3 and "issued 3" in table
    badges = v.badges()
    assert sorted(b["worker_ref"] for b in badges) == ["W-0001", "W-0002", "W-0003"]
    assert {b["state"] for b in badges} == {"active"}
    assert len({b["kid"] for b in badges}) == 3 and len({b["status_idx"] for b in badges}) == 3
    assert {e["state"] for e in v.indices().values()} == {"registered"}
    recs = issuance_log.verify(d / "issuance.log", [akey])
    assert [r["event"] for r in recs] == ["issued"] * 3


def test_batch_reports_a_locked_badge_in_the_table(badge_factory, desk, passphrase, tmp_path,
                                                   capsys):
    prof, *_, v, d = desk
    b1 = badge_factory(1)
    assert main(["--port", b1.port, "--profile", str(prof), "issue", "--worker", "W-1"]) == 0
    ports = tmp_path / "dev"
    ports.mkdir()
    os.symlink(b1.port, ports / "ttyACM0")
    rc = main(["--profile", str(prof), "batch", "--count", "1", "--port-glob",
               str(ports / "ttyACM*"), "--wait", "5"])
    out = capsys.readouterr()
    assert rc == 18
    assert "badge_locked" in out.out and "batch_incomplete" in out.err
    assert [b["state"] for b in v.badges()] == ["active"] and len(v.indices()) == 1


def test_batch_checks_every_id_number_of_its_list_before_the_first_badge(
        badge_factory, desk, passphrase, tmp_path, capsys):
    prof, *_, v, d = desk
    badge = badge_factory(1)
    ports = tmp_path / "dev"
    ports.mkdir()
    os.symlink(badge.port, ports / "ttyACM0")
    good, bad = with_check_digit("11010519900101001"), wrong_check_digit(GOOD)
    (tmp_path / "workers.txt").write_text(f"W-0001,{good}\n\nW-0002, {bad}\nW-0003\n")
    v.requests.clear()
    rc = main(["--profile", str(prof), "batch", "--count", "3", "--port-glob",
               str(ports / "ttyACM*"), "--workers", str(tmp_path / "workers.txt"),
               "--wait", "5"])
    out = capsys.readouterr()
    assert rc == IdNumberRejected.exit_code, out.err
    assert "line 3: check_digit" in out.err and "校验位" in out.err
    assert "waiting for badges" not in out.out and v.requests == []
    assert main(["--port", badge.port, "inspect"]) == 0
    assert "state      blank" in capsys.readouterr().out


def test_batch_refuses_a_banned_person_and_gives_the_untouched_badge_to_the_next_worker(
        badge_factory, desk, passphrase, tmp_path, capsys):
    prof, *_, v, d = desk
    one, banned, three = (with_check_digit(f"1101051990010100{i}") for i in (1, 2, 3))
    v.call("POST", f"/api/v1/agencies/{AGENCY}/workers/enrol",
           {"worker_ref": "W-0099", "id_number": banned}, expect=200)
    with v.x.db.session() as s:
        digest = s.scalar(select(Person.person_hash))
    v.call("POST", "/api/v1/bureau/bans", {
        "person_hash": digest, "category": "theft", "legal_basis": "case 9",
        "decided_by": "bureau", "appeal_route": "in writing"}, v.bureau_key(), 201)
    ports = tmp_path / "dev"
    ports.mkdir()
    for n in (1, 2):
        os.symlink(badge_factory(n).port, ports / f"ttyACM{n}")
    (tmp_path / "workers.txt").write_text(
        f"W-0001,{one}\nW-0002,{banned}\nW-0003,{three}\n")
    rc = main(["--profile", str(prof), "batch", "--count", "3", "--port-glob",
               str(ports / "ttyACM*"), "--workers", str(tmp_path / "workers.txt"),
               "--wait", "10"])
    out = capsys.readouterr()
    assert rc == 18, out.err
    assert "person_banned" in out.err and "商务局" in out.err
    rows = [line.split() for line in out.out.split("summary")[1].splitlines()[2:5]]
    assert [(r[2], r[4], r[5]) for r in rows] == [
        ("A4CF12000001", "W-0001", "ok"), ("A4CF12000002", "W-0002", "person_banned"),
        ("A4CF12000002", "W-0003", "ok")]
    assert sorted((b["serial"], b["worker_ref"], b["state"]) for b in v.badges()) == [
        ("A4CF12000001", "W-0001", "active"), ("A4CF12000002", "W-0003", "active")]
    assert banned not in out.out + out.err and one not in out.out + out.err


def test_badge_link_answers_in_the_frames_the_host_decodes(upy):
    """The badge's serial_link under MicroPython, on a scripted stream: it takes a request
    (SYNC_REQ) after garbage, answers with SYNC_ANS in exactly the bytes the host's
    xinka.frames makes, and answers the retried request from its cache."""
    body = b"hi" + bytes(range(256)) * 3
    req = frames.encode(9, b"hi", frames.SYNC_REQ)
    script = ("import serial_link, binascii, sys\n"
              "class S:\n"
              "    def __init__(self, data):\n"
              "        self.data, self.out = data, bytearray()\n"
              "    def read(self, n, timeout_ms):\n"
              "        d, self.data = self.data[:n], self.data[n:]\n"
              "        return d\n"
              "    def write(self, b):\n"
              "        self.out.extend(b)\n"
              "s = S(binascii.unhexlify(sys.stdin.readline().strip()))\n"
              "link = serial_link.Link(s)\n"
              "print(link.serve_one(lambda b: b + bytes(range(256)) * 3, 100),\n"
              "      link.serve_one(lambda b: b'ran twice', 100),\n"
              "      link.serve_one(lambda b: b'nothing there', 100), link.dec.garbage)\n"
              "print(binascii.hexlify(s.out).decode())\n")
    out = upy(script, path=("lib", "badge"),
              stdin=(b"\xa5junk" + req + req).hex() + "\n").stdout.split("\n")
    assert out[0] == "True True False 5"
    got = bytes.fromhex(out[1])
    answer = frames.encode(9, body, frames.SYNC_ANS)
    assert got == answer * 2 and got[:2] == frames.SYNC_ANS
    dec = frames.Decoder(frames.SYNC_ANS)
    assert dec.feed(got[:100]) == []
    assert dec.feed(got[100:]) == [(9, body, frames.crc(answer[2:-4]))] * 2


def test_issuance_log_detects_edits_removal_and_foreign_keys(tmp_path):
    from host.wire import keys
    k = keys.generate()
    p = tmp_path / "log"
    for i in range(3):
        issuance_log.append(p, k, {"event": "issued", "n": i, "worker_ref": "W-测试"})
    assert [r["n"] for r in issuance_log.verify(p, [k])] == [0, 1, 2]
    lines = p.read_bytes().splitlines(keepends=True)
    p.write_bytes(lines[0] + lines[2])                         # a line removed
    with pytest.raises(issuance_log.LogBroken, match="chain"):
        issuance_log.verify(p, [k])
    p.write_bytes(b"".join(lines).replace(b'"n":1', b'"n":5'))  # a record edited
    with pytest.raises(issuance_log.LogBroken, match="signature"):
        issuance_log.verify(p, [k])
    p.write_bytes(b"".join(lines))
    with pytest.raises(issuance_log.LogBroken):
        issuance_log.verify(p, [keys.generate()])              # not this agency's key


def test_agency_key_is_never_stored_in_clear(tmp_path):
    p = tmp_path / "k.pem"
    key = agency_key.create(str(p), "long passphrase")
    pem = p.read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in pem and oct(os.stat(p).st_mode & 0o777) == "0o600"
    d = key.private_numbers().private_value.to_bytes(32, "big")
    assert d not in pem and d.hex().encode() not in pem
    assert agency_key.load(str(p), "long passphrase").private_numbers() == key.private_numbers()
    with pytest.raises(BadPassphrase):
        agency_key.load(str(p), "wrong")
    from cryptography.hazmat.primitives import serialization
    (tmp_path / "clear.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(ConfigError, match="not an encrypted"):
        agency_key.load(str(tmp_path / "clear.pem"), "long passphrase")
    with pytest.raises(ConfigError):
        agency_key.create(str(tmp_path / "short.pem"), "short")

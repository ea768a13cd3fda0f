"""`provision batch` over several simulated badges plugged in one after another; frame golden
bytes between firmware and host; the issuance log and the agency key file."""
import os
import threading
import time

import pytest

from provisioning import agency_key, issuance_log, link
from provisioning.cli import main
from provisioning.errors import BadPassphrase, ConfigError


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
    for i, b in enumerate(badges):
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


def test_frames_are_the_same_bytes_on_badge_and_host(upy):
    body = bytes(range(256)) * 3
    script = ("import serial_link, binascii\n"
              "b = bytes(range(256)) * 3\n"
              "print(binascii.hexlify(serial_link.encode(200, b)).decode())\n"
              "print(binascii.hexlify(serial_link.encode(7, b'', serial_link.SYNC_REQ)).decode())\n"
              "d = serial_link.Decoder()\n"
              "f = serial_link.encode(9, b'hi', serial_link.SYNC_REQ)\n"
              "print(d.feed(b'\\xa5junk' + f[:4]), d.feed(f[4:] + b'\\xa5'), d.garbage)\n")
    out = upy(script, path=("lib", "badge")).stdout.split("\n")
    assert bytes.fromhex(out[0]) == link.encode(200, body, link.SYNC_ANS)
    assert bytes.fromhex(out[1]) == link.encode(7, b"")
    assert out[1].startswith("a55a0700") and len(bytes.fromhex(out[1])) == 9
    assert out[2] == "[] [(9, b'hi', %d)] 5" % link.crc(link.encode(9, b"hi")[2:-4])
    dec = link.Decoder()
    assert dec.feed(bytes.fromhex(out[0])[:100]) == []
    assert dec.feed(bytes.fromhex(out[0])[100:]) == [(200, body)]


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

"""End to end over a real pty: a blank badge under MicroPython is issued by `provision issue`
against the real verifier (testkit/real_verifier.py)."""
import time

from host import wire
from provisioning import issuance_log
from provisioning.cli import main

from .conftest import AGENCY, NDEF_HOST


def test_issue_blank_badge_over_pty_key_never_on_the_wire(badge, desk, passphrase, capsys):
    prof, akey, trust_bytes, authority, v, d = desk
    rc = main(["--port", badge.port, "--profile", str(prof), "issue", "--worker", "W-0000042"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "issued" in out.out
    calls = list(v.requests)

    # the verifier: one badge, registered then activated once the badge was locked; its
    # reservation consumed; its worker created from the reference; its index valid in the list
    assert len(v.badges()) == 1
    b = v.badges()[0]
    assert b["state"] == "active" and b["worker_ref"] == "W-0000042"
    assert v.indices() == {b["status_idx"]: v.indices()[b["status_idx"]]}
    assert v.indices()[b["status_idx"]]["state"] == "registered"
    assert v.indices()[b["status_idx"]]["kid"] == b["kid"]
    assert "W-0000042" in v.worker_refs()
    assert v.status_list()(b["status_idx"]) == "valid"
    cred = wire.Credential.verify(b["credential"], wire.TrustList.load(
        trust_bytes, authority.public_key(), int(time.time())), int(time.time()))
    assert cred.iss == AGENCY and cred.serial == "A4CF12000001" == b["serial"]
    assert cred.badge_kid.hex() == b["kid"]
    assert cred.status_uri == f"https://{NDEF_HOST}/sl/{AGENCY}"
    base = f"/api/v1/agencies/{AGENCY}"
    assert calls == [("GET", f"{base}/issue-scope"), ("GET", f"{base}/badges"),
                     ("POST", f"{base}/status-indices"),
                     ("POST", f"{base}/badges"),
                     ("POST", f"{base}/badges/{b['id']}/activate")]

    # the issuance log holds one signed, chained record
    recs = issuance_log.verify(d / "issuance.log", [akey])
    assert [r["event"] for r in recs] == ["issued"]
    assert recs[0]["kid"] == b["kid"]

    badge.stop()
    d_key = badge.read_blob("key")
    assert d_key is not None and len(d_key) == 32
    pub = wire.keys.from_secret(d_key).public_key()
    assert wire.keys.kid(pub).hex() == b["kid"]          # it is the badge's real key
    assert badge.read_blob("locked") == b"\x01"
    assert badge.read_blob("host") == NDEF_HOST.encode()
    assert badge.read_blob("credential") == cred.raw

    # every byte that crossed the pty, both directions
    wire_bytes = badge.recorded()
    assert len(badge.recorded("tx")) > 300 and len(badge.recorded("rx")) > 200
    assert cred.raw in badge.recorded("tx")              # the recording is real
    for form in (d_key, d_key.hex().encode(), d_key.hex().upper().encode()):
        assert form not in wire_bytes
    # the nonce pool on flash holds key-equivalent material: none of it crossed either
    pool = badge.read_blob("pool", raw=True)
    assert pool and len(pool) > 24 + 100
    for i in range(24, len(pool) - 99, 100):
        assert pool[i:i + 96] not in wire_bytes


def test_sim_port_is_a_raw_115200_tty(badge):
    import os
    import termios
    fd = os.open(badge.port, os.O_RDWR | os.O_NOCTTY)
    try:
        attrs = termios.tcgetattr(fd)
    finally:
        os.close(fd)
    assert attrs[4] == attrs[5] == termios.B115200
    assert not attrs[3] & (termios.ICANON | termios.ECHO | termios.ISIG)


def test_locked_badge_refuses_second_issue(badge, desk, passphrase, capsys):
    prof, *_, v, d = desk
    assert main(["--port", badge.port, "--profile", str(prof), "issue", "--worker", "W-1"]) == 0
    capsys.readouterr()
    n = len(v.requests)
    rc = main(["--port", badge.port, "--profile", str(prof), "issue", "--worker", "W-2"])
    err = capsys.readouterr().err
    assert rc == 7
    assert "badge_locked" in err and "已锁定" in err and "wipe it first" in err
    assert len(v.requests) == n                     # the verifier was not asked for anything
    assert [b["state"] for b in v.badges()] == ["active"] and len(v.indices()) == 1


def test_wipe_then_reissue_makes_new_key_and_index(badge, desk, passphrase, capsys):
    prof, *_, v, d = desk
    assert main(["--port", badge.port, "--profile", str(prof), "issue", "--worker", "W-1"]) == 0
    # wipe refuses without the typed word
    assert main(["--port", badge.port, "wipe"]) == 14
    assert main(["--port", badge.port, "wipe", "--confirm", "WIPE"]) == 0
    assert "blank" in capsys.readouterr().out
    assert main(["--port", badge.port, "--profile", str(prof), "issue", "--worker", "W-1"]) == 0
    first, second = v.badges()
    assert first["kid"] != second["kid"] and first["status_idx"] != second["status_idx"]
    assert (first["state"], second["state"]) == ("revoked", "active")   # test_reissue.py
    assert first["worker_ref"] == second["worker_ref"] == "W-1"
    assert len(v.worker_refs()) == 1                # the worker was found, not made twice

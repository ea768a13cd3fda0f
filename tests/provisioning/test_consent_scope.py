"""The badge's consent scope set by the provisioning tool (分级授权): `provision issue --scope`
(else what the agency console set for the worker's next badge, else the profile's
consent_scope) puts the bits on the badge over the serial protocol, a consent
tap of that badge carries exactly them, `provision inspect` shows them; a bad scope is refused
before the badge is touched, and the badge refuses bits outside 0..63 itself."""
import re
import time

import pytest
from sqlalchemy import select

from hardware.sim import fleet as simfleet
from host import wire
from provisioning.cli import main
from provisioning.device import BadgeRefused, Device
from provisioning.errors import EXIT_CODES
from testkit.verifier import console_login
from verifier.models import StaffUser, Worker
from verifier.services import staff

from .conftest import set_profile
from .test_issue_then_tap import _ended, _settled, boot_badge, read_tap, sim_build  # noqa: F401


def issue(badge, prof, capsys, *extra):
    badge.start()
    rc = main(["--port", badge.port, "--profile", str(prof), "issue", "--worker", "W-0000088",
               *extra])
    out = capsys.readouterr()
    return rc, out.out + out.err


def consent_scope(badge, trust, authority):
    """Unplug the issued badge, run the same flash as a tag badge, press its button: the
    scope bits of the consent token an employer's phone reads."""
    badge.pull_cable()
    _ended(badge)
    tag = simfleet.SimBadge(0, badge.dir, simfleet.free_udp_port(), badge.build, 60000)
    tag.start()
    try:
        _settled(tag)
        tag.press()
        tag.wait_state(lambda s: str(s["tag"]).startswith("2:"))       # purpose 2: consent
        _uri, token, cred = read_tap(tag.path)
        now = int(time.time())
        tap = wire.verify_tap(token, cred, wire.TrustList.load(trust, authority.public_key(),
                                                               now), now)
        assert tap.purpose == "consent"
        return tap.scope
    finally:
        tag.stop()


def test_issue_with_a_scope_then_a_consent_tap_shows_exactly_it(
        boot_badge, desk, passphrase, capsys, monkeypatch):  # noqa: F811
    prof, _akey, trust, authority, _v, _d = desk
    rc, out = issue(boot_badge, prof, capsys, "--scope", "certificates,health")
    assert rc == 0, out
    assert "consent scope certificates,health" in out
    boot_badge.pull_cable()
    _ended(boot_badge)
    assert boot_badge.read_blob("scope") == bytes([wire.SCOPE_NAMES["certificates"] |
                                                   wire.SCOPE_NAMES["health"]])
    monkeypatch.setenv("XK_BUTTON", "1")     # locked, button held: provisioning mode to read
    boot_badge.start()
    rc = main(["--port", boot_badge.port, "inspect"])
    assert rc == 0 and "scope  certificates,health" in capsys.readouterr().out
    monkeypatch.delenv("XK_BUTTON")
    assert consent_scope(boot_badge, trust, authority) == 0b000011


def test_the_profiles_default_scope_applies_and_a_bad_one_touches_nothing(
        boot_badge, desk, passphrase, capsys):  # noqa: F811
    prof, _akey, trust, authority, v, d = desk
    set_profile(d, consent_scope="health,gossip")
    rc, out = issue(boot_badge, prof, capsys)
    assert rc == EXIT_CODES["config_error"] and "gossip" in out
    boot_badge.stop()
    assert v.badges() == [] and boot_badge.read_blob("key") is None
    rc, out = issue(boot_badge, prof, capsys, "--scope", "everything")
    assert rc == EXIT_CODES["config_error"] and "everything" in out
    boot_badge.stop()
    assert boot_badge.read_blob("key") is None
    set_profile(d, consent_scope="none")
    rc, out = issue(boot_badge, prof, capsys)
    assert rc == 0, out
    assert consent_scope(boot_badge, trust, authority) == 0


@pytest.mark.parametrize("bits", [64, -1, True, "3"])
def test_the_badge_itself_refuses_scope_bits_outside_0_to_63(boot_badge, bits):  # noqa: F811
    boot_badge.start()
    dev = Device.open(boot_badge.port)
    try:
        with pytest.raises(BadgeRefused) as err:
            dev.configure("v.example.cn", bits)
        assert err.value.code == "bad_request"
        assert dev.identify().scope == wire.SCOPE_ALL
        dev.configure("v.example.cn", 5)
        assert dev.identify().scope == 5
    finally:
        dev.close()
    boot_badge.stop()
    assert boot_badge.read_blob("scope") == b"\x05"



def console_sets_scope(v, worker_ref, names=None):
    """Agency staff tick `names` (None: "use the technician's default") for the worker's next
    badge on the console's worker page of the real verifier; the worker's id."""
    known = v.worker_refs()
    wid = known[worker_ref]["id"] if worker_ref in known else v.call(
        "POST", f"/api/v1/agencies/{v.agency}/workers", {"worker_ref": worker_ref},
        expect=201)["id"]
    with v.x.db.session() as s:
        if s.scalar(select(StaffUser).where(StaffUser.username == "desk")) is None:
            staff.create_user(s, v.agency, "desk", "desk pass 1234", int(time.time()), "test",
                              scrypt_n=v.x.config["STAFF_SCRYPT_N"])
    c = console_login(v.app.test_client(), "desk", "desk pass 1234")
    page = c.get(f"/console/workers/{wid}").text
    csrf = re.search(r'name="csrf" value="([^"]*)"', page).group(1)
    data = {"csrf": csrf, **({"default": "1"} if names is None else {"show": names})}
    r = c.post(f"/console/workers/{wid}/issue-scope", data=data)
    assert r.status_code == 303, r.text
    return wid


def test_the_consoles_scope_for_the_worker_goes_onto_the_badge_over_serial(
        boot_badge, desk, passphrase, capsys):  # noqa: F811
    """The console's choice for the worker is what `provision issue` writes to the badge and
    what its consent tap carries; --scope still overrides it; cleared, the profile's applies."""
    prof, _akey, trust, authority, v, d = desk
    console_sets_scope(v, "W-0000088", ["certificates", "agency"])
    want = wire.SCOPE_NAMES["certificates"] | wire.SCOPE_NAMES["agency"]
    set_profile(d, consent_scope="all")
    rc, out = issue(boot_badge, prof, capsys)
    assert rc == 0, out
    assert "consent scope certificates,agency (机构后台设定 / set in the agency console)" in out
    boot_badge.pull_cable()
    _ended(boot_badge)
    assert boot_badge.read_blob("scope") == bytes([want])
    assert consent_scope(boot_badge, trust, authority) == want


def test_the_option_overrides_the_consoles_scope(
        boot_badge, desk, passphrase, capsys):  # noqa: F811
    prof, _akey, _trust, _authority, v, _d = desk
    console_sets_scope(v, "W-0000088", ["health"])
    rc, out = issue(boot_badge, prof, capsys, "--scope", "none")
    assert rc == 0 and "consent scope none (--scope)" in out, out
    boot_badge.pull_cable()
    _ended(boot_badge)
    assert boot_badge.read_blob("scope") == b"\x00"


def test_a_cleared_console_scope_leaves_the_profiles(
        boot_badge, desk, passphrase, capsys):  # noqa: F811
    prof, _akey, _trust, _authority, v, d = desk
    console_sets_scope(v, "W-0000088", ["health"])
    console_sets_scope(v, "W-0000088", None)
    with v.x.db.session() as s:
        assert s.scalar(select(Worker.issue_scope).where(
            Worker.worker_ref == "W-0000088")) is None
    set_profile(d, consent_scope="insurance")
    rc, out = issue(boot_badge, prof, capsys)
    assert rc == 0 and "consent scope insurance (配置文件 / the profile's consent_scope)" \
        in out, out
    boot_badge.pull_cable()
    _ended(boot_badge)
    assert boot_badge.read_blob("scope") == bytes([wire.SCOPE_NAMES["insurance"]])

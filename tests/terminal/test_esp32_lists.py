"""The ESP32 terminal's list update (firmware/terminal/lists.py) under MicroPython against the
real verifier app: one person enrolled at two agencies, a bureau ban revokes both badges
through the agencies' status lists, and each agency's terminal beeps red offline after its
next update; a tampered manifest, a tampered chunk and a replayed older manifest are refused
and the terminal keeps its last good list."""

import pytest

from tests.host.test_idnumber import GOOD
from hardware.sim.ports import free_port
from tests.terminal.conftest import Verifier
from tests.terminal.test_esp32_terminal import beeps, tap
from tests.verifier.conftest import (db_kind, new_database, pg_cluster,  # noqa: F401
                                     sqlite_template)
from testkit.verifier import Env, make_app

A0, A1 = "A330100", "A330101"         # badges 0 and 2 / badge 1


@pytest.fixture
def verifier(db_kind, world, request, tmp_path):  # noqa: F811
    """The terminal tests' verifier (tests/terminal/conftest.py) on SQLite and PostgreSQL."""
    v = Verifier(Env(make_app(new_database(db_kind, request, tmp_path), world), world),
                 free_port())
    yield v
    v.stop()
    v.env.x.db.engine.dispose()


class Tamper:
    """Wraps the verifier app: `swap[path] = bytes` answers that path with those bytes."""

    def __init__(self, app):
        self.inner, self.swap = app.wsgi_app, {}
        app.wsgi_app = self

    def __call__(self, environ, start_response):
        body = self.swap.get(environ["PATH_INFO"])
        if body is None:
            return self.inner(environ, start_response)
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(len(body)))])
        return [body]


def flip(data, at):
    b = bytearray(data)
    b[at] ^= 0x01
    return bytes(b)


def lists(t):
    r = t.command("lists")
    assert r[0] == "lists", r
    return dict(w.split("=", 1) for w in r[1:])


def test_a_ban_reaches_both_agencies_terminals_at_their_list_update(
        fleet, verifier, make_terminal, world):
    env = verifier.env
    tamper = Tamper(env.app)
    verifier.start()
    t0 = make_terminal(0, verifier, name="t0", port=fleet.badges[0].port)
    t1 = make_terminal(1, verifier, name="t1", port=fleet.badges[1].port)
    assert lists(t0) == {A0: "same", A1: "same"}            # seq 1 on both sides
    assert tap(t0)[0] == "ok" and tap(t1)[0] == "ok"
    old = {a: env.client.get(f"/sl/{a}/compact/manifest").data for a in (A0, A1)}

    ban = env.enrol_and_ban(((A0, "W-0000000"), (A1, "W-0000001")), GOOD)
    assert ban["badges_revoked"] == 2, ban
    assert tap(t0)[0] == "ok"                      # offline: the cached list is still seq 1

    new = env.client.get(f"/sl/{A0}/compact/manifest").data
    path = f"/sl/{A0}/compact/manifest"
    tamper.swap[path] = flip(new, len(new) - 5)                  # in the signature
    assert lists(t0)[A0] == "bad_signature"
    tamper.swap[path] = old[A0]                                  # an older list, replayed
    assert lists(t0)[A0] == "same"
    chunk = env.client.get(f"/sl/{A0}/compact/chunk/0").data
    del tamper.swap[path]
    tamper.swap[f"/sl/{A0}/compact/chunk/0"] = flip(chunk, len(chunk) - 1)
    assert lists(t0)[A0] == "bad_chunk"
    assert tap(t0)[0] == "ok"                        # every refusal kept the last good list
    tamper.swap.clear()

    for t, agency in ((t0, A0), (t1, A1)):
        assert lists(t)[agency] == "updated:2"
        assert tap(t)[0] == "revoked", t.log[-8:]
        assert beeps(t)[-1] == ["red", "revoked"]
    tamper.swap[path] = old[A0]                      # replayed after the update
    assert lists(t0)[A0] == "not_newer"
    assert tap(t0)[0] == "revoked"
    assert t0.command("reboot") and tap(t0)[0] == "revoked"     # the update is on flash

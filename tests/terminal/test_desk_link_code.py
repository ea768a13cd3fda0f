"""The desk terminal's link code (host/terminal/desk.py render_link): a simulated badge tapped
through the console program prints the code xinka.linkcode derives from the terminal's token
and the check-in token in its journal, and a QR code that an independent decoder (ZXing's C++
port, zxing-cpp) reads back as <verifier>/me/?b=<serial>&c=<code>; a red tap prints neither."""
import re
import sqlite3

import zxingcpp

from host import wire
from host.terminal.cli import main
from tests.terminal.test_desk_e2e import (AGENCY, args, env, fleet,  # noqa: F401
                                          journal_rows, tap, world)
from xinka import linkcode

# segno's compact terminal output: two modules per character, a block where a module is light
HALVES = {"█": (1, 1), "▀": (1, 0), "▄": (0, 1), " ": (0, 0)}


def credential(data):
    db = sqlite3.connect(str(data / "journal.sqlite"))
    try:
        return bytes(db.execute("SELECT credential FROM checkins").fetchone()[0])
    finally:
        db.close()


def qr_matrix(out):
    """The printed QR code as rows of modules (1 dark), from its block characters."""
    lines = [ln for ln in out.splitlines() if ln and set(ln) <= set(HALVES) and "█" in ln]
    assert lines, out
    assert len({len(ln) for ln in lines}) == 1, "a ragged QR block"
    rows = []
    for ln in lines:
        top = [1 - HALVES[ch][0] for ch in ln]
        bottom = [1 - HALVES[ch][1] for ch in ln]
        rows += [top, bottom]
    return rows


def decode(rows, scale=4):
    """Text of the QR code in `rows`, read by zxing-cpp from a greyscale image of it."""
    h, w = len(rows) * scale, len(rows[0]) * scale
    img = bytes(0 if rows[y // scale][x // scale] else 255 for y in range(h) for x in range(w))
    found = zxingcpp.read_barcodes(memoryview(img).cast("B", (h, w)),
                                   formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, found
    return found[0].text


def synced(env, data):  # noqa: F811
    """The desk's trust and status lists from the verifier (then the verifier goes away)."""
    env.server.start()
    assert main(args(env, data, "--sync-only", "--sync-wait-s", "20")) == 0
    env.server.stop()
    return data


def test_an_accepted_tap_prints_the_link_code_and_its_qr_code(env, fleet, tmp_path):  # noqa: F811
    data = synced(env, tmp_path / "terminal")
    out = tap(env, data, fleet.badges[0])
    assert "GREEN" in out, out
    rows = journal_rows(data)
    assert [(r[2], r[3]) for r in rows] == [("accepted", "pending")]
    token = bytes(rows[0][1])
    _, terminal_token = env.terminals[AGENCY]
    code = linkcode.code(linkcode.link_key(terminal_token), token)

    m = re.search(r"link code / 查询码: (\S+)\s+badge (\S+)", out)
    assert m, out
    assert m.group(1) == linkcode.show(code)
    assert linkcode.normalise(m.group(1)) == code
    serial = wire.Credential.parse(credential(data)).serial
    assert m.group(2) == serial

    url = decode(qr_matrix(out))
    assert url == f"{env.server.url}/me/?b={serial}&c={code}"


def test_a_red_tap_prints_no_code(env, fleet, tmp_path):  # noqa: F811
    """Badge 1 is another agency's: red, journaled locally only, no code, no QR."""
    out = tap(env, synced(env, tmp_path / "terminal"), fleet.badges[1])
    assert "RED" in out and "another agency" in out, out
    assert "link code" not in out and "/me/" not in out
    assert not [ln for ln in out.splitlines() if ln and set(ln) <= set(HALVES) and "█" in ln]


def test_the_printed_code_opens_the_workers_page_after_the_upload(env, fleet, tmp_path):  # noqa: F811
    """End to end: the desk's check-in, its printed code typed at the real verifier: unknown
    until the desk has uploaded the check-in, then the worker's page opens once."""
    from tests.web.conftest import _field
    data = synced(env, tmp_path / "terminal")
    out = tap(env, data, fleet.badges[0])
    m = re.search(r"link code / 查询码: (\S+)\s+badge (\S+)", out)
    assert m, out
    client = env.app.test_client()

    def open_page():
        csrf = _field(client.get("/me/").text, "csrf")
        return client.post("/me/", data={"serial": m.group(2), "code": m.group(1),
                                         "csrf": csrf})
    assert open_page().status_code == 404                 # not uploaded yet
    env.server.start()
    assert main(args(env, data, "--sync-only", "--sync-wait-s", "20")) == 0
    env.server.stop()
    assert [(r[2], r[3]) for r in journal_rows(data)] == [("accepted", "synced")]
    r = open_page()
    assert r.status_code == 303 and r.headers["Location"].endswith("/me/page")
    assert client.get("/me/page").status_code == 200
    client.delete_cookie("xinka_me", path="/me/")
    assert open_page().status_code == 410                 # used

"""The ESP32 terminal's OLED after a tap (firmware/terminal/display.py on the SSD1306 driver,
under MicroPython, the simulation board's I2C bus to the SSD1306 model): an accepted check-in
shows the worker's one-time link code, the code the host computes (xinka.linkcode) from the
terminal's API token and the token the terminal journaled; a red tap shows its reason and no
code; a display that does not answer costs the check-in nothing.

The screen is read from the model's display RAM, glyph by glyph, against framebuf's own 8x8
font (rendered by MicroPython in the simulated terminal's process), at the scale drawn."""
import pytest

from host import wire
from tests.terminal.conftest import REVOKED_BADGE
from tests.terminal.test_esp32_terminal import beeps, tap
from xinka import linkcode

WIDTH, PAGES = 128, 8


class Screen:
    """The SSD1306 model's RAM as the `display` command gave it (8 pages x 128 columns)."""

    def __init__(self, words, font):
        self.shown, self.on = words[0], words[1] == "on=1"
        ram = bytes.fromhex(words[2])
        assert len(ram) == WIDTH * PAGES
        self.ram, self.font = ram, font

    def pixel(self, x, y):
        return (self.ram[(y // 8) * WIDTH + x] >> (y % 8)) & 1

    def text(self, x, y, n, scale=1):
        """n characters drawn at (x, y), each font pixel a scale x scale block ("?" where a
        cell is no glyph of the font, or a block is not uniform)."""
        out = []
        for i in range(n):
            glyph, uniform = bytearray(8), True
            for col in range(8):
                for row in range(8):
                    x0, y0 = x + (8 * i + col) * scale, y + row * scale
                    block = {self.pixel(x0 + dx, y0 + dy)
                             for dx in range(scale) for dy in range(scale)}
                    uniform &= len(block) == 1
                    glyph[col] |= self.pixel(x0, y0) << row
            out.append(self.font.get(bytes(glyph), "?") if uniform else "?")
        return "".join(out)

    def lit(self):
        return sum(bin(b).count("1") for b in self.ram)


@pytest.fixture
def font(build, verifier, make_terminal):
    t = make_terminal(0, verifier, name="font")
    g = bytes.fromhex(t.command("font")[0])
    t.stop()
    font = {g[i * 8:(i + 1) * 8]: chr(32 + i) for i in range(95)}
    assert len(font) == 95                          # every glyph distinct: a decoding is unique
    return font


def screen(t, font):
    return Screen(t.command("display"), font)


def journaled(t):
    """(seq, token bytes) of the last check-in, read back from the terminal's journal."""
    seq = int([ln for ln in t.log if ln.startswith("EV JOURNALED")][-1].split()[2])
    r = t.command("journal %d" % seq)
    assert int(r[0]) == seq
    return seq, bytes.fromhex(r[1])


def terminal_token(verifier, world, i):
    return verifier.env.terminals[world.badges[i].agency_id][1]


def test_an_accepted_checkin_shows_the_link_code_of_the_journaled_token(
        fleet, verifier, make_terminal, world, font):
    t = make_terminal(0, verifier, port=fleet.badges[0].port)
    s = screen(t, font)
    assert (s.shown, s.on) == ("idle", True) and s.text(20, 28, 11) == "tap a badge"
    assert tap(t)[0] == "ok", t.log[-10:]
    assert beeps(t)[-1] == ["green", "ok"]
    _, token = journaled(t)
    # the journaled token is the one the badge answered with
    sent_token, cred = wire.split_sequence(bytes.fromhex(t.command("payload")[0]))
    assert token == sent_token
    want = linkcode.code(linkcode.link_key(terminal_token(verifier, world, 0)), token)

    s = screen(t, font)
    assert s.shown == "code" and s.on
    shown = s.text(16, 0, 4, 3) + s.text(16, 24, 4, 3)
    assert shown == want, (shown, want)
    assert linkcode.show(shown) == linkcode.show(want)
    serial = wire.Credential.parse(cred).serial
    assert s.text((WIDTH - 8 * len(serial)) // 2, 48, len(serial)) == serial
    assert s.text(36, 56, 7) == "at /me/"

    # the next check-in: a new token, a new code in place of the old
    assert tap(t)[0] == "ok"
    _, token2 = journaled(t)
    want2 = linkcode.code(linkcode.link_key(terminal_token(verifier, world, 0)), token2)
    s = screen(t, font)
    assert want2 != want
    assert s.text(16, 0, 4, 3) + s.text(16, 24, 4, 3) == want2


def test_a_red_tap_shows_its_reason_and_no_code(fleet, verifier, make_terminal, world, font):
    t = make_terminal(REVOKED_BADGE, verifier, port=fleet.badges[REVOKED_BADGE].port)
    assert tap(t)[0] == "revoked"
    assert t.command("state")[0] == "pending=0"
    token, _ = wire.split_sequence(bytes.fromhex(t.command("payload")[0]))
    code = linkcode.code(linkcode.link_key(terminal_token(verifier, world, REVOKED_BADGE)),
                         token)
    s = screen(t, font)
    assert s.shown == "revoked"
    assert s.text(8, 0, 7, 2) == "REFUSED"
    assert s.text(0, 20, 13) == "badge revoked"
    assert s.text(0, 56, 7) == "revoked"
    # nowhere on the screen in the code's places and size, nor in small print
    assert s.text(16, 0, 4, 3) + s.text(16, 24, 4, 3) != code
    rows = ["".join(s.text(x, y, 1) for x in range(0, WIDTH, 8)) for y in range(0, 57, 1)]
    assert not any(code[:4] in r or code[4:] in r for r in rows)


def test_a_display_that_does_not_answer_costs_the_checkin_nothing(
        fleet, verifier, make_terminal, world, font):
    t = make_terminal(0, verifier, port=fleet.badges[0].port)
    assert t.command("display fit 0") == ["ok"]         # the OLED's cable comes off
    assert tap(t)[0] == "ok", t.log[-10:]
    assert beeps(t)[-1] == ["green", "ok"]
    assert t.command("state")[0] == "pending=1"        # journaled
    faults = [ln for ln in t.log if ln.startswith("EV DISPLAY")]
    assert len(faults) == 1 and "19" in faults[0], faults   # ENODEV: nobody at 0x3C
    assert t.command("display")[0] == "idle"           # still what was drawn before the fault

    # plugged back: the next screen initialises it again and shows that tap's code
    assert t.command("display fit 1") == ["ok"]
    assert tap(t)[0] == "ok"
    _, token = journaled(t)
    s = screen(t, font)
    assert s.shown == "code" and s.on
    assert s.text(16, 0, 4, 3) + s.text(16, 24, 4, 3) == linkcode.code(
        linkcode.link_key(terminal_token(verifier, world, 0)), token)

    # no display fitted at boot: the terminal boots, checks in, logs each screen's NACK
    t.command("display fit 0")
    assert t.command("reboot") == ["ok"]
    assert tap(t)[0] == "ok"
    assert t.command("state")[0] == "pending=3"
    assert len([ln for ln in t.log if ln.startswith("EV DISPLAY")]) >= 3


def test_the_code_on_the_screen_opens_the_workers_page_once_synced(
        fleet, verifier, make_terminal, world, font):
    """End to end: the ESP32 terminal's check-in, the code read off its OLED, the worker's
    page at the real verifier: unknown until the terminal has uploaded the check-in, then
    open once, then used."""
    from tests.web.conftest import _field
    t = make_terminal(0, verifier, port=fleet.badges[0].port)
    assert tap(t)[0] == "ok", t.log[-10:]
    s = screen(t, font)
    code = s.text(16, 0, 4, 3) + s.text(16, 24, 4, 3)
    serial = s.text((WIDTH - 8 * 12) // 2, 48, 12)
    client = verifier.env.app.test_client()

    def open_page():
        csrf = _field(client.get("/me/").text, "csrf")
        return client.post("/me/", data={"serial": serial, "code": linkcode.show(code),
                                         "csrf": csrf}, headers={"Accept-Language": "en"})
    assert open_page().status_code == 404            # the terminal has not uploaded it yet
    verifier.start()
    assert t.command("sync")[1:3] == ["1", "pending=0"]
    r = open_page()
    assert r.status_code == 303 and r.headers["Location"].endswith("/me/page")
    page = client.get("/me/page", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "My check-ins, last 12 months" in page.text
    client.delete_cookie("xinka_me", path="/me/")
    assert open_page().status_code == 410             # used

"""The ESP32 terminal's verdict for what went wrong on its own side: a MemoryError while checking
an answer is "busy, tap again" (amber), not a malformed badge, and journals nothing."""
from testkit.device import load

app, feedback = load("app", "feedback", folder=("terminal", "drivers"))


class Board:
    def __init__(self):
        self.shown, self.logged = [], []

    def feedback(self, colour, pattern, zh, en, reason, extra):
        self.shown.append((colour, reason, zh, en))

    def log(self, *a):
        self.logged.append(a)


class Exhausted:
    def check(self, *a):
        raise MemoryError("memory allocation failed, allocating 4096 bytes")


class Journal:
    def append(self, *a):
        raise AssertionError("nothing may be journaled")


def test_memory_error_while_checking_is_busy_not_malformed():
    t = app.Terminal.__new__(app.Terminal)
    t.board, t.checker, t.journal, t.id = Board(), Exhausted(), Journal(), "T-A330100-01"
    t.counts = {"green": 0, "amber": 0, "red": 0}
    t.display = None                     # no screen fitted
    assert t.judge(b"\xd2\x84", 1798800000, bytes(16)) == "busy"
    assert t.board.shown == [("amber", "busy", "终端忙,请重新贴卡", "terminal busy: tap again")]
    assert t.counts == {"green": 0, "amber": 1, "red": 0}
    assert feedback.verdict("busy")[0] == "amber"

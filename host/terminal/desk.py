"""The desk terminal: challenge -> badge response -> local checks -> journal -> verdict.

`DeskTerminal.tap(clf)` is one check-in on a connected nfcpy ContactlessFrontend; the console
loop (cli.py) calls it again and again. The journal row is committed before the verdict is
returned, so an accepted check-in on the screen is always on disk.

After an accepted check-in the console shows the worker's one-time link code
(xinka/linkcode.py: from this terminal's API token and the journaled check-in token, as the
verifier recomputes it at upload) and a QR code of `<verifier>/me/?b=<serial>&c=<code>`, the
worker's own page, for their phone (`render_link`). Nothing refused shows one.
"""
import io
import logging
import os
import time
from types import SimpleNamespace
from urllib.parse import urlencode

import segno

from host import wire
from xinka import linkcode

from . import checks, link
from .errors import TerminalError

log = logging.getLogger(__name__)

ANSI = {"green": "\033[1;97;42m", "yellow": "\033[1;30;43m", "red": "\033[1;97;41m"}
RESET = "\033[0m"


class Clock:
    """Terminal time in Unix seconds: the system clock, or (simulations) a fixed start that
    runs on with the monotonic clock."""

    def __init__(self, start=None):
        self.start, self.m0 = start, time.monotonic()

    def __call__(self):
        if self.start is None:
            return int(time.time())
        return self.start + int(time.monotonic() - self.m0)


class DeskTerminal:
    def __init__(self, terminal_id, agency_id, journal, lists, clock, cooldown_s=120,
                 unknown_policy="accept", on_journal=None):
        self.terminal_id, self.agency_id = terminal_id, agency_id
        self.journal, self.lists, self.clock = journal, lists, clock
        self.cooldown_s, self.unknown_policy = cooldown_s, unknown_policy
        self.on_journal = on_journal

    def challenge(self):
        """(challenge bytes, (terminal id, time, nonce)) with a fresh 16-byte nonce."""
        t, nonce = self.clock(), os.urandom(16)
        return wire.encode_challenge(self.terminal_id, t, nonce), (self.terminal_id, t, nonce)

    def decide(self, response, challenge):
        """Local checks, then the journal; the Verdict."""
        ctx = SimpleNamespace(trust=self.lists.trust, agency_id=self.agency_id,
                              status=self.lists.status, recent=self.journal.last_accepted,
                              cooldown_s=self.cooldown_s, unknown_policy=self.unknown_policy)
        v = checks.check(response, challenge, ctx)
        journaled = v.tap is not None and v.code not in ("replayed", "wrong_terminal")
        if journaled:
            self.journal.record(v.tap, v.code, self.terminal_id, challenge[1])
            if v.accepted and self.on_journal:
                self.on_journal()
        who = (f"badge {v.tap.credential.serial} ctr {v.tap.counter}" if v.tap is not None
               else "unverified badge")
        (log.info if v.accepted else log.warning)(
            "check-in %s (%s): %s%s%s", v.code, v.colour, who,
            f", list seq {v.list_seq}" if v.list_seq is not None else "",
            "" if journaled else ", not journaled")
        return v

    def tap(self, clf, terminate=lambda: False):
        """One check-in with the next badge in the field: (Verdict, BadgeLink). TerminalError
        (no badge, link, badge error) when there was no response to check."""
        badge = link.connect(clf, terminate)
        data, ch = self.challenge()
        response = badge.checkin(data)
        return self.decide(response, ch), badge


def render(v, colour=True):
    """One line for the console."""
    who = ""
    if v.tap is not None:
        c = v.tap.credential
        who = f"  badge {c.serial} worker {c.sub} ctr {v.tap.counter}"
    seq = f"  list seq {v.list_seq} age {v.list_age_s}s" if v.list_seq is not None else ""
    text = f" {v.colour.upper():6} {v.message}{who}{seq} "
    return f"{ANSI[v.colour]}{text}{RESET}" if colour else text


def link_url(verifier_url, serial, code):
    """The worker's /me/ page with the badge number and the code filled in."""
    return f"{verifier_url.rstrip('/')}/me/?{urlencode({'b': serial, 'c': code})}"


def render_link(v, verifier_url, key, qr=True):
    """The link code of an accepted check-in (and its QR code) for the console; None for a
    verdict that journaled nothing to upload. `key`: linkcode.link_key(terminal token)."""
    if not v.accepted or v.tap is None:
        return None
    code = linkcode.code(key, v.tap.token)
    serial = v.tap.credential.serial
    url = link_url(verifier_url, serial, code)
    text = (f"  link code / 查询码: {linkcode.show(code)}   badge {serial}\n"
            f"  at / 网址: {verifier_url.rstrip('/')}/me/  (or scan / 或扫码)")
    if not qr:
        return text
    out = io.StringIO()
    segno.make_qr(url, error="m").terminal(out, compact=True)
    return text + "\n" + out.getvalue().rstrip("\n")


def render_error(err, colour=True):
    text = f" RETRY  {err} "
    return f"{ANSI['yellow']}{text}{RESET}" if colour else text


def status_line(journal, syncer, lists, clock):
    c = journal.counts()
    last = "never / 未同步"
    if syncer is not None and syncer.last_sync is not None:
        last = f"{clock() - syncer.last_sync}s ago"
    err = f"  ({syncer.last_error})" if syncer is not None and syncer.last_error else ""
    probs = "; ".join(f"{k}: {m}" for k, m in lists.problems.items())
    return (f"pending {c.get('pending', 0)} · synced {c.get('synced', 0)} · rejected "
            f"{c.get('rejected', 0)} · last sync {last}{err}" + (f"\n  ! {probs}" if probs
                                                                 else ""))


__all__ = ["DeskTerminal", "Clock", "link_url", "render", "render_error", "render_link",
           "status_line", "TerminalError"]

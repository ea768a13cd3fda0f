"""The ESP32 check-in terminal (docs/protocol.md "Check-in challenge").

One tap: InListPassiveTarget finds the badge -> challenge {terminal id, terminal time, fresh
nonce from an HMAC-DRBG} through the tag's SRAM pass-through (xinka/passthrough.py over
InCommunicateThru) -> the badge's token || credential -> local checks (checks.py: signatures,
trust list, validity; the nonce, time and terminal id must be this challenge's) -> cached status
(status.py) -> cool-down (one check-in per badge within `cooldown_s`) -> journal.append (on
flash) -> only then the green beep. Nothing red is journaled. A reader or tag fault gives its
own feedback and the next poll starts over (the PN532 is woken and configured again).

The board object (board_esp32s3.py, or hardware/sim/terminal_board.py) gives: uart, fs_root,
rtc(), ticks_ms(), rng(n), connect(host, port, timeout_s), feedback(colour, pattern, zh, en,
reason), display() (an SSD1306 driver on its I2C bus; OSError when none answers), log(*words).
Configuration is `<fs_root>/terminal.json`:
  {"id": "T-A330100-01", "authority": "<SEC1 hex of the authority key>",
   "verifier": {"host": ..., "port": ..., "token": ...}, "cooldown_s": 120,
   "capacity": 1000, "batch": 20, "lists_s": 600}
and the signed trust list `<fs_root>/trust.cose`; compact status lists under
`<fs_root>/status/<agency>/`.
"""
import gc
import hashlib
import json

import checks
import clock
import display
import feedback
import journal
import lists
import pn532
import status
import sync

from xinka import drbg, passthrough, sram, tokens, verify


class Terminal:
    def __init__(self, board):
        self.board = board
        self.root = board.fs_root
        self.pn = pn532.PN532(board.uart)
        self.reader_ok = False
        self.display = None       # display.py, from boot()
        self.last = None          # details of the last tap (for the display and the bench)
        self.counts = {"taps": 0, "green": 0, "red": 0, "amber": 0, "faults": 0}

    # --- boot ---------------------------------------------------------------------------------

    def _read(self, name):
        with open(self.root + "/" + name, "rb") as f:
            return f.read()

    def boot(self):
        b = self.board
        self.cfg = cfg = json.loads(self._read("terminal.json"))
        b.buffer("sync", cfg.get("body_bytes", 16384))   # the large blocks first
        b.buffer("sync_rx", 16384)
        self.id = cfg["id"]
        auth = bytes.fromhex(cfg["authority"])
        apub = verify.public_key(auth)
        akid = hashlib.sha256(auth).digest()[:8]
        self.trust = checks.TrustList.load(self._read("trust.cose"), apub)
        self.checker = checks.Checker(self.trust)
        self.status = status.CompactStatus(self.root + "/status", self.trust,
                                           (akid, apub)).reload()
        self.journal = journal.Journal(self.root + "/journal", cfg.get("capacity", 1000)).load()
        self.clock = clock.Clock(b, self.root + "/clock").load()
        self.cooldown = cfg.get("cooldown_s", 120)
        self._seen = {}
        if self.cooldown:
            self._seen = self.journal.recent(self.clock.now() - self.cooldown)
        # DRBG: fresh board entropy + the seed left by the previous boot + the terminal id
        try:
            seed = self._read("seed")
        except OSError:
            seed = b""
        self.drbg = drbg.HmacDrbg(b.rng(32), seed, self.id.encode())
        with open(self.root + "/seed", "wb") as f:
            f.write(self.drbg.generate(32))
        self.sync = sync.Sync(b, self.journal, self.clock, cfg, self.drbg.generate, b.log)
        self.lists = lists.ListUpdate(b, self.status, cfg, b.log)
        self.display = display.Display(b, cfg["verifier"].get("token"))
        self.display.idle()
        b.log("BOOT", self.id, "pending=%d" % self.journal.pending(),
              "damaged=%d" % self.journal.damaged, "trust_seq=%d" % self.trust.seq)
        return self

    def _reader(self):
        if not self.reader_ok:
            self.pn.wakeup()
            self.pn.set_max_retries(1)
            self.pn.set_rf_timeout(0x0A)
            self.reader_ok = True

    # --- one poll -----------------------------------------------------------------------------

    def _say(self, reason, extra="", checked=None):
        colour, pattern, zh, en = feedback.verdict(reason)
        self.counts[colour if colour in self.counts else "red"] += 1
        self.board.feedback(colour, pattern, zh, en, reason, extra)
        # the screen after the beep: a display fault never holds up or undoes a check-in
        if self.display is None:
            pass
        elif checked is not None:
            self.display.checked_in(checked.token, checked.cred.serial[1:].hex().upper())
        else:
            self.display.refused(colour, en, reason)
        return reason

    def poll(self):
        """Look for a badge once; if one is there, run the check-in. Returns the verdict
        reason, or None when no badge answered."""
        t0 = self.board.ticks_ms()
        try:
            self._reader()
            tgt = self.pn.list_passive_target()
        except pn532.PN532Error as err:
            self.reader_ok = False
            self.counts["faults"] += 1
            self.board.log("READER", err.reason, str(err))
            return self._say("reader_fault", err.reason)
        if tgt is None:
            return None
        self.counts["taps"] += 1
        try:
            return self._tap(tgt, t0)
        finally:
            try:
                self.pn.release()
                self.pn.command(pn532.CMD_RF_CONFIGURATION, b"\x01\x00")   # field off
            except pn532.PN532Error:
                self.reader_ok = False

    def _exchange(self, frame, timeout_ms):
        return self.pn.thru(frame, timeout_ms + 50)

    def _tap(self, tgt, t0):
        b = self.board
        nonce = self.drbg.generate(16, b.rng(16))
        now = self.clock.now()
        ch = tokens.challenge(self.id, now, nonce)
        b.log("CHALLENGE", nonce.hex(), now)
        pt = passthrough.PassThrough(self._exchange)
        uart0 = self.pn.stats["bytes_out"] + self.pn.stats["bytes_in"]
        try:
            payload = pt.checkin(ch)
        except sram.SramError as err:         # BadgeRefused, or the exchange failed
            self.board.log("TAG", err.reason, str(err))
            return self._say("badge_refused" if err.reason == "badge_refused" else "tag_lost",
                             err.reason)
        except pn532.PN532StatusError as err:
            self.board.log("TAG", err.reason, str(err))
            return self._say("tag_lost", err.reason)
        except pn532.PN532Error as err:
            self.reader_ok = False
            self.counts["faults"] += 1
            self.board.log("READER", err.reason, str(err))
            return self._say("reader_fault", err.reason)
        self.last_payload = payload
        self.last = {"frames": pt.frames, "uart_bytes": self.pn.stats["bytes_out"] +
                     self.pn.stats["bytes_in"] - uart0, "rf_ms": b.ticks_ms() - t0}
        return self.judge(payload, now, nonce, t0)

    def judge(self, payload, now, nonce, t0=None):
        """Verdict for a badge response to the challenge (self.id, now, nonce)."""
        b = self.board
        try:
            c = self.checker.check(payload, self.id, now, nonce, now)
        except checks.Refused as err:
            b.log("REFUSED", err.reason, str(err))
            return self._say(err.reason)
        except MemoryError:
            # the terminal's fault, not the badge's: nothing journaled, the worker taps again
            gc.collect()
            b.log("REFUSED", "busy", "MemoryError")
            return self._say("busy")
        except Exception as err:          # anything else from parsing is malformed
            b.log("REFUSED", "malformed", repr(err))
            return self._say("malformed")
        st, why = self.status.status(c.cred)
        if st == 1 or st == 3:
            return self._say("revoked")
        if st == 2:
            return self._say("suspended")
        last = self._seen.get(c.cred.kid)
        if last is not None and self.cooldown and now - last < self.cooldown:
            return self._say("duplicate")
        try:
            seq = self.journal.append(c.cred.kid, now, self.id, nonce, c.token, c.cred_bytes)
        except journal.JournalFull:
            return self._say("journal_full")
        except journal.JournalError as err:
            b.log("JOURNAL", err.reason, str(err))
            return self._say("flash_error")
        self._seen[c.cred.kid] = now
        if t0 is not None and self.last is not None:
            self.last["verdict_ms"] = b.ticks_ms() - t0
        b.log("JOURNALED", seq, nonce.hex(), c.ctr)
        return self._say("ok" if st == 0 else "ok_status_unknown",
                         "seq=%d %s" % (seq, nonce.hex()) + ("" if st == 0 else " " + str(why)),
                         c)

    # --- main loop ----------------------------------------------------------------------------

    def step(self):
        """One poll, then a sync batch when one is due, then the list update when due."""
        v = self.poll()
        if self.display is not None:
            self.display.tick()
        if self.sync.due():
            self.sync.run_once()
        elif self.lists.due():
            self.lists.run_once()
        return v

    def run(self, until=None, idle_ms=100):
        last_uid_ms = None
        while until is None or not until():
            v = self.step()
            if v is not None:
                last_uid_ms = self.board.ticks_ms()
                self.board.sleep_ms(1500)      # the badge is still there: let it go first
            elif last_uid_ms is None:
                self.board.sleep_ms(idle_ms)
            else:
                last_uid_ms = None

"""The badge loop: keeps a fresh one-time token on the NT3H2111 tag, answers terminal challenges.

Board-independent: everything physical comes from a `board` object (board_esp32c3.py on the
badge, hardware/sim/badge_board.py in the simulator) providing
  i2c, tag_addr          the I2C bus (machine.I2C-like) and the tag's address
  fd()                   FD pin level: 0 = pulled low = an RF field is present
  fd_edges()             number of FD falling edges so far (a field that went and came back
                         between two looks at the pin is a new field)
  take_button()          True once per button press since the last call
  show(name)             play an LED pattern of leds.PATTERNS
  sleep(ms)              sleep until the FD pin changes, the button is pressed, or ms pass
  rng(n)                 n bytes from the board's RNG (mixed with flash state before use)
  battery_mv()           battery voltage, or None
  ticks_ms(), fs_root    a millisecond clock; where the littlefs holding the state is mounted

Behaviour (docs/protocol.md, docs/architecture.md):
- The tag always holds one token: `status`, or for CONSENT_MS = 60 s after a button press a
  `consent` token with the configured scope (blob "scope", default all bits 0x3F). Consent ends
  at its first read or after 60 s, whichever comes first; then a fresh `status` token.
- A token counts as read when NS_REG.NDEF_DATA_READ rises (the reader read LAST_NDEF_BLOCK);
  the new token is written once the field has been gone for SETTLE_MS. While a reader has the
  tag selected the RF side holds the memory (data sheet §11.1: RF_LOCKED, I2C memory access
  NACKed), but a reader may drop its field and select the tag again in the middle of a read (a
  phone recovering from a transmission error, or one that lost the answer to the READ of the
  last block, which set NDEF_DATA_READ all the same) and go on from the TLV header it already
  has: a rewrite in that gap would give it the old header with new blocks. Any rewrite (after a
  read, a button press, consent ending) therefore waits until no field has been seen for
  SETTLE_MS (tests/badge/test_torn_read.py). Counter +1 is durable before signing
  (BadgeState.next_counter), the nonce is durably spent before its signature exists
  (BadgeState.sign).
- Tag image: tap_tlv_into a preallocated buffer; the first user block is written as an empty
  NDEF TLV first and with the real TLV header last, so a reader that selects the tag during a
  rewrite (once the I2C lock's watchdog has run out) sees an empty message, never a mix. A
  NACK (the RF side took the memory) leaves that empty message; the whole image is written
  again once the field has been gone for SETTLE_MS.
- Check-in: the terminal's challenge arrives through SRAM pass-through (NFC -> I2C), framed in
  64-byte windows (docs/protocol.md "Check-in challenge"; the framing is xinka/sram.py's: its
  Assembler checks and collects the challenge windows, fill() writes each answer window); the
  badge signs a `checkin` token and answers token || credential in windows the other way
  (I2C -> NFC). A bad frame or challenge gets an error window and the refused LED; nothing is
  signed and the state is not touched.
- While idle the nonce pool is refilled, POOL_BATCH entries per loop pass when fewer than
  POOL_LOW are left; then the badge sleeps until FD, the button or the consent deadline.
"""
import leds
import nt3h2111
from state import BadgeState, StateError

from xinka import drbg, ecdsa, ndef, sram, tokens
from xinka.compat import const, ticks_add, ticks_diff, ticks_ms

CONSENT_MS = const(60000)
SCOPE_ALL = const(0x3F)
POLL_MS = const(2)              # NS_REG poll interval while a field is present
SETTLE_MS = const(150)          # no field for this long before the tag is rewritten
IDLE_MS = const(600000)         # longest sleep without an event
WINDOW_MS = const(1500)         # how long a response window waits for the reader
POOL_LOW = const(8)
POOL_BATCH = const(4)

class Badge:
    """One badge on `board`; state in <fs_root>/badge."""

    def __init__(self, board, consent_ms=CONSENT_MS, log=None):
        self.board = board
        self.log = log or (lambda *a: None)
        self.consent_ms = consent_ms
        self.tag = nt3h2111.NT3H2111(board.i2c, board.tag_addr)
        self.state = BadgeState(board.fs_root.rstrip("/") + "/badge")
        self.image = bytearray(nt3h2111.USER_BYTES)
        self.empty = bytearray(16)
        self.empty[0] = 0x03
        self.empty[2] = 0xFE
        self.sram = bytearray(sram.WINDOW)
        self.req = sram.Assembler((sram.K_CHALLENGE,))  # the challenge being put together
        self.key = self.kid = self.credential = self.host = self.rng = None
        self.scope = SCOPE_ALL
        self.mode = tokens.PURPOSE_STATUS
        self.consent_until = 0
        self.dirty = True               # a new token is due
        self.pending = 0                # length of a built image not yet on the tag
        self.read_seen = False
        self.in_field = False
        self.field_left = None          # ticks_ms when the last field was seen to go
        self.pt_on = False
        self.edges = 0
        self.on_tag = None              # (purpose, counter) of the token on the tag
        self.stats = {"tokens": 0, "checkins": 0, "refused": 0, "reads": 0, "refills": 0,
                      "tag_retries": 0, "sleeps": 0}

    # --- boot ---------------------------------------------------------------------------------

    def boot(self):
        st = self.state.load()
        d, cred, host = st.get("key"), st.get("credential"), st.get("host")
        scope = st.get("scope")
        try:
            self.tag.configure()
        except nt3h2111.NT3H2111Error:
            pass
        if not (d and cred and host):
            self.log("UNPROVISIONED")
            self.board.show("unprovisioned")
            self._write_empty()
            return self
        self.key = ecdsa.Key(int.from_bytes(d, "big"))
        self.kid = self.key.kid()
        self.credential = cred
        self.host = host
        if scope:
            self.scope = int.from_bytes(scope, "big")
        b = self.board
        self.rng = drbg.HmacDrbg(b.rng(32) + st.seed(b.rng(16)),
                                 personalization=b"xinka badge nonces")
        if st.pool_available() < POOL_LOW:
            self._refill()
        self.dirty = True
        return self

    def _write_empty(self):
        try:
            self.tag.write_block(1, self.empty)
            self.tag.release()
        except nt3h2111.NT3H2111Error:
            pass

    # --- the loop -----------------------------------------------------------------------------

    def run(self, until=None):
        while until is None or not until():
            self.step()

    def step(self):
        b = self.board
        if b.fd() == 0:
            e = b.fd_edges()
            if e != self.edges:
                self.edges = e
                if self.in_field:
                    self._field_gone()
            self._field()
            b.sleep(POLL_MS)
            return
        e = b.fd_edges()
        if e != self.edges:             # a field came and went while we looked elsewhere
            self.edges = e
            self.in_field = True
        if self.in_field:
            self._field_gone()
        if not self.key:
            b.take_button()
            self._sleep(IDLE_MS)
            return
        now = ticks_ms()
        if b.take_button():
            self.mode = tokens.PURPOSE_CONSENT
            self.consent_until = ticks_add(now, self.consent_ms)
            self.dirty = True
            self.log("BUTTON")
        elif (self.mode == tokens.PURPOSE_CONSENT
              and ticks_diff(now, self.consent_until) >= 0):
            self.mode = tokens.PURPOSE_STATUS
            self.dirty = True
        settle = self._settling(now)
        if self.dirty or self.pending:
            if settle:
                if self.state.pool_available() < POOL_LOW:
                    # waiting for the field to stay away is idle time: taps in a row leave no
                    # other, and an empty pool would make the next check-in sign from scratch;
                    # one entry per pass keeps the rewrite at most one signature late
                    self._refill(1)
                    return
                b.sleep(settle)         # wakes early if a field comes back
                return
            self._rewrite()
            return
        if self.state.pool_available() < POOL_LOW:
            self._refill()
            return
        ms = IDLE_MS
        if self.mode == tokens.PURPOSE_CONSENT:
            ms = max(1, ticks_diff(self.consent_until, now))
        self._sleep(ms)

    def _sleep(self, ms):
        self.stats["sleeps"] += 1
        self.board.sleep(ms)
        self._battery()

    def _battery(self):
        # measured at each wake and after each token written: a tap is when the worker looks
        mv = self.board.battery_mv()
        if mv is not None and mv < leds.LOW_BATTERY_MV:
            self.board.show("low_battery")

    def _ns(self):
        ns = self.tag.status()
        if ns & sram.NDEF_DATA_READ:
            self.read_seen = True
        return ns

    def _field(self):
        if not self.in_field:
            self.in_field = True
            self.pt_on = False
            self.req.reset()
        try:
            if self.key and (not self.pt_on or self.tag.read_reg(nt3h2111.NC_REG)
                             & sram.PT_NFC_TO_I2C != sram.PT_NFC_TO_I2C):
                self.tag.pass_through(True, True)   # the chip drops it whenever the field goes
                self.pt_on = True
            ns = self._ns()
            if ns & sram.SRAM_I2C_READY:
                self._sram_in()
        except nt3h2111.NT3H2111Error as err:
            self.log("TAGERR", err.reason)

    def _settling(self, now):
        # ms left until the field has been gone for SETTLE_MS; 0 when it has (or never came)
        if self.field_left is None:
            return 0
        left = SETTLE_MS - ticks_diff(now, self.field_left)
        if left <= 0 or left > SETTLE_MS:
            self.field_left = None
            return 0
        return left

    def _field_gone(self):
        self.in_field = False
        self.field_left = ticks_ms()
        self.pt_on = False
        self.req.reset()
        try:
            self._ns()
        except nt3h2111.NT3H2111Error:
            pass
        if self.read_seen:
            self.read_seen = False
            self.stats["reads"] += 1
            self.log("READ", self.on_tag[0] if self.on_tag else 0,
                     self.on_tag[1] if self.on_tag else 0)
            if self.key:
                self.mode = tokens.PURPOSE_STATUS     # consent: one view
                self.dirty = True
                self.board.show("ok")

    # --- tokens on the tag --------------------------------------------------------------------

    def _sign(self, digest):
        return self.state.sign(self.key, digest)

    def _next(self):
        # counter +1, durable; a pool entry is reserved for the signature that follows
        if self.state.pool_available() < 1:
            self._refill(1)
        return self.state.next_counter()

    def _rewrite(self):
        try:
            if self.dirty:
                ctr = self._next()
                if self.mode == tokens.PURPOSE_CONSENT:
                    claims = tokens.consent_claims(ctr, self.scope)
                else:
                    claims = tokens.status_claims(ctr)
                token = tokens.tap_token(claims, self.kid, self._sign)
                self.pending = ndef.tap_tlv_into(self.image, self.host, token, self.credential)
                self.dirty = False
                self.next_on_tag = (self.mode, ctr)
                self.stats["tokens"] += 1
                if self.mode == tokens.PURPOSE_CONSENT:
                    self.board.show("consent")
            b = self.board
            if b.fd() == 0 or b.fd_edges() != self.edges:
                return                  # a reader came while we signed: wait until it is gone
            self.put_image(self.pending)
            self.pending = 0
            self.on_tag = self.next_on_tag
            self.log("TOKEN", self.on_tag[0], self.on_tag[1])
            self._battery()
        except nt3h2111.NT3H2111Error as err:
            self.stats["tag_retries"] += 1      # RF side holds the tag: retry after the field
            self.log("TAGERR", err.reason)
            self.board.sleep(POLL_MS)
        except StateError as err:
            self.log("STATEERR", err.reason)
            self.board.show("error")
            self.board.sleep(1000)

    def put_image(self, n):
        """Write image[:n] to user memory: empty TLV in block 1 first, its real header last."""
        tag = self.tag
        tag.write_user_memory(0, self.image, n, self.empty)
        tag.write_block(1, self.image)
        tag.set_last_ndef_block(1 + (n - 2) // 16)
        tag.release()

    def _refill(self, n=POOL_BATCH):
        if self.rng is None:            # not provisioned: no key to precompute nonces for
            return
        try:
            self.stats["refills"] += self.state.refill(self.key, self.rng.generate, n)
        except StateError as err:
            self.log("STATEERR", err.reason)

    # --- check-in through SRAM pass-through ---------------------------------------------------

    def _sram_in(self):
        # one window of the challenge; the framing rules are sram.Assembler's
        s = self.sram
        self.tag.read_sram(s)
        try:
            if not self.req.add(s):
                return
        except sram.FrameError as err:
            if err.reason == "too_long":
                self._refuse(sram.ERR_CHALLENGE, "challenge")
            else:
                self._refuse(sram.ERR_FRAME, "frame")
            return
        self._checkin(self.req.message()[1])

    def _checkin(self, data):
        if not self.key:
            self._refuse(sram.ERR_UNPROVISIONED, "unprovisioned")
            return
        try:
            tid, t, nonce = tokens.parse_challenge(data)
        except tokens.BadChallenge:
            self._refuse(sram.ERR_CHALLENGE, "challenge")
            return
        try:
            ctr = self._next()
            token = tokens.tap_token(tokens.checkin_claims(ctr, tid, t, nonce), self.kid,
                                     self._sign)
        except StateError as err:
            self._refuse(sram.ERR_NO_NONCE if err.reason == "pool_empty" else sram.ERR_INTERNAL,
                         err.reason)
            return
        self.stats["tokens"] += 1
        # the status token on the tag now has a lower counter than this check-in: a phone
        # reading it would be refused as a replay, so a fresh one is due once the field is gone
        self.dirty = True
        ok = self._send(sram.K_RESPONSE, token, self.credential)
        self.log("CHECKIN", ctr, 1 if ok else 0)
        if ok:
            self.stats["checkins"] += 1
            self.board.show("ok")

    def _refuse(self, code, why):
        self.req.reset()
        self.stats["refused"] += 1
        self.log("REFUSED", why)
        self.board.show("refused")
        self._send(sram.K_ERROR, bytes((code,)), b"")

    def _send(self, kind, a, b):
        """a || b to the reader in windows; False if the reader left or stopped reading."""
        tag = self.tag
        s = self.sram
        cnt = sram.count(len(a) + len(b))
        ok = False
        try:
            tag.pass_through(True, False)
            pos = 0
            for idx in range(cnt):
                pos += sram.fill(s, kind, idx, cnt, a, b, pos)
                tag.write_sram(s)
                if not self._wait_taken():
                    break
            else:
                ok = True
            if self.board.fd() == 0:
                tag.pass_through(True, True)
        except nt3h2111.NT3H2111Error as err:
            self.log("TAGERR", err.reason)
        self.pt_on = ok
        return ok

    def _wait_taken(self):
        # until the reader has read the window (SRAM_RF_READY falls), it leaves, or WINDOW_MS
        t0 = ticks_ms()
        while True:
            if not self._ns() & sram.SRAM_RF_READY:
                return True
            if self.board.fd() != 0 or ticks_diff(ticks_ms(), t0) > WINDOW_MS:
                return False
            self.board.sleep(POLL_MS)


def main(board, **kw):
    """Boot and run forever (the board module's entry point calls this)."""
    Badge(board, **kw).boot().run()

"""A tag model's RF side on UDP in the format of nfcpy's `udp` driver (nfc/clf/udp.py, 1.0.4).

Each datagram is ASCII: "<brty> <hex>" (e.g. "106A 26", no CRC) or "RFOFF". The reader
(nfcpy's ContactlessFrontend('udp:HOST:PORT')) sends from an ephemeral port; the tag answers to
that address in the same format and stays silent where the tag would. Only "106A" frames are
for a Type 2 tag; anything else is ignored. A reader may number its commands in a third field
("106A 30ec #17"; see below). The field is modelled as:
- on: the first 106A frame from a reader;
- off: "RFOFF" (nfcpy's Device.mute(), sent before every new sense and on close), a frame from
  another reader (its field replaces the old one), or no frame for field_timeout_ms (a reader
  that vanished).

Answers and time. A real tag answers within the frame delay time or not at all (NT3H2111 data
sheet §10.8, READ: T_TimeOut 5 ms), so a reader never takes an answer for the wrong command. A
UDP answer can arrive late, and the udp driver has no sequence numbers: nfcpy waits 5 ms for a
READ, sends it again, and takes whatever datagram comes next as the answer. An answer to the
first copy that arrives during the wait for the second is taken for it; a second answer, to the
second copy, would then be taken for the *next* READ: one 16-byte block of the NDEF message in
the wrong place, a torn URL. So the server sends only answers the reader can still be waiting
for, at most one per command:
- frames are given to the model in arrival order; a copy of the frame just before it (a reader
  repeating a command it has had no answer to yet) is the same command and is not run again;
- only a reader's newest command is answered: just before an answer goes out the socket is
  looked at again, and an answer that a newer frame from the same reader has overtaken is
  dropped (the reader gave up on it);
- a numbered command is answered once, whatever the timing: a copy with the same number, before
  or after its answer went out, is neither run nor answered again (the one answer is the
  copy's: a reader takes the first datagram that comes), and a frame with a new number is a new
  command, even the same page polled again. Simulated readers number their frames
  (hardware/pn532/rf.py, hardware/sim/reader.py), so what they read never depends on
  scheduling;
- nfcpy's own driver does not number, and a repeat that crossed its answer looks the same as a
  reader polling the same page: a frame equal to the command answered last is held
  repeat_hold_ms and run and answered only if the reader sends nothing else meanwhile. A
  reader that took the earlier answer for it has moved on by then, unless it was descheduled
  for longer than that: with nfcpy's own driver a torn read is unlikely, not impossible.
Each dropped answer is a reply the reader timed out on, as a reply lost in the field would be.
Where the model stays silent on a frame, the server sends "SILENT 00": a simulated reader in
another process (hardware/pn532/rf.py) waits for an answer or that word instead of taking the
chip's timeout for how long this process takes to be scheduled; nfcpy ignores it (another bit
rate) and keeps its own timeouts.

Runs under MicroPython (unix port: socket, select.poll) and CPython. In a MicroPython loop:
    srv = RFServer(model, port)
    while True:
        srv.step(0)          # or poll srv.sock yourself, at most srv.wait_ms(...) long
        ...the badge loop...
nfcpy's READ waits 5 ms for an answer, so step() must run at least that often while a reader is
there. serve() is the same loop without anything else in it.
"""
import binascii
import select
import socket

from xinka.compat import ticks_diff, ticks_ms

BRTY = b"106A"
SILENT = b"SILENT 00"            # the tag stayed silent on the frame just received
_MAX_BATCH = 64
REPEAT_HOLD_MS = 3


class RFServer:
    """Serve one tag model (rf_field(on), rf_exchange(frame)) on a UDP port."""

    def __init__(self, model, port=0, host="127.0.0.1", field_timeout_ms=1000, lock=None,
                 repeat_hold_ms=REPEAT_HOLD_MS):
        self.model = model
        self.field_timeout_ms = field_timeout_ms
        self.repeat_hold_ms = repeat_hold_ms
        self.lock = lock
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(socket.getaddrinfo(host, port)[0][-1])
        self.sock.setblocking(False)
        self.port = port
        if not port and hasattr(self.sock, "getsockname"):
            self.port = self.sock.getsockname()[1]
        self._poll = select.poll()
        self._poll.register(self.sock, select.POLLIN)
        self._peer = None
        self._last = 0
        self._pending = None            # ((frame, number), answer): run, not yet sent
        self._answered = None           # the command answered last (current field)
        self._held = None               # (command, first seen): a repeat of _answered
        self.stats = {"datagrams": 0, "frames": 0, "answers": 0, "dropped": 0, "garbage": 0,
                      "rfoff": 0, "timeouts": 0, "repeats": 0, "held": 0, "silent": 0}

    def close(self):
        if self.sock is not None:
            self._field_off()
            self._poll.unregister(self.sock)
            self.sock.close()
            self.sock = None

    def wait_ms(self, timeout_ms):
        """timeout_ms, or less when a held frame falls due sooner: how long a caller that polls
        the socket itself may wait before calling step(0)."""
        if self._held is None:
            return timeout_ms
        left = max(0, self.repeat_hold_ms - ticks_diff(ticks_ms(), self._held[1]))
        return left if timeout_ms < 0 else min(timeout_ms, left)

    def step(self, timeout_ms=0):
        """Handle what has arrived, waiting up to timeout_ms for it; returns datagrams handled."""
        n = 0
        ready = self._poll.poll(self.wait_ms(timeout_ms))
        for _ in range(_MAX_BATCH):
            if ready:
                n += self._drain()
            elif self._pending is not None:
                self._send()
            elif self._held is not None and self.wait_ms(1) == 0:
                frame = self._held[0]
                self._held = None
                self._run(frame)
            else:
                break
            ready = self._poll.poll(0)
        if (self._peer is not None and
                ticks_diff(ticks_ms(), self._last) > self.field_timeout_ms):
            self.stats["timeouts"] += 1
            self._field_off()
        return n

    def _drain(self):
        n = errors = 0
        while n < _MAX_BATCH and errors < _MAX_BATCH:
            try:
                data, addr = self.sock.recvfrom(1024)
            except OSError as e:
                if e.args and e.args[0] in (11, 35):    # EAGAIN / EWOULDBLOCK: drained
                    break
                errors += 1                              # e.g. ECONNREFUSED from an old reader
                continue
            if not isinstance(addr, tuple):
                addr = bytes(addr)
            n += 1
            self._datagram(data, addr)
        return n

    def _datagram(self, data, addr):
        self.stats["datagrams"] += 1
        if data.startswith(b"RFOFF"):
            if self._peer is not None and addr == self._peer:
                self.stats["rfoff"] += 1
                self._field_off()
            return
        parts = data.split()
        if (len(parts) not in (2, 3) or parts[0] != BRTY or
                (len(parts) == 3 and not parts[2].startswith(b"#"))):
            self.stats["garbage"] += 1
            return
        try:
            frame = binascii.unhexlify(parts[1])
        except ValueError:
            self.stats["garbage"] += 1
            return
        if self._peer is not None and addr != self._peer:
            self._field_off()                       # another reader: a new field
        if self._peer is None:
            self._peer = addr
            self._call(True, None)
        command = (frame, parts[2] if len(parts) == 3 else None)
        self._last = ticks_ms()
        self.stats["frames"] += 1
        p = self._pending
        if p is not None and command == p[0]:
            self.stats["repeats"] += 1              # the same command, still unanswered
            return
        if p is not None:
            self.stats["dropped"] += 1              # overtaken: the reader gave up on it
            self._pending = None
        if command == self._answered:
            if command[1] is not None:
                self.stats["repeats"] += 1          # a numbered copy: its answer is out
            elif self._held is None:
                self.stats["held"] += 1
                self._held = (command, ticks_ms())
            else:
                self.stats["repeats"] += 1
            return
        self._held = None
        self._run(command)

    def _run(self, command):
        self._answered = None
        rsp = self._call(None, command[0])
        if rsp is not None:
            self._pending = (command, rsp)
        else:
            self._silent()

    def _silent(self):
        # where the tag stays silent, say so: a reader in another process then knows it was
        # silence, not this process not having run yet (nfcpy ignores a datagram of another
        # bit rate, and waits out its own timeout as before)
        try:
            self.sock.sendto(SILENT, self._peer)
            self.stats["silent"] += 1
        except OSError:
            pass

    def _send(self):
        command, rsp = self._pending
        self._pending = None
        self._answered = command
        try:
            self.sock.sendto(BRTY + b" " + binascii.hexlify(rsp), self._peer)
            self.stats["answers"] += 1
        except OSError:
            pass

    def _field_off(self):
        self._pending = self._held = self._answered = None
        if self._peer is not None:
            self._peer = None
            self._call(False, None)

    def _call(self, field, frame):
        if self.lock is None:
            return self._model(field, frame)
        with self.lock:
            return self._model(field, frame)

    def _model(self, field, frame):
        if frame is None:
            self.model.rf_field(field)
            return None
        return self.model.rf_exchange(frame)


def serve(model, port, host="127.0.0.1", poll_ms=10, until=None, field_timeout_ms=1000,
          lock=None, on_ready=None):
    """Serve model on host:port until until() is true (forever when None); returns the server
    (closed) with its stats. on_ready(server) is called once the socket is bound."""
    srv = RFServer(model, port, host, field_timeout_ms, lock)
    try:
        if on_ready is not None:
            on_ready(srv)
        while until is None or not until():
            srv.step(poll_ms)
    finally:
        srv.close()
    return srv

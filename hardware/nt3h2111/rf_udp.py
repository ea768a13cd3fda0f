"""A tag model's RF side on UDP in the format of nfcpy's `udp` driver (nfc/clf/udp.py, 1.0.4).

Each datagram is ASCII: "<brty> <hex>" (e.g. "106A 26", no CRC) or "RFOFF". The reader
(nfcpy's ContactlessFrontend('udp:HOST:PORT')) sends from an ephemeral port; the tag answers to
that address in the same format and stays silent where the tag would. Only "106A" frames are
for a Type 2 tag; anything else is ignored. The field is modelled as:
- on: the first 106A frame from a reader;
- off: "RFOFF" (nfcpy's Device.mute(), sent before every new sense and on close), a frame from
  another reader (its field replaces the old one), or no frame for field_timeout_ms (a reader
  that vanished).
If the loop falls behind and several frames wait, all are given to the model in order but only
the newest one of each reader is answered: the reader has given up on the older ones, and a late
answer would be taken for the answer to its next command.

Runs under MicroPython (unix port: socket, select.poll) and CPython. In a MicroPython loop:
    srv = RFServer(model, port)
    while True:
        srv.step(0)          # or poll srv.sock yourself and call step(0) when it is readable
        ...the badge loop...
nfcpy's READ waits 5 ms for an answer, so step() must run at least that often while a reader is
there. serve() is the same loop without anything else in it.
"""
import binascii
import select
import socket

try:
    from time import ticks_ms, ticks_diff
except ImportError:
    import time as _time

    def ticks_ms():
        return int(_time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b

BRTY = b"106A"
_MAX_BATCH = 64


class RFServer:
    """Serve one tag model (rf_field(on), rf_exchange(frame)) on a UDP port."""

    def __init__(self, model, port=0, host="127.0.0.1", field_timeout_ms=1000, lock=None):
        self.model = model
        self.field_timeout_ms = field_timeout_ms
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
        self.stats = {"datagrams": 0, "frames": 0, "answers": 0, "dropped": 0, "garbage": 0,
                      "rfoff": 0, "timeouts": 0}

    def close(self):
        if self.sock is not None:
            self._field_off()
            self._poll.unregister(self.sock)
            self.sock.close()
            self.sock = None

    def step(self, timeout_ms=0):
        """Handle what has arrived, waiting up to timeout_ms for it; returns datagrams handled."""
        batch = []
        errors = 0
        if self._poll.poll(timeout_ms):
            while len(batch) < _MAX_BATCH and errors < _MAX_BATCH:
                try:
                    data, addr = self.sock.recvfrom(1024)
                except OSError as e:
                    if e.args and e.args[0] in (11, 35):    # EAGAIN / EWOULDBLOCK: drained
                        break
                    errors += 1                          # e.g. ECONNREFUSED from an old reader
                    continue
                if not isinstance(addr, tuple):
                    addr = bytes(addr)
                batch.append((data, addr))
        last = {}
        for i in range(len(batch)):
            if not batch[i][0].startswith(b"RFOFF"):
                last[batch[i][1]] = i
        for i in range(len(batch)):
            data, addr = batch[i]
            rsp = self._datagram(data, addr)
            if rsp is None:
                continue
            if last.get(addr) != i:
                self.stats["dropped"] += 1
                continue
            try:
                self.sock.sendto(BRTY + b" " + binascii.hexlify(rsp), addr)
                self.stats["answers"] += 1
            except OSError:
                pass
        if (self._peer is not None and
                ticks_diff(ticks_ms(), self._last) > self.field_timeout_ms):
            self.stats["timeouts"] += 1
            self._field_off()
        return len(batch)

    def _datagram(self, data, addr):
        self.stats["datagrams"] += 1
        if data.startswith(b"RFOFF"):
            if self._peer is not None and addr == self._peer:
                self.stats["rfoff"] += 1
                self._field_off()
            return None
        parts = data.split()
        if len(parts) != 2 or parts[0] != BRTY:
            self.stats["garbage"] += 1
            return None
        try:
            frame = binascii.unhexlify(parts[1])
        except ValueError:
            self.stats["garbage"] += 1
            return None
        if self._peer is not None and addr != self._peer:
            self._field_off()                       # another reader: a new field
        if self._peer is None:
            self._peer = addr
            self._call(True, None)
        self._last = ticks_ms()
        self.stats["frames"] += 1
        return self._call(None, frame)

    def _field_off(self):
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

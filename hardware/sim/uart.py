"""A machine.UART-like object for simulated devices: write(buf), read(n), any(), readinto().

SimUART(peer) connects the firmware's UART to a chip model in the same process (the PN532
model: peer.receive(bytes) for the TX line, peer.out for the RX line). read() never blocks: the
model has answered by the time write() returns, so the driver's own timeouts (ticks_ms) decide
how long to wait for bytes that never come, as with machine.UART(timeout=0). Counts the bytes
both ways (at 115200 baud 8N1 a byte is 10 bit times: line_ms()). cut_after(n) raises
flash.PowerCut once n more bytes have crossed: a power cut in the middle of a UART exchange
(hardware/sim/terminal_board.py). Runs under MicroPython and CPython.
"""


class SimUART:
    def __init__(self, peer, baudrate=115200):
        self.peer = peer
        self.baudrate = baudrate
        self.tx = 0
        self.rx = 0
        self._cut = -1

    def cut_after(self, n):
        self._cut = n

    def _spend(self, n):
        if self._cut >= 0:
            self._cut -= n
            if self._cut < 0:
                from flash import PowerCut
                raise PowerCut("power cut on the UART")

    def write(self, buf):
        b = bytes(buf)
        self._spend(len(b))
        self.tx += len(b)
        self.peer.receive(b)
        return len(b)

    def any(self):
        return len(self.peer.out)

    def read(self, n=-1):
        out = self.peer.out
        if not out:
            return None
        if n < 0 or n >= len(out):
            n = len(out)
        self._spend(n)
        b = bytes(out[:n])
        self.peer.out = out[n:]
        self.rx += n
        return b

    def readinto(self, buf):
        b = self.read(len(buf))
        if not b:
            return None
        buf[:len(b)] = b
        return len(b)

    def line_ms(self):
        """Time the bytes so far would take on a real line (10 bit times each)."""
        return (self.tx + self.rx) * 10 * 1000 // self.baudrate

"""A simulated I2C bus with the machine.I2C methods a driver uses (MicroPython docs, machine.I2C).

Devices are chip models with i2c_write(data) / i2c_read(n) for one transaction after the address
byte; a device refuses with an exception whose `address` attribute says where the NACK fell
(True: the address byte, i.e. nobody answered). As on MicroPython, a missing or unpowered
device raises OSError(ENODEV); a NACK on a data byte raises OSError(nack_errno), EIO by default.
(The ESP32 port reports every NACK as ENODEV: pass nack_errno=19 to mimic it.)
Runs under MicroPython and CPython; `lock` (any context manager) serialises access when another
thread drives a device's RF side.
"""
from xinka.compat import const

ENODEV = const(19)
EIO = const(5)


def _oserror(code):
    # errno set on CPython as well (OSError(code) alone leaves .errno None there)
    return OSError(code, "ENODEV" if code == ENODEV else "EIO" if code == EIO else "I2C")


class SimI2C:
    def __init__(self, nack_errno=EIO, freq=400000, lock=None):
        self.nack_errno = nack_errno
        self.freq = freq
        self.lock = lock
        self.transactions = 0
        self.trace = None              # set to a list to record (op, addr, bytes) tuples
        self._devices = []

    def attach(self, device, addr=None):
        """Put device on the bus at addr, or at device.i2c_addr read on every transaction."""
        self._devices.append((addr, device))
        return device

    def detach(self, device):
        self._devices = [d for d in self._devices if d[1] is not device]

    def _find(self, addr):
        for a, dev in self._devices:
            if (dev.i2c_addr if a is None else a) == addr:
                return dev
        raise _oserror(ENODEV)

    def _call(self, addr, op, arg):
        dev = self._find(addr)
        self.transactions += 1
        if self.lock is None:
            return self._do(dev, op, arg)
        with self.lock:
            return self._do(dev, op, arg)

    def _do(self, dev, op, arg):
        try:
            if op == "w":
                dev.i2c_write(arg)
                return None
            return dev.i2c_read(arg)
        except OSError:
            raise
        except Exception as e:
            if not hasattr(e, "address"):
                raise
            nack = ENODEV if e.address else self.nack_errno
        raise _oserror(nack)

    def scan(self):
        """Addresses that acknowledge an empty write."""
        found = []
        for a, dev in self._devices:
            addr = dev.i2c_addr if a is None else a
            try:
                self._call(addr, "w", b"")
            except OSError:
                continue
            found.append(addr)
        return sorted(found)

    def writeto(self, addr, buf, stop=True):
        """Write buf in one transaction; returns the number of bytes acknowledged."""
        data = bytes(buf)
        if self.trace is not None:
            self.trace.append(("w", addr, data))
        self._call(addr, "w", data)
        return len(data)

    def writevto(self, addr, vector, stop=True):
        data = b"".join(bytes(b) for b in vector)
        return self.writeto(addr, data, stop)

    def readfrom_into(self, addr, buf, stop=True):
        data = self._call(addr, "r", len(buf))
        if self.trace is not None:
            self.trace.append(("r", addr, data))
        buf[0:len(buf)] = data

    def readfrom(self, addr, nbytes, stop=True):
        buf = bytearray(nbytes)
        self.readfrom_into(addr, buf, stop)
        return bytes(buf)

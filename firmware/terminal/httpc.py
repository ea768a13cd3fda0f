"""Minimal HTTP/1.1 client for the terminal's sync (RFC 9112): one request per connection
(Connection: close), Content-Length bodies, status line and headers parsed strictly enough.

Sockets come from `connect(host, port, timeout_s)` (the board's: Wi-Fi on the ESP32, plain
sockets in the simulation), so this module imports no network stack. Works under MicroPython
and CPython.
"""
from xinka.compat import const

_MAX_HEAD = const(8192)
_MAX_BODY = const(262144)


class HttpError(Exception):
    """reason: unreachable (connect failed), io (connection broke), bad_response."""

    def __init__(self, reason, msg=""):
        super().__init__("%s: %s" % (reason, msg) if msg else reason)
        self.reason = reason


def _sendall(s, data):
    mv = memoryview(data)
    while len(mv):
        n = s.send(mv)
        if not n:
            raise OSError(32)
        mv = mv[n:]


def request(connect, method, host, port, path, body: "bytes | memoryview" = b"", headers=None,
            timeout_s=5, rbuf=None):
    """(status, {lower-case header: value}, body as a memoryview into rbuf). rbuf: a bytearray
    allocated once
    for the answer (no growing buffer at sync time); an answer larger than it is an error."""
    try:
        s = connect(host, port, timeout_s)
    except OSError as err:
        raise HttpError("unreachable", repr(err))
    try:
        head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\nContent-Length: %d\r\n" % (
            method, path, host, port, len(body))
        if headers:
            for k in headers:
                head += "%s: %s\r\n" % (k, headers[k])
        _sendall(s, (head + "\r\n").encode())
        if body:
            _sendall(s, body)
        if rbuf is None:
            rbuf = bytearray(_MAX_HEAD)
        got = 0
        while True:
            chunk = s.recv(1024)
            if not chunk:
                break
            if got + len(chunk) > len(rbuf):
                raise HttpError("bad_response", "response larger than %d bytes" % len(rbuf))
            rbuf[got:got + len(chunk)] = chunk
            got += len(chunk)
        buf = memoryview(rbuf)[:got]
    except OSError as err:
        raise HttpError("io", repr(err))
    finally:
        try:
            s.close()
        except OSError:
            pass
    i = rbuf.find(b"\r\n\r\n", 0, got)
    if i < 0:
        raise HttpError("bad_response", "no end of headers")
    lines = bytes(buf[:i]).decode().split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HttpError("bad_response", "status line %r" % lines[0][:40])
    hdrs = {}
    for ln in lines[1:]:
        k, sep, v = ln.partition(":")
        if sep:
            hdrs[k.strip().lower()] = v.strip()
    data = buf[i + 4:]
    n = hdrs.get("content-length")
    if n is not None:
        if not n.isdigit() or int(n) > len(data):
            raise HttpError("io", "body cut short")
        data = data[:int(n)]
    return int(parts[1]), hdrs, data


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _days(y, m, d):
    # days since 1970-01-01 (H. Hinnant's days_from_civil)
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_date(v):
    """Unix seconds of an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), or None."""
    try:
        p = v.split()
        if len(p) != 6 or p[5] != "GMT":
            return None
        d, mo, y = int(p[1]), _MONTHS.index(p[2]) + 1, int(p[3])
        hh, mm, ss = (int(x) for x in p[4].split(":"))
        return _days(y, mo, d) * 86400 + hh * 3600 + mm * 60 + ss
    except (ValueError, IndexError):
        return None

"""The terminal board on an ESP32-S3: the ONE terminal module that imports `machine` and
`network`. Compiles with mpy-cross; not yet run on hardware.

Reads the pin map (hardware/terminal/board.json, copied as /board.json), builds the PN532 UART,
the I2C bus for the DS3231 RTC and the display, the buzzer PWM, and Wi-Fi (credentials in
/flash/wifi.json). Provides what firmware/terminal/app.py asks of a board. On the terminal,
/main.py runs:  import board_esp32s3; board_esp32s3.run()
"""
import json
import os
import socket
import time

import machine
import network
import ssd1306

_DS3231_TIME = 0x00


def _bcd(b):
    return (b >> 4) * 10 + (b & 0x0F)


class Board:
    def __init__(self, path="/board.json"):
        with open(path) as f:
            cfg = json.load(f)
        u = cfg["uart"]
        self.uart = machine.UART(u["id"], baudrate=u["baudrate"], tx=u["tx"], rx=u["rx"],
                                 rxbuf=u["rxbuf"], timeout=0)
        r = cfg["rtc"]
        self.i2c = machine.I2C(r["i2c_id"], sda=machine.Pin(r["sda"]),
                               scl=machine.Pin(r["scl"]), freq=r["freq"])
        self._rtc_addr = r["addr"]
        self._rtc_buf = bytearray(7)
        self._display_addr = cfg["display"]["addr"]   # the SSD1306 on the RTC's bus (I2C0)
        self._buzzer = machine.PWM(machine.Pin(cfg["buzzer"]["pin"]), freq=2700, duty_u16=0)
        self._rst = machine.Pin(cfg["pn532"]["reset_pin"], machine.Pin.OUT, value=1)
        self.fs_root = cfg["flash"]["fs_mount"]
        self._wifi_cfg = cfg["wifi"]["config"]
        self._buffers = {}
        self.wlan = network.WLAN(network.STA_IF)

    # --- what app.py uses ---------------------------------------------------------------------

    def buffer(self, name, n):
        b = self._buffers.get(name)
        if b is None or len(b) != n:
            b = self._buffers[name] = bytearray(n)
        return b

    def rtc(self):
        """Unix seconds from the DS3231 (UTC, 2000-2099)."""
        self.i2c.readfrom_mem_into(self._rtc_addr, _DS3231_TIME, self._rtc_buf)
        b = self._rtc_buf
        t = (2000 + _bcd(b[6]), _bcd(b[5] & 0x1F), _bcd(b[4]), _bcd(b[2] & 0x3F), _bcd(b[1]),
             _bcd(b[0]), 0, 0)
        return time.mktime(t) + 946684800     # MicroPython's epoch on the ESP32 is 2000

    def display(self):
        """The OLED, initialised (OSError ENODEV when it does not answer)."""
        return ssd1306.SSD1306(self.i2c, self._display_addr)

    def ticks_ms(self):
        return time.ticks_ms()

    def sleep_ms(self, ms):
        time.sleep_ms(ms)

    def rng(self, n):
        return os.urandom(n)                  # true random while the radio is on

    def connect(self, host, port, timeout_s):
        if not self.wlan.isconnected():
            self._wifi()
            if not self.wlan.isconnected():
                raise OSError(113)            # EHOSTUNREACH: the sync backs off
        s = socket.socket()
        s.settimeout(timeout_s)
        try:
            s.connect(socket.getaddrinfo(host, port)[0][-1])
        except OSError:
            s.close()
            raise
        return s

    def _wifi(self):
        try:
            with open(self._wifi_cfg) as f:
                w = json.load(f)
        except OSError:
            return
        self.wlan.active(True)
        self.wlan.connect(w["ssid"], w["key"])
        t0 = time.ticks_ms()
        while not self.wlan.isconnected() and time.ticks_diff(time.ticks_ms(), t0) < 8000:
            time.sleep_ms(100)

    def feedback(self, colour, pattern, zh, en, reason, extra=""):
        print(colour, zh, en, reason, extra)  # the OLED is app.py's (display.py)
        for freq, on, off in pattern:
            self._buzzer.freq(freq)
            self._buzzer.duty_u16(32768)
            time.sleep_ms(on)
            self._buzzer.duty_u16(0)
            time.sleep_ms(off)

    def log(self, *a):
        print(*a)

    def reset_reader(self):
        self._rst.value(0)
        time.sleep_ms(10)
        self._rst.value(1)
        time.sleep_ms(10)


def run():
    import app
    app.Terminal(Board()).boot().run()

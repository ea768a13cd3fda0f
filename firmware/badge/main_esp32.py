"""The badge's /main.py on an ESP32-C3 (MicroPython runs it after boot.py).

`provision flash` copies this file to /main.py and the rest of the firmware, compiled, to /lib
(the badge loop is /lib/main.mpy). boot_select.py decides: provisioning mode on USB serial for
a badge that is not provisioned or whose button is held at boot, else the badge loop.
"""
import board_esp32c3

board_esp32c3.run()

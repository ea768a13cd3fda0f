"""MicroPython entry of a simulated badge that boots through firmware/badge/boot_select.py, as
firmware/badge/main_esp32.py does on the ESP32-C3: provisioning mode on USB serial (stdin /
stdout: the pty of hardware/sim/serial_badge.py, which starts this file in place of
serial_badge_upy.py) or the badge loop.

argv: <flash image> <chip id hex>. The flash is mounted as the simulation board mounts it
(hardware/sim/badge_board.py mount_flash: littlefs, 4 KiB x 64 sectors, at /flash), so the
image is the one a simulated tag badge boots from. XK_BUTTON=1 in the environment: the button
is held at boot. On stderr: "LED provisioning" when provisioning mode starts, "PROVISIONING
ENDED <state>", and "LOOP" where the badge loop would start: it is not run here (no tag on this
board) and the process ends; hardware/sim/badge_upy.py runs it on the same image.
"""
import os
import sys
import time

import vfs

import boot_select
import identity
from flash import FlashDevice


def mount_flash(path, mount="/flash"):
    try:
        os.stat(path)
        dev = FlashDevice(path, 4096, None)
    except OSError:
        dev = FlashDevice(path, 4096, 64)
        vfs.VfsLfs2.mkfs(dev)
    vfs.mount(vfs.VfsLfs2(dev), mount)
    return dev


class UsbBoard:
    fs_root = "/flash"

    def __init__(self, chip, held):
        self.chip = chip
        self.held = held

    def chip_id(self):
        return self.chip

    def rng(self, n):
        return os.urandom(n)

    def button(self):
        return self.held

    def show(self, name):
        sys.stderr.write("LED %s\n" % name)

    def sleep(self, ms):
        time.sleep_ms(ms)

    def ticks_ms(self):
        return time.ticks_ms()


def serve(board, st):
    status = boot_select.serve_usb(board, st)
    sys.stderr.write("PROVISIONING ENDED %s\n" % status)
    if status != identity.LOCKED:
        sys.exit(0)         # the host hung up: the simulated badge is unplugged
    return status


def loop(board):
    sys.stderr.write("LOOP\n")


mount_flash(sys.argv[1])
board = UsbBoard(bytes.fromhex(sys.argv[2]), os.getenv("XK_BUTTON") == "1")
boot_select.run(board, loop, serve)

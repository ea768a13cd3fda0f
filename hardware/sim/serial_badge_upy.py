"""MicroPython entry of a simulated badge in provisioning mode (hardware/sim/serial_badge.py).

stdin/stdout are the badge's USB serial port: the slave side of a pseudo-terminal in raw mode.
argv: <flash> <chip id hex>. <flash> is a littlefs image on a FlashDevice (created and
formatted when new) or, ending in "/", a plain directory. Exits 0 when the host side hangs up.
"""
import sys

import vfs

import provision
import serial_link
import state

try:
    import micropython
    micropython.kbd_intr(-1)  # 0x03 in a frame is data, not Ctrl-C
except (ImportError, AttributeError):
    pass

BLOCKS = 64  # 256 KiB of 4 KiB sectors


def mount(path):
    if path.endswith("/"):
        return path.rstrip("/") + "/badge"
    import flash
    try:
        dev = flash.FlashDevice(path)
    except ValueError:
        dev = flash.FlashDevice(path, 4096, BLOCKS)
    try:
        fs = vfs.VfsLfs2(dev)
    except OSError:
        vfs.VfsLfs2.mkfs(dev)
        fs = vfs.VfsLfs2(dev)
    vfs.mount(fs, "/flash")
    return "/flash/badge"


def main():
    root = mount(sys.argv[1])
    chip = bytes.fromhex(sys.argv[2])
    st = state.BadgeState(root).load()
    prov = provision.Provisioner(st, chip)
    link = serial_link.Link(serial_link.PollStream(sys.stdin.buffer, sys.stdout.buffer))
    sys.stderr.write("badge %s ready, state %s\n" % (sys.argv[2], prov.ident.status()))
    try:
        provision.serve(link, prov)
    except serial_link.LinkClosed as e:
        sys.stderr.write("host hung up: %s\n" % e)
    except Exception as e:
        sys.print_exception(e, sys.stderr)
        raise


main()

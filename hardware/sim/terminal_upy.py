"""One simulated ESP32 terminal under MicroPython: the terminal firmware (firmware/terminal/app.py)
on the simulation board (terminal_board.py: PN532 model on a SimUART, littlefs flash, sockets).

    micropython -X heapsize=<SIM_HEAP> -c "import terminal_upy" <dir> <badge udp port | -> \
        <rtc start time> <budget> [<rtc ppm>]

Heap: the simulated hardware (PN532 model, flash device, sockets) lives in this process but is
no part of the terminal, so the process gets a larger heap and a ballast block then takes all
but `budget` bytes (the free heap of a fresh process with the terminal's heap, see
hardware/sim/terminal.py): the firmware runs within that budget.

Commands on stdin, one per line; every command ends with one "RESULT ..." line:
  poll                 one InListPassiveTarget; a check-in if a badge answers
  sync                 one sync batch now (ignores the back-off timer)
  lists                fetch newer status lists now: RESULT lists <agency>=<result> ...
  place <port> | remove | remove_after <n RF frames> | fault <kind> [n]
  payload              RESULT <hex of the last badge response>
  journal <seq>        RESULT <seq> <hex of the token journaled as seq> (read back from flash)
  display              RESULT <screen> on=<0|1> <hex of the SSD1306 model's RAM, page by page>
                       (screen: what display.py last drew: idle, code, a verdict reason; -)
  display fit <0|1>    put the OLED on the I2C bus or take it off
  font                 RESULT <hex of framebuf's 8x8 glyphs of chr(32)..chr(126), 8 bytes each>
  other <terminal id>  challenge the badge as another terminal would (a second PN532 model
                       and driver in this process): RESULT <hex of the response>
  replay <hex>         put an attacker's tag that replays <hex> on the reader, poll once
  torture <cuts> <seed> <tap share %>   taps and syncs with a power cut armed at a random
                       point each cycle (flash write, UART byte or network byte), reboot after
                       each cut, until <cuts> cuts have happened, or earlier when the heap
                       after a reboot is 4 KiB below a fresh process's (the dead filesystems'
                       objects cannot be finalised in this process: the caller then starts a
                       fresh process on the same flash image)
  state | reboot | quit
"""
import framebuf
import gc
import sys

import terminal_board
from flash import PowerCut

_dir = sys.argv[1]
_port = None if sys.argv[2] == "-" else int(sys.argv[2])
_start = int(sys.argv[3])
_budget = int(sys.argv[4])
_ppm = int(sys.argv[5]) if len(sys.argv) > 5 else 0

board = terminal_board.SimTerminalBoard(_dir, _port, _start, _ppm)

import pn532_model  # noqa: E402
import pn532_rf  # noqa: E402
import replay_tag  # noqa: E402
from uart import SimUART  # noqa: E402

gc.collect()
# ballast in small blocks: first fit fills the holes the simulation left first, so what stays
# free is one contiguous region of `budget` bytes, like the fresh heap of a real boot
_ballast = []
for _unit in (4096, 512, 32):
    while gc.mem_free() > _budget + _unit + 64:
        _ballast.append(bytearray(_unit - 16))
    gc.collect()
board.say("HEAP", gc.mem_free())

import app  # noqa: E402
import pn532  # noqa: E402

from xinka import passthrough, tokens  # noqa: E402

term = app.Terminal(board).boot()
gc.collect()
_fresh = gc.mem_free()
board.say("READY")


class Rand:
    def __init__(self, seed):
        self.x = seed or 1

    def __call__(self, n):
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.x = x
        return x % n


def boot():
    global term
    while True:
        try:
            term = None
            gc.collect()
            term = app.Terminal(board).boot()
            return
        except PowerCut:
            board.say("CUT", "boot")
            board.reboot()


def result(*a):
    board.say("RESULT", *a)


def tap_info():
    last = term.last or {}
    return " ".join("%s=%s" % kv for kv in sorted(last.items()))


def torture(cuts, seed, tap_share):
    rnd = Rand(seed)
    done = 0
    cycles = 0
    while done < cuts:
        cycles += 1
        k = rnd(100)
        if k < 40:
            kind, n = "flash", rnd(4000)
        elif k < 70:
            kind, n = "uart", rnd(5000)
        else:
            kind, n = "net", rnd(16000)
        try:
            board.arm(kind, n, seed + cycles)
            for _ in range(3):
                if rnd(100) < tap_share:
                    term.poll()
                else:
                    term.sync.run_once()
            board.disarm()
        except PowerCut:
            done += 1
            board.say("CUT", board.cut_kind if board.dead else "flash", n)
            board.reboot()
            if rnd(10) == 0:                     # now and then a cut during the boot itself
                board.arm("flash", rnd(3000), seed + cycles)
            boot()
            board.disarm()
            gc.collect()
            free = gc.mem_free()
            board.say("HEAPFREE", free)
            if free < _fresh - 4096:
                break       # the dead filesystems' garbage: time for a fresh process
    return cycles, done


def other(tid):
    m = pn532_model.PN532Model(pn532_rf.UDPLink(board.link.port))
    drv = pn532.PN532(SimUART(m))
    drv.wakeup()
    drv.set_max_retries(1)
    if drv.list_passive_target() is None:
        return ""
    nonce = board.rng(16)
    pt = passthrough.PassThrough(lambda f, t: drv.thru(f, t + 50))
    payload = pt.checkin(tokens.challenge(tid, board.rtc(), nonce))
    drv.command(pn532.CMD_RF_CONFIGURATION, b"\x01\x00")
    m.rf.close()
    return payload.hex()


def command(w):
    c = w[0]
    if c == "poll":
        v = term.poll()
        result(v or "none", tap_info())
    elif c == "sync":
        n = term.sync.run_once()
        result("synced", n, "pending=%d" % term.journal.pending(), term.sync.last_error)
    elif c == "lists":
        out = term.lists.run_once()
        result("lists", *["%s=%s" % (k, out[k].replace(" ", ":")) for k in sorted(out)])
    elif c == "place":
        board.link.place(int(w[1]))
        result("ok")
    elif c == "remove":
        board.link.remove()
        result("ok")
    elif c == "remove_after":
        board.model.remove_after(int(w[1]))
        result("ok")
    elif c == "fault":
        board.model.fault(w[1], int(w[2]) if len(w) > 2 else 1)
        result("ok")
    elif c == "payload":
        result(term.last_payload.hex())
    elif c == "journal":
        recs = term.journal.records(int(w[1]), 1)
        result(*((recs[0].seq, recs[0].token.hex()) if recs else ("none",)))
    elif c == "display" and len(w) > 2:
        board.fit_display(w[2] == "1")
        result("ok")
    elif c == "display":
        o = board.oled
        result(term.display.shown or "-", "on=%d" % (o is not None and o.on),
               "".join(bytes(p).hex() for p in o.ram) if o is not None else "-")
    elif c == "font":
        g = bytearray(8)
        fb = framebuf.FrameBuffer(g, 8, 8, framebuf.MONO_VLSB)
        out = []
        for ch in range(32, 127):
            fb.fill(0)
            fb.text(chr(ch), 0, 0, 1)
            out.append(bytes(g).hex())
        result("".join(out))
    elif c == "other":
        result(other(w[1]))
    elif c == "replay":
        old = board.model.rf
        tag = replay_tag.ReplayTag(bytes.fromhex(w[1]))
        board.model.rf = pn532_rf.TagLink(tag)
        try:
            v = term.poll()
        finally:
            board.model.rf = old
        result(v or "none", "challenges=%d" % len(tag.challenges))
    elif c == "torture":
        cycles, done = torture(int(w[1]), int(w[2]), int(w[3]))
        result("cycles=%d" % cycles, "cuts=%d" % done, "pending=%d" % term.journal.pending())
    elif c == "modules":
        # every loaded module as name=file (tests/terminal/test_device_set.py)
        result(*sorted("%s=%s" % (k, getattr(m, "__file__", "-")) for k, m in sys.modules.items()))
    elif c == "state":
        gc.collect()
        j = term.journal
        result("pending=%d" % j.pending(), "upto=%d" % j.upto, "next=%d" % j.next_seq,
               "damaged=%d" % j.damaged, "clock_offset=%d" % term.clock.offset,
               "drift_ppm=%d" % term.clock.drift_ppm, "syncs=%d" % term.clock.syncs,
               "mem_free=%d" % gc.mem_free(),
               " ".join("%s=%d" % kv for kv in sorted(term.counts.items())))
    elif c == "stats":
        m = board.model.stats
        result("model_rf_frames=%d" % m["rf_frames"], "activations=%d" % m["activations"],
               "model_commands=%d" % m["frames_in"], "drv_resends=%d" % term.pn.stats["resends"],
               "checker_verifications=%d" % term.checker.verifications)
    elif c == "reboot":
        board.reboot()
        boot()
        result("ok")
    else:
        result("error", "unknown command")


while True:
    line = sys.stdin.readline()
    if not line:
        break
    w = line.split()
    if not w:
        continue
    if w[0] == "quit":
        result("bye")
        break
    try:
        command(w)
    except PowerCut:
        board.say("CUT", board.cut_kind if board.dead else "flash")
        board.reboot()
        boot()
        result("cut")
    except Exception as err:           # the harness reports, the test decides
        sys.print_exception(err)
        result("error", repr(err))

"""One simulated badge under MicroPython: the badge firmware (firmware/badge/main.py) on the
simulation board (badge_board.py). Started by hardware/sim/fleet.py as

    micropython -X heapsize=<SIM_HEAP> -c "import badge_upy" <dir> <udp port> <consent_ms> <budget>

with the compiled firmware and simulation modules on MICROPYPATH. Prints "READY <port>" once the
first token is on the tag, then the board's events; commands on stdin (see badge_board.py).

Heap: the simulated hardware (tag model, UDP server, flash device: ~30 KB) lives in the same
process but is no part of the badge. So the process gets a larger heap, and once the simulation
is built a ballast block takes everything above `budget`, the free heap a fresh process with the
badge's 128 KiB has: the firmware itself runs within the 128 KiB budget.
"""
import gc
import sys

import badge_board

_dir = sys.argv[1]
_port = int(sys.argv[2])
_consent = int(sys.argv[3])
_budget = int(sys.argv[4])

board = badge_board.SimBoard(_dir, _port)
gc.collect()
_ballast = [bytearray(max(16, gc.mem_free() - _budget - 64))]
gc.collect()
while gc.mem_free() > _budget + 64:  # allocation headers: top up with small blocks
    _ballast.append(bytearray(max(16, gc.mem_free() - _budget - 64)))
    gc.collect()
board.say("HEAP", gc.mem_free())

import main  # noqa: E402

badge = main.Badge(board, consent_ms=_consent, log=board.log)
board.badge = badge
badge.boot()
for _ in range(20):  # the first token is on the tag before READY
    if not badge.key or not (badge.dirty or badge.pending):
        break
    badge.step()
board.say("READY", board.port)
badge.run(until=board.until)
board.srv.close()

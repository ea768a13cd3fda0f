"""Must-show: a badge (firmware under MicroPython, hardware/sim/fleet.py) checks in at the ESP32
terminal (firmware under MicroPython, PN532 model) while the verifier is unreachable; the
terminal loses power CUTS times (XINKA_POWER_CUTS, 100 in the suite; `XINKA_POWER_CUTS=500` for
the full run, docs/performance.md) at random points of taps and syncs; once the verifier (the real
app on 127.0.0.1) is back, every check-in that got a green beep is there exactly once and
nothing is there that the terminal did not journal from a real badge answer.

How the cuts are made (hardware/sim/terminal_upy.py "torture", terminal_board.py): each cycle
arms one cut at a random point: after n units of flash write time (FlashDevice.cut_after: the
write in progress is torn, bits of the torn byte land at random), after n bytes on the PN532
UART, or after n bytes on the verifier connection. When it fires the whole board is dead (the
flash refuses every later call, so no cleanup on the way out writes anything), the firmware's
objects are dropped, the flash image is mounted afresh and the firmware boots from it, as after
a real power cut; the PN532 model is powered up again (its field drops: the badge sees RFOFF)
and open sockets are closed. One cut in ten also hits the following boot. Only what is on the
flash image survives; RAM state does not. Every 15 cuts, or earlier when its heap has lost 4 KiB,
the MicroPython process is killed with
SIGKILL and started again on the same flash image (the in-process reboots leave the dead
filesystem's objects and fragments in this process's heap, which a real reboot would not).
"""
import collections
import os
import time

CUTS = int(os.environ.get("XINKA_POWER_CUTS", "100"))



def torture(t, cuts, seed, tap_share):
    """Up to `cuts` in-process cuts (fewer when the process's heap needs renewing), then the
    process itself is killed (SIGKILL, between two commands) and started again from its flash
    image. Returns the cuts made."""
    r = t.command("torture %d %d %d" % (cuts, seed, tap_share), timeout=300)
    if not r[0].startswith("cycles="):
        tb = max(i for i, ln in enumerate(t.log) if ln.startswith("Traceback"))
        raise AssertionError("%r\n%s" % (r, "\n".join(t.log[tb - 5:tb + 15])))
    t.kill()
    t.start()
    return int(r[1].split("=")[1])


def greens(t):
    out = []
    for ln in t.log:
        w = ln.split()
        if w[:3] == ["BEEP", "green", "ok"]:
            out.append(w[4])
    return out


def challenges(t):
    return {ln.split()[2] for ln in t.log if ln.startswith("EV CHALLENGE")}


def test_power_cuts_every_green_checkin_arrives_exactly_once(fleet, verifier, make_terminal,
                                                              world):
    t0 = time.monotonic()
    t = make_terminal(0, verifier, port=fleet.badges[0].port)
    tid = verifier.env.terminals[world.badges[0].agency_id][0]
    # verifier unreachable: taps and (failing) syncs, half the cuts
    done, seed = 0, 11
    while done < CUTS // 2:
        done += torture(t, min(15, CUTS // 2 - done), seed, 50)
        seed += 1
    offline = greens(t)
    assert verifier.posts == 0
    verifier.start()
    # verifier back: taps and syncs, the other half (some land after the verifier committed a
    # batch but before the terminal's watermark is on flash: the re-send must be "duplicate")
    while done < CUTS:
        done += torture(t, min(15, CUTS - done), seed, 50)
        seed += 1
    for _ in range(200):
        r = t.command("sync")
        if r[2] == "pending=0":
            break
    assert r[2] == "pending=0", r
    cuts = [ln.split()[1] for ln in t.log if ln.startswith("CUT")]
    kinds = collections.Counter(cuts)
    green = greens(t)
    rows = verifier.checkins()
    nonces = collections.Counter(n for n, *_ in rows)
    issued = challenges(t)
    elapsed = time.monotonic() - t0
    print("\ncuts %d %s, green %d (offline %d), verifier rows %d, posts %d, %.1f s"
          % (len(cuts), dict(kinds), len(green), len(offline), len(rows), verifier.posts,
             elapsed))
    assert len([c for c in cuts if c != "boot"]) == CUTS
    # every kind of cut happened often (at 500: flash > 50, uart > 50, net > 2; one run had
    # 298 / 179 / 23; at 100, 61 / 36 / 3)
    assert kinds["flash"] > CUTS // 10 and kinds["uart"] > CUTS // 10 and kinds["net"] > CUTS // 200
    assert len(green) >= CUTS // 5 and len(offline) >= CUTS // 10
    assert len(set(green)) == len(green)
    # every acknowledged check-in arrived, exactly once
    for n in green:
        assert nonces[n] == 1, n
    # nothing invented: each row answers a challenge this terminal issued, from a real badge
    # (the verifier checked the badge's signature), one row per nonce
    assert all(c == 1 for c in nonces.values())
    for nonce, term_id, _kid, _seen in rows:
        assert nonce in issued and term_id == tid
    # journaled but cut before the beep: real badge answers, uploaded, never beeped
    print("journaled without a beep: %d" % (len(rows) - len(green)))
    assert len(rows) >= len(green)

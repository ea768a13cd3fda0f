"""LED patterns of the badge, as data (one LED, see hardware/badge/board.json).

A pattern is a tuple of (on_ms, off_ms) steps played once; the board plays it (the badge loop only
names it). What the worker sees:
  ok            one long blink            a token was read / a check-in was signed
  consent       three short blinks        the consent token is on the tag (60 s, see main.py)
  refused       two long, one short       a challenge or frame was refused; nothing was signed
  low_battery   one short blink, long gap battery below LOW_BATTERY_MV at a wake
  unprovisioned five fast blinks          no key / credential / host on flash: tag holds no token
  error         long on                   flash or tag failure; the badge keeps trying
  provisioning  two slow blinks           provisioning mode on USB serial (boot_select.py)
"""
LOW_BATTERY_MV = 3500

PATTERNS = {
    "ok": ((400, 0),),
    "consent": ((100, 100), (100, 100), (100, 0)),
    "refused": ((300, 150), (300, 150), (80, 0)),
    "low_battery": ((50, 950),),
    "unprovisioned": ((60, 60), (60, 60), (60, 60), (60, 60), (60, 0)),
    "error": ((1500, 0),),
    "provisioning": ((500, 500), (500, 0)),
}


def duration(name):
    """Total milliseconds a pattern takes."""
    t = 0
    for on, off in PATTERNS[name]:
        t += on + off
    return t

"""TEST AND SIMULATION ONLY: put a key, a credential and a verifier host on a simulated badge.

Real provisioning (issue 5) generates the key on the badge and never lets it out. Here the key
scalar comes from the caller (e.g. host.wire.sample keys) so tests can make a matching
credential. The blobs are written with the firmware's own BadgeState.put, under MicroPython, on
the littlefs image the simulated badge mounts (badge_board.mount_flash).
"""
import pathlib

from hardware.sim import runner

# arguments come on stdin: the unix port dies ("FATAL: uncaught NLR") on an argv item of more
# than ~600 bytes, and a credential in hex is longer
_SCRIPT = r"""
import sys, binascii
import badge_board, state
a = [sys.stdin.readline().strip() for _ in range(5)]
badge_board.mount_flash(a[0])
st = state.BadgeState("/flash/badge").load()
st.put("key", binascii.unhexlify(a[1]))
st.put("credential", binascii.unhexlify(a[2]))
st.put("host", a[3].encode())
if a[4] != "-":
    st.put("scope", binascii.unhexlify(a[4]))
print("OK")
"""


def provision_for_sim(fs_root, key_d, credential, host, build_dir, scope=None):
    """Write key scalar `key_d` (int), `credential` (bytes) and `host` (str) to the badge whose
    flash image is `fs_root`/flash.bin (created and formatted if new). `build_dir` is the output
    of fleet.build(). `scope`: consent scope bits (default: the firmware's, all bits)."""
    fs_root = pathlib.Path(fs_root)
    fs_root.mkdir(parents=True, exist_ok=True)
    args = [str(fs_root / "flash.bin"), key_d.to_bytes(32, "big").hex(), bytes(credential).hex(),
            host, "-" if scope is None else scope.to_bytes(1, "big").hex()]
    out = runner.run(_SCRIPT, build_dir, path=BUILD_PATH, stdin="\n".join(args) + "\n",
                     timeout=60)
    if "OK" not in out.stdout:
        raise RuntimeError(out.stdout + out.stderr)


# the simulation modules, then exactly what the badge has in /lib (its manifest, host/build.py)
BUILD_PATH = ("sim", "device/badge/lib")

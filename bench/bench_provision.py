"""Issuance time per badge over the simulated serial link, and the share spent on the link.

Each badge is the firmware under MicroPython (heap 128 KiB, .mpy) on a pty; the "cable" between
the host's pty and the badge's paces every byte as a 115200-baud UART does (10 bit times per
byte, 8N1: real sleeps, so the link time is in the wall-clock figure). The verifier is the real
one on a local SQLite file over HTTP (testkit/real_verifier.py). Link share = paced
cable time / issuance time;
the model bytes x 10 / 115200 is printed beside it.

  .venv/bin/python bench/bench_provision.py [--badges 5]
"""
import argparse
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hardware.sim import runner  # noqa: E402
from hardware.sim.serial_badge import SerialBadge  # noqa: E402
from provisioning.device import Device  # noqa: E402
from provisioning.issue import Issuer, Profile  # noqa: E402
from testkit.desk import (AGENCY, AGENCY_NAME, NDEF_HOST, PASSPHRASE,  # noqa: E402
                                         make_profile, set_profile)
from testkit.real_verifier import RealVerifier  # noqa: E402

BAUD = 115200


def run(n, baud, build, d, issuer, label):
    rows = []
    for i in range(n):
        b = SerialBadge(build, d / f"{label}-{i}.img", bytes.fromhex("A4CF13") +
                        i.to_bytes(3, "big"), baud=baud).start()
        try:
            dev = Device.open(b.port)
            t0 = time.perf_counter()
            issuer.issue(dev, f"W-{i:05d}")
            dt = time.perf_counter() - t0
            nbytes = dev.link.bytes_tx + dev.link.bytes_rx
            dev.close()
        finally:
            b.stop()
        rows.append((dt, nbytes, b.link_seconds))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--badges", type=int, default=5)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        d = pathlib.Path(tmp)
        build = runner.compile_firmware(d / "build")
        prof, akey, trust, authority, status_key = make_profile(d)
        v = RealVerifier(d / "verifier", AGENCY, AGENCY_NAME, authority, status_key, trust,
                         NDEF_HOST)
        set_profile(d, verifier=v.url, api_key=v.api_key)
        issuer = Issuer.prepare(Profile.load(prof), PASSPHRASE)
        run(1, None, build, d, issuer, "warm")                     # warm-up
        paced = run(args.badges, BAUD, build, d, issuer, "paced")
        fast = run(args.badges, None, build, d, issuer, "fast")
        v.stop()
    best = min(paced)
    t, nbytes, link_s = best
    model = nbytes * 10 / BAUD
    fast_t = min(fast)[0]
    print(f"{args.badges} badges, firmware under MicroPython {runner.HEAP_BYTES // 1024} KiB heap,"
          f" pty cable paced at {BAUD} baud (8N1, 10 bits/byte); best of {args.badges}")
    print(f"  issuance per badge, paced link          {t * 1000:8.1f} ms")
    print(f"  issuance per badge, unpaced pty         {fast_t * 1000:8.1f} ms")
    print(f"  bytes on the link per badge (both ways) {nbytes:8d}")
    print(f"  paced cable time                        {link_s * 1000:8.1f} ms  "
          f"share {link_s / t:.2f}")
    print(f"  model bytes*10/{BAUD}               {model * 1000:8.1f} ms  share {model / t:.2f}")
    print(f"  50-badge batch, machine time            {t * 50:8.1f} s")
    print(f"RESULT per_badge_ms={t * 1000:.1f} link_share={link_s / t:.3f} bytes={nbytes}")


if __name__ == "__main__":
    main()

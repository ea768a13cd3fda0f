# The shared protocol and crypto library, package `xinka` (docs/architecture.md), in
# micropython-lib's manifest format (micropython tools/manifestfile.py). Both device manifests
# require() it; host/build.py reads it for `provision flash` and the simulator; a frozen
# MicroPython build freezes it (docs/firmware.md). Declared file by file: compat's CPython
# fallback (_host.py) is for the host and never goes on a device.
metadata(
    description="xinka: deterministic CBOR, COSE_Sign1/ES256, P-256 ECDSA with offline/online "
    "signing, HMAC-DRBG, tap tokens, NDEF, SRAM windows, serial frames, compact status lists",
    version="0.1.0",
)

package(
    "xinka",
    files=(
        "__init__.py",
        "cbor.py",
        "compat.py",
        "cose.py",
        "drbg.py",
        "ecdsa.py",
        "frames.py",
        "ndef.py",
        "p256.py",
        "p256_comb.py",
        "passthrough.py",
        "revocation.py",
        "sram.py",
        "tokens.py",
        "verify.py",
    ),
)

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

# A device requires it with the modules it imports (require("lib", library="xinka",
# modules=("cbor", ...))); __init__ and compat always come. On its own (a mip index,
# `mpremote mip install`) it is every module.
ALL = ("cbor", "cose", "drbg", "ecdsa", "frames", "linkcode", "ndef", "p256", "p256_comb",
       "passthrough", "revocation", "sram", "tokens", "verify")
options.defaults(modules=ALL)

package(
    "xinka",
    files=("__init__.py", "compat.py") + tuple(m + ".py" for m in options.modules),
)

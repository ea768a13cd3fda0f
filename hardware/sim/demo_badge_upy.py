"""A minimal simulated badge for the demo: runs under MicroPython with firmware/lib.

Protocol on stdin/stdout, one line each way:
  in:  host entropy (hex)        out: "PUB <65-byte point hex>"
  in:  credential (hex) + host   out: "TAP <token hex> <url>"  (one status token)
The key is generated here, from the badge RNG mixed with the host's entropy through HMAC-DRBG,
and never printed.
"""
import binascii
import hashlib
import os
import sys

import drbg
import ecdsa
import ndef
import tokens


def line():
    return sys.stdin.readline().strip()


host_entropy = binascii.unhexlify(line())
rng = drbg.HmacDrbg(os.urandom(32) + hashlib.sha256(host_entropy).digest(),
                    personalization=b"xinka badge keygen")
key = ecdsa.Key(drbg.generate_key(rng))
pool = ecdsa.NoncePool(key, 4)
pool.fill(rng.generate, 4)
print("PUB", binascii.hexlify(key.public_bytes()).decode())
parts = line().split()
credential, host = binascii.unhexlify(parts[0]), parts[1]
token = tokens.tap_token(tokens.status_claims(1), key.kid(), pool.sign)
print("TAP", binascii.hexlify(token).decode(), ndef.tap_url(host, token, credential))

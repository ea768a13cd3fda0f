"""A worker's one-time link code (docs/protocol.md "A worker's link code").

After an accepted check-in the terminal shows a short code; the worker types it (or the desk's
QR code carries it) at the verifier's /me page, beside the badge number, to open their own page.
The terminal computes the code offline, from the check-in token it has just journaled; the
verifier computes the same code when the check-in reaches it (the upload is authenticated by
the terminal's token) and keeps only a hash of it. Nobody else can: the key is the terminal's.

    link_key = HMAC-SHA256(terminal token (ASCII), "xinka-link-key/1")
    code     = the first 40 bits of HMAC-SHA256(link_key, "xinka-link-code/1" || SHA-256(token))
               as 8 characters of Crockford's base32 (0-9 A-Z without I L O U), shown XXXX-XXXX

`normalise` reads what a person types: case, spaces and dashes do not matter, and the letters
Crockford's alphabet leaves out are read as the digits they look like (I, L -> 1; O -> 0).
"""
import hashlib

from xinka.drbg import hmac_sha256

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
_KEY_LABEL = b"xinka-link-key/1"
_CODE_LABEL = b"xinka-link-code/1"
_LOOKALIKE = {"I": "1", "L": "1", "O": "0"}


def link_key(terminal_token):
    """The terminal's link key (32 bytes) from its API token (str or bytes)."""
    if isinstance(terminal_token, str):
        terminal_token = terminal_token.encode()
    return hmac_sha256(terminal_token, _KEY_LABEL)


def code(key, token):
    """The 8-character code of the check-in token `token` (its raw bytes) under `key`."""
    return code_of_hash(key, hashlib.sha256(token).digest())


def code_of_hash(key, token_hash):
    """The code from the token's SHA-256 (what the verifier keeps of a check-in)."""
    mac = hmac_sha256(key, _CODE_LABEL + token_hash)
    n = int.from_bytes(mac[:5], "big")
    out = []
    for _ in range(LENGTH):
        out.append(ALPHABET[n & 31])
        n >>= 5
    out.reverse()
    return "".join(out)


def show(c):
    """XXXX-XXXX: the code as a terminal shows it."""
    return c[:4] + "-" + c[4:]


def normalise(typed):
    """The 8-character code a person typed, or None when it cannot be one."""
    out = []
    for ch in typed.upper():
        if ch in " -\t":
            continue
        ch = _LOOKALIKE.get(ch, ch)
        if ch not in ALPHABET:
            return None
        out.append(ch)
    if len(out) != LENGTH:
        return None
    return "".join(out)

"""firmware/lib/linkcode.py: the worker's one-time link code, under CPython and MicroPython,
against an independent derivation written here on the `hmac` module (docs/protocol.md "A
worker's link code"), and the reading of what a person types."""
import hashlib
import hmac
import random

import pytest

from xinka import linkcode

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def independent(terminal_token, token):
    key = hmac.new(terminal_token.encode(), b"xinka-link-key/1", "sha256").digest()
    mac = hmac.new(key, b"xinka-link-code/1" + hashlib.sha256(token).digest(), "sha256").digest()
    bits = bin(int.from_bytes(mac[:5], "big"))[2:].zfill(40)
    return "".join(CROCKFORD[int(bits[i:i + 5], 2)] for i in range(0, 40, 5))


def cases(n=40):
    rng = random.Random(19)
    return [(rng.randbytes(24).hex(), rng.randbytes(rng.randrange(60, 200))) for _ in range(n)]


def test_codes_match_an_independent_derivation():
    for terminal_token, token in cases():
        key = linkcode.link_key(terminal_token)
        assert linkcode.code(key, token) == independent(terminal_token, token)
        assert linkcode.code_of_hash(key, hashlib.sha256(token).digest()) == \
            linkcode.code(key, token)


def test_a_code_depends_on_the_terminal_and_the_token():
    (t1, tok1), (t2, tok2) = cases(2)
    k1, k2 = linkcode.link_key(t1), linkcode.link_key(t2)
    assert linkcode.code(k1, tok1) != linkcode.code(k2, tok1)
    assert linkcode.code(k1, tok1) != linkcode.code(k1, tok2)
    assert linkcode.link_key(t1) == linkcode.link_key(t1.encode())


def test_shown_and_typed_back():
    key = linkcode.link_key("t" * 40)
    c = linkcode.code(key, b"token")
    shown = linkcode.show(c)
    assert len(shown) == 9 and shown[4] == "-" and shown.replace("-", "") == c
    assert linkcode.normalise(shown) == c
    assert linkcode.normalise(" " + shown.lower() + " ") == c


@pytest.mark.parametrize("typed, read", [("io0l-1234", "1001-1234"), ("ABCD EFGH", "ABCDEFGH")])
def test_lookalike_letters_read_as_digits(typed, read):
    assert linkcode.normalise(typed) == read.replace("-", "")


@pytest.mark.parametrize("typed", ["", "ABCD-EFG", "ABCD-EFGHJ", "ABCD-EFGU", "ABCD-EF<H",
                                   "码码码码码码码码"])
def test_what_cannot_be_a_code(typed):
    assert linkcode.normalise(typed) is None


def test_micropython_gives_the_same_codes(upy):
    want = cases(12)
    script = ("CASES = %r\nfrom xinka import linkcode\nfor t, tok in CASES:\n"
              "    print(linkcode.show(linkcode.code(linkcode.link_key(t), tok)))\n"
              "print(linkcode.normalise('io0l-abcd'))\n" % (want,))
    out = upy(script).stdout.split("\n")
    assert out[:len(want) + 1] == [independent(t, tok)[:4] + "-" + independent(t, tok)[4:]
                                   for t, tok in want] + ["1001ABCD"]

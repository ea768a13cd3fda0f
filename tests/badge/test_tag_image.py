"""The tag image: fits the 1k user memory, and is written without allocating (heap locked)."""

from host.wire import parse_tap_url, read_tag_url
from hardware.sim import runner
from hardware.sim.provision_sim import BUILD_PATH

USER_MEMORY = 888


def run(script, build):
    return runner.run(script, build, path=BUILD_PATH, timeout=120).stdout


def test_largest_token_and_credential_fit_user_memory(badge_build):
    # largest token on the tag: consent, 64-bit counter, all scope bits; largest credential: the
    # 512-byte limit of docs/protocol.md; host: 32 bytes (the example's is 12)
    out = run(r"""
from xinka import tokens, ndef, cose
kid = bytes(8)
tok = tokens.tap_token(tokens.consent_claims(0xFFFFFFFFFFFFFFFF, 0xFFFFFFFF), kid,
                       lambda d: bytes(64))
cred = b"\x59\x01\xfd" + bytes(509)          # one CBOR bstr item, 512 bytes in all
buf = bytearray(888)
n = ndef.tap_tlv_into(buf, b"verifier-hangzhou.example.gov.cn", tok, cred)
print(len(tok), len(cred), n)
print(bytes(buf[:n]).hex())
""", badge_build)
    first, image = out.split("\n")[:2]
    ntok, ncred, n = map(int, first.split())
    assert ncred == 512 and ntok >= 115
    assert n <= USER_MEMORY
    url = read_tag_url(bytes.fromhex(image))
    assert url.startswith("https://verifier-hangzhou.example.gov.cn/t/")


HEAP_SCRIPT = r"""
import micropython, nt3h2111
from xinka import tokens, ndef


class Bus:
    # an EEPROM bus that allocates nothing: block writes land in `mem`, NS_REG reads 0
    def __init__(self):
        self.mem = bytearray(64 * 16)
        self.mema = 0
        self.reg = -1

    def writeto(self, addr, buf):
        if buf[0] == 0xFE:
            self.reg = buf[1] if len(buf) == 2 else -1
            return
        self.reg = -1
        self.mema = buf[0]
        if len(buf) == 17 and buf[0] < 64:
            i = 0
            while i < 16:
                self.mem[buf[0] * 16 + i] = buf[1 + i]
                i += 1

    def readfrom_into(self, addr, buf):
        if self.reg >= 0:
            buf[0] = 0
            return
        i = 0
        while i < len(buf):
            buf[i] = self.mem[(self.mema * 16 + i) % len(self.mem)]
            i += 1


bus = Bus()
tag = nt3h2111.NT3H2111(bus)
image = bytearray(888)
empty = bytearray(16)
empty[0] = 3
empty[2] = 0xFE
token = tokens.tap_token(tokens.status_claims(7), bytes(8), lambda d: bytes(64))
cred = b"\x58\xff" + bytes(255)
host = b"v.example.cn"
micropython.heap_lock()
try:
    n = ndef.tap_tlv_into(image, host, token, cred)
    tag.write_user_memory(0, image, n, empty)
    tag.write_block(1, image)
    tag.set_last_ndef_block(1 + (n - 2) // 16)
    tag.release()
    ns = tag.status()
finally:
    micropython.heap_unlock()
print(bytes(bus.mem[16:16 + n]).hex())
"""


def test_tag_image_written_with_heap_locked(badge_build):
    out = run(HEAP_SCRIPT, badge_build)
    url = read_tag_url(bytes.fromhex(out.split()[0]))
    token, cred = parse_tap_url(url)
    assert len(cred) == 257

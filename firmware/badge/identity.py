"""What provisioning puts on the badge, as blobs of state.BadgeState (write-temp + rename).

  key      32-byte private scalar, big-endian (made on the badge; never leaves it)
  credential  the credential (COSE_Sign1 bytes) the agency issued for this key
  anchor   the authority's public key, 65-byte uncompressed point
  host     verifier host for the NDEF URL (UTF-8)
  scope    one byte: the consent scope bits a consent tap discloses (absent: all, 0x3F)
  locked   one byte 01: provisioning refused until a wipe
The names are the ones firmware/badge/main.py boots from ("key", "credential", "host"), in
the state root "/flash/badge".

Provisioning state, from the blobs: blank (no key) -> keyed -> installed (credential whose cnf
is this key) -> locked. The nonce pool (file "pool") holds k^-1 * r * d per entry, from which d
follows: a wipe deletes it along with the key.
"""
from xinka import ecdsa

BLANK = "blank"
KEYED = "keyed"
INSTALLED = "installed"
LOCKED = "locked"

_NAMES = ("locked", "credential", "anchor", "host", "scope", "key", "pool")
SCOPE_ALL = 0x3F


class Identity:
    def __init__(self, state):
        self.state = state
        self._key = None

    def key(self):
        """ecdsa.Key or None."""
        if self._key is None:
            d = self.state.get("key")
            if d is not None and len(d) == 32:
                self._key = ecdsa.Key(int.from_bytes(d, "big"))
        return self._key

    def set_key(self, key):
        # the old credential belongs to the old key: gone first
        self.state.delete("credential")
        self.state.put("key", key.d.to_bytes(32, "big"))
        self._key = key

    def credential(self):
        return self.state.get("credential")

    def set_credential(self, cred, anchor):
        self.state.put("anchor", anchor)
        self.state.put("credential", cred)

    def anchor(self):
        return self.state.get("anchor")

    def host(self):
        b = self.state.get("host")
        return b.decode() if b else ""

    def set_host(self, host):
        self.state.put("host", host.encode())

    def scope(self):
        b = self.state.get("scope")
        return b[0] if b else SCOPE_ALL

    def set_scope(self, bits):
        self.state.put("scope", bytes((bits,)))

    def locked(self):
        return self.state.get("locked") == b"\x01"

    def lock(self):
        self.state.put("locked", b"\x01")

    def status(self):
        if self.locked():
            return LOCKED
        if self.key() is None:
            return BLANK
        if self.credential() is None:
            return KEYED
        return INSTALLED

    def wipe(self):
        """Destroy the key (and the nonce pool derived from it), credential, config, lock."""
        if self.state.get("key") is not None:
            self.state.put("key", bytes(32))  # overwrite before delete
        for name in _NAMES:
            self.state.delete(name)
        self._key = None
        self.state.load()

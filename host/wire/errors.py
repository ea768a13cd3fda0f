"""Refusals of the wire format, one class per reason code.

`docs/protocol.md` ("Reason codes") lists the codes; each class here carries one as its
`reason` attribute, which is stable and meant for logs, metrics and API responses, while the
message is for people. Every parse or verify function in `host.wire` raises only subclasses of
`WireError`; errors from cbor2, cryptography, zlib or base64 are wrapped with
`raise ... from err` so the cause stays on the traceback.
"""
from __future__ import annotations

__all__ = [
    "WireError", "Malformed", "Oversized", "WrongAlg", "BadSignature", "UnknownKey",
    "UntrustedIssuer", "Expired", "NotYetValid", "WrongPurpose", "REASONS",
]


class WireError(Exception):
    """A token, credential or list was refused. `reason` is the stable code."""

    reason: str = "error"
    default_message: str = "refused"

    def __init__(self, message: str | None = None) -> None:
        self.message: str = message or self.default_message
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


class Malformed(WireError):
    """Not one well-formed, deterministically encoded item of the expected shape."""

    reason = "malformed"
    default_message = "not a well-formed item of the expected shape"


class Oversized(WireError):
    """Larger than the size limit for its kind."""

    reason = "oversized"
    default_message = "larger than the limit for its kind"


class WrongAlg(WireError):
    """The protected `alg` header is not ES256 (-7)."""

    reason = "wrong_alg"
    default_message = "protected alg is not ES256"


class BadSignature(WireError):
    """The signature does not verify, or is not 64 bytes r||s."""

    reason = "bad_signature"
    default_message = "signature does not verify"


class UnknownKey(WireError):
    """No trusted key has this kid."""

    reason = "unknown_key"
    default_message = "no trusted key has this kid"


class UntrustedIssuer(WireError):
    """The issuer is not an agency in the trust list, or signed with another agency's key."""

    reason = "untrusted_issuer"
    default_message = "issuer is not an agency in the trust list"


class Expired(WireError):
    """Past `exp` plus the leeway."""

    reason = "expired"
    default_message = "expired"


class NotYetValid(WireError):
    """Before `nbf` (or issued after now) minus the leeway."""

    reason = "not_yet_valid"
    default_message = "not yet valid"


class WrongPurpose(WireError):
    """A tap token of another purpose than the caller asked for."""

    reason = "wrong_purpose"
    default_message = "token has another purpose than asked for"


# reason code -> class, for code that turns codes back into exceptions (tests, API clients)
REASONS: dict[str, type[WireError]] = {cls.reason: cls for cls in (
    Malformed, Oversized, WrongAlg, BadSignature, UnknownKey, UntrustedIssuer, Expired,
    NotYetValid, WrongPurpose)}

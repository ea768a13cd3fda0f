"""The wire format of docs/protocol.md for CPython (cbor2 + cryptography).

Every parse or verify function raises only `WireError` subclasses, each with a stable
`reason` code.
"""
from .cbor import decode, encode
from .claims import LEEWAY
from .cose import Sign1, parse_sign1, sign1, verify
from .credential import Credential, CredentialCache, issue, ueid_from_mac
from .errors import (REASONS, BadSignature, Expired, Malformed, NotYetValid, Oversized,
                     UnknownKey, UntrustedIssuer, WireError, WrongAlg, WrongPurpose)
from .keys import cose_key, decode_cose_key, generate, kid
from .ndef import parse_tap_url, read_tag_url, tag_data, tap_url
from .status import (REVOKED, SUSPENDED, VALID, StatusList, StatusListToken,
                     build_status_list)
from .tap import (CHECKIN, CONSENT, SCOPE_ALL, SCOPE_NAMES, STATUS, Tap, build_tap,
                  encode_challenge, parse_challenge, parse_scope, scope_names, split_sequence,
                  verify_tap)
from .trust import Agency, TrustList, build_trust_list

__all__ = [
    "decode", "encode", "LEEWAY", "Sign1", "parse_sign1", "sign1", "verify",
    "Credential", "CredentialCache", "issue", "ueid_from_mac",
    "REASONS", "WireError", "Malformed", "Oversized", "WrongAlg", "BadSignature", "UnknownKey",
    "UntrustedIssuer", "Expired", "NotYetValid", "WrongPurpose",
    "cose_key", "decode_cose_key", "generate", "kid",
    "parse_tap_url", "read_tag_url", "tag_data", "tap_url",
    "VALID", "REVOKED", "SUSPENDED", "StatusList", "StatusListToken", "build_status_list",
    "STATUS", "CONSENT", "CHECKIN", "SCOPE_ALL", "SCOPE_NAMES", "parse_scope", "scope_names",
    "Tap", "build_tap", "encode_challenge", "parse_challenge",
    "split_sequence", "verify_tap",
    "Agency", "TrustList", "build_trust_list",
]

"""The exception hierarchy: one base, one stable reason code per class."""
import pytest

from host.wire import errors


def test_every_reason_of_the_spec_has_one_class():
    assert set(errors.REASONS) == {
        "malformed", "oversized", "wrong_alg", "bad_signature", "unknown_key",
        "untrusted_issuer", "expired", "not_yet_valid", "wrong_purpose"}
    for reason, cls in errors.REASONS.items():
        assert issubclass(cls, errors.WireError)
        assert cls.reason == reason


def test_message_and_reason():
    e = errors.Expired("credential expired at 5")
    assert e.reason == "expired"
    assert e.message == "credential expired at 5"
    assert str(e) == "expired: credential expired at 5"
    assert errors.BadSignature().message == "signature does not verify"


def test_no_builtin_exception_is_a_base():
    for cls in errors.REASONS.values():
        assert not issubclass(cls, (ValueError, KeyError, IndexError, TypeError))
    with pytest.raises(errors.WireError):
        raise errors.Malformed()

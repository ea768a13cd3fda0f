"""`xinka-authority` on its own: the encrypted authority key, the agency book, the lists it
signs (checked by host.wire and by pycose, an independent COSE implementation), `show`, and every
refusal with its own exit code and nothing written."""
import os

import pytest
from cryptography.hazmat.primitives import serialization
import cbor2
from cose.keys import EC2Key
from cose.messages import CoseMessage

from authority import cli
from authority.errors import EXIT_CODES
from host import wire
from host.wire import keys
from host.wire.claims import AGENCIES, SEQ

from .conftest import AUTHORITY_ID, PASSPHRASE, Tool, public_pem_file

DAY = 86400


def signing_key(tool):
    pem = (tool.folder / "authority.key.pem").read_bytes()
    return serialization.load_pem_private_key(pem, PASSPHRASE.encode())


def anchor(tool):
    return serialization.load_pem_public_key((tool.folder / "authority.pem").read_bytes())


def load(tool, seq, now=None):
    data = (tool.folder / f"trust-{seq}.cwt").read_bytes()
    return wire.TrustList.load(data, anchor(tool), now or cli.now_s())


def test_exit_codes_are_distinct_and_apart_from_provision():
    codes = list(EXIT_CODES.values())
    assert len(codes) == len(set(codes))
    assert all(40 <= c < 60 for c in codes)


def test_init_writes_an_encrypted_pkcs8_key_and_refuses_to_overwrite(tool):
    pem = (tool.folder / "authority.key.pem").read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert os.stat(tool.folder / "authority.key.pem").st_mode & 0o077 == 0
    with pytest.raises(TypeError):           # no key without the passphrase
        serialization.load_pem_private_key(pem, None)
    key = signing_key(tool)
    assert keys.kid(key) == keys.kid(anchor(tool))
    before = tool.book()
    out = tool("init", "--id", "OTHER", expect=EXIT_CODES["already_initialised"])
    assert "拒绝覆盖" in out and "refusing to overwrite" in out
    assert (tool.folder / "authority.key.pem").read_bytes() == pem and tool.book() == before


def test_init_refuses_a_short_passphrase_and_writes_nothing(tmp_path, monkeypatch, capsys):
    t = Tool(tmp_path / "b", monkeypatch, capsys)
    monkeypatch.setenv("BUREAU_PASSPHRASE", "short")
    out = t("init", "--id", AUTHORITY_ID, expect=EXIT_CODES["config_error"])
    assert "口令太短" in out and "too short" in out
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())


def test_a_key_in_clear_or_a_wrong_passphrase_signs_nothing(tool, agency_key, monkeypatch):
    tool("agency", "add", "A330100", "杭州安心家政", "--key", agency_key[1])
    before = tool.book()
    monkeypatch.setenv("BUREAU_PASSPHRASE", "not the passphrase")
    tool("publish", expect=EXIT_CODES["bad_passphrase"])
    monkeypatch.setenv("BUREAU_PASSPHRASE", PASSPHRASE)
    clear = signing_key(tool).private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
    (tool.folder / "authority.key.pem").write_bytes(clear)
    out = tool("publish", expect=EXIT_CODES["key_in_clear"])
    assert "未加密" in out and "not stored encrypted" in out
    assert tool.book() == before and not list(tool.folder.glob("trust-*.cwt"))


def test_agency_add_takes_public_keys_only_and_refuses_duplicates(tool, agency_key, tmp_path):
    private = tmp_path / "agency.key.pem"
    private.write_bytes(agency_key[0].private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    before = tool.book()
    out = tool("agency", "add", "A330100", "x", "--key", private,
               expect=EXIT_CODES["not_a_public_key"])
    assert "私钥" in out and "private key" in out
    not_pem = tmp_path / "junk.pem"
    not_pem.write_text("hello")
    tool("agency", "add", "A330100", "x", "--key", not_pem, expect=EXIT_CODES["not_a_public_key"])
    assert tool.book() == before
    out = tool("agency", "add", "A330100", "杭州安心家政", "--key", agency_key[1])
    assert keys.kid(agency_key[0]).hex() in out
    after = tool.book()
    tool("agency", "add", "A330100", "again", "--key",
         public_pem_file(tmp_path / "k2.pem", keys.generate()),
         expect=EXIT_CODES["agency_exists"])
    tool("agency", "add", "A330101", "same key", "--key", agency_key[1],
         expect=EXIT_CODES["key_conflict"])
    tool("agency", "suspend", "A339999", "--reason", "x", expect=EXIT_CODES["unknown_agency"])
    tool("agency", "add", "A330101", "x", "--key", agency_key[1], "--valid", "two years",
         expect=EXIT_CODES["config_error"])
    assert tool.book() == after


def test_publish_signs_a_list_that_host_wire_and_pycose_both_accept(tool, agency_key, tmp_path):
    issuing = public_pem_file(tmp_path / "desk.pub.pem", keys.generate())
    tool("agency", "add", "A330100", "杭州安心家政", "--key", issuing, "--key", agency_key[1])
    out = tool("publish", "--valid", "7d", "--out", tmp_path / "copy.cwt")
    assert "trust list seq 1: 1 agencies" in out
    data = (tool.folder / "trust-1.cwt").read_bytes()
    assert (tmp_path / "copy.cwt").read_bytes() == data
    now = cli.now_s()
    trust = load(tool, 1, now)
    assert (trust.iss, trust.seq, trust.exp - now) == (AUTHORITY_ID, 1, 7 * DAY)
    a = trust.agency("A330100")
    assert a.name == "杭州安心家政" and keys.kid(agency_key[0]) in a.kids and len(a.kids) == 2
    # pycose, on its own: the signature over the claims with the anchor's public numbers
    msg = CoseMessage.decode(data)
    ck = keys.cose_key(anchor(tool))
    msg.key = EC2Key.from_dict({1: 2, -1: 1, -2: ck[-2], -3: ck[-3]})
    assert msg.verify_signature()
    claims = cbor2.loads(msg.payload)
    assert claims[SEQ] == 1 and len(claims[AGENCIES]) == 1
    assert "trust list seq 2" in tool("publish")
    assert load(tool, 2).seq == 2
    tool("publish", "--seq", "2", expect=EXIT_CODES["config_error"])
    assert load(tool, 2).seq == 2 and not (tool.folder / "trust-3.cwt").exists()


def test_show_checks_any_list_file(tool, agency_key, tmp_path, monkeypatch, capsys):
    tool("agency", "add", "A330100", "杭州安心家政", "--key", agency_key[1])
    tool("publish")
    out = tool("show", tool.folder / "trust-1.cwt")
    assert "seq 1" in out and "signature ok" in out and "A330100" in out
    assert keys.kid(agency_key[0]).hex() in out
    # the same file against another authority's anchor; a file with one byte changed
    other = Tool(tmp_path / "other", monkeypatch, capsys)
    other("init", "--id", "CN-XX")
    out = tool("show", tool.folder / "trust-1.cwt", "--anchor", other.folder / "authority.pem",
               expect=EXIT_CODES["list_invalid"])
    assert "unknown_key" in out
    data = bytearray((tool.folder / "trust-1.cwt").read_bytes())
    data[-5] ^= 1
    (tmp_path / "bad.cwt").write_bytes(bytes(data))
    assert "bad_signature" in tool("show", tmp_path / "bad.cwt", expect=EXIT_CODES["list_invalid"])
    (tmp_path / "junk.cwt").write_bytes(b"\x00junk")
    tool("show", tmp_path / "junk.cwt", expect=EXIT_CODES["list_invalid"])
    # an expired list is still shown, and exits with its own code
    old = wire.build_trust_list(signing_key(tool), AUTHORITY_ID, [], seq=9, iat=1_700_000_000,
                                exp=1_700_086_400)
    (tmp_path / "old.cwt").write_bytes(old)
    out = tool("show", tmp_path / "old.cwt", expect=EXIT_CODES["list_expired"])
    assert "seq 9" in out and "expired" in out


def test_rotation_keeps_the_old_key_for_the_overlap_then_drops_it(tool, agency_key, tmp_path,
                                                                  monkeypatch):
    t0 = cli.now_s()
    monkeypatch.setattr(cli, "now_s", lambda: t0)
    tool("agency", "add", "A330100", "杭州安心家政", "--key", agency_key[1])
    new = keys.generate()
    out = tool("agency", "rotate-key", "A330100", "--key",
               public_pem_file(tmp_path / "new.pub.pem", new), "--overlap", "30d")
    assert "retires at" in out
    tool("publish", "--valid", "2d")
    old_kid, new_kid = keys.kid(agency_key[0]), keys.kid(new)
    assert set(load(tool, 1, t0).agency("A330100").kids) == {old_kid, new_kid}
    monkeypatch.setattr(cli, "now_s", lambda: t0 + 29 * DAY)
    out = tool("publish", "--valid", "2d")
    assert "retires at" in out
    assert set(load(tool, 2, t0 + 29 * DAY).agency("A330100").kids) == {old_kid, new_kid}
    monkeypatch.setattr(cli, "now_s", lambda: t0 + 30 * DAY + 1)
    out = tool("publish", "--valid", "2d")
    assert f"key {old_kid.hex()} retired" in out
    assert load(tool, 3, t0 + 30 * DAY + 1).agency("A330100").kids == (new_kid,)
    # with two live keys, the one to replace must be named; a kid that is not the agency's is
    # refused
    other = public_pem_file(tmp_path / "other.pub.pem", keys.generate())
    tool("agency", "add", "A330101", "b", "--key", agency_key[1].parent / "new.pub.pem",
         expect=EXIT_CODES["key_conflict"])
    tool("agency", "rotate-key", "A330100", "--key", other, "--old", "ffff",
         expect=EXIT_CODES["key_conflict"])
    before = tool.book()
    tool("agency", "rotate-key", "A330100", "--key", other, "--old", agency_key[1],
         expect=EXIT_CODES["key_conflict"])           # the old key is no longer live
    assert tool.book() == before
    tool("agency", "rotate-key", "A330100", "--key", other, "--old",
         tmp_path / "new.pub.pem", "--overlap", "1d")
    assert "retires" in tool("agency", "list")


def test_suspend_reinstate_remove(tool, agency_key, tmp_path):
    tool("agency", "add", "A330100", "杭州安心家政", "--key", agency_key[1])
    tool("agency", "add", "A330101", "b", "--key",
         public_pem_file(tmp_path / "b.pub.pem", keys.generate()))
    tool("agency", "suspend", "A330100", "--reason", "complaints")
    tool("publish")
    trust = load(tool, 1)
    assert trust.agency("A330100") is None and trust.agency("A330101") is not None
    assert "suspended" in tool("agency", "list")
    tool("agency", "reinstate", "A330100")
    tool("publish")
    assert load(tool, 2).agency("A330100") is not None
    before = tool.book()
    out = tool("agency", "remove", "A330101", expect=EXIT_CODES["confirmation_required"])
    assert "--yes" in out and tool.book() == before
    tool("agency", "remove", "A330101", "--yes")
    tool("publish")
    assert load(tool, 3).agency("A330101") is None
    tool("agency", "reinstate", "A330101", expect=EXIT_CODES["unknown_agency"])


def test_commands_need_an_initialised_folder(tmp_path, monkeypatch, capsys):
    t = Tool(tmp_path / "empty", monkeypatch, capsys)
    out = t("publish", expect=EXIT_CODES["not_initialised"])
    assert "xinka-authority init" in out


def test_help_is_enough_to_publish_a_first_list():
    from click.testing import CliRunner
    text = CliRunner().invoke(cli.cli, ["--help"]).output
    for step in ("init --id", "agency add", "publish --verifier", "authority.pem"):
        assert step in text

"""A provisioning desk for tests and bench_provision.py: an authority, an encrypted agency key,
a trust list and a profile in one folder, as a technician's desk holds them."""
import json
import time

from cryptography.hazmat.primitives import serialization

from host import wire
from host.wire import keys
from provisioning import agency_key


AGENCY = "A330100"
AGENCY_NAME = "杭州安心家政"
PASSPHRASE = "correct horse 马"
NDEF_HOST = "v.example.cn"
DAY = 86400


def make_profile(d, nbf_offset=-30 * DAY, exp_offset=365 * DAY, verifier="http://127.0.0.1:9",
                 api_key="", others=()):
    """An authority, an agency key (encrypted file), a trust list and a profile in dir d.
    Returns (profile path, agency key, trust list, authority key, status key): the agency's
    second key in the trust list, with which the verifier signs its status list.

    others: (agency id, name, folder) of more agencies in the same trust list, each with a
    desk of its own in its folder (agency key, trust list, authority key, profile); their
    status keys are left out of the trust list (the verifier holds none of them)."""
    now = int(time.time())
    authority = keys.generate()
    akey = agency_key.create(str(d / "agency.key"), PASSPHRASE)
    status_key = keys.generate()
    entries = [wire.Agency(AGENCY, AGENCY_NAME, (akey, status_key), now + nbf_offset,
                           now + exp_offset)]
    for agency_id, name, folder in others:
        folder.mkdir(parents=True, exist_ok=True)
        other_key = agency_key.create(str(folder / "agency.key"), PASSPHRASE)
        entries.append(wire.Agency(agency_id, name, (other_key,), now + nbf_offset,
                                   now + exp_offset))
    trust = wire.build_trust_list(authority, "CN-ZJ-HZ-COMMERCE", entries,
                                  seq=1, iat=now - DAY, exp=now + 365 * DAY)
    authority_pem = authority.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for folder in [d] + [o[2] for o in others]:
        (folder / "trust.cwt").write_bytes(trust)
        (folder / "authority.pem").write_bytes(authority_pem)
    set_profile(d, verifier=verifier, api_key=api_key)
    for agency_id, _, folder in others:
        set_profile(folder, agency_id=agency_id)
    return d / "agency.json", akey, trust, authority, status_key


def set_profile(d, **changes):
    path = d / "agency.json"
    prof = json.loads(path.read_text()) if path.exists() else {
        "agency_id": AGENCY, "key_file": "agency.key", "trust_list": "trust.cwt",
        "authority_key": "authority.pem", "ndef_host": NDEF_HOST, "log_file": "issuance.log"}
    prof.update(changes)
    path.write_text(json.dumps(prof))
    return path

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
                 api_key=""):
    """An authority, an agency key (encrypted file), a trust list and a profile in dir d.
    Returns (profile path, agency key, trust list, authority key, status key): the agency's
    second key in the trust list, with which the verifier signs its status list."""
    now = int(time.time())
    authority = keys.generate()
    akey = agency_key.create(str(d / "agency.key"), PASSPHRASE)
    status_key = keys.generate()
    trust = wire.build_trust_list(
        authority, "CN-ZJ-HZ-COMMERCE",
        [wire.Agency(AGENCY, AGENCY_NAME, (akey, status_key), now + nbf_offset,
                     now + exp_offset)],
        seq=1, iat=now - DAY, exp=now + 365 * DAY)
    (d / "trust.cwt").write_bytes(trust)
    (d / "authority.pem").write_bytes(authority.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    set_profile(d, verifier=verifier, api_key=api_key)
    return d / "agency.json", akey, trust, authority, status_key


def set_profile(d, **changes):
    path = d / "agency.json"
    prof = json.loads(path.read_text()) if path.exists() else {
        "agency_id": AGENCY, "key_file": "agency.key", "trust_list": "trust.cwt",
        "authority_key": "authority.pem", "ndef_host": NDEF_HOST, "log_file": "issuance.log"}
    prof.update(changes)
    path.write_text(json.dumps(prof))
    return path

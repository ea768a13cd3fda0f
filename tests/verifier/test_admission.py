"""Agency admission over the HTTP API, on SQLite and PostgreSQL: apply, the bureau asks for
changes, the applicant amends, the bureau approves (the agency, its first console login and its
public keys for the next trust list) or refuses; every invalid USCC rule, a duplicate, a private
key, an agency key on a bureau route — each refused with its reason and nothing written."""
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from host.wire import keys
from verifier.models import Agency, AgencyApplication, AuditEntry, StaffUser
from verifier.services import admission, audit, staff

VALID_USCC = "91110000600037341L"
OTHER_USCC = "91330106MA2H2K3X03"


def pem(key, private=False):
    if private:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def application(**over):
    d = {"name": "杭州诚信家政服务有限公司", "uscc": VALID_USCC,
         "address": "杭州市西湖区文三路 1 号", "legal_representative": "王芳",
         "licence_ref": "scan-2026-0042.pdf", "pledge": True,
         "public_keys": [pem(keys.generate()), pem(keys.generate())],
         "username": "wangfang", "password": "a long password 1"}
    d.update(over)
    return d


def counts(env):
    with env.x.db.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(t))
                     for t in (AgencyApplication, Agency, StaffUser, AuditEntry))


@pytest.mark.parametrize("code,rule", [
    ("9111000060003734", "uscc_length"),
    ("91110000600037341LX", "uscc_length"),
    ("9A110000600037341L", "uscc_digits"),          # organisation type must be a digit here
    ("911100006000373I1L", "uscc_charset"),         # I is not in the alphabet
    ("91110000600037341X", "uscc_checksum"),
])
def test_each_uscc_rule_is_named(env, code, rule):
    before = counts(env)
    r = env.client.post("/api/v1/admission/applications", json=application(uscc=code))
    assert r.status_code == 400 and r.get_json()["reason"] == rule
    assert "/" in r.get_json()["message"]           # English / Chinese
    assert counts(env) == before


def test_apply_ask_for_changes_amend_approve(env):
    op = env.auth()
    agency_key = keys.generate()
    r = env.client.post("/api/v1/admission/applications", json=application(
        uscc="9111 0000 6000 3734 1l", public_keys=[pem(agency_key)]))
    assert r.status_code == 201, r.get_json()
    app, token = r.get_json()["application"], r.get_json()["token"]
    assert app["uscc"] == VALID_USCC and app["state"] == "submitted"
    assert "password" not in str(app) and "token" not in app

    # a second application for the same code is refused while this one is open
    before = counts(env)
    r = env.client.post("/api/v1/admission/applications",
                        json=application(username="other1"))
    assert r.status_code == 409 and r.get_json()["reason"] == "duplicate_application"
    assert counts(env) == before

    # the applicant may not act as the bureau, nor may an agency's key
    path = f"/api/v1/admission/applications/{app['id']}"
    for headers in ({}, env.auth("A330100"),
                    {"Authorization": f"Bearer {token}"}):
        r = env.client.post(path + "/approve", json={"agency_id": "A330199"}, headers=headers)
        assert r.status_code in (401, 403), headers
    assert env.client.get("/api/v1/admission/applications",
                          headers=env.auth("A330100")).status_code == 403

    r = env.client.post(path + "/request-changes", json={"note": "营业执照扫描件不清晰"},
                        headers=op)
    assert r.get_json()["application"]["state"] == "changes_requested"
    r = env.client.post(path + "/approve", json={"agency_id": "A330199"}, headers=op)
    assert r.status_code == 409 and r.get_json()["reason"] == "invalid_transition"
    mine = env.client.get(path + "/mine", headers={"Authorization": f"Bearer {token}"})
    assert mine.get_json()["application"]["note"] == "营业执照扫描件不清晰"
    assert env.client.get(path + "/mine", headers={"Authorization": "Bearer x"}).status_code == 404
    r = env.client.put(path, json=application(licence_ref="scan-2026-0042-v2.pdf",
                                              public_keys=[pem(agency_key)]),
                       headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.get_json()["application"]["state"] == "submitted"

    r = env.client.post(path + "/approve", json={"agency_id": "A330100"}, headers=op)
    assert r.status_code == 409 and r.get_json()["reason"] == "agency_exists"
    r = env.client.post(path + "/approve", json={"agency_id": "A330199"}, headers=op)
    assert r.status_code == 200 and r.get_json()["application"]["agency_id"] == "A330199"
    with env.x.db.session() as s:
        assert s.get(Agency, "A330199").name == "杭州诚信家政服务有限公司"
        user, reason = staff.authenticate(s, "wangfang", "a long password 1", env.world.now)
        assert reason is None and user.agency_id == "A330199"
        actions = [e["action"] for e in audit.entries(s, None, 50)]
        ok, _n, _bad = audit.verify_chain(s)
    assert ok
    for a in ("admission.submit", "admission.request_changes", "admission.amend",
              "admission.approve"):
        assert a in actions
    r = env.client.get(path + "/keys.pem", headers=op)
    assert r.status_code == 200 and r.headers["X-Agency-Id"] == "A330199"
    assert r.get_data(as_text=True) == pem(agency_key)      # the public key, nothing else
    r = env.client.post(path + "/refuse", json={"note": "x"}, headers=op)
    assert r.status_code == 409


def test_one_pasted_text_may_carry_several_keys(env):
    """The page's text box holds one paste: every key in it is kept, in order."""
    issuing, status_key = keys.generate(), keys.generate()
    r = env.client.post("/api/v1/admission/applications", json=application(
        public_keys=pem(issuing) + "\n" + pem(status_key)))
    assert r.status_code == 201, r.get_json()
    app_id = r.get_json()["application"]["id"]
    with env.x.db.session() as s:
        kept = admission.get(s, app_id).public_keys
    assert kept == pem(issuing) + pem(status_key)


def test_an_open_application_holds_its_login_name(env):
    """Two applications asking for one username: the second is refused at once, not when the
    bureau approves it."""
    r = env.client.post("/api/v1/admission/applications", json=application())
    assert r.status_code == 201
    before = counts(env)
    r = env.client.post("/api/v1/admission/applications",
                        json=application(uscc=OTHER_USCC))
    assert (r.status_code, r.get_json()["reason"]) == (409, "username_taken")
    assert counts(env) == before


def test_refuse_and_bad_input_write_nothing(env):
    op = env.auth()
    before = counts(env)
    for body, reason in ((application(public_keys=[pem(keys.generate(), private=True)]),
                          "private_key_refused"),
                         (application(pledge=False), "pledge_required"),
                         (application(address=""), "missing_field"),
                         (application(password="short"), "weak_password"),
                         (application(public_keys=["not a key"]), "bad_public_key"),
                         (application(public_keys=[pem(keys.generate()) + "and a note"]),
                          "bad_public_key"),
                         (application(public_keys=[pem(keys.generate()).replace(
                             "MFkw", "MFkx", 1)]), "bad_public_key")):
        r = env.client.post("/api/v1/admission/applications", json=body)
        assert r.status_code == 400 and r.get_json()["reason"] == reason, reason
    assert counts(env) == before
    r = env.client.post("/api/v1/admission/applications",
                        json=application(uscc=OTHER_USCC, username="li-ming"))
    app_id = r.get_json()["application"]["id"]
    path = f"/api/v1/admission/applications/{app_id}"
    assert env.client.post(path + "/refuse", json={"note": " "}, headers=op).status_code == 400
    r = env.client.post(path + "/refuse", json={"note": "经营范围不符"}, headers=op)
    assert r.get_json()["application"]["state"] == "refused"
    listed = env.client.get("/api/v1/admission/applications?state=refused", headers=op)
    assert [a["id"] for a in listed.get_json()["applications"]] == [app_id]
    # a refused code may apply again
    r = env.client.post("/api/v1/admission/applications",
                        json=application(uscc=OTHER_USCC, username="li-ming2"))
    assert r.status_code == 201

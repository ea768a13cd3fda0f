"""One person, one file across agencies (一人一档) and the bureau's ban list, through the
verifier's HTTP API on SQLite and PostgreSQL: enrolment with an ID number, the person's badges
at two agencies, a ban that revokes both and republishes both status lists, the employer
page, the ban's end and an appeal, the bureau secret's rotation, 注销, concurrency — and every
refusal writing nothing."""
import csv
import io
import threading

import pytest
from sqlalchemy import func, select

from host.wire import read_tag_url, sample, tag_data
from testkit.verifier import Env, make_app
from tests.host.test_idnumber import GOOD, with_check_digit, wrong_check_digit
from verifier.models import AuditEntry, Badge, Ban, Person, Worker
from verifier.services import audit, registry

A0, A1 = "A330100", "A330101"           # badges 0, 2, 4, 6 and 1, 3, 5, 7
YEAR = 365 * 86400


class Bureau:
    """The env plus a bureau API key."""

    def __init__(self, env):
        self.env = env
        x = env.x
        with x.db.session() as s:
            self.key = registry.create_api_key(s, None, "bureau", x.now(), "test",
                                               role="bureau")

    def post(self, path, body, key=None):
        return self.env.client.post(f"/api/v1/bureau{path}", json=body,
                                    headers={"Authorization": f"Bearer {key or self.key}"})

    def get(self, path, key=None):
        return self.env.client.get(f"/api/v1/bureau{path}",
                                   headers={"Authorization": f"Bearer {key or self.key}"})


def enrol(env, agency, ref, number):
    return env.client.post(f"/api/v1/agencies/{agency}/workers/enrol",
                           json={"worker_ref": ref, "id_number": number},
                           headers=env.auth(agency))


def serial(env, i):
    with env.x.db.session() as s:
        return s.get(Badge, env.badge_ids[i]).serial


def counts(env):
    with env.x.db.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(t))
                     for t in (Person, Ban, Worker, AuditEntry))


def verify(env, i):
    b = env.world.badges[i]
    return env.client.post("/api/v1/verify", data=b.tap("status") + b.credential,
                           content_type="application/cbor").json


def page(env, i):
    b = env.world.badges[i]
    url = read_tag_url(tag_data(sample.STATUS_HOST, b.tap("status"), b.credential))
    return env.client.get(url[len(f"https://{sample.STATUS_HOST}"):],
                          headers={"Accept-Language": "en"}).get_data(as_text=True)


def ban_body(person_hash, **kw):
    return dict({"person_hash": person_hash, "category": "theft",
                 "legal_basis": "《家政服务业信用建设指导意见》; case 2026-17",
                 "decided_by": "Hangzhou Commerce Bureau, credit office",
                 "appeal_route": "written appeal to the bureau within 60 days"}, **kw)


@pytest.fixture
def bureau(env):
    return Bureau(env)


def person_of(env, agency, ref):
    r = env.client.get(f"/api/v1/agencies/{agency}/workers", headers=env.auth(agency))
    (w,) = [w for w in r.json["workers"] if w["worker_ref"] == ref]
    return w


@pytest.mark.parametrize("number, part", [
    (GOOD[:-2], "length"), (GOOD[:3] + "O" + GOOD[4:], "characters"),
    (wrong_check_digit(GOOD), "check_digit"),
    (with_check_digit("11010519900230032"), "birth_date"),
    (with_check_digit("11010520990101032"), "birth_date"),
    (with_check_digit("99999919880516032"), "region")])
def test_a_bad_id_number_is_refused_naming_the_part_and_nothing_is_written(env, number, part):
    before = counts(env)
    r = enrol(env, A0, "W-NEW", number)
    assert r.status_code == 400, r.json
    assert (r.json["reason"], r.json["part"]) == ("id_number_invalid", part)
    assert number not in r.get_data(as_text=True)
    assert counts(env) == before


def test_two_agencies_one_file_then_a_ban_revokes_both_until_its_end(env, bureau):
    first = enrol(env, A0, "W-0000000", GOOD)            # badge 0's worker at A0
    assert first.status_code == 200, first.json
    assert first.json["person_new"] and first.json["elsewhere"] == []
    second = enrol(env, A1, "W-0000001", GOOD)           # badge 1's worker at A1
    assert second.status_code == 200 and not second.json["person_new"]
    assert second.json["elsewhere"] == [{"agency": A0, "serial": serial(env, 0),
                                         "state": "registered"}]
    assert counts(env)[0] == 1
    w = person_of(env, A1, "W-0000001")
    assert w["id_number_on_file"] and w["person_linked"] and "id_number" not in w
    # the bureau finds the person from A0's badge, and sees both agencies
    r = bureau.get(f"/persons?agency={A0}&serial={serial(env, 0)}")
    assert r.status_code == 200, r.json
    (person,) = r.json["persons"]
    assert person["agencies"] == [A0, A1] and len(person["person_hash"]) == 64
    assert [p["person_hash"] for p in bureau.get("/persons?multi_agency=1").json["persons"]] \
        == [person["person_hash"]]
    digest = person["person_hash"]

    # refusals, each writing nothing
    before = counts(env)
    for key in (env.keys[A0], env.operator):
        r = bureau.post("/bans", ban_body(digest), key=key)
        assert (r.status_code, r.json["reason"]) == (403, "bureau_only")
    r = bureau.post("/bans", ban_body("0" * 64))
    assert (r.status_code, r.json["reason"]) == (404, "unknown_person")
    now = env.x.now()
    r = bureau.post("/bans", ban_body(digest, starts_at=now, ends_at=now - 1))
    assert (r.status_code, r.json["reason"]) == (400, "ban_ends_before_start")
    r = bureau.post("/bans", ban_body(digest, category="rude"))
    assert (r.status_code, r.json["reason"]) == (400, "bad_category")
    r = bureau.post("/bans", ban_body(digest, appeal_route=""))
    assert (r.status_code, r.json["reason"]) == (400, "appeal_route_required")
    assert counts(env) == before
    assert verify(env, 0)["status"] == "valid" and verify(env, 1)["status"] == "valid"

    # the ban: both badges revoked, both agencies' status lists republished
    seqs = {a: env.x.store.snapshot.lists[f"https://{sample.STATUS_HOST}/sl/{a}"].seq
            for a in (A0, A1)}
    r = bureau.post("/bans", ban_body(digest))
    assert r.status_code == 201, r.json
    ban = r.json["ban"]
    assert r.json["badges_revoked"] == 2 and r.json["status_lists"] == {A0: "published",
                                                                          A1: "published"}
    assert ban["state"] == "active" and ban["ends_at"] - ban["starts_at"] in (
        5 * YEAR, 5 * YEAR + 86400, 5 * YEAR + 2 * 86400)   # five calendar years
    for a in (A0, A1):
        assert env.x.store.snapshot.lists[f"https://{sample.STATUS_HOST}/sl/{a}"].seq \
            == seqs[a] + 1
    for i in (0, 1):
        v = verify(env, i)
        assert (v["valid"], v["status"]) == (False, "revoked"), v
        html = page(env, i)
        assert 'data-colour="red"' in html and 'data-reason="banned"' in html
        assert "Not permitted to work (bureau decision)." in html
        assert "theft" not in html and "revoked" not in html.lower().split("<body")[1]
    assert verify(env, 2)["status"] == "valid"               # another person: untouched
    assert 'data-colour="green"' in page(env, 4) or 'data-colour="yellow"' in page(env, 4)

    # issuance refused everywhere, naming the end and not the reason
    before = counts(env)
    r = enrol(env, A0, "W-NEW-A0", GOOD)
    assert (r.status_code, r.json["reason"]) == (403, "person_banned")
    assert r.json["ends_at"] == ban["ends_at"] and r.json["ends_on"] in r.json["message"]
    assert "theft" not in r.get_data(as_text=True)
    r = env.client.post(f"/api/v1/agencies/{A1}/badges", headers=env.auth(A1),
                        json={"kid": "ab" * 8, "serial": "A4CF120000AA",
                              "worker_ref": "W-0000001"})
    assert (r.status_code, r.json["reason"]) == (403, "person_banned")
    assert counts(env) == before

    # the export: hashes, no ID number
    csv_text = bureau.get("/bans?format=csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff"))))
    assert [(r["person_hash"], r["state"]) for r in rows] == [(digest, "active")]
    assert GOOD not in csv_text and GOOD[-8:] not in csv_text

    # past its end: issuance works again, the old badges stay revoked
    env.app.config["FIXED_NOW"] = ban["ends_at"] + 60
    assert bureau.post("/sweep", {}).json == {"badges_revoked": 0, "status_lists": {}}
    r = enrol(env, A0, "W-NEW-A0", GOOD)
    assert r.status_code == 200, r.json
    assert r.json["elsewhere"] == []                         # the old badges are revoked
    with env.x.db.session() as s:
        states = [s.get(Badge, env.badge_ids[i]).state for i in (0, 1)]
        actions = list(s.scalars(select(AuditEntry.action)
                                 .where(AuditEntry.action.like("ban.%"))
                                 .order_by(AuditEntry.id)))
        assert audit.verify_chain(s)[0]
    assert states == ["revoked", "revoked"]
    assert actions == ["ban.create", "ban.start", "ban.end"]
    assert bureau.get(f"/bans/{ban['id']}").json["ban"]["state"] == "ended"


def test_a_ban_lifted_on_appeal_ends_early_and_badges_stay_revoked(env, bureau):
    enrol(env, A0, "W-0000000", GOOD)
    digest = bureau.get(f"/persons?agency={A0}&serial={serial(env, 0)}") \
        .json["persons"][0]["person_hash"]
    ban = bureau.post("/bans", ban_body(digest)).json["ban"]
    r = bureau.post(f"/bans/{ban['id']}/lift", {"reason": ""})
    assert (r.status_code, r.json["reason"]) == (400, "reason_required")
    r = bureau.post(f"/bans/{ban['id']}/lift", {"reason": "appeal 2027-3 upheld"})
    assert r.status_code == 200 and r.json["ban"]["state"] == "lifted", r.json
    r = bureau.post(f"/bans/{ban['id']}/lift", {"reason": "again"})
    assert (r.status_code, r.json["reason"]) == (409, "ban_ended")
    assert enrol(env, A1, "W-0000001", GOOD).status_code == 200
    assert verify(env, 0)["status"] == "revoked"
    with env.x.db.session() as s:
        assert list(s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("ban.%"))
                              .order_by(AuditEntry.id))) == \
            ["ban.create", "ban.start", "ban.lift", "ban.end"]


def test_a_ban_that_starts_later_revokes_at_the_sweep_after_its_start(env, bureau):
    enrol(env, A1, "W-0000003", GOOD)                      # badge 3
    digest = bureau.get(f"/persons?agency={A1}&serial={serial(env, 3)}") \
        .json["persons"][0]["person_hash"]
    now = env.x.now()
    r = bureau.post("/bans", ban_body(digest, starts_at=now + 86400))
    assert r.status_code == 201 and r.json["ban"]["state"] == "pending", r.json
    assert r.json["badges_revoked"] == 0 and verify(env, 3)["status"] == "valid"
    assert enrol(env, A0, "W-EARLY", GOOD).status_code == 200     # not in force yet
    env.app.config["FIXED_NOW"] = now + 86400
    r = bureau.post("/sweep", {})
    assert r.json == {"badges_revoked": 1, "status_lists": {A1: "published"}}
    assert verify(env, 3)["status"] == "revoked"
    assert bureau.post("/sweep", {}).json["badges_revoked"] == 0   # once only


def test_cancellation_erases_the_number_and_keeps_the_ban(env, bureau):
    enrol(env, A0, "W-0000000", GOOD)
    digest = bureau.get(f"/persons?agency={A0}&serial={serial(env, 0)}") \
        .json["persons"][0]["person_hash"]
    bureau.post("/bans", ban_body(digest))
    r = env.client.post(f"/api/v1/agencies/{A0}/workers/{env.workers[0]}/cancel",
                        json={"reason": "注销"}, headers=env.auth(A0))
    assert r.status_code == 200, r.json
    with env.x.db.session() as s:
        w = s.get(Worker, env.workers[0])
        assert (w.name, w.id_number_enc, w.state) == (None, None, "cancelled")
    (row,) = bureau.get("/bans").json["bans"]
    assert (row["person_hash"], row["state"]) == (digest, "active")
    assert enrol(env, A1, "W-LATER", GOOD).json["reason"] == "person_banned"


def test_the_sealed_number_opens_only_for_its_own_row(env):
    enrol(env, A0, "W-0000000", GOOD)
    x = env.x
    with x.db.session() as s:
        w = s.get(Worker, env.workers[0])
        assert x.sealer.open(w.id_number_enc, A0, "W-0000000") == GOOD
        assert GOOD.encode() not in w.id_number_enc
        from verifier.services.identity import SealBroken
        for agency, ref in ((A1, "W-0000000"), (A0, "W-0000002")):
            with pytest.raises(SealBroken):
                x.sealer.open(w.id_number_enc, agency, ref)


def test_rotating_the_bureau_secret_keeps_the_file_and_its_ban(db_url, world):
    old = make_app(db_url, world, PERSON_HASH_KEY_ID="t0")
    env = Env(old, world)
    assert enrol(env, A0, "W-0000000", GOOD).json["person_new"]
    with env.x.db.session() as s:
        (p,) = s.scalars(select(Person))
        old_hash, pid = p.person_hash, p.id
    Bureau(env).post("/bans", ban_body(old_hash))
    old.extensions["xinka"].db.engine.dispose()
    new = make_app(db_url, world)                        # t1 current, t0 still configured
    env.app, env.x, env.client = new, new.extensions["xinka"], new.test_client()
    r = enrol(env, A1, "W-0000001", GOOD)
    assert (r.status_code, r.json["reason"]) == (403, "person_banned")   # found under t0
    env.app.config["FIXED_NOW"] = world.now + 6 * YEAR
    r = enrol(env, A1, "W-0000001", GOOD)
    assert r.status_code == 200 and not r.json["person_new"], r.json
    with env.x.db.session() as s:
        (p,) = s.scalars(select(Person))
        assert (p.id, p.hash_key_id) == (pid, "t1") and p.person_hash != old_hash
        assert s.scalar(select(func.count()).where(AuditEntry.action == "person.rekey")) == 1
    new.extensions["xinka"].db.engine.dispose()


def test_concurrent_enrolment_of_one_person_at_two_agencies_makes_one_file(env):
    """Two threads, two connections, the same new person at two agencies at the same moment,
    twenty times: one file each time (PostgreSQL: the second insert waits for the first's
    commit on the unique index, then does nothing and reads the row)."""
    x = env.x
    numbers = [with_check_digit(f"33010619900101{i:03d}") for i in range(20)]
    errors = []

    def one(agency, ref, number, barrier):
        try:
            barrier.wait()
            with x.db.session() as s:
                registry.enrol(s, x.sealer, x.hasher, agency, ref, number, x.now(), "test",
                               "Asia/Shanghai")
        except Exception as err:                 # noqa: BLE001 — reported below
            errors.append(err)

    for i, number in enumerate(numbers):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=one, args=(a, f"W-C{i}", number, barrier))
                   for a in (A0, A1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    with x.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 20
        pairs = s.execute(select(Worker.person_id, func.count()).where(
            Worker.worker_ref.like("W-C%")).group_by(Worker.person_id)).all()
        assert len(pairs) == 20 and all(n == 2 for _, n in pairs)
        assert s.scalar(select(func.count()).where(AuditEntry.action == "person.create")) \
            == 20


def test_numbers_kept_in_clear_before_the_registry_are_sealed_by_the_cli(env):
    """Rows from before migration 0009 held the number in clear: `flask id-numbers-seal`
    seals each, links the valid ones to their file, erases the clear text."""
    with env.x.db.session() as s:
        s.get(Worker, env.workers[0]).id_number = GOOD
        s.get(Worker, env.workers[1]).id_number = "ID-NOT-VALID"
    r = env.app.test_cli_runner().invoke(args=["id-numbers-seal"])
    assert r.exit_code == 0 and "2 ID number(s) sealed: 1 linked" in r.output, r.output
    with env.x.db.session() as s:
        w0, w1 = s.get(Worker, env.workers[0]), s.get(Worker, env.workers[1])
        assert (w0.id_number, w1.id_number) == (None, None)
        assert env.x.sealer.open(w0.id_number_enc, A0, "W-0000000") == GOOD
        assert env.x.sealer.open(w1.id_number_enc, A1, "W-0000001") == "ID-NOT-VALID"
        assert w0.person_id is not None and w1.person_id is None
    assert enrol(env, A1, "W-0000003", GOOD).json["elsewhere"][0]["agency"] == A0

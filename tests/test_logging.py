"""What an operator sees in the logs (pytest's caplog): the verifier's startup summary without
the database password, one INFO line per refused request, ingest batches with their counts,
WARNING for clone evidence, unhandled exceptions with their traceback, a failed issuance with
its reason; and no line of a whole verifier session with a worker's personal data, a tap URL's
token or a secret."""
import logging
import re

import pytest

from host.wire import sample
from provisioning.cli import main as provision
from tests.provisioning.conftest import (  # noqa: F401
    PASSPHRASE,
    badge,
    badge_factory,
    desk,
    passphrase,
)
from tests.verifier.conftest import (  # noqa: F401
    db_kind,
    db_url,
    make_app,
    new_database,
    pg_cluster,
    sqlite_env,
    sqlite_template,
    world,
)
from tests.web.conftest import STAFF_PASSWORD, Site
from tests.web.test_reviews import W1, post_review, view_consent
from verifier import create_app
from verifier.views.common import log_path, redact_taps

EN = {"Accept-Language": "en-US,en;q=0.9"}
PG_URL = "postgresql://xinka:s3cret-Pa55word@db.example.cn:5432/xinka"


def lines(caplog, prefix="verifier", level=None):
    return [r for r in caplog.records if r.name.startswith(prefix)
            and (level is None or r.levelno == level)]


def messages(caplog, prefix="verifier", level=None):
    return [r.getMessage() for r in lines(caplog, prefix, level)]


def test_startup_summary_says_what_runs_and_no_password(caplog):
    caplog.set_level(logging.INFO)
    w = sample.World(2, 2)
    app = create_app({"DATABASE_URL": PG_URL, "AUTHORITY_KEY": w.authority.public_key(),
                      "STATUS_SIGNING_KEYS": dict(w.agency_keys), "STALE_POLICY": "refuse",
                      "STATUS_BASE_URL": "https://v.example.cn", "RATE_LIMIT_PER_MIN": 120})
    try:
        [summary] = [m for m in messages(caplog) if m.startswith("verifier starting")]
        assert "postgresql db.example.cn:5432/xinka" in summary
        assert "https://v.example.cn" in summary and "stale policy refuse" in summary
        assert "rate limit 120/min" in summary and "trust list not loaded yet" in summary
        assert "status signing keys for A330100, A330101" in summary
        assert "s3cret-Pa55word" not in caplog.text and "xinka:" not in caplog.text
        assert "PRIVATE" not in caplog.text and "EllipticCurve" not in caplog.text
    finally:
        app.extensions["xinka"].db.engine.dispose()


def test_the_trust_list_logs_its_agencies_once_loaded(sqlite_env, caplog):  # noqa: F811
    caplog.set_level(logging.INFO)
    x = sqlite_env.x
    x.store.snapshot = type(x.store.snapshot)()        # as a fresh process holds it
    x.store.version = None
    with x.db.session() as s:
        x.store.refresh(s, x.now(), force=True)
    assert any("in force: 2 trusted agencies" in m for m in messages(caplog))


def test_a_refused_verify_is_one_info_line_with_its_reason(sqlite_env, caplog):  # noqa: F811
    caplog.set_level(logging.INFO)
    b = sqlite_env.world.badges[0]
    token = b.tap("status")
    c = sqlite_env.client
    assert c.post("/api/v1/verify", data=token + b.credential,
                  content_type="application/cbor").status_code == 200
    assert messages(caplog, "verifier.views") == []          # a valid tap: nothing
    r = c.post("/api/v1/verify", data=token + b.credential, content_type="application/cbor")
    assert (r.status_code, r.json["reason"]) == (422, "replayed")
    [line] = lines(caplog, "verifier.views")
    assert line.levelno == logging.INFO
    assert line.getMessage().startswith("refused POST /api/v1/verify -> 422 replayed")
    assert b.credential.hex() not in caplog.text
    caplog.clear()
    assert c.post("/api/v1/verify", data=b"\x00",
                  content_type="application/cbor").status_code == 400
    assert messages(caplog, "verifier.views") == ["refused POST /api/v1/verify -> 400 malformed"]


def test_refused_api_and_page_requests_are_logged_with_their_reason(
        sqlite_env, caplog):  # noqa: F811
    caplog.set_level(logging.INFO)
    c, a = sqlite_env.client, sqlite_env.world.agencies[0].id
    c.get(f"/api/v1/agencies/{a}/workers")                           # no API key
    c.get(f"/api/v1/agencies/{a}/workers", headers=sqlite_env.auth("A330101"))   # another's
    c.post("/api/v1/checkins", json={"items": []}, headers={"Authorization": "Bearer xt_no"})
    c.get("/console/workers")                                        # no session
    c.post("/console/login", data={"username": "x", "password": "y", "csrf": "z"})
    c.get("/t/AAAA")                                                 # a red page
    got = messages(caplog, "verifier.views")
    assert got[:3] == [f"refused GET /api/v1/agencies/{a}/workers -> 401 unauthorized",
                       f"refused GET /api/v1/agencies/{a}/workers -> 403 forbidden",
                       "refused POST /api/v1/checkins -> 401 unauthorized"]
    assert got[3].startswith("refused GET /console/workers -> 302 no_session")
    assert got[4].startswith("refused POST /console/login -> 401 form_expired")
    assert re.match(r"refused GET /t/…[0-9a-f]{8} -> 400 malformed", got[5]), got[5]
    assert "xt_no" not in caplog.text and "AAAA" not in caplog.text


def test_oversized_and_rate_limited_are_refusals_too(
        tmp_path, request, world, caplog):  # noqa: F811
    caplog.set_level(logging.INFO)
    app = make_app(new_database("sqlite", request, tmp_path), world, RATE_LIMIT_PER_MIN=1,
                   VERIFY_MAX_BYTES=64)
    try:
        c = app.test_client()
        assert c.post("/api/v1/verify", data=b"\x00" * 100,
                      content_type="application/cbor").status_code == 413
        assert c.post("/api/v1/verify", data=b"\x00",
                      content_type="application/cbor").status_code == 429
        assert messages(caplog, "verifier.views") == [
            "refused POST /api/v1/verify -> 413 oversized",
            "refused POST /api/v1/verify -> 429 rate_limited"]
    finally:
        app.extensions["xinka"].db.engine.dispose()


def test_an_ingest_batch_logs_its_counts(sqlite_env, caplog):  # noqa: F811
    caplog.set_level(logging.INFO)
    e = sqlite_env
    a, (tid, _) = e.world.agencies[0].id, e.terminals["A330100"]
    first = e.checkin_item(0)
    r = e.post_checkins(a, [first, e.checkin_item(2), {"receipt": None}])
    assert r.json["summary"] == {"accepted": 2, "malformed": 1}
    r = e.post_checkins(a, [first])
    assert r.json["summary"] == {"duplicate": 1}
    got = messages(caplog, "verifier.views.api", logging.INFO)
    assert got == [
        f"check-in item 2 from terminal {tid} refused: malformed",
        f"check-in batch from terminal {tid} (agency {a}): 3 items, 2 accepted, 0 duplicate, "
        "1 refused, 0 clone signals",
        f"check-in batch from terminal {tid} (agency {a}): 1 items, 0 accepted, 1 duplicate, "
        "0 refused, 0 clone signals"]
    assert not lines(caplog, "verifier", logging.WARNING)


def test_clone_evidence_is_a_warning(sqlite_env, caplog):  # noqa: F811
    caplog.set_level(logging.INFO)
    e = sqlite_env
    a, b, t0 = e.world.agencies[0].id, e.world.badges[0], e.world.now - 3600
    first = e.checkin_item(0, t=t0)
    b.counter -= 1
    clone = e.checkin_item(0, t=t0 + 60)             # the same counter, another token
    e.post_checkins(a, [first])
    r = e.post_checkins(a, [clone])
    assert r.json["results"][0]["clone_signal"]
    [warning] = lines(caplog, "verifier", logging.WARNING)
    assert warning.getMessage().startswith("clone evidence recorded: check-in item 0 from "
                                           f"terminal {e.terminals[a][0]} (replayed)")
    assert "1 clone signals" in messages(caplog, "verifier.views.api")[-1]


def test_an_unhandled_exception_logs_its_traceback_and_answers_500(
        tmp_path, request, world, caplog):  # noqa: F811
    caplog.set_level(logging.INFO)
    app = make_app(new_database("sqlite", request, tmp_path), world,
                   PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    try:
        r = app.test_client().get("/boom")
        assert r.status_code == 500 and r.json["reason"] == "internal_server_error"
        [err] = lines(caplog, "verifier", logging.ERROR)
        assert err.getMessage() == "unhandled exception on GET /boom"
        assert err.exc_info and err.exc_info[0] is RuntimeError
        assert "Traceback" in caplog.text and "a bug" in caplog.text
    finally:
        app.extensions["xinka"].db.engine.dispose()


def test_log_paths_never_carry_a_tap_token():
    assert log_path("/api/v1/verify") == "/api/v1/verify"
    p = log_path("/t/SECRETTOKENabc-_/review")
    assert p.startswith("/t/…") and p.endswith("/review") and "SECRET" not in p
    assert log_path("/t/x") == log_path("/t/x") != log_path("/t/y")
    line = '127.0.0.1 - - [x] "GET /t/SECRETTOKEN?x=1 HTTP/1.1" 200 -'
    assert redact_taps(line) == '127.0.0.1 - - [x] "GET /t/…?x=1 HTTP/1.1" 200 -'
    rec = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"%s" %s', (
        "GET /t/SECRETTOKEN HTTP/1.1", 200), None)
    assert all(f.filter(rec) for f in logging.getLogger("werkzeug").filters)
    if logging.getLogger("werkzeug").filters:          # installed by any create_app
        assert "SECRET" not in rec.getMessage()


def test_a_failed_issuance_logs_the_step_and_its_reason(
        badge, badge_factory, desk, passphrase, caplog, capsys):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    prof, akey, trust, authority, v, d = desk
    badge.cut_at("rx", 20, after=b"selftest")
    rc = provision(["--log-level", "INFO", "--port", badge.port, "--profile", str(prof),
                    "issue", "--worker", "W-9"])
    err = capsys.readouterr().err
    assert rc == 4, err
    steps = [m for m in messages(caplog, "provisioning.issue", logging.INFO)
             if m.startswith("issuance step")]
    assert [m.split(":")[0] for m in steps] == [
        f"issuance step {s}" for s in ("identify", "keygen", "reservation", "credential",
                                       "install", "selftest")]
    [failed] = messages(caplog, "provisioning.issue", logging.ERROR)
    assert failed.startswith("issuance failed at step selftest: badge A4CF12000001: link_lost")
    rollback = messages(caplog, "provisioning.issue", logging.WARNING)
    assert rollback and all(m.startswith("rollback: badge A4CF12000001") for m in rollback)
    assert any("index retired" in m for m in rollback)
    assert "issuance failed at step selftest" in err          # --log-level INFO: on stderr
    everything = caplog.text
    assert PASSPHRASE not in everything and "PRIVATE KEY" not in everything
    # the default level (WARNING) shows the failure and the rollback, not every step
    other = badge_factory(2)
    other.cut_at("rx", 20, after=b"selftest")
    assert provision(["--port", other.port, "--profile", str(prof), "issue",
                      "--worker", "W-10"]) == 4
    err = capsys.readouterr().err
    assert "issuance failed at step selftest: badge A4CF12000002: link_lost" in err
    assert "rollback: badge A4CF12000002" in err and "issuance step identify" not in err


def test_no_line_of_a_verifier_session_has_personal_data_or_a_token(
        db_url, world, caplog):  # noqa: F811
    """A whole session: a worker registered with personal data, check-ins, a consent view and
    its review, the console (login, search, the worker's page, 注销), a refused verify."""
    caplog.set_level(logging.DEBUG)
    app = make_app(db_url, world, LOG_LEVEL="DEBUG")
    site = Site(app, world)
    try:
        a = "A330101"
        secret_data = ["王小明", "33010619900101123X", "13800138000", STAFF_PASSWORD,
                       site.operator, *site.keys.values(),
                       *(tok for _, tok in site.terminals.values())]
        r = site.client.post(f"/api/v1/agencies/{a}/workers", headers=site.auth(a),
                             json={"worker_ref": "W-7777777", "name": "王小明",
                                   "id_number": "33010619900101123X", "phone": "13800138000"})
        assert r.status_code == 201, r.json
        wid = r.json["id"]
        paths = []
        path, csrf = view_consent(site, 1)
        paths.append(path)
        assert post_review(site.client, path, csrf, worker=W1, stars="2", category="late",
                           comment="王小明 came late").status_code == 201
        assert post_review(site.client, path, csrf, worker=W1).status_code == 409
        paths.append(site.tap_path(2))
        site.client.get(paths[-1], headers=EN)                      # revoked: red
        b = world.badges[3]
        tok = b.tap("status")
        for _ in range(2):
            site.client.post("/api/v1/verify", data=tok + b.credential,
                             content_type="application/cbor")
        c = site.login()
        c.get("/console/workers?q=王小明", headers=EN)
        c.get(f"/console/workers/{site.workers[0]}", headers=EN)
        r = site.client.post(f"/api/v1/agencies/{a}/workers/{wid}/cancel", headers=site.auth(a),
                             json={"reason": "注销"})
        assert r.status_code == 200, r.json
        assert lines(caplog)                                   # the session was logged
        text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
        for value in secret_data:
            assert value not in text, value
        for i in range(len(world.badges)):
            assert not re.search(rf"\bID{i}\b", text) and f"工人{i}" not in text
        for p in paths:
            token = p[len("/t/"):]
            assert token not in text and token[:40] not in text
        assert "/t/…" in text                                  # the red page, shortened
    finally:
        site.x.db.engine.dispose()


def test_the_default_level_is_info_and_log_level_sets_it(tmp_path, request, world):  # noqa: F811
    app = make_app(new_database("sqlite", request, tmp_path), world)
    try:
        assert app.logger.getEffectiveLevel() == logging.INFO
    finally:
        app.extensions["xinka"].db.engine.dispose()
    app = make_app(new_database("sqlite", request, tmp_path), world, LOG_LEVEL="warning")
    try:
        assert app.logger.getEffectiveLevel() == logging.WARNING
    finally:
        app.extensions["xinka"].db.engine.dispose()
        logging.getLogger("verifier").setLevel(logging.INFO)
    with pytest.raises(ValueError):
        make_app(new_database("sqlite", request, tmp_path), world, LOG_LEVEL="LOUD")

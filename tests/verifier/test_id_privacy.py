"""No ID number in clear anywhere the verifier writes: a whole session (two agencies enrol one
person, the bureau looks the person up, bans, exports the list, the worker is cancelled) and
then the whole database — the SQLite file with its WAL, or `pg_dump` of the PostgreSQL
database and the server's log — the log lines, the audit log, the bureau's export and the
tag's NDEF URL are searched for the number, its first 17 digits and its birth-date-and-
sequence middle."""
import logging
import pathlib
import subprocess

from host.wire import read_tag_url, sample, tag_data
from testkit.pg import find_bin
from testkit.verifier import Env, make_app
from tests.host.test_idnumber import with_check_digit
from tests.verifier.test_persons import A0, A1, Bureau, ban_body, enrol, serial
from verifier.models import AuditEntry

NUMBER = with_check_digit("33010619851123042")


def forms(number):
    return [number, number[:17], number[6:17], number.lower()]


def test_no_id_number_in_clear_in_the_database_logs_audit_export_or_url(
        db_kind, db_url, world, caplog, request):
    caplog.set_level(logging.DEBUG)
    app = make_app(db_url, world, LOG_LEVEL="DEBUG")
    env = Env(app, world)
    bureau = Bureau(env)
    try:
        assert enrol(env, A0, "W-0000000", NUMBER).status_code == 200
        assert enrol(env, A1, "W-0000001", NUMBER).status_code == 200
        r = env.client.post(f"/api/v1/agencies/{A0}/workers", headers=env.auth(A0),
                            json={"worker_ref": "W-P2", "id_number": NUMBER, "name": "李四"})
        assert r.status_code == 201 and r.json["id_number_on_file"], r.json
        digest = bureau.get(f"/persons?agency={A0}&serial={serial(env, 0)}") \
            .json["persons"][0]["person_hash"]
        assert bureau.post("/bans", ban_body(digest)).status_code == 201
        export = bureau.get("/bans?format=csv").get_data(as_text=True) + \
            bureau.get("/bans").get_data(as_text=True) + \
            bureau.get(f"/persons/{digest}").get_data(as_text=True)
        assert digest in export
        assert env.client.post(f"/api/v1/agencies/{A1}/workers/{env.workers[1]}/cancel",
                               json={"reason": "注销"}, headers=env.auth(A1)).status_code == 200
        b = world.badges[0]
        url = read_tag_url(tag_data(sample.STATUS_HOST, b.tap("status"), b.credential))
        with env.x.db.session() as s:
            audit_text = "\n".join(f"{e.actor} {e.action} {e.subject} {e.detail}"
                                   for e in s.query(AuditEntry))
        assert "ban.start" in audit_text and "worker.enrol" in audit_text
        logs = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
        assert "enrol" in logs or "person" in logs
    finally:
        env.x.db.engine.dispose()
    if db_kind == "sqlite":
        path = pathlib.Path(db_url[len("sqlite:///"):])
        files = [p for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
        database = b"".join(p.read_bytes() for p in files)
    else:
        cluster = request.getfixturevalue("pg_cluster")
        dump = subprocess.run([find_bin("pg_dump"), "--data-only", db_url],
                              capture_output=True, check=True).stdout
        database = dump + pathlib.Path(cluster.dir, "log").read_bytes()
        assert digest.encode() in dump                  # the dump holds the registry
    assert "李四".encode() in database                   # the scan reads the real rows
    for form in forms(NUMBER):
        for where, text in (("logs", logs), ("audit", audit_text), ("export", export),
                            ("url", url)):
            assert form not in text, (where, form)
        assert form.encode() not in database, ("database", form)

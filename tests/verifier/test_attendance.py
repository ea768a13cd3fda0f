"""The attendance ledger: periods, who is present/missing, history, 注销, export."""
from datetime import datetime
from zoneinfo import ZoneInfo

from verifier.services.periods import bounds, period_of

SH = ZoneInfo("Asia/Shanghai")


def ts(*args):
    return int(datetime(*args, tzinfo=SH).timestamp())


def test_periods_calendar_and_26th_to_25th():
    assert period_of(ts(2027, 1, 31, 23, 59)) == "2027-01"
    assert period_of(ts(2027, 2, 1, 0, 0)) == "2027-02"
    # 2027-01-31 16:30 UTC is already 1 Feb in Shanghai
    assert period_of(int(datetime(2027, 1, 31, 16, 30, tzinfo=ZoneInfo("UTC")).timestamp())) \
        == "2027-02"
    assert period_of(ts(2027, 1, 25, 23, 59), start_day=26) == "2027-01"
    assert period_of(ts(2027, 1, 26, 0, 0), start_day=26) == "2027-02"
    assert period_of(ts(2027, 12, 26, 8), start_day=26) == "2028-01"
    assert bounds("2027-02", start_day=26) == (ts(2027, 1, 26), ts(2027, 2, 26))
    assert bounds("2027-12") == (ts(2027, 12, 1), ts(2028, 1, 1))


def test_present_missing_history_and_export(env):
    a = env.world.agencies[0].id                     # badges 0, 2, 4, 6
    jan = ts(2026, 12, 31, 20)                       # world.now is 2027-01-01 Shanghai
    env.post_checkins(a, [env.checkin_item(0, t=jan), env.checkin_item(0, t=jan + 60),
                          env.checkin_item(2, t=jan + 30)])
    r = env.client.get(f"/api/v1/agencies/{a}/attendance?period=2026-12", headers=env.auth(a))
    assert r.status_code == 200
    present = {p["worker_ref"]: p for p in r.json["present"]}
    assert set(present) == {"W-0000000", "W-0000002"}
    p0 = present["W-0000000"]
    assert (p0["first_at"], p0["last_at"], p0["count"]) == (jan, jan + 60, 2)
    assert p0["first_terminal"] == env.terminals[a][0]
    assert {m["worker_ref"] for m in r.json["missing"]} == {"W-0000004", "W-0000006"}
    r = env.client.get(f"/api/v1/agencies/{a}/attendance?period=2027-01", headers=env.auth(a))
    assert r.json["present"] == [] and r.json["missing_count"] == 4
    h = env.client.get(f"/api/v1/agencies/{a}/workers/{env.workers[0]}/attendance",
                       headers=env.auth(a)).json
    assert [x["period"] for x in h["periods"]] == ["2026-12"]
    csv = env.client.get(f"/api/v1/agencies/{a}/export?period=2026-12",
                         headers=env.auth(a)).text
    assert "W-0000000,1," in csv and "W-0000004,0," in csv
    assert env.client.get(f"/api/v1/agencies/{a}/attendance?period=2026-13",
                          headers=env.auth(a)).status_code == 400


def test_cancellation_erases_personal_data_keeps_attendance(env):
    a = env.world.agencies[0].id
    env.post_checkins(a, [env.checkin_item(0)])
    wid = env.workers[0]
    r = env.client.post(f"/api/v1/agencies/{a}/workers/{wid}/cancel", json={"reason": "注销"},
                        headers=env.auth(a))
    assert r.status_code == 200 and r.json["revoked_badges"] == [env.badge_ids[0]]
    w = env.client.get(f"/api/v1/agencies/{a}/workers/{wid}", headers=env.auth(a)).json
    assert (w["name"], w["id_number_on_file"], w["phone"], w["state"]) == (None, False, None,
                                                                           "cancelled")
    assert w["badges"][0]["state"] == "revoked"
    h = env.client.get(f"/api/v1/agencies/{a}/workers/{wid}/attendance",
                       headers=env.auth(a)).json
    assert len(h["periods"]) == 1                    # the anonymous fact stays
    rep = env.client.get(f"/api/v1/agencies/{a}/attendance?period=2027-01",
                         headers=env.auth(a)).json
    assert "W-0000000" not in {m["worker_ref"] for m in rep["missing"]}
    with env.x.db.session() as s:
        from sqlalchemy import text
        names = [r[0] for r in s.execute(text("SELECT name FROM workers WHERE id=:i"),
                                         {"i": wid})]
    assert names == [None]

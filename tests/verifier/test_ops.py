"""healthz, readyz, metrics, OpenAPI."""
from openapi_spec_validator import validate

from tests.verifier.conftest import make_app
from verifier.views import HTML_BLUEPRINTS


def test_healthz_metrics_openapi(env):
    assert env.client.get("/healthz").json == {"ok": True}
    assert env.client.get("/readyz").status_code == 200
    env.post_checkins(env.world.agencies[0].id, [env.checkin_item(0)])
    m = env.client.get("/metrics")
    assert m.mimetype == "text/plain"
    assert 'xinka_checkin_items_total{result="accepted"} 1' in m.text
    assert "xinka_ingest_lag_seconds 60" in m.text
    assert ('xinka_status_list_age_seconds{agency="A330100",uri="https://v.example.cn/sl/A330100"}'
            ' 0.0') in m.text
    terminal = env.world.agencies[0].id
    assert f'xinka_terminal_journal_lag_seconds{{terminal="T-{terminal}-01"}} 60.0' in m.text
    assert "xinka_checkin_batches_total 1.0" in m.text
    assert 'xinka_http_request_duration_seconds_count{endpoint="api.checkins"} 1.0' in m.text
    assert ('xinka_http_requests_total{endpoint="api.checkins",method="POST",status="200"} 1.0'
            in m.text)
    doc = env.client.get("/api/v1/openapi.json").json
    validate(doc)
    routes = {str(r.rule).replace("<", "{").replace(">", "}").replace("int:", "")
              for r in env.app.url_map.iter_rules() if r.endpoint != "static"
              and r.endpoint.split(".")[0] not in HTML_BLUEPRINTS}   # pages: docs/employer.md
    assert routes == set(doc["paths"])


def test_readyz_without_trust_list(db_url, world):
    app = make_app(db_url, world)
    r = app.test_client().get("/readyz")
    assert r.status_code == 503 and r.json["problems"] == ["no trust list loaded"]
    app.extensions["xinka"].db.engine.dispose()

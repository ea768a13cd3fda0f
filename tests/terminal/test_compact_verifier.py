"""The verifier's compact status list endpoints: manifest, chunks and deltas agree with the
agency's signed status list; the OpenAPI document lists them."""
from host.wire import StatusListToken, compact
from tests.terminal.test_desk_e2e import AGENCY, env, world  # noqa: F401

codec = compact.codec


def test_manifest_chunks_and_delta(env):  # noqa: F811
    c, trust = env.client, env.x.store.snapshot.trust
    verify = compact.trust_verifier(trust, f"/sl/{AGENCY}")
    r = c.get(f"/sl/{AGENCY}/compact/manifest")
    assert r.status_code == 200 and r.mimetype == "application/xk-compact+cwt"
    m = codec.Manifest(r.data, verify)
    chunks = []
    for k in range(len(m)):
        rc = c.get(f"/sl/{AGENCY}/compact/chunk/{k}?seq={m.seq}")
        assert rc.status_code == 200
        chunks.append(rc.data)
    assert c.get(f"/sl/{AGENCY}/compact/chunk/{len(m)}").status_code == 404
    full = StatusListToken.load(c.get(f"/sl/{AGENCY}").data, trust, None)
    assert (m.uri, m.seq, m.n) == (full.uri, full.seq, len(full.statuses))
    cl = codec.CompactList(m, codec.BytesChunks(chunks))
    assert all(cl.lookup(i) == full.get(i) for i in range(m.n))

    assert c.get(f"/sl/{AGENCY}/compact/delta/{m.seq}").status_code == 204
    r = c.post(f"/api/v1/agencies/{AGENCY}/badges/{env.badge_ids[2]}/revoke",
               json={"reason": "x"}, headers=env.auth(AGENCY))
    assert r.status_code == 200
    r = c.get(f"/sl/{AGENCY}/compact/delta/{m.seq}")
    assert r.status_code == 200
    d = codec.Delta(r.data, verify)
    assert (d.from_seq, d.seq, list(zip(d.keys, d.values, strict=True))) == \
        (m.seq, m.seq + 1, [(2, 1)])
    cl.apply(d)
    assert cl.lookup(2) == codec.REVOKED and cl.lookup(0) == codec.VALID
    assert c.get(f"/sl/{AGENCY}/compact/delta/{m.seq + 5}").status_code == 404
    # another agency's key cannot pass for this agency's list
    other = compact.trust_verifier(trust, "/sl/A330101")
    try:
        codec.Manifest(c.get(f"/sl/{AGENCY}/compact/manifest").data, other)
        raise AssertionError("accepted a manifest signed by another agency")
    except codec.CompactError as err:
        assert err.reason == "bad_signature"
    assert c.get("/api/v1/trust-list").data == env.world.trust_list


def test_openapi_lists_the_compact_routes(env):  # noqa: F811
    doc = env.client.get("/api/v1/openapi.json").json
    for p in ("/sl/{agency_id}/compact/manifest", "/sl/{agency_id}/compact/chunk/{n}",
              "/sl/{agency_id}/compact/delta/{from_seq}"):
        assert p in doc["paths"]
    assert "get" in doc["paths"]["/api/v1/trust-list"]

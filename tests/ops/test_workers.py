"""The verifier under gunicorn with two workers: metrics and rate limits hold across worker
processes (prometheus_client's multiprocess mode; Flask-Limiter on Redis), and every request
carries a request id in its log lines and its response."""
import concurrent.futures
import re
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

BAD_TAP = b"\x82\x01"          # a CBOR array cut short: malformed, refused before any lookup


def post_verify(url, body=BAD_TAP, headers=None):
    req = urllib.request.Request(url + "/api/v1/verify", data=body, method="POST",
                                 headers={"Content-Type": "application/cbor", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def scrape(url):
    with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
        text = r.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def spread(served, send, at_least, limit=2000):
    """Send requests (concurrently, 8 at a time) until at least `at_least` were sent and the
    access log shows both workers answered; returns the answers."""
    answers = []
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        while len(answers) < at_least or len(served.pids_of()) < served.workers:
            assert len(answers) < limit, f"one worker answered all {limit} requests"
            answers += list(pool.map(lambda _: send(), range(8)))
    return answers


def test_metrics_count_every_request_of_both_workers(serve):
    served = serve(workers=2, RATE_LIMIT_PER_MIN=0)
    answers = spread(served, lambda: post_verify(served.url), 40)
    n = len(answers)
    assert {a[0] for a in answers} == {400}
    assert len(served.pids_of()) == 2
    m = scrape(served.url)
    assert m[("xinka_verifications_total", (("reason", "malformed"),))] == n
    assert m[("xinka_http_requests_total", (("endpoint", "api.verify"), ("method", "POST"),
                                            ("status", "400")))] == n
    assert m[("xinka_http_refusals_total", (("endpoint", "api.verify"),
                                            ("reason", "malformed")))] == n
    assert m[("xinka_http_request_duration_seconds_count", (("endpoint", "api.verify"),))] == n
    # every counter of this run counts exactly these n requests (the scrape counts itself
    # only once answered)
    counters = {k: v for k, v in m.items() if k[0].endswith("_total") and v}
    assert set(counters.values()) == {n}, counters
    # scrape-time gauges: the lists the answering worker holds
    assert m[("xinka_status_list_age_seconds", (("agency", "A330100"),
              ("uri", "https://v.example.cn/sl/A330100")))] == 0
    assert m[("xinka_trust_list_seq", ())] == 1


def test_rate_limit_on_redis_holds_across_two_workers(serve, redis_url):
    limit = 30
    served = serve(workers=2, RATE_LIMIT_PER_MIN=limit,
                   RATE_LIMIT_STORAGE_URI=redis_url)
    answers = spread(served, lambda: post_verify(served.url), limit + 20)
    codes = [a[0] for a in answers]
    assert codes.count(400) == limit, codes       # the limit counted once for both workers
    assert codes.count(429) == len(answers) - limit
    lines = served.access_lines()
    assert len(served.pids_of([x for x in lines if '" 429 ' in x])) >= 1
    for status, headers, body in answers:
        if status == 429:
            assert b'"reason":"rate_limited"' in body.replace(b" ", b"")
            assert 0 < int(headers["Retry-After"]) <= 60


def test_rate_limit_in_memory_with_one_worker(serve):
    limit = 10
    served = serve(workers=1, RATE_LIMIT_PER_MIN=limit)
    codes = [post_verify(served.url)[0] for _ in range(limit + 5)]
    assert codes == [400] * limit + [429] * 5


def test_a_request_id_in_every_line_of_a_request_and_its_header(serve):
    served = serve(workers=2, RATE_LIMIT_PER_MIN=0, LOG_LEVEL="DEBUG")
    status, headers, _ = post_verify(served.url, headers={"X-Request-Id": "probe-0123456789"})
    assert status == 400 and headers["X-Request-Id"] == "probe-0123456789"
    status, headers, _ = post_verify(served.url,
                                     headers={"X-Request-Id": "not a sane id; <script>"})
    rid = headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid), rid       # a sane id of its own
    served.stop()                                         # every line flushed
    app_lines = [x for x in served.log_text().splitlines() if "probe-0123456789" in x]
    assert any("refused POST /api/v1/verify -> 400 malformed" in x for x in app_lines)
    access = [x for x in served.access_lines() if "/api/v1/verify" in x]
    assert any(x.endswith("request probe-0123456789") for x in access), access
    assert any(x.endswith(f"request {rid}") for x in access), access

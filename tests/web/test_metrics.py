"""/metrics: Prometheus text that a scraper can parse, counting what happened (requests by route
template and status, answers by outcome and interface, builds), gauges of the served index and
the worker pool, and the admin-token rule."""

import pytest
from prometheus_client.parser import text_string_to_metric_families
from web_helpers import ADMIN_TOKEN, wait_build

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def scrape(client, headers=None) -> dict:
    """{(name, sorted label items): value} for every sample."""
    r = client.get("/metrics", headers=headers or {})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_answers_and_index_are_counted(fake_client):
    client = fake_client
    assert client.post("/api/ask", json={"question": "カナダ宇宙庁との協力"}).status_code == 200
    assert client.post("/api/ask", json={"question": ""}).status_code == 422
    client.post("/v1/chat/completions", json={"model": "jaxabot",
                                              "messages": [{"role": "user", "content": "カナダ宇宙庁との協力"}]})
    assert client.get("/api/documents/jaxa-international-cooperation").status_code == 200
    assert client.get("/api/documents/nope/nope").status_code == 404
    client.get("/no/such/page")
    assert client.get("/static/favicon.svg").status_code == 200
    client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})

    m = scrape(client)
    route = "jaxabot_http_requests_total"
    assert value(m, route, route="/api/ask", method="POST", status="200") == 1
    assert value(m, route, route="/api/ask", method="POST", status="422") == 1
    assert value(m, route, route="/v1/chat/completions", method="POST", status="200") == 1
    # Route templates, not raw paths: the label set stays bounded whatever clients request.
    doc = "/api/documents/{doc_id:path}"
    assert value(m, route, route=doc, method="GET", status="200") == 1
    assert value(m, route, route=doc, method="GET", status="404") == 1
    assert value(m, route, route="unmatched", method="GET", status="404") == 1
    assert value(m, route, route="/static", method="GET", status="200") == 1
    assert sum(v for k, v in m.items() if k[0] == route and ("route", "/mcp") in k[1]) == 1
    assert not any("nope" in str(k) or "/no/such" in str(k) for k in m)
    assert value(m, "jaxabot_http_request_duration_seconds_count", route="/api/ask", method="POST", status="200") == 1

    answers = {k[1]: v for k, v in m.items() if k[0] == "jaxabot_answers_total"}
    assert sum(answers.values()) == 2
    assert {dict(k)["interface"] for k in answers} == {"api", "openai"}

    runtime = client.app.state.runtime
    version = runtime.engine.index.version
    assert value(m, "jaxabot_index_info", version=version, model="fake-bigram") == 1
    assert value(m, "jaxabot_index_documents") == 1 and value(m, "jaxabot_index_passages") > 5
    assert 0 <= value(m, "jaxabot_index_age_seconds") < 3600
    assert value(m, "jaxabot_workers") == 2 and value(m, "jaxabot_queue_length") == 0
    assert value(m, "jaxabot_up", state="ok") == 1


def test_rebuilds_record_duration_and_failures(fake_app_factory, corpus_copy):
    client = fake_app_factory(corpus_dir=corpus_copy, admin_token=ADMIN_TOKEN)
    assert client.post("/api/index/rebuild", headers=AUTH).status_code == 202
    assert wait_build(client, AUTH)["state"] == "idle"
    for f in corpus_copy.iterdir():
        f.unlink()  # nothing left to index: the next build fails
    assert client.post("/api/index/rebuild", headers=AUTH).status_code == 202
    assert wait_build(client, AUTH)["state"] == "failed"

    m = scrape(client, AUTH)
    assert value(m, "jaxabot_index_build_duration_seconds_count", outcome="ok") == 1
    assert value(m, "jaxabot_index_build_duration_seconds_count", outcome="failed") == 1
    assert value(m, "jaxabot_index_build_failures_total") == 1


def test_first_build_in_the_server_is_measured(fake_app_factory, tmp_path):
    client = fake_app_factory(index_dir=tmp_path / "new-index", build_if_missing=True)
    m = scrape(client)
    assert value(m, "jaxabot_index_build_duration_seconds_count", outcome="ok") == 1
    assert value(m, "jaxabot_index_info", version=client.app.state.runtime.engine.index.version,
                 model="fake-bigram") == 1


@pytest.mark.parametrize("public", [False, True])
def test_admin_token_guards_metrics_unless_public(fake_app_factory, public):
    client = fake_app_factory(admin_token=ADMIN_TOKEN, metrics_public=public)
    if public:
        scrape(client)
        return
    r = client.get("/metrics")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert "jaxabot_up" in str(scrape(client, AUTH))


def test_metrics_are_open_without_an_admin_token(fake_client):
    scrape(fake_client)


def test_made_up_methods_and_paths_add_no_series(fake_seed_index, tmp_path, tokenizer):
    """HTTP allows any token as a method: 200 made-up ones (on a real server) leave the number of
    series unchanged; they count under method="other"."""
    import shutil

    import httpx
    from fakes import FakeEmbedder
    from web_helpers import SEED_CORPUS, live_server, make_settings

    from web.app import create_app
    from web.http.metrics import status_label

    index = tmp_path / "index"
    shutil.copytree(fake_seed_index, index)
    app = create_app(make_settings(SEED_CORPUS, index, model="fake-bigram"), embedder=FakeEmbedder(),
                     tokenizer=tokenizer)
    with live_server(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        def series() -> set:
            r = http.get("/metrics")
            assert r.status_code == 200
            return {(s.name, tuple(sorted(s.labels.items())))
                    for family in text_string_to_metric_families(r.text) for s in family.samples}

        for method in ("MADEUP", "GET"):
            http.request(method, "/api/health")
            http.request(method, "/no/such/path")
        series()  # the first scrape adds the /metrics series
        before = series()
        for i in range(200):
            assert http.request(f"MADE-UP{i}", "/api/health" if i % 2 else f"/x{i}").status_code in (404, 405)
        after = series()
        assert after == before
        counts = {k: v for k, v in scrape(http).items() if k[0] == "jaxabot_http_requests_total"}
    assert sum(v for k, v in counts.items() if ("method", "other") in k[1]) == 202
    assert len(after) < 1000
    assert not any(dict(k[1])["method"].startswith("MADE") for k in counts)
    assert [status_label(s) for s in (99, 100, 404, 599, 600, 7000)] == ["other", "100", "404", "599",
                                                                      "other", "other"]

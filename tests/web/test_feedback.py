"""Feedback on answers: the SQLite store, the HTTP routes (size and rate limits, admin listing),
`jaxabot feedback export`, and the OpenAPI document the /docs page shows."""

import json
import logging
import os
import re
import shutil
import sqlite3
import threading
import time
from contextlib import contextmanager

import httpx
import pytest
from fakes import FakeEmbedder
from typer.testing import CliRunner
from web_helpers import ADMIN_TOKEN, SEED_CORPUS, live_server, make_settings

from bot.errors import FeedbackError
from bot.feedback import FILENAME, SCHEMA_VERSION, FeedbackStore

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CITATION = {"n": 1, "doc_id": "jaxa-international-cooperation", "chunk_id": "jaxa-international-cooperation#p3",
            "title": "国際的な取り組みと貢献", "section": "アジア・太平洋地域", "highlight": [0, 12],
            "text": "ignored: the store keeps what identifies the source, not its text"}


def feedback_body(**overrides) -> dict:
    body = {"rating": "up", "question": "SAFEは何年に設立されましたか？",
            "answer": "SAFEは2006年に設立されました。[1]", "citations": [CITATION],
            "index_version": "v1", "language": "ja"}
    body.update(overrides)
    return body


# ---------------------------------------------------------------------------------------------
# The store

def test_store_round_trip_wal_and_schema_version(tmp_path):
    store = FeedbackStore(tmp_path)
    rec = store.add(rating="down", question="Q", answer="A[1]", citations=[{"n": 1, "chunk_id": "d#p1"}],
                    index_version="v7", language="ja")
    assert len(rec.id) >= 20 and rec.comment == ""
    updated = store.update(rec.id, comment="年が違います")
    assert updated.comment == "年が違います" and updated.rating == "down"
    assert store.update("no-such-id", comment="x") is None
    store.close()

    db = sqlite3.connect(tmp_path / FILENAME)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()

    again = FeedbackStore(tmp_path)  # reopening keeps everything
    [got] = again.list()
    assert (got.question, got.answer, got.index_version, got.comment) == ("Q", "A[1]", "v7", "年が違います")
    assert got.citations == [{"n": 1, "chunk_id": "d#p1"}] and got.created_at.endswith("+00:00")
    again.close()


def test_store_refuses_a_newer_schema_and_garbage(tmp_path):
    db = sqlite3.connect(tmp_path / FILENAME)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(FeedbackError, match="schema version"):
        FeedbackStore(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / FILENAME).write_bytes(b"not a database at all" * 100)
    with pytest.raises(FeedbackError, match="cannot open"):
        FeedbackStore(other)


def test_rate_limiter_is_a_sliding_window_per_client():
    from web.routes.feedback import RateLimiter
    limiter = RateLimiter(2, window_s=60)
    assert limiter.check("a", now=0) == 0 and limiter.check("a", now=1) == 0
    assert limiter.check("a", now=2) == pytest.approx(58)
    assert limiter.check("b", now=2) == 0  # another client is not affected
    assert limiter.check("a", now=60.5) == 0  # the first request left the window


# ---------------------------------------------------------------------------------------------
# HTTP

def test_feedback_is_stored_and_listed_for_admins(fake_app_factory, tmp_path):
    client = fake_app_factory(data_dir=tmp_path / "data", admin_token=ADMIN_TOKEN)
    r = client.post("/api/feedback", json=feedback_body())
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["rating"] == "up" and receipt["comment"] == ""
    r = client.patch(f"/api/feedback/{receipt['id']}", json={"comment": "分かりやすい", "rating": "down"})
    assert r.status_code == 200 and r.json()["comment"] == "分かりやすい" and r.json()["rating"] == "down"
    assert client.patch("/api/feedback/unknown-id", json={"comment": "x"}).status_code == 404

    assert client.get("/api/admin/feedback").status_code == 401
    assert client.get("/api/admin/feedback", headers={"Authorization": "Bearer wrong"}).status_code == 403
    r = client.get("/api/admin/feedback", headers=AUTH)
    assert r.status_code == 200
    listing = r.json()
    assert listing["total"] == 1
    [item] = listing["items"]
    assert item["question"] == "SAFEは何年に設立されましたか？" and item["index_version"] == "v1"
    assert item["citations"][0]["chunk_id"] == CITATION["chunk_id"] and "text" not in item["citations"][0]
    assert (tmp_path / "data" / FILENAME).exists()


@pytest.mark.parametrize("overrides", [
    {"rating": "meh"},
    {"comment": "x" * 1001},
    {"question": "q" * 1001},
    {"question": ""},
    {"answer": "a" * 8001},
    {"citations": [CITATION] * 11},
    {"citations": [dict(CITATION, title="t" * 2001)]},
    {"index_version": "v" * 101},
])
def test_feedback_input_is_size_limited(fake_client, overrides, tmp_path):
    r = fake_client.post("/api/feedback", json=feedback_body(**overrides))
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_input"


def test_feedback_body_over_the_server_limit_is_413(fake_client):
    r = fake_client.post("/api/feedback", content=b'{"rating": "up", "comment": "' + b"x" * 70_000 + b'"}',
                         headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_feedback_is_rate_limited_per_client(fake_app_factory, tmp_path):
    client = fake_app_factory(data_dir=tmp_path / "data", feedback_per_minute=3)
    codes = [client.post("/api/feedback", json=feedback_body()).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    r = client.post("/api/feedback", json=feedback_body())
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
    assert r.json()["error"] == "too_many_requests"
    assert FeedbackStore(tmp_path / "data").count() == 3


def test_admin_feedback_is_404_without_a_token(fake_app_factory, tmp_path):
    client = fake_app_factory(data_dir=tmp_path / "data")
    assert client.get("/api/admin/feedback", headers=AUTH).status_code == 404


def test_suggestions_come_from_the_cited_documents_other_sections(fake_client):
    doc = fake_client.get("/api/documents/jaxa-international-cooperation").json()
    sections = [p["section"] for p in doc["passages"]]
    target = next(p for p in doc["passages"] if p["section"] == "アジア・太平洋地域")
    r = fake_client.get("/api/suggestions", params={"doc_id": doc["doc_id"], "chunk_id": target["chunk_id"]})
    assert r.status_code == 200
    questions = r.json()["questions"]
    assert len(questions) <= 3
    for q in questions:  # questions the engine answers, not section titles
        assert q not in sections
        assert "について" not in q and q.endswith("？")
        assert fake_client.post("/api/ask", json={"question": q}).json()["state"] == "answered"
    en = fake_client.get("/api/suggestions", params={"doc_id": doc["doc_id"], "chunk_id": target["chunk_id"],
                                                     "lang": "en", "include_own": "true"}).json()["questions"]
    assert all(not any("\u3040" <= ch <= "\u9fff" for ch in q) for q in en)  # the reader's language
    assert fake_client.get("/api/suggestions", params={"doc_id": "nope", "chunk_id": "x"}).status_code == 404
    unknown_passage = fake_client.get("/api/suggestions", params={"doc_id": doc["doc_id"], "chunk_id": "x"})
    assert unknown_passage.json() == {"questions": []}


# ---------------------------------------------------------------------------------------------
# CLI

def test_feedback_export_prints_text_and_json(tmp_path):
    from bot.cli import app
    runner = CliRunner()
    r = runner.invoke(app, ["feedback", "export", "--data-dir", str(tmp_path)])
    assert r.exit_code == 0 and "no feedback yet" in r.output
    assert not (tmp_path / FILENAME).exists()  # exporting never creates the database
    store = FeedbackStore(tmp_path)
    store.add(rating="up", question="質問\n二行目", answer="答え[1]", citations=[CITATION], index_version="v3",
              language="ja", comment="良い")
    store.add(rating="down", question="second", answer="no", citations=[], index_version="v4")
    store.close()
    r = runner.invoke(app, ["feedback", "export", "--data-dir", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "+1" in r.output and "-1" in r.output and "Q: 質問 二行目" in r.output and "comment: 良い" in r.output
    assert "index v3" in r.output and "[1] 国際的な取り組みと貢献 — アジア・太平洋地域" in r.output
    r = runner.invoke(app, ["feedback", "export", "--json"], env={"JAXABOT_DATA_DIR": str(tmp_path)})
    assert r.exit_code == 0, r.output
    records = json.loads(r.output)
    assert [x["rating"] for x in records] == ["down", "up"]  # newest first
    assert records[1]["citations"][0]["doc_id"] == CITATION["doc_id"] and records[1]["comment"] == "良い"


def test_feedback_export_reports_an_unreadable_database(tmp_path):
    from bot.cli import app
    (tmp_path / FILENAME).write_bytes(b"garbage" * 1000)
    r = CliRunner().invoke(app, ["feedback", "export", "--data-dir", str(tmp_path)])
    assert r.exit_code == 1 and "cannot open the feedback database" in r.output


# ---------------------------------------------------------------------------------------------
# OpenAPI

def _operations(schema):
    return [(path, method) for path, ops in schema["paths"].items() for method in ops]


def test_openapi_hides_admin_routes_without_a_token_and_has_no_unused_schemas(fake_app_factory, tmp_path):
    plain = fake_app_factory(data_dir=tmp_path / "a").get("/openapi.json").json()
    admin = fake_app_factory(data_dir=tmp_path / "b", admin_token=ADMIN_TOKEN).get("/openapi.json").json()
    plain_paths = set(plain["paths"])
    assert not any(p.startswith(("/api/admin", "/api/index")) for p in plain_paths)
    assert "securitySchemes" not in plain.get("components", {})
    assert {"/api/admin/feedback", "/api/index/rebuild"} <= set(admin["paths"])
    assert {"/api/ask", "/api/feedback", "/api/feedback/{feedback_id}", "/api/suggestions"} <= plain_paths
    for schema in (plain, admin):
        ops = _operations(schema)
        assert len(ops) == len(set(ops))
        ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
        assert len(ids) == len(set(ids))
        text = json.dumps(schema["paths"])
        names = set(schema["components"]["schemas"])
        everything = json.dumps(schema)
        for name in names:  # every schema is referred to from somewhere
            assert f'"#/components/schemas/{name}"' in everything, name
        assert "HTTPValidationError" not in names and "HTTPValidationError" not in text
    assert "BuildStatus" not in plain["components"]["schemas"]
    ask = plain["paths"]["/api/ask"]["post"]
    assert ask["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("AskRequest")
    assert plain["components"]["schemas"]["AskRequest"]["examples"]
    assert ask["responses"]["200"]["content"]["application/json"]["example"]["citations"][0]["answer_span"]
    assert plain["components"]["schemas"]["FeedbackIn"]["examples"]
    assert plain["paths"]["/api/health"]["get"]["responses"]["503"]["content"]["application/json"]["example"]


# ---------------------------------------------------------------------------------------------
# A real server on loopback, its feedback in tmp_path / "data"

@pytest.fixture
def served(tmp_path, fake_seed_index, tokenizer):
    """served(**settings) → a context manager yielding the base URL of a live server."""
    from web.app import create_app

    @contextmanager
    def serve(**overrides):
        index_dir = tmp_path / f"index-{time.monotonic_ns()}"
        shutil.copytree(fake_seed_index, index_dir)
        settings = make_settings(SEED_CORPUS, index_dir, model="fake-bigram", data_dir=tmp_path / "data",
                                 **overrides)
        with live_server(create_app(settings, embedder=FakeEmbedder(), tokenizer=tokenizer)) as base:
            yield base

    return serve


def post(base: str, **overrides) -> httpx.Response:
    headers = overrides.pop("headers", None)
    return httpx.post(f"{base}/api/feedback", json=feedback_body(**overrides), headers=headers, timeout=30)


def comments(data_dir) -> list[str]:
    store = FeedbackStore(data_dir)
    try:
        return sorted(r.comment for r in store.list())
    finally:
        store.close()


@pytest.mark.slow
def test_a_write_lock_held_elsewhere_answers_503_while_the_server_stays_responsive(served, tmp_path):
    with served(admin_token=ADMIN_TOKEN) as base:
        assert post(base).status_code == 201
        other = sqlite3.connect(tmp_path / "data" / FILENAME, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # an admin's sqlite3 shell, a replica mid-write
        try:
            results = []

            def send():
                start = time.monotonic()
                r = post(base, comment="while locked")
                results.append((r, time.monotonic() - start))

            senders = [threading.Thread(target=send) for _ in range(2)]
            for t in senders:
                t.start()
            time.sleep(0.05)
            # Health and answers go on meanwhile (before: the loop stalled 10 s per POST).
            start = time.monotonic()
            assert httpx.get(f"{base}/api/health", timeout=5).status_code == 200
            r = httpx.post(f"{base}/api/ask", json={"question": "SAFEは何年に設立されましたか？"}, timeout=5)
            assert r.status_code == 200 and time.monotonic() - start < 2
            # Reading does not need the write lock.
            listing = httpx.get(f"{base}/api/admin/feedback", headers=AUTH, timeout=5)
            assert listing.status_code == 200 and listing.json()["total"] == 1
            for t in senders:
                t.join(30)
            assert len(results) == 2
            for r, took in results:
                assert r.status_code == 503 and r.json()["error"] == "feedback_unavailable", r.text
                assert r.headers["retry-after"] and took < 5
            # A passing lock is not a health problem.
            assert httpx.get(f"{base}/api/health", timeout=5).json()["status"] == "ok"
        finally:
            other.rollback()
            other.close()
        assert post(base).status_code == 201
    assert len(comments(tmp_path / "data")) == 2


def test_feedback_after_the_file_is_removed_or_replaced_goes_into_the_new_file(served, tmp_path):
    data = tmp_path / "data"
    with served() as base:
        assert post(base, comment="first").status_code == 201
        for suffix in ("", "-wal", "-shm"):  # a reset
            (data / (FILENAME + suffix)).unlink(missing_ok=True)
        assert post(base, comment="after the reset").status_code == 201
        assert comments(data) == ["after the reset"]  # before: 201, but no file

        restored = tmp_path / "restored"  # a restore with mv over the live file
        store = FeedbackStore(restored)
        store.add(rating="up", question="q", answer="a", citations=[], index_version="v0", comment="restored")
        store.close()
        os.replace(restored / FILENAME, data / FILENAME)
        assert post(base, comment="after the restore").status_code == 201
        assert post(base, comment="and again").status_code == 201
        assert comments(data) == ["after the restore", "and again", "restored"]
    db = sqlite3.connect(data / FILENAME)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    assert comments(data) == ["after the restore", "and again", "restored"]


def damage(data_dir) -> None:
    """A database with one damaged b-tree page (its header and the schema intact)."""
    store = FeedbackStore(data_dir)
    for i in range(100):
        store.add(rating="up", question=f"q{i}", answer="a" * 300, citations=[], index_version="v1",
                  comment="c" * 300)
    store.close()
    path = data_dir / FILENAME
    raw = bytearray(path.read_bytes())
    page = 4096
    raw[4 * page + 8:5 * page] = b"\xa5" * (page - 8)  # page 5: a leaf of the feedback table
    path.write_bytes(bytes(raw))


@pytest.mark.slow
def test_a_damaged_database_is_reported_in_health_and_refused(served, tmp_path):
    data = tmp_path / "data"
    damage(data)
    with served(admin_token=ADMIN_TOKEN) as base:
        deadline = time.monotonic() + 10
        while (health := httpx.get(f"{base}/api/health", timeout=5).json())["status"] == "ok" \
                and time.monotonic() < deadline:
            time.sleep(0.05)  # checked in the background at startup
        assert health["status"] == "degraded" and "feedback database is damaged" in health["detail"], health
        assert str(data) not in health["detail"]  # health is public: no paths
        r = post(base)
        assert r.status_code == 503 and r.json()["error"] == "feedback_unavailable"
        r = httpx.get(f"{base}/api/admin/feedback", headers=AUTH, timeout=5)
        assert r.status_code == 503 and r.json()["error"] == "feedback_unavailable"

        # Moved away: a new database is started and health recovers.
        for suffix in ("", "-wal", "-shm"):
            (data / (FILENAME + suffix)).unlink(missing_ok=True)
        deadline = time.monotonic() + 15  # reopening is tried again every few seconds
        while (r := post(base)).status_code == 503 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert r.status_code == 201
        assert httpx.get(f"{base}/api/health", timeout=5).json()["status"] == "ok"


def test_feedback_export_of_a_damaged_database_says_so_in_one_line(tmp_path):
    from bot.cli import app
    damage(tmp_path)
    r = CliRunner().invoke(app, ["feedback", "export", "--data-dir", str(tmp_path)])
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "damaged" in lines[0] and lines[0].startswith("error: "), r.stderr


def test_a_full_disk_answers_503_without_tracebacks(fake_app_factory, tmp_path, caplog):
    client = fake_app_factory(data_dir=tmp_path / "data")
    assert client.post("/api/feedback", json=feedback_body()).status_code == 201
    service = client.app.state.feedback
    db = getattr(service, "_store", service)._db
    # SQLite's own "database or disk is full": the file may not grow past its current size.
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    caplog.set_level(logging.INFO)
    codes = [client.post("/api/feedback", json=feedback_body(comment="x" * 1000)).status_code
             for _ in range(6)]
    assert codes[-1] == 503 and set(codes) <= {201, 503}, codes
    r = client.post("/api/feedback", json=feedback_body(comment="x" * 1000))
    assert r.status_code == 503 and r.json()["error"] == "feedback_unavailable"
    assert not [rec for rec in caplog.records if rec.exc_info], "a traceback was logged"
    assert len([rec for rec in caplog.records if "full" in rec.getMessage()]) == 1  # said once
    health = client.get("/api/health").json()
    assert health["status"] == "degraded" and "cannot be written" in health["detail"]


def test_feedback_export_escapes_control_characters(tmp_path):
    from bot.cli import app
    store = FeedbackStore(tmp_path)
    hostile = "\x1b]52;c;ZXZpbA==\x07copied\x1b[2J cleared\rFORGED \u202eevil\u2066 \x9b31m \x00\x7f ok"
    store.add(rating="down", question="質問\x1b[31m赤", answer="答え\r\n二行", index_version="v1\x1b[1m",
              citations=[dict(CITATION, title="題\x1b]0;title\x07", section="節\u202e")], comment=hostile)
    store.close()
    r = CliRunner().invoke(app, ["feedback", "export", "--data-dir", str(tmp_path)])
    assert r.exit_code == 0, r.output
    raw = re.findall(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]", r.output)
    assert raw == [], raw
    assert r"\x1b]52;c;ZXZpbA==\x07copied\x1b[2J cleared\x0dFORGED \u202eevil\u2066 \x9b31m \x00\x7f ok" in r.output
    assert r"Q: 質問\x1b[31m赤" in r.output and "A: 答え 二行" in r.output and r"index v1\x1b[1m" in r.output
    assert r"題\x1b]0;title\x07 — 節\u202e" in r.output
    r = CliRunner().invoke(app, ["feedback", "export", "--json", "--data-dir", str(tmp_path)])
    assert json.loads(r.output)[0]["comment"] == hostile  # the JSON keeps the text as it was sent


# ---------------------------------------------------------------------------------------------
# Proxies, the rate limit's key, the size cap

def test_forwarded_for_is_not_believed_without_trusted_proxies(served):
    with served(feedback_per_minute=3) as base:
        codes = [post(base, headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code for i in range(5)]
    assert codes == [201, 201, 201, 429, 429]  # before: all 201 (uvicorn trusted 127.0.0.1)


def test_behind_a_trusted_proxy_the_client_is_the_hop_it_forwarded(served):
    with served(feedback_per_minute=3, trusted_proxies="127.0.0.1, 10.0.0.0/8") as base:
        # What the client put in front of the proxy's hop does not matter.
        codes = [post(base, headers={"X-Forwarded-For": f"198.51.100.{i}, 203.0.113.7, 10.1.2.3"}).status_code
                 for i in range(4)]
        assert codes == [201, 201, 201, 429]
        assert post(base, headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 201
        # IPv6 clients are one client per /64.
        codes = [post(base, headers={"X-Forwarded-For": f"2001:db8:1:2::{i:x}"}).status_code for i in range(4)]
        assert codes == [201, 201, 201, 429]
        assert post(base, headers={"X-Forwarded-For": "2001:db8:1:3::1"}).status_code == 201


def test_client_address_and_rate_key():
    from bot.settings import Settings
    from web.http.proxies import client_address, rate_key, uvicorn_options
    nets = Settings(trusted_proxies="127.0.0.1,10.0.0.0/8,::1").trusted_networks
    assert client_address("192.0.2.1", ["203.0.113.1"], nets) == "192.0.2.1"  # not from a proxy
    assert client_address("127.0.0.1", [], nets) == "127.0.0.1"
    assert client_address("127.0.0.1", ["1.1.1.1, 203.0.113.1", "10.0.0.2"], nets) == "203.0.113.1"
    assert client_address("::1", ["10.0.0.1, 10.0.0.2"], nets) == "10.0.0.1"  # all trusted: the leftmost
    assert client_address("127.0.0.1", ["garbage, 203.0.113.1:5678"], nets) == "203.0.113.1"
    assert client_address("127.0.0.1", ["203.0.113.1, garbage"], nets) == "127.0.0.1"
    assert client_address("127.0.0.1", ["203.0.113.1"], ()) == "127.0.0.1"
    assert rate_key("2001:db8::1") == rate_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert rate_key("2001:db8:0:1::1") != rate_key("2001:db8::1")
    assert rate_key("::ffff:192.0.2.1") == "192.0.2.1" and rate_key("192.0.2.1") == "192.0.2.1"
    assert uvicorn_options(()) == {"proxy_headers": False}
    assert uvicorn_options(nets)["forwarded_allow_ips"] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    with pytest.raises(ValueError, match="not an IP address"):
        Settings(trusted_proxies="127.0.0.1, proxy.example")


def test_feedback_beyond_the_cap_is_refused_with_507(fake_app_factory, tmp_path):
    client = fake_app_factory(data_dir=tmp_path / "data", feedback_max_rows=2)
    receipts = [client.post("/api/feedback", json=feedback_body()) for _ in range(3)]
    assert [r.status_code for r in receipts] == [201, 201, 507]
    assert receipts[2].json()["error"] == "feedback_full"
    health = client.get("/api/health").json()
    assert health["status"] == "degraded" and "full" in health["detail"]
    # Comments on what is stored still go in.
    r = client.patch(f"/api/feedback/{receipts[0].json()['id']}", json={"comment": "more"})
    assert r.status_code == 200
    assert FeedbackStore(tmp_path / "data").count() == 2


def test_admin_feedback_offset_beyond_sqlite_integers_is_422(fake_app_factory, tmp_path):
    client = fake_app_factory(data_dir=tmp_path / "data", admin_token=ADMIN_TOKEN)
    r = client.get("/api/admin/feedback", params={"offset": "99999999999999999999"}, headers=AUTH)
    assert r.status_code == 422

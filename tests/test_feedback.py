"""Feedback on answers: the SQLite store, the HTTP routes (size and rate limits, admin listing),
`jaxabot feedback export`, and the OpenAPI document the /docs page shows."""

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from bot.errors import FeedbackError
from bot.feedback import FILENAME, SCHEMA_VERSION, FeedbackStore
from web_fixtures import *  # noqa: F403 - fixtures
from web_fixtures import ADMIN_TOKEN

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
    from web.feedback import RateLimiter
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
    assert client.app.state.feedback.count() == 3


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
    assert 1 <= len(questions) <= 3
    assert all(q.startswith("「") and q.endswith("」について教えてください") for q in questions)
    asked = [q[1:q.index("」")] for q in questions]
    assert "アジア・太平洋地域" not in asked and all(s in sections for s in asked)
    # A heading that occurs twice in the document (「関連サイト」) names no topic.
    assert "関連サイト" in sections and "関連サイト" not in asked
    own = fake_client.get("/api/suggestions", params={"doc_id": doc["doc_id"], "chunk_id": target["chunk_id"],
                                                      "lang": "en", "include_own": "true"}).json()["questions"]
    assert own[0] == "What do the documents say about “アジア・太平洋地域”?"
    assert fake_client.get("/api/suggestions", params={"doc_id": "nope", "chunk_id": "x"}).status_code == 404
    assert fake_client.get("/api/suggestions", params={"doc_id": doc["doc_id"], "chunk_id": "x"}).json() == {"questions": []}


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

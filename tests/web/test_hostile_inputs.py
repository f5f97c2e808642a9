"""Hostile input, table-driven, against a real uvicorn server: every request gets a clear 4xx
(JSON, no stack trace) and the server answers the next normal question."""

import json
import shutil
import socket

import httpx
import pytest
from fakes import FakeEmbedder
from web_helpers import SEED_CORPUS, live_server, make_settings

NORMAL = {"question": "カナダとはどの分野で協力していますか？"}


@pytest.fixture(scope="module")
def server(tmp_path_factory, fake_seed_index_module, tokenizer):
    from web.app import create_app
    index = tmp_path_factory.mktemp("hostile") / "index"
    shutil.copytree(fake_seed_index_module, index)
    app = create_app(make_settings(SEED_CORPUS, index, model="fake-bigram"),
                     embedder=FakeEmbedder(), tokenizer=tokenizer)
    with live_server(app) as base:
        yield base


@pytest.fixture(scope="module")
def fake_seed_index_module(tmp_path_factory, tokenizer):
    from bot.store.build import build_index
    index = tmp_path_factory.mktemp("fake-seed") / "index"
    build_index(SEED_CORPUS, index, FakeEmbedder(), tokenizer, max_bytes=10**7)
    return index


def _deep(n: int) -> str:
    return "[" * n + "]" * n


HOSTILE = {
    "invalid_json": ("application/json", b'{"question": "x",', (400, 422)),
    "wrong_content_type": ("text/plain", json.dumps(NORMAL).encode(), 422),
    "form_encoded": ("application/x-www-form-urlencoded", b"question=x", 422),
    "non_utf8": ("application/json", b'{"question": "\xff\xfe\x81"}', (400, 422)),
    "json_array": ("application/json", b"[1, 2, 3]", 422),
    "control_chars_only": ("application/json", json.dumps({"question": "\x00\x01\x02\x7f"}).encode(), 422),
    "zero_width_only": ("application/json", json.dumps({"question": "\u200b\u200c\u200d\ufeff"}).encode(), 422),
    "one_mb_body": ("application/json", json.dumps({"question": "あ" * 350_000}).encode(), 413),
    "ten_mb_body": ("application/json", b'{"question": "' + b"a" * 10_000_000 + b'"}', 413),
    "question_100k_chars": ("application/json", json.dumps({"question": "a" * 100_000}).encode(), 413),
    "question_1001_chars": ("application/json", json.dumps({"question": "a" * 1001}).encode(), 422),
    "deeply_nested": ("application/json", ('{"question": "x", "history": ' + _deep(5000) + "}").encode(), (400, 422)),
    "unknown_role": ("application/json",
                     json.dumps({"question": "x", "history": [{"role": "system", "content": "hi"}]}).encode(), 422),
    "history_not_list": ("application/json", json.dumps({"question": "x", "history": "hi"}).encode(), 422),
    "too_many_turns": ("application/json",
                       json.dumps({"question": "x", "history": [{"role": "user", "content": "a"}] * 21}).encode(), 422),
    "history_too_long": ("application/json", json.dumps(
        {"question": "x", "history": [{"role": "user", "content": "a" * 3000}] * 3}).encode(), 422),
    "top_k_zero": ("application/json", json.dumps({"question": "x", "top_k": 0}).encode(), 422),
    "top_k_negative": ("application/json", json.dumps({"question": "x", "top_k": -1}).encode(), 422),
    "top_k_million": ("application/json", json.dumps({"question": "x", "top_k": 10**6}).encode(), 422),
    "top_k_string": ("application/json", json.dumps({"question": "x", "top_k": "many"}).encode(), 422),
    "question_number": ("application/json", json.dumps({"question": 42}).encode(), 422),
    "question_null": ("application/json", b'{"question": null}', 422),
    "empty_body": ("application/json", b"", (400, 422)),
    "lone_surrogate": ("application/json", b'{"question": "SAFE\\u306f\\ud800?"}', 422),
    "lone_surrogate_in_history": ("application/json", b'{"question": "x", "history": '
                                  b'[{"role": "user", "content": "a\\udc80"}]}', 422),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_request_gets_a_clear_4xx_then_service_continues(server, name):
    content_type, body, expected = HOSTILE[name]
    r = httpx.post(f"{server}/api/ask", content=body, headers={"Content-Type": content_type}, timeout=60)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert r.status_code in expected, (r.status_code, r.text[:300])
    payload = r.json()
    assert set(payload) >= {"error", "message"}
    assert "Traceback" not in r.text and "File \"" not in r.text
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    ok = httpx.post(f"{server}/api/ask", json=NORMAL, timeout=60)
    assert ok.status_code == 200 and "answer" in ok.json()


@pytest.mark.parametrize("question", [
    "カナダ\u200bとの協力は？",  # zero-width inside real text
    "\u202eカナダとの協力\u202c",  # RTL override
    "カナダ\x07との協力",  # control character inside real text
    "🚀🛰️ JAXA?",
])
def test_odd_but_meaningful_text_is_answered(server, question):
    r = httpx.post(f"{server}/api/ask", json={"question": question}, timeout=60)
    assert r.status_code == 200, r.text


def test_chunked_oversized_body_is_refused(server):
    def chunks():
        yield b'{"question": "'
        for _ in range(200):
            yield b"a" * 1024
        yield b'"}'
    r = httpx.post(f"{server}/api/ask", content=chunks(), headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code == 413


def test_garbage_on_the_socket_does_not_hurt_the_server(server):
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64 + b"\r\n\r\n")
        try:
            s.recv(1024)
        except OSError:
            pass
    assert httpx.post(f"{server}/api/ask", json=NORMAL, timeout=60).status_code == 200


# -- the HTML chat form (the no-JavaScript path) --------------------------------------------

FILE = ("notes.txt", b"not a history turn", "text/plain")
FORMS = {
    "file_in_history_content": ({"question": "x", "history_role": "user"}, {"history_content": FILE}),
    "file_as_question": ({}, {"question": FILE}),
    "file_in_history_role": ({"question": "x", "history_content": "hi"}, {"history_role": FILE}),
    "repeated_question": ({"question": ["a", "b"]}, None),
    "missing_question": ({"history_role": "user", "history_content": "hi"}, None),
    "empty_form": ({}, None),
    "role_without_content": ({"question": "x", "history_role": ["user", "assistant"], "history_content": "hi"}, None),
    "content_without_role": ({"question": "x", "history_content": "hi"}, None),
    "unknown_role": ({"question": "x", "history_role": "system", "history_content": "hi"}, None),
    "blank_question": ({"question": "   "}, None),
}


@pytest.mark.parametrize("name", FORMS)
def test_odd_chat_forms_get_a_4xx_page_then_service_continues(server, name):
    data, files = FORMS[name]
    r = httpx.post(f"{server}/", data=data, files=files, headers={"Accept": "text/html"}, timeout=60)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "Traceback" not in r.text
    ok = httpx.post(f"{server}/", data={"question": NORMAL["question"]}, timeout=60)
    assert ok.status_code == 200


def test_the_form_keeps_the_readable_history_when_it_refuses(server):
    r = httpx.post(f"{server}/", data={"question": ["a", "b"], "history_role": ["user", "assistant"],
                                       "history_content": ["最初の質問", "最初の答え"]}, timeout=60)
    assert r.status_code == 422
    assert "最初の質問" in r.text and "最初の答え" in r.text


# -- HEAD, redirects, security headers on errors -----------------------------------------------

GET_PATHS = ["/", "/?lang=en", "/api/health", "/api/search?q=%E3%82%AB%E3%83%8A%E3%83%80", "/docs",
             "/openapi.json", "/static/chat.js", "/favicon.ico", "/documents/jaxa-international-cooperation",
             "/api/documents/jaxa-international-cooperation", "/api/documents/no-such-doc"]


@pytest.mark.parametrize("path", GET_PATHS)
def test_head_works_on_get_routes(server, path):
    get = httpx.get(f"{server}{path}", timeout=60)
    head = httpx.head(f"{server}{path}", timeout=60)
    assert head.status_code == get.status_code != 405
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["X-Content-Type-Options"] == "nosniff"


def test_head_on_a_post_only_route_is_405_not_500(server):
    r = httpx.head(f"{server}/api/ask", timeout=60)
    assert r.status_code == 405 and "POST" in r.headers["allow"]


@pytest.mark.parametrize("path", ["/api/health/", "/docs/", "/api/ask/", "/static", "/static/",
                                  "/documents/", "//evil.example/", "/api/search/?q=x"])
def test_no_redirect_is_built_from_the_host_header(server, path):
    for headers in ({"Host": "evil.example"}, {"Host": "evil.example", "X-Forwarded-Host": "evil.example",
                                                 "X-Forwarded-Proto": "https"}):
        r = httpx.get(f"{server}{path}", headers=headers, follow_redirects=False, timeout=60)
        assert "evil.example" not in r.headers.get("location", ""), (path, r.status_code, r.headers)
        assert "evil.example" not in r.text


ERRORS = {
    "not_found": ("GET", "/no/such/page", {}, b"", 404),
    "method_not_allowed": ("DELETE", "/api/ask", {}, b"", 405),
    "too_large": ("POST", "/api/ask", {"Content-Type": "application/json"}, b"x" * 70_000, 413),
    "bad_content_length": ("POST", "/api/ask", {"Content-Length": "12x"}, b"", 400),
    "invalid": ("POST", "/api/ask", {"Content-Type": "application/json"}, b"{}", 422),
    "html_not_found": ("GET", "/documents/nope", {"Accept": "text/html"}, b"", 404),
}


@pytest.mark.parametrize("name", ERRORS)
def test_error_responses_carry_the_security_headers(server, name):
    method, path, headers, body, status = ERRORS[name]
    host, port = server.removeprefix("http://").split(":")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    if "Content-Length" not in headers:
        head += f"Content-Length: {len(body)}\r\n"
    with socket.create_connection((host, int(port)), timeout=60) as s:
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{head}\r\n".encode() + body)
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    lines = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower().split("\r\n")
    assert lines[0].split()[1] == str(status), lines[0]
    assert "x-content-type-options: nosniff" in lines and "x-frame-options: deny" in lines
    assert any(line.startswith("content-security-policy: ") for line in lines)


# -- text the engine cannot encode, on every route that asks it ------------------------------

SURROGATE = b"SAFE\\u306f\\ud800?"  # JSON for "SAFEは\ud800?": a lone surrogate, no UTF-8 for it


def _openai(stream: bool, in_history: bool = False) -> bytes:
    turn = b'{"role": "user", "content": "' + SURROGATE + b'"}'
    messages = (turn + b', {"role": "assistant", "content": "a"}, {"role": "user", "content": "x"}'
                if in_history else turn)
    return (b'{"model": "jaxabot", "stream": ' + (b"true" if stream else b"false")
            + b', "messages": [' + messages + b"]}")


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("in_history", [False, True])
def test_openai_refuses_text_that_cannot_be_encoded(server, stream, in_history):
    r = httpx.post(f"{server}/v1/chat/completions", content=_openai(stream, in_history),
                   headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code == 400, r.text[:300]
    error = r.json()["error"]
    assert error["code"] == "invalid_input" and "not valid Unicode" in error["message"]
    assert "Traceback" not in r.text


def test_the_chat_form_and_mcp_refuse_text_that_cannot_be_encoded(server):
    # A form cannot carry a lone surrogate (its bytes are decoded leniently): whatever arrives is
    # answered or refused, never a 500.
    r = httpx.post(f"{server}/", content=b"question=SAFE%ED%A0%80%3F",
                   headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=60)
    assert r.status_code in (200, 422) and "Traceback" not in r.text
    # MCP over HTTP: refused before any tool runs (a JSON-RPC error), or as a tool error.
    host_port = server.removeprefix("http://")
    r = httpx.post(f"{server}/mcp", timeout=60, headers={
        "Content-Type": "application/json", "Accept": "application/json, text/event-stream", "Host": host_port},
        content=b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ask", '
                b'"arguments": {"question": "' + SURROGATE + b'"}}}')
    assert 400 <= r.status_code < 500 or r.json()["result"]["isError"], r.text[:300]
    assert "Traceback" not in r.text
    assert httpx.post(f"{server}/api/ask", json=NORMAL, timeout=60).status_code == 200


def test_mcp_tools_refuse_text_that_cannot_be_encoded(fake_seed_index_module, tokenizer, models):
    import anyio
    from mcp.server.mcpserver.exceptions import ToolError

    from bot.engine import Engine
    from web.mcp.tools import Tools
    from web.server.workqueue import QuestionQueue
    engine = Engine.load(fake_seed_index_module, FakeEmbedder(), tokenizer, models=models)
    tools = Tools(lambda: engine, QuestionQueue(workers=1, limit=1))

    async def refused(call) -> str:
        with pytest.raises(ToolError) as err:
            await call
        return str(err.value)

    assert "not valid Unicode" in anyio.run(refused, tools.ask("SAFEは\ud800?"))
    assert "not valid Unicode" in anyio.run(refused, tools.search("SAFE\udcff", 3))

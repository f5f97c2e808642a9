"""Connections and load on a real uvicorn server (the protocol `jaxabot serve` uses): idle and
trickling clients, abandoned requests, a full question queue, malformed and short bodies.

Timeouts are set small through the settings; nothing asserts on wall-clock time: the deadlines
below are only upper bounds for waiting (a broken server would hang, not be slow), and the
behaviour is checked by counting engine calls and queue events."""

import json
import shutil
import socket
import threading
import time
from contextlib import contextmanager

import httpx
import pytest
from fakes import FakeEmbedder
from web_helpers import SEED_CORPUS, live_server, make_settings

REQUEST_TIMEOUT = 1.0
# Upper bound for anything the server should do "within the timeout" (a loaded machine is slow).
PATIENCE = 20.0
REAL = {"question": "カナダとはどの分野で協力していますか？"}
HOST = "127.0.0.1"


@contextmanager
def started(tmp_path, index, tokenizer, **overrides):
    from web.app import create_app
    copy = tmp_path / f"index-{len(list(tmp_path.iterdir()))}"
    shutil.copytree(index, copy)
    overrides.setdefault("request_timeout", REQUEST_TIMEOUT)
    settings = make_settings(SEED_CORPUS, copy, model="fake-bigram", **overrides)
    app = create_app(settings, embedder=FakeEmbedder(), tokenizer=tokenizer)
    with live_server(app) as base:
        yield app, base, int(base.rsplit(":", 1)[1])


class Gate:
    """Wraps engine.ask: records every call and holds each one until the gate opens."""

    def __init__(self, engine) -> None:
        self.engine, self.original = engine, engine.ask
        self.calls: list[str] = []
        self.open = threading.Event()
        engine.ask = self._ask

    def _ask(self, question, *args, **kwargs):
        self.calls.append(question)
        assert self.open.wait(PATIENCE), "the gate was never opened"
        return self.original(question, *args, **kwargs)

    def restore(self) -> None:
        self.open.set()
        self.engine.ask = self.original


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached: {what}")
        time.sleep(0.02)


def post_ask(body: bytes, extra: bytes = b"") -> bytes:
    return (b"POST /api/ask HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (PATIENCE at most)."""
    sock.settimeout(PATIENCE)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def status_and_headers(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.fixture(scope="module")
def server(tmp_path_factory, fake_seed_index, tokenizer):
    with started(tmp_path_factory.mktemp("conn"), fake_seed_index, tokenizer, queue_limit=200) as s:
        yield s


def test_idle_and_trickling_connections_do_not_lock_anyone_out(server):
    app, base, port = server
    idle = [socket.create_connection((HOST, port)) for _ in range(150)]
    trickling = [socket.create_connection((HOST, port)) for _ in range(150)]
    try:
        for s in trickling:
            s.sendall(b"POST /api/ask HTTP/1.1\r\nHost: te")
        # 300 connections open without a complete request: everyone else is still served.
        assert httpx.get(f"{base}/api/health", timeout=PATIENCE).status_code == 200
        r = httpx.post(f"{base}/api/ask", json=REAL, timeout=PATIENCE)
        assert r.status_code == 200 and r.json()["answer"]
        # After the request timeout the server closes them: silently if nothing was sent, with a
        # 408 (JSON, security headers) if part of a request was.
        assert all(read_until_closed(s) == b"" for s in idle)
        answers = [read_until_closed(s) for s in trickling]
        for raw in answers:
            status, headers, body = status_and_headers(raw)
            assert status == 408 and json.loads(body)["error"] == "request_timeout"
            assert headers["x-content-type-options"] == "nosniff" and headers["connection"] == "close"
    finally:
        for s in idle + trickling:
            s.close()


def test_abandoned_requests_are_not_computed(server):
    app, base, port = server
    queue = app.state.question_queue
    before = dict(queue.snapshot())
    gate = Gate(app.state.runtime.engine)
    try:
        # 150 complete questions whose clients close the connection at once.
        for i in range(150):
            with socket.create_connection((HOST, port)) as s:
                s.sendall(post_ask(json.dumps({"question": f"abandoned {i}"}).encode()))
        # The workers hold the first ones; every other abandoned question leaves the queue.
        wait_until(lambda: queue.abandoned - before["abandoned"] + len(gate.calls) == 150
                   and queue.waiting == 0, "every abandoned question left the queue or started")
        gate.open.set()
        r = httpx.post(f"{base}/api/ask", json=REAL, timeout=PATIENCE)
        assert r.status_code == 200
        # Only what had already started when the clients left was computed, then the real one.
        assert len(gate.calls) <= queue.workers + 1
        assert gate.calls[-1] == REAL["question"]
        assert queue.abandoned - before["abandoned"] >= 150 - queue.workers
    finally:
        gate.restore()


@pytest.fixture(scope="module")
def tight(tmp_path_factory, fake_seed_index, tokenizer):
    with started(tmp_path_factory.mktemp("tight"), fake_seed_index, tokenizer, workers=1,
                 queue_limit=2) as s:
        yield s


def test_a_full_queue_answers_503_with_retry_after(tight):
    app, base, _ = tight
    queue = app.state.question_queue
    gate = Gate(app.state.runtime.engine)
    results: list[int] = []

    def ask(i: int) -> None:
        results.append(httpx.post(f"{base}/api/ask", json={"question": f"q{i}"}, timeout=PATIENCE).status_code)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(3)]
    try:
        for t in threads:
            t.start()
        wait_until(lambda: queue.running == 1 and queue.waiting == 2, "one running, two waiting")
        rejected = queue.rejected
        r = httpx.post(f"{base}/api/ask", json=REAL, timeout=PATIENCE)
        assert r.status_code == 503
        assert int(r.headers["Retry-After"]) >= 1
        assert r.json()["error"] == "overloaded" and r.json()["message"]
        assert r.headers["X-Frame-Options"] == "DENY"
        assert queue.rejected == rejected + 1
        # The page form and search share the queue; health does not wait in it.
        assert httpx.post(f"{base}/", data={"question": "x"}, timeout=PATIENCE).status_code == 503
        assert httpx.get(f"{base}/api/search", params={"q": "x"}, timeout=PATIENCE).status_code == 503
        # So do the OpenAI API (its error shape) and MCP (a tool error saying when to come back).
        r = httpx.post(f"{base}/v1/chat/completions", timeout=PATIENCE,
                       json={"model": "jaxabot", "messages": [{"role": "user", "content": "x"}]})
        assert r.status_code == 503 and int(r.headers["Retry-After"]) >= 1
        assert r.json()["error"]["code"] == "overloaded" and r.json()["error"]["type"] == "server_error"
        r = httpx.post(f"{base}/mcp", json=mcp_ask(1, "x"), timeout=PATIENCE,
                       headers={"Accept": "application/json, text/event-stream"})
        result = r.json()["result"]
        assert r.status_code == 200 and result["isError"] is True
        assert "busy" in result["content"][0]["text"] and "seconds" in result["content"][0]["text"]
        assert queue.rejected == rejected + 5
        assert httpx.get(f"{base}/api/health", timeout=PATIENCE).status_code == 200
    finally:
        gate.open.set()
        for t in threads:
            t.join(PATIENCE)
        gate.restore()
    assert results == [200, 200, 200]


def test_idle_connections_beyond_the_cap_make_room_for_real_clients(tmp_path, fake_seed_index, tokenizer):
    # A long request timeout: only making room can close the idle connections here.
    with started(tmp_path, fake_seed_index, tokenizer, max_connections=40, request_timeout=600) as (_, base, port):
        idle = [socket.create_connection((HOST, port)) for _ in range(100)]
        try:
            assert httpx.get(f"{base}/api/health", timeout=PATIENCE).status_code == 200
            assert httpx.post(f"{base}/api/ask", json=REAL, timeout=PATIENCE).status_code == 200
            # The oldest idle connections were closed to make room; the newest are still open.
            assert read_until_closed(idle[0]) == b""
            idle[-1].setblocking(False)
            with pytest.raises(BlockingIOError):
                idle[-1].recv(1)
        finally:
            for s in idle:
                s.close()


def test_malformed_chunked_body_gets_400_and_the_connection_closes(server):
    _, base, port = server
    with socket.create_connection((HOST, port)) as s:
        s.sendall(b"POST /api/ask HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{\"question\": 1}\r\n0\r\n\r\n")
        status, headers, body = status_and_headers(read_until_closed(s))
    assert status == 400 and json.loads(body)["error"] == "bad_request"
    assert headers["x-content-type-options"] == "nosniff"
    assert httpx.post(f"{base}/api/ask", json=REAL, timeout=PATIENCE).status_code == 200


@pytest.mark.parametrize("request_bytes", [
    post_ask(b'{"question": "x"}')[:-5],  # Content-Length longer than the body sent
    b"POST /api/ask HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"que",  # chunks stop
], ids=["short_content_length", "unfinished_chunks"])
def test_a_body_that_never_completes_gets_408_and_the_connection_closes(server, request_bytes):
    app, base, port = server
    calls_before = app.state.question_queue.completed
    with socket.create_connection((HOST, port)) as s:
        s.sendall(request_bytes)
        status, headers, body = status_and_headers(read_until_closed(s))
    assert status == 408 and json.loads(body)["error"] == "request_timeout"
    assert headers["connection"] == "close" and headers["x-frame-options"] == "DENY"
    assert app.state.question_queue.completed == calls_before  # nothing was computed


def test_garbage_gets_a_json_400_with_security_headers(server):
    _, _, port = server
    with socket.create_connection((HOST, port)) as s:
        s.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        status, headers, body = status_and_headers(read_until_closed(s))
    assert status == 400 and json.loads(body)["error"] == "bad_request"
    assert "default-src 'self'" in headers["content-security-policy"]


def test_jaxabot_serve_runs_uvicorn_with_the_guarded_protocol(tmp_path, monkeypatch, fake_seed_index):
    import uvicorn
    from typer.testing import CliRunner
    from uvicorn.importer import import_from_string

    from bot.cli import app
    from web.server.connections import GuardedH11Protocol
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: seen.update(options, target=target))
    # serve hands its flags to the app through the environment; let monkeypatch restore them.
    monkeypatch.setenv("JAXABOT_INDEX_DIR", str(fake_seed_index))
    result = CliRunner().invoke(app, ["serve", "--index", str(fake_seed_index), "--port", "1"])
    assert result.exit_code == 0, result.output
    assert import_from_string(seen["http"]) is GuardedH11Protocol
    # Counting connections (idle ones too) is what locked everyone out; the queue bounds work.
    assert seen.get("limit_concurrency") is None


def test_a_client_that_stops_reading_its_response_is_disconnected():
    """The protocol alone, under an app that streams a large response to a client that never
    reads it: the app's send must not wait forever."""
    from web.server.connections import LIMITS_KEY
    finished = threading.Event()

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            scope["state"][LIMITS_KEY] = {"request_timeout": REQUEST_TIMEOUT, "max_connections": 100}
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if scope["path"] == "/big":
            for _ in range(500):  # 32 MB: far more than the socket buffers hold
                await send({"type": "http.response.body", "body": b"x" * 65536, "more_body": True})
        await send({"type": "http.response.body", "body": b"ok"})
        if scope["path"] == "/big":
            finished.set()

    with live_server(app) as base:
        port = int(base.rsplit(":", 1)[1])
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            s.connect((HOST, port))
            s.sendall(b"GET /big HTTP/1.1\r\nHost: test\r\n\r\n")
            assert finished.wait(PATIENCE), "the response to a client that does not read never ended"
        finally:
            s.close()


# -- /mcp: no long-lived streams, the same admission and abandonment as /api/ask -----------------

def mcp_post(port: int, body: dict) -> bytes:
    data = json.dumps(body).encode()
    return (f"POST /mcp HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json, text/event-stream\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data


def mcp_ask(i: int, question: str) -> dict:
    return {"jsonrpc": "2.0", "id": i, "method": "tools/call",
            "params": {"name": "ask", "arguments": {"question": question}}}


def test_event_streams_on_mcp_are_refused_and_cannot_hold_connections(tmp_path, fake_seed_index, tokenizer):
    # A long request timeout and a small cap: only evicting idle connections can make room.
    with started(tmp_path, fake_seed_index, tokenizer, max_connections=40, request_timeout=600) as (_, base, port):
        streams = []
        try:
            for i in range(100):  # GET and HEAD asking for an event stream, never read
                s = socket.create_connection((HOST, port))
                streams.append(s)
                s.sendall(f"{'HEAD' if i % 2 else 'GET'} /mcp HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                          f"Accept: text/event-stream\r\n\r\n".encode())
            assert httpx.get(f"{base}/api/health", timeout=PATIENCE).status_code == 200
            for method in ("GET", "HEAD"):
                r = httpx.request(method, f"{base}/mcp", headers={"Accept": "text/event-stream"}, timeout=PATIENCE)
                assert r.status_code == 405 and r.headers["allow"] == "POST", (method, r.status_code)
            r = httpx.get(f"{base}/mcp", headers={"Accept": "text/event-stream"}, timeout=PATIENCE)
            assert r.json()["error"] == "method_not_allowed" and r.headers["x-frame-options"] == "DENY"
            # POST (the only method of a stateless endpoint) still answers.
            r = httpx.post(f"{base}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                           headers={"Accept": "application/json, text/event-stream"}, timeout=PATIENCE)
            assert r.status_code == 200 and {t["name"] for t in r.json()["result"]["tools"]} >= {"ask"}
        finally:
            for s in streams:
                s.close()


def test_abandoned_mcp_calls_are_not_computed(server):
    """MCP tool calls wait in the question queue like /api/ask and leave it when their client
    hangs up: nothing is computed for them."""
    app, base, port = server
    queue = app.state.question_queue
    gate = Gate(app.state.runtime.engine)
    before = dict(queue.snapshot())
    busy = [threading.Thread(target=httpx.post, args=(f"{base}/api/ask",),
                             kwargs={"json": {"question": f"busy {i}"}, "timeout": PATIENCE})
            for i in range(queue.workers)]
    callers = []
    try:
        for t in busy:
            t.start()
        wait_until(lambda: len(gate.calls) == queue.workers, "every worker busy")
        for i in range(20):
            s = socket.create_connection((HOST, port))
            callers.append(s)
            s.sendall(mcp_post(port, mcp_ask(i, f"abandoned {i}")))
        wait_until(lambda: queue.waiting == 20, "the MCP calls wait in the queue")
        for s in callers:
            s.close()
        wait_until(lambda: queue.waiting == 0, "the abandoned MCP calls left the queue")
        assert queue.abandoned - before["abandoned"] == 20
        gate.open.set()
        for t in busy:
            t.join(PATIENCE)
        r = httpx.post(f"{base}/api/ask", json=REAL, timeout=PATIENCE)
        assert r.status_code == 200
        assert not [q for q in gate.calls if q.startswith("abandoned")]
    finally:
        for s in callers:
            s.close()
        gate.restore()

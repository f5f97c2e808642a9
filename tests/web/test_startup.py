"""What stays off the way to the first answer (cold start): the MCP SDK is imported only once the
model has loaded, and /mcp answers 503 + Retry-After until then, as /api/ask does."""

import subprocess
import sys
import threading

import pytest
from web_helpers import wait_ready


@pytest.mark.slow
def test_importing_the_web_app_imports_neither_mcp_nor_torch():
    code = ("import sys, web.app; from web.mcp.server import install, running; "
            "print(sorted(m for m in ('mcp', 'torch', 'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_mcp_is_503_while_loading_then_served(fake_app_factory, monkeypatch):
    from web.server.runtime import Runtime

    release = threading.Event()
    load = Runtime.load

    def held_load(self, *args):
        assert release.wait(60)
        load(self, *args)

    monkeypatch.setattr(Runtime, "load", held_load)
    client = fake_app_factory(wait=False)
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    # Host: the SDK refuses other hosts on a loopback server (DNS-rebinding protection).
    headers = {"Accept": "application/json, text/event-stream", "Host": "127.0.0.1:8000"}
    loading = client.post("/mcp", json=body, headers=headers)
    assert loading.status_code == 503 and loading.headers.get("retry-after")
    assert loading.json()["error"] == "not_ready"

    release.set()
    state = client.app.state
    wait_ready(state.runtime)
    # Loaded, but nobody has asked over MCP since: the SDK is not started (its import would
    # compete with the first answers for the interpreter).
    assert client.post("/api/ask", json={"question": "SAFEとは？"}).status_code in (200, 422)
    assert state.mcp_manager is None
    # The first MCP request starts it and is answered by the SDK (stateless JSON-RPC over HTTP).
    served = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers)
    assert served.status_code == 200 and served.json()["id"] == 1
    assert state.mcp_manager is not None

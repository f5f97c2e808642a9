"""Helpers for the web tests: settings with every field the app reads, a real uvicorn server on a
free 127.0.0.1 port, and waits for loading and builds. The fixtures built on them (apps on the
fake or the real model) are in tests/conftest.py."""

import socket
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from paths import SEED_CORPUS

ADMIN_TOKEN = "test-admin-token-3f9a"
__all__ = ["ADMIN_TOKEN", "SEED_CORPUS", "free_port", "live_server", "make_settings", "wait_build", "wait_ready"]


def make_settings(corpus_dir: Path, index_dir: Path, **overrides):
    from bot.settings import Settings
    # Every field the app reads is explicit, so a developer's JAXABOT_* variables cannot leak in
    # (session fixtures are set up before conftest's autouse env cleaner runs).
    values = dict(corpus_dir=corpus_dir, index_dir=index_dir, admin_token=None, cors_origins="",
                  workers=2, keep_previous=1, max_file_mb=10.0,
                  # Feedback goes to a fresh folder, never the checkout's data/.
                  # (created only if something stores feedback).
                  data_dir=Path(tempfile.gettempdir()) / f"jaxabot-test-data-{uuid.uuid4().hex}")
    values.update(overrides)
    return Settings(**values)


def wait_ready(runtime, timeout: float = 60.0) -> None:
    if not runtime.loaded.wait(timeout):
        raise AssertionError(f"the app did not finish loading in {timeout} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(app, timeout: float = 120.0):
    """Run `app` in uvicorn on a free port in a thread, with the connection and proxy handling of
    `jaxabot serve`; yield its base URL once it is ready."""
    from web.http.proxies import uvicorn_options
    from web.server.connections import GuardedH11Protocol
    port = free_port()
    settings = getattr(getattr(app, "state", None), "settings", None)  # None for a bare ASGI app
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                            http=GuardedH11Protocol,
                            **uvicorn_options(settings.trusted_networks if settings else ()))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            if not thread.is_alive():
                raise AssertionError("the test server stopped during startup")
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the test server was not healthy after {timeout} s")
            time.sleep(0.1)
        yield base
    finally:
        server.should_exit = True
        thread.join(30)


def wait_build(base_or_client, headers: dict, timeout: float = 300.0) -> dict:
    """Poll /api/index/status until the build is no longer running; return the status."""
    get = base_or_client.get if hasattr(base_or_client, "get") else None
    deadline = time.monotonic() + timeout
    while True:
        r = get("/api/index/status", headers=headers) if get else \
            httpx.get(f"{base_or_client}/api/index/status", headers=headers, timeout=10)
        assert r.status_code == 200, r.text
        status = r.json()
        if status["state"] != "running":
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"rebuild still running after {timeout} s")
        time.sleep(0.1)

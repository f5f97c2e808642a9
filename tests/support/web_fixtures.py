"""Fixtures and helpers for the web tests: apps wired to a fake or the real model, and a real
uvicorn server on a free 127.0.0.1 port. Import the fixtures into a test module with
`from web_fixtures import *`."""

import shutil
import socket
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fakes import FakeEmbedder
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
SEED_CORPUS = ROOT / "corpus"
ADMIN_TOKEN = "test-admin-token-3f9a"

__all__ = ["fake_seed_index", "fake_app_factory", "fake_client", "real_index_copy", "real_server",
           "make_settings", "live_server", "wait_ready", "free_port", "ADMIN_TOKEN", "SEED_CORPUS",
           "wait_build", "real_client"]


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


@pytest.fixture(scope="session")
def fake_seed_index(tmp_path_factory, tokenizer) -> Path:
    """The seed corpus indexed once with FakeEmbedder (copy it before rebuilding into it)."""
    from bot.store.build import build_index
    index_dir = tmp_path_factory.mktemp("fake-seed-index")
    build_index(SEED_CORPUS, index_dir, FakeEmbedder(), tokenizer, max_bytes=10_000_000)
    return index_dir


@pytest.fixture
def fake_app_factory(tmp_path, fake_seed_index, tokenizer):
    """make(**settings) → a started TestClient on a copy of the fake seed index."""
    from web.app import create_app
    clients = []

    def make(embedder=None, index_dir: Path | None = None, corpus_dir: Path | None = None,
             wait: bool = True, **overrides) -> TestClient:
        if index_dir is None:
            index_dir = tmp_path / f"index-{len(clients)}"
            shutil.copytree(fake_seed_index, index_dir)
        settings = make_settings(corpus_dir or SEED_CORPUS, index_dir, model="fake-bigram", **overrides)
        app = create_app(settings, embedder=embedder or FakeEmbedder(), tokenizer=tokenizer)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        if wait:
            wait_ready(app.state.runtime)
        return client

    yield make
    for c in clients:
        rebuilder = c.app.state.runtime.rebuilder
        if rebuilder is not None:
            rebuilder.join(60)
        c.__exit__(None, None, None)


@pytest.fixture
def fake_client(fake_app_factory) -> TestClient:
    return fake_app_factory()


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


@pytest.fixture
def real_index_copy(tmp_path, seed_index_dir) -> Path:
    dest = tmp_path / "index"
    shutil.copytree(seed_index_dir, dest)
    return dest


@pytest.fixture(scope="module")
def real_server(seed_index_dir, real_embedder, tokenizer):
    """A uvicorn server with the real model on the seed index (read-only: nothing rebuilds it)."""
    from web.app import create_app
    app = create_app(make_settings(SEED_CORPUS, seed_index_dir), embedder=real_embedder, tokenizer=tokenizer)
    with live_server(app) as base:
        yield base


@pytest.fixture(scope="module")
def real_client(seed_index_dir, real_embedder, tokenizer):
    """A started TestClient with the real model on the seed index (read-only: nothing rebuilds
    the shared index; the admin token is set so auth can be tested)."""
    from web.app import create_app
    settings = make_settings(SEED_CORPUS, seed_index_dir, admin_token=ADMIN_TOKEN)
    app = create_app(settings, embedder=real_embedder, tokenizer=tokenizer)
    with TestClient(app, raise_server_exceptions=False) as client:
        wait_ready(app.state.runtime)
        yield client

"""Fixtures for every folder. Fast tests use FakeEmbedder; `slow` tests load the converted model
once per session and build the seed index once into a temporary folder. Apps and servers for the
web tests come on the fake or the real model. Everything runs offline.

Support modules (fakes, helpers, paths) are in tests/support/, on the path through pyproject."""

import os
import shutil
from pathlib import Path

import pytest
from fakes import FakeEmbedder
from fastapi.testclient import TestClient
from paths import SEED_CORPUS
from web_helpers import ADMIN_TOKEN, live_server, make_settings, wait_ready

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# A test that asks for one of these loads the real model (or builds an index with it): `slow`,
# whether or not it is marked, so `make test-fast` never loads the model.
REAL_MODEL_FIXTURES = {"real_embedder", "seed_index_dir", "real_engine", "real_index_copy", "real_server",
                       "real_client"}


def pytest_collection_modifyitems(items):
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _no_jaxabot_env(monkeypatch):
    # Tests pass settings explicitly; a developer's JAXABOT_* variables must not leak in.
    for key in list(os.environ):
        if key.startswith("JAXABOT_") and key != "JAXABOT_MODEL_CACHE_DIR":
            monkeypatch.delenv(key)


# -- the engine's parts -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def tokenizer():
    from bot.text.analyser import Tokenizer
    return Tokenizer()


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


@pytest.fixture(scope="session")
def model_cache_dir() -> Path:
    from bot.settings import Settings
    return Settings().model_cache_dir


@pytest.fixture(scope="session")
def real_embedder(model_cache_dir):
    from bot.embed.embedder import load_embedder
    from bot.settings import DEFAULT_MODEL
    return load_embedder(DEFAULT_MODEL, model_cache_dir, threads=2)


@pytest.fixture(scope="session")
def seed_index_dir(tmp_path_factory, real_embedder, tokenizer) -> Path:
    """The seed corpus built once with the real model (real FAISS, real BM25)."""
    from bot.store.build import build_index
    index_dir = tmp_path_factory.mktemp("seed-index")
    build_index(SEED_CORPUS, index_dir, real_embedder, tokenizer, max_bytes=10_000_000)
    return index_dir


@pytest.fixture(scope="session")
def models():
    """The fitted files shipped with the code, loaded once (the engine takes them as an argument)."""
    from bot.engine import Models
    return Models.load()


@pytest.fixture(scope="session")
def real_engine(seed_index_dir, real_embedder, tokenizer, models):
    from bot.engine import Engine
    return Engine.load(seed_index_dir, real_embedder, tokenizer, models=models)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    dest = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, dest)
    return dest


# -- apps and servers ---------------------------------------------------------------------------

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

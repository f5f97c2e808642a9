"""Shared fixtures. Fast tests use FakeEmbedder; `real` tests load the converted model once per
session and build the seed index once into a temporary folder. Everything runs offline."""

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"
# The project's own evaluation questions on the seed page (no file outside the repository).
SEED_QUESTIONS = ROOT / "bench" / "data" / "seed_questions.jsonl"
HELDOUT = ROOT / "tests" / "data" / "heldout.jsonl"


def question_texts(*paths) -> list[str]:
    """The questions (and history turns) of JSONL question files."""
    import json
    out = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                out += [case["question"], *(t["content"] for t in case.get("history") or [])]
    return out


@pytest.fixture(autouse=True)
def _no_jaxabot_env(monkeypatch):
    # Tests pass settings explicitly; a developer's JAXABOT_* variables must not leak in.
    for key in list(os.environ):
        if key.startswith("JAXABOT_") and key != "JAXABOT_MODEL_CACHE_DIR":
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def tokenizer():
    from bot.text.analyser import Tokenizer
    return Tokenizer()


@pytest.fixture
def fake_embedder():
    from fakes import FakeEmbedder
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

"""Small deterministic stand-ins for the real model, for fast unit tests."""

import hashlib
import threading
import unicodedata

import numpy as np

# Prepended to a `python -c` program: importing torch, transformers or sentence-transformers
# fails there as if the `convert` extra were not installed.
WITHOUT_CONVERT_EXTRA = (
    "import sys\n"
    "class _NotInstalled:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.partition('.')[0] in ('torch', 'transformers', 'sentence_transformers'):\n"
    "            raise ModuleNotFoundError(f'No module named {name!r}')\n"
    "sys.meta_path.insert(0, _NotInstalled())\n")


class FakeEmbedder:
    """Hashes character bigrams into a unit vector: similar strings get similar vectors,
    deterministically and in microseconds."""

    def __init__(self, dim: int = 64, name: str = "fake-bigram") -> None:
        self.dim = dim
        self.name = name
        self.calls: list[int] = []  # number of texts per encode call, to assert reuse

    def _vec(self, text: str) -> np.ndarray:
        t = unicodedata.normalize("NFKC", text).lower()
        v = np.zeros(self.dim, dtype=np.float32)
        for a, b in zip(t, t[1:] + " ", strict=True):
            h = int.from_bytes(hashlib.blake2b((a + b).encode(), digest_size=4).digest(), "little")
            v[h % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def _encode(self, texts):
        self.calls.append(len(texts))
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_queries(self, texts):
        return self._encode(list(texts))

    def encode_passages(self, texts, show_progress: bool = False):
        return self._encode(list(texts))


class CrashOnceEmbedder(FakeEmbedder):
    """Kills its own process on its first batch, once per marker file: a worker that dies
    mid-build (OOM, node lost). Ray must restart it and retry the batch."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def encode_passages(self, texts, show_progress: bool = False):
        import os
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return super().encode_passages(texts)
        os.close(fd)
        os._exit(1)


class BrokenEmbedder(FakeEmbedder):
    """Raises on every batch: a model error that retrying cannot fix."""

    def encode_passages(self, texts, show_progress: bool = False):
        raise RuntimeError("broken model")


class SlowEmbedder(FakeEmbedder):
    """Sleeps per batch (in a Ray worker too): a long build a test can watch and cancel."""

    def __init__(self, seconds_per_batch: float = 0.5) -> None:
        super().__init__()
        self.seconds = seconds_per_batch

    def encode_passages(self, texts, show_progress: bool = False):
        import time
        time.sleep(self.seconds)
        return super().encode_passages(texts)


def refusal_on_coverage(minimum: float) -> dict:
    """Refusal models (bot.answer.evidence.RefusalModel, one per language) that answer when the
    share of the question's words found reaches `minimum`, whatever the cosines: the fake
    embedder's cosines mean nothing."""
    from bot.answer.evidence import FEATURES, LANGUAGES, RefusalModel

    n = len(FEATURES)
    # P = sigmoid(coverage - minimum) >= 0.5 exactly when coverage >= minimum
    model = RefusalModel(mean=(0.0,) * n, scale=(1.0,) * n, bias=-minimum,
                         coef=tuple(1.0 if f == "coverage" else 0.0 for f in FEATURES), threshold=0.5)
    return {lang: model for lang in LANGUAGES}


class GatedEmbedder(FakeEmbedder):
    """Blocks in chosen calls until released: lets a test hold the app in `loading`, or a
    rebuild in `running`, for as long as it needs."""

    def __init__(self, block_name: bool = False, block_passages: bool = False) -> None:
        super().__init__()
        self.release = threading.Event()
        self.entered = threading.Event()
        self._block_name = block_name
        self._block_passages = block_passages

    @property
    def name(self) -> str:
        if self._block_name:
            self.entered.set()
            self.release.wait(30)
        return "fake-bigram"

    @name.setter
    def name(self, value) -> None:
        pass

    def encode_passages(self, texts, show_progress: bool = False):
        if self._block_passages:
            self.entered.set()
            self.release.wait(30)
        return super().encode_passages(texts, show_progress)

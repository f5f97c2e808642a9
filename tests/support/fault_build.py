"""Runs one index build with the fake embedder, slowed down so a test can SIGKILL it at any
phase (embedding, writing files, fsync, rename, pointer swap). Usage: fault_build.py CORPUS INDEX"""

import sys
import time
from pathlib import Path

from fakes import FakeEmbedder

from bot.store.build import build_index
from bot.text.analyser import Tokenizer


class SlowFake(FakeEmbedder):
    def encode_passages(self, texts, show_progress=False):
        out = []
        for i in range(0, len(texts), 8):
            out.append(super().encode_passages(texts[i:i + 8]))
            time.sleep(0.01)
        import numpy as np
        return np.concatenate(out) if out else super().encode_passages([])


if __name__ == "__main__":
    corpus, index = Path(sys.argv[1]), Path(sys.argv[2])
    print("start", flush=True)
    s = build_index(corpus, index, SlowFake(), Tokenizer(), max_bytes=10**7, force=True)
    print("done", s.version, flush=True)

"""The vectors of recently asked questions, for the follow-ups that refer to them.

A follow-up needs the previous question's vector as well as its own (the engine favours the
document the previous question is answered from), and in a chat that question was embedded a
moment ago, when it was asked. Keeping the last few hundred question vectors makes a follow-up
cost one embedding instead of two. Only that lookup reads this cache: a question asked again is
embedded again, so the figures of a benchmark that repeats its questions stay honest.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np


class RecentQueries:
    """A thread-safe least-recently-used map from an embedded query text to its vector."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        with self._lock:
            vec = self._vectors.get(text)
            if vec is not None:
                self._vectors.move_to_end(text)
            return vec

    def put(self, text: str, vec: np.ndarray) -> None:
        if self.size <= 0:
            return
        vec = np.array(vec, copy=True)
        vec.setflags(write=False)  # shared between requests: nobody may change it in place
        with self._lock:
            self._vectors[text] = vec
            self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def __len__(self) -> int:
        return len(self._vectors)

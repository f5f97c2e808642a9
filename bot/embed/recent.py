"""The vectors of recent conversation exchanges, for the follow-ups that refer to them.

A follow-up needs, besides its own vector, the vector of the previous exchange (the previous
question with the start of its answer: the engine favours the document that exchange is found in).
A question can be retrieved more than once (its two readings in a conversation, then its search),
and keeping the last few hundred exchange vectors embeds the exchange once. Only that lookup reads
this cache: a question asked again is embedded again, so the figures of a benchmark that repeats
its questions stay honest."""

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

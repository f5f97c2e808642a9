"""What every embedder shares: the protocol, the E5 prompts, and where a model folder keeps its
ONNX graph (written by bot/embed/convert, read by bot/embed/onnx_embedder.py)."""

from typing import Protocol

import numpy as np

QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "

ONNX_DIR = "onnx"
FP32_FILE = "model.onnx"
INPUTS = ("input_ids", "attention_mask")
OUTPUT = "sentence_embedding"


class Embedder(Protocol):
    # Read-only: an embedder may compute its dimension on first use (the Ray one asks a worker).
    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray: ...

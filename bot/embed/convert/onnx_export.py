"""Export a sentence-transformers folder to ONNX, once, so queries and builds run on ONNX Runtime
without torch.

The whole sentence-transformers pipeline (transformer, pooling, normalisation) is traced into one
graph: inputs `input_ids` and `attention_mask` (int64, batch × tokens), output
`sentence_embedding` (float32, batch × dim, already normalised when the model normalises). So the
runtime side needs only a tokenizer and a session, whatever pooling the model uses.

Files, in `<folder>/onnx/` (sentence-transformers' own layout and names):

- `model.onnx` + `model.onnx_data`: fp32, the weights as external data so that ONNX Runtime
  memory-maps them: the 250k × 384 word-embedding matrix (384 MB) stays on disk except for the
  rows actually looked up, and a session opens in a fraction of a second.

This graph is fp32 and embeds passages (it agrees with torch to 1e-6). Questions of the default
model go through an int8 copy made from it by `bot.embed.convert.quantize` (every product int8, a fitted
few outlier channels fp32), in its own folder beside this one.

torch is imported here only, at export time; serving never imports this module's dependencies.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from bot.embed.base import FP32_FILE, INPUTS, ONNX_DIR, OUTPUT
from bot.embed.convert.folders import has_stamp, install_folder, sweep_stale, write_stamp
from bot.errors import ModelError

_OPSET = 17


_STAMP = "export.json"
# Bump when the exported graph changes, so exports made by older code are redone.
EXPORT_REVISION = 2


def ensure_onnx(folder: Path) -> Path:
    """`folder` (a sentence-transformers folder) with a complete `onnx/` beside its files,
    exporting only when it is missing or incomplete. The export is written to a temp folder and
    renamed into place, so readers of the model folder never see half an export."""
    folder = Path(folder)
    dest = folder / ONNX_DIR
    if is_exported(dest):
        return folder
    sweep_stale(folder, ONNX_DIR)
    tmp = folder / f".{ONNX_DIR}.tmp-{os.getpid()}-{time.monotonic_ns()}"
    try:
        tmp.mkdir()
        _export(_load_st(str(folder)), tmp)
        install_folder(tmp, dest, is_exported)
    except OSError as exc:
        raise ModelError(f"cannot write the ONNX export to {dest}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def ensure_user_onnx(model: str, cache_dir: Path) -> Path:
    """A folder in `cache_dir` holding the tokenizer and `onnx/` for a user's own
    sentence-transformers model id or folder, exported on first use (needs torch once)."""
    key = str(Path(model).resolve()) if Path(model).exists() else model
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in Path(key).name)[:60]
    # A local folder that changes (retrained, replaced) gets a new export, not the stale one.
    stamp = key + (repr(sorted((str(p.relative_to(key)), p.stat().st_size, p.stat().st_mtime_ns)
                               for p in Path(key).rglob("*") if p.is_file()))
                   if Path(key).is_dir() else "")
    digest = hashlib.sha256(stamp.encode()).hexdigest()[:12]
    folder = Path(cache_dir) / f"onnx-{slug}-{digest}-r{EXPORT_REVISION}"
    if is_exported(folder / ONNX_DIR):
        return folder
    st = _load_st(model)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        st.tokenizer.save_pretrained(str(folder))
        (folder / "sentence_bert_config.json").write_text(
            json.dumps({"max_seq_length": int(st.max_seq_length or 512)}) + "\n", encoding="utf-8")
        tmp = folder / f".{ONNX_DIR}.tmp-{os.getpid()}-{time.monotonic_ns()}"
        try:
            tmp.mkdir()
            _export(st, tmp)
            install_folder(tmp, folder / ONNX_DIR, is_exported)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        raise ModelError(f"cannot write the ONNX export of {model!r} to {folder}: {exc}") from exc
    if not (folder / "tokenizer.json").is_file():
        raise ModelError(f"{model!r} has no fast tokenizer (tokenizer.json); use the torch backend")
    return folder


def is_exported(onnx_dir: Path) -> bool:
    return has_stamp(onnx_dir, _STAMP, revision=EXPORT_REVISION)


def _export(st, out: Path) -> None:
    """The fp32 graph of `st` into the empty folder `out`, then the stamp."""
    raw = out / ".traced.onnx"
    try:
        _trace(st, raw)
        _externalise(raw, out / FP32_FILE)
        raw.unlink()
    except ModelError:
        raise
    except Exception as exc:  # the exporters raise many types; one clear message for users
        raise ModelError(f"cannot export the model to ONNX: {exc}") from exc
    write_stamp(out, _STAMP, revision=EXPORT_REVISION, opset=_OPSET)


def torch_stack():
    """transformers and sentence-transformers' `SentenceTransformer`: conversion, export and the
    torch backend need them, serving on ONNX does not (the `convert` extra)."""
    try:
        import transformers
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError(f"this needs torch, transformers and sentence-transformers ({exc}); install "
                         "them with the `convert` extra: pip install -e '.[convert]'") from exc
    return transformers, SentenceTransformer


def _load_st(model: str):
    transformers, SentenceTransformer = torch_stack()
    transformers.utils.logging.disable_progress_bar()
    try:
        # Eager attention traces to plain MatMul/Softmax, which ONNX Runtime fuses and quantises.
        st = SentenceTransformer(model, device="cpu", model_kwargs={"attn_implementation": "eager"})
    except Exception as exc:  # the library raises many types; users need one clear message
        raise ModelError(f"cannot load embedding model {model!r} for the ONNX export: {exc}") from exc
    return st.eval()


def _trace(st, dest: Path) -> None:
    import warnings

    import torch

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, input_ids, attention_mask):
            return self.st({"input_ids": input_ids, "attention_mask": attention_mask})[OUTPUT]

    # Two rows of different lengths, so padding and the mask are part of the trace.
    ids = torch.tensor([[0, 6, 7, 8, 2], [0, 6, 2, 1, 1]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.long)
    dynamic = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about Python-side shape checks
        torch.onnx.export(
            Pipeline(), (ids, mask), str(dest), dynamo=False, opset_version=_OPSET,
            input_names=list(INPUTS), output_names=[OUTPUT],
            dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, OUTPUT: {0: "batch"}},
        )


def _externalise(src: Path, dest: Path) -> None:
    """Re-save with every weight in one external data file (memory-mapped by ONNX Runtime)."""
    import onnx

    model = onnx.load(str(src))
    data = dest.name + "_data"
    (dest.parent / data).unlink(missing_ok=True)  # onnx appends to an existing data file
    onnx.save_model(model, str(dest), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=data, size_threshold=1024)
    os.chmod(dest.parent / data, 0o644)  # onnx creates it 0600; the model cache is shared

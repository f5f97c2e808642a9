"""The query side's int8 graph: the encoder's matrix products in int8 (AVX-512 VNNI), except the
few whose inputs carry the model's outlier activations, which stay fp32.

Only questions use it. Passages are embedded once per build, by the fp32 graph, so the index is
exactly what it was; a question's embedding is most of an answer's time, and int8 halves it.
Which products stay fp32 is fitted, not chosen by hand: `bench/fit_quant.py` measures each
product's error when quantised alone and keeps the worst fp32 until the int8 questions rank
the same first passage as fp32 ones on ≥ 99 % of the benchmark's questions; the result is
`query_int8.json` beside this file (bench/README.md, "int8 queries").

Dynamic quantisation (onnxruntime.quantization): int8 weights per output channel, activations
quantised per call from their own range, so no calibration data is baked into the graph.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from bot.embed.folders import has_stamp, install_folder, sweep_stale, write_stamp
from bot.errors import ModelError

RECIPE_FILE = Path(__file__).with_name("query_int8.json")
Q8_DIR = "onnx-query-int8"
Q8_FILE = "model.onnx"
_STAMP = "quantized.json"


def load_recipe(path: Path = RECIPE_FILE) -> dict | None:
    """The fitted recipe ({"model": ..., "keep_fp32": [node names], ...}), or None."""
    try:
        recipe = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    keep = recipe.get("keep_fp32") if isinstance(recipe, dict) else None
    return recipe if isinstance(keep, list) and all(isinstance(k, str) for k in keep) else None


def weight_matmuls(graph: Path) -> list[str]:
    """Names of the MatMul nodes that multiply by a weight (an initializer): the ones int8 speeds
    up. Products of two activations (attention scores, context) are left alone."""
    import onnx

    model = onnx.load(str(graph), load_external_data=False)
    weights = {t.name for t in model.graph.initializer}
    return [n.name for n in model.graph.node if n.op_type == "MatMul" and any(i in weights for i in n.input)]


def quantize_graph(fp32: Path, dest: Path, keep_fp32: list[str]) -> None:
    """`fp32` with every weight MatMul but `keep_fp32` in dynamic int8, written to `dest` (its
    weights in `dest`.data beside it)."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    keep = set(keep_fp32)
    nodes = [n for n in weight_matmuls(fp32) if n not in keep]
    # The quantiser warns on the root logger ("consider pre-processing"): noise here. A filter on
    # the root logger drops only records made there from its own files, not other threads' logs
    # (a named logger's records reach the root's handlers without passing the root's filters).
    root = logging.getLogger()
    advice = _FromPackage("onnxruntime/quantization")
    root.addFilter(advice)
    try:
        quantize_dynamic(str(fp32), str(dest), weight_type=QuantType.QInt8, per_channel=True,
                         use_external_data_format=True, op_types_to_quantize=["MatMul"],
                         nodes_to_quantize=nodes)
    finally:
        root.removeFilter(advice)


class _FromPackage:
    def __init__(self, part: str) -> None:
        self.part = part

    def filter(self, record) -> bool:
        return self.part not in record.pathname.replace("\\", "/")


def recipe_digest(recipe: dict) -> str:
    return hashlib.sha256(json.dumps(sorted(recipe["keep_fp32"])).encode()).hexdigest()[:16]


def ensure_query_graph(folder: Path, fp32: Path, recipe: dict) -> Path:
    """The int8 query graph of `fp32` for `recipe`, made once into `folder/onnx-query-int8/`
    (in a temp folder renamed into place, so readers never see half of it) and redone when the
    recipe changes."""
    dest = Path(folder) / Q8_DIR
    digest = recipe_digest(recipe)
    if is_quantized(dest, digest):
        return dest / Q8_FILE
    sweep_stale(Path(folder), Q8_DIR)
    tmp = Path(folder) / f".{Q8_DIR}.tmp-{os.getpid()}-{time.monotonic_ns()}"
    try:
        tmp.mkdir()
        quantize_graph(fp32, tmp / Q8_FILE, recipe["keep_fp32"])
        for p in tmp.iterdir():
            os.chmod(p, 0o644)  # onnx writes the data file 0600; the model cache is shared
        write_stamp(tmp, _STAMP, recipe=digest)
        install_folder(tmp, dest, lambda d: is_quantized(d, digest))
    except OSError as exc:
        raise ModelError(f"cannot write the int8 query graph to {dest}: {exc}") from exc
    except ModelError:
        raise
    except Exception as exc:  # the quantiser raises many types; one clear message
        raise ModelError(f"cannot quantise the query graph: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest / Q8_FILE


def is_quantized(q8_dir: Path, digest: str) -> bool:
    return has_stamp(q8_dir, _STAMP, recipe=digest)

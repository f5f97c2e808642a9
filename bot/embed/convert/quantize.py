"""The query side's int8 graph: every matrix product of the encoder in int8 (AVX-512 VNNI), with
the model's few outlier activation channels split off and computed in fp32.

Only questions use it. Passages are embedded once per build, by the fp32 graph, so the index is
exactly what it was; a question's embedding is most of an answer's time, and int8 halves it.

Dynamic quantisation (onnxruntime.quantization): int8 weights per output channel, activations
quantised per call with one range per product input. A few products' inputs hold one channel
whose peak (on the first and last tokens) is 23–48× the median channel's: that channel alone
would set the range and leave the other 1,535 a handful of int8 steps. So for those products,
X · W = (X with the outlier channels zeroed) · W + X[outlier channels] · W[their rows]: the first part
goes int8 over a range the outliers no longer set, the second (one or two columns of X) stays fp32.
Which products and channels is fitted, not chosen by hand (`fit/fit_quant.py` →
`query_int8.json` beside this file; docs/embedding.md, "Questions in int8, passages in fp32"); a recipe may also keep
whole products fp32 (`keep_fp32`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from bot import fitted
from bot.embed.convert.folders import has_stamp, install_folder, sweep_stale, write_stamp
from bot.errors import ModelError

RECIPE_FILE = Path(__file__).with_name("query_int8.json")
RECIPE_FORMAT = 1
# What a recipe sets: the products kept fp32 whole and the input channels split off into fp32.
RECIPE_FEATURES = ("keep_fp32", "outlier_channels")
Q8_DIR = "onnx-query-int8"
Q8_FILE = "model.onnx"
_STAMP = "quantized.json"


def load_recipe(path: Path = RECIPE_FILE) -> dict:
    """The fitted recipe ({"model": ..., "keep_fp32": [node names], "outlier_channels": {node
    name: [input channels]}, ...}); FittedFileError when it is missing or malformed."""
    recipe = fitted.read(path, RECIPE_FORMAT, RECIPE_FEATURES)
    keep = recipe.get("keep_fp32")
    split = recipe.setdefault("outlier_channels", {})
    fitted.require(isinstance(recipe.get("model"), str), path, "it names no model")
    fitted.require(isinstance(keep, list) and all(isinstance(k, str) for k in keep), path,
                   "keep_fp32 must be a list of node names")
    fitted.require(isinstance(split, dict) and all(
        isinstance(ks, list) and ks and all(type(k) is int and k >= 0 for k in ks) for ks in split.values()), path,
        "outlier_channels must map node names to lists of channel numbers")
    return recipe


def weight_matmuls(graph: Path) -> list[str]:
    """Names of the MatMul nodes that multiply by a weight (an initializer): the ones int8 speeds
    up. Products of two activations (attention scores, context) are left alone."""
    import onnx

    model = onnx.load(str(graph), load_external_data=False)
    weights = {t.name for t in model.graph.initializer}
    return [n.name for n in model.graph.node if n.op_type == "MatMul" and any(i in weights for i in n.input)]


OUTLIER_PART = "/outlier_matmul"


def split_outliers(model, channels: dict[str, list[int]]) -> list[str]:
    """Rewrite, in `model` (loaded with its weights), each product X · W named in `channels` as
    (X · mask) · W' + Gather(X, channels) · W[channels]: mask zeroes the outlier channels, W' is
    W with their rows zeroed (so they no longer widen its per-column int8 ranges either), and the
    second product is the fp32 remainder. Returns the names of those fp32 products."""
    import numpy as np
    from onnx import helper, numpy_helper

    g = model.graph
    inits = {t.name: t for t in g.initializer}
    consumers: dict[str, int] = {}
    for n in g.node:
        for i in n.input:
            consumers[i] = consumers.get(i, 0) + 1
    found = {n.name for n in g.node if n.op_type == "MatMul"}
    missing = sorted(set(channels) - found)
    if missing:
        raise ModelError(f"the int8 recipe names products the graph does not have: {', '.join(missing)}")
    nodes, parts = [], []
    for node in g.node:
        if node.op_type != "MatMul" or node.name not in channels:
            nodes.append(node)
            continue
        x, w = node.input
        if w not in inits or consumers.get(w) != 1:
            raise ModelError(f"{node.name}: its weight is not its own initializer")
        weight = numpy_helper.to_array(inits[w])
        ks = np.array(sorted(set(channels[node.name])), dtype=np.int64)
        if ks.max() >= weight.shape[0]:
            raise ModelError(f"{node.name}: outlier channel {int(ks.max())} of {weight.shape[0]}")
        mask = np.ones(weight.shape[0], dtype=weight.dtype)
        mask[ks] = 0
        inliers = weight.copy()
        inliers[ks] = 0
        inits[w].CopyFrom(numpy_helper.from_array(inliers, w))
        p, y = node.name, node.output[0]
        g.initializer.extend([numpy_helper.from_array(mask, p + "/inlier_mask"),
                              numpy_helper.from_array(ks, p + "/outlier_channels"),
                              numpy_helper.from_array(weight[ks], p + "/outlier_rows")])
        nodes.append(helper.make_node("Mul", [x, p + "/inlier_mask"], [p + "/inliers"], name=p + "/inliers"))
        nodes.append(helper.make_node("Gather", [x, p + "/outlier_channels"], [p + "/outliers"],
                                      name=p + "/outliers", axis=-1))
        nodes.append(helper.make_node("MatMul", [p + "/outliers", p + "/outlier_rows"], [p + "/outlier_part"],
                                      name=p + OUTLIER_PART))
        node.input[0], node.output[0] = p + "/inliers", p + "/inlier_part"
        nodes.append(node)
        nodes.append(helper.make_node("Add", [p + "/inlier_part", p + "/outlier_part"], [y], name=p + "/sum"))
        parts.append(p + OUTLIER_PART)
    del g.node[:]
    g.node.extend(nodes)
    return parts


def quantize_graph(fp32: Path, dest: Path, keep_fp32: list[str],
                   outlier_channels: dict[str, list[int]] | None = None) -> None:
    """`fp32` with every weight MatMul but `keep_fp32` in dynamic int8 (the products in
    `outlier_channels` split first, see `split_outliers`), written to `dest` (its weights in
    `dest`.data beside it)."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The products to quantise, by their names in `fp32`: a split keeps them (its fp32 remainders
    # are new nodes, not listed, so they stay fp32).
    keep = set(keep_fp32)
    nodes = [n for n in weight_matmuls(fp32) if n not in keep]
    source = Path(fp32)
    split = Path(dest).with_name(".split.onnx")
    if outlier_channels:
        # The rewritten graph goes to a file, so that only the quantiser's own copy of the
        # weights is in memory while it works (passing the loaded model kept a second copy:
        # 2.2 GB peak instead of 1.75).
        model = onnx.load(str(fp32))
        split_outliers(model, outlier_channels)
        onnx.save_model(model, str(split), save_as_external_data=True, location=split.name + ".data")
        del model
        source = split
    # The quantiser warns on the root logger ("consider pre-processing"): noise here. A filter on
    # the root logger drops only records made there from its own files, not other threads' logs
    # (a named logger's records reach the root's handlers without passing the root's filters).
    root = logging.getLogger()
    advice = _FromPackage("onnxruntime/quantization")
    root.addFilter(advice)
    try:
        quantize_dynamic(str(source), str(dest), weight_type=QuantType.QInt8, per_channel=True,
                         use_external_data_format=True, op_types_to_quantize=["MatMul"],
                         nodes_to_quantize=nodes)
    finally:
        root.removeFilter(advice)
        for p in (split, split.with_name(split.name + ".data")):
            p.unlink(missing_ok=True)


class _FromPackage:
    def __init__(self, part: str) -> None:
        self.part = part

    def filter(self, record) -> bool:
        return self.part not in record.pathname.replace("\\", "/")


def recipe_digest(recipe: dict) -> str:
    """What the graph depends on: the products kept fp32 and the channels split off."""
    split = {k: sorted(v) for k, v in sorted(recipe.get("outlier_channels", {}).items())}
    return hashlib.sha256(json.dumps([sorted(recipe["keep_fp32"]), split]).encode()).hexdigest()[:16]


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
        quantize_graph(fp32, tmp / Q8_FILE, recipe["keep_fp32"], recipe.get("outlier_channels"))
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

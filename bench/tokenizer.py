"""Tokenizer load and encode cost of the converted model: `tokenizer.json` on `tokenizers` vs the
SentencePiece vocabulary (`bot.embed.spm_tokenizer`), and whether their ids agree.

Loads are timed in fresh processes (CPU seconds by `time.process_time`, resident memory added,
the libraries already imported), alternating the two, `--repeat` times each. Encoding is timed
in one process over the dev questions and the seed corpus's passages with their prompts, plus
JSQuAD's questions and contexts when `../shared/benchmarks/jsquad/` is present.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from bench.common import QUESTION_FILES, ROOT, header, loadavg, machine, offline, save_results, table

JSQUAD = ROOT.parent / "shared" / "benchmarks" / "jsquad" / "valid-v1.3.json"

_LOAD = """
import json, sys, time
from pathlib import Path
import tokenizers, sentencepiece, sentencepiece.sentencepiece_model_pb2
from bot.embed.onnx_embedder import _load_hf_tokenizer
from bot.embed.spm_tokenizer import SpmTokenizer
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 1e6
folder = Path(sys.argv[2])
r0, t0 = rss(), time.process_time()
tok = _load_hf_tokenizer(folder, 512, True) if sys.argv[1] == "tokenizers" else SpmTokenizer(folder, 512)
print(json.dumps({"cpu_s": time.process_time() - t0, "rss_mb": rss() - r0}))
"""


def _texts() -> list[str]:
    from bot.embed.base import PASSAGE_PROMPT, QUERY_PROMPT
    texts = []
    for path in QUESTION_FILES:
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            texts += [QUERY_PROMPT + json.loads(x)["question"] for x in lines if x.strip()]
    for doc in sorted((ROOT / "corpus").rglob("*.txt")):
        texts += [PASSAGE_PROMPT + p for p in doc.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    if JSQUAD.is_file():
        for article in json.loads(JSQUAD.read_text(encoding="utf-8"))["data"]:
            for para in article["paragraphs"]:
                texts.append(PASSAGE_PROMPT + para["context"])
                texts += [QUERY_PROMPT + qa["question"] for qa in para["qas"]]
    return texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="fresh-process loads of each tokenizer")
    args = ap.parse_args()
    offline()
    from bot.embed.convert.e5convert import ensure_converted
    from bot.embed.onnx_embedder import _load_hf_tokenizer
    from bot.embed.spm_tokenizer import SpmTokenizer
    from bot.settings import Settings

    info = machine()
    header("bench.tokenizer", info)
    folder = ensure_converted(Settings().model_cache_dir, onnx=False)
    kinds = ("tokenizers", "sentencepiece")
    loads: dict[str, list[dict]] = {k: [] for k in kinds}
    for _ in range(args.repeat):
        for kind in kinds:
            out = subprocess.run([sys.executable, "-c", _LOAD, kind, str(folder)], cwd=ROOT,
                                 capture_output=True, text=True, check=True)
            loads[kind].append(json.loads(out.stdout))
    texts = _texts()
    hf, sp = _load_hf_tokenizer(folder, 512, True), SpmTokenizer(folder, 512)
    ids, cpu = {}, {}
    for kind, tok in zip(kinds, (hf, sp), strict=False):
        t0 = time.process_time()
        ids[kind] = [e.ids for e in tok.encode_batch(texts)]
        cpu[kind] = time.process_time() - t0
    differ = sum(a != b for a, b in zip(ids["tokenizers"], ids["sentencepiece"], strict=False))
    rows = [[kind,
             f"{statistics.median(x['cpu_s'] for x in loads[kind]):.3f} "
             f"({' / '.join(format(x['cpu_s'], '.2f') for x in loads[kind])})",
             f"{statistics.median(x['rss_mb'] for x in loads[kind]):.0f}",
             f"{cpu[kind]:.2f}", f"{1e3 * cpu[kind] / len(texts):.3f}"] for kind in kinds]
    print(table(["tokenizer", "load, CPU s (median; runs)", "load, RSS added MB",
                 f"encode {len(texts)} texts, CPU s", "ms per text"], rows))
    print(f"\n{sum(map(len, texts)):,} characters; texts whose ids differ: {differ}")
    info["loadavg_end"] = loadavg()
    print(f"load average at end {info['loadavg_end']}")
    path = save_results("tokenizer", {"machine": info, "loads": loads, "encode_cpu_s": cpu,
                                      "texts": len(texts), "differ": differ})
    print(f"raw results: {path.relative_to(path.parents[2])}")
    if differ:
        sys.exit(1)


if __name__ == "__main__":
    main()

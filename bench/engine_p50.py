"""Engine latency of two commits in one run: wave 1's engine against today's, same embedding backend.

Each side runs in its own process from its own code tree (`git archive <commit>` into a temporary
folder; this tree for "HEAD" — uncommitted edits included), builds the seed corpus into a
temporary index with that code, asks every question of ../shared/eval/dev.jsonl `--repeat`
times, and reports per-ask wall time (`Engine.ask`, embedding included) and the engine's own
timings without the embedding. Rounds alternate between the sides so that load from other
processes on this shared machine falls on both alike; only the ratio and the difference of the
medians mean anything.

    python -m bench.engine_p50                      # wave 1 (b7846fa) vs HEAD, torch on both
    python -m bench.engine_p50 --base <commit> --rounds 3 --repeat 3 --backend torch
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench.common import ROOT

WAVE1 = "b7846fa"
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"

# Runs inside a code tree (its folder first on sys.path): both layouts of the package are handled
# (wave 1 had bot/*.py; today's code groups them in stage subpackages).
WORKER = r'''
import json, sys, tempfile, time
from pathlib import Path
tree, corpus, dev, repeat, backend = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
sys.path.insert(0, tree)
from bot.settings import Settings, cpu_count
from bot.engine import Engine
try:
    from bot.embed.embedder import load_embedder
    from bot.store.build import build_index
    from bot.store.lexical import Tokenizer
    new = True
except ImportError:
    from bot.embedder import load_embedder
    from bot.build import build_index
    from bot.lexical import Tokenizer
    new = False
s = Settings()
if new:
    emb = load_embedder(s.model, s.model_cache_dir, cpu_count(), backend=backend)
else:
    assert backend == "torch", "wave 1 embeds with torch only"
    emb = load_embedder(s.model, s.model_cache_dir, cpu_count())
tok = Tokenizer()
with tempfile.TemporaryDirectory() as tmp:
    build_index(corpus, Path(tmp) / "index", emb, tok, max_bytes=50 << 20)
    eng = Engine.load(Path(tmp) / "index", emb, tok)
    cases = [json.loads(l) for l in dev.read_text(encoding="utf-8").splitlines() if l.strip()]
    for c in cases:  # warm-up: first-call allocations and per-sentence caches
        eng.ask(c["question"], c.get("history") or [])
    wall, inner = [], []
    for _ in range(repeat):
        for c in cases:
            t = time.perf_counter()
            a = eng.ask(c["question"], c.get("history") or [])
            wall.append((time.perf_counter() - t) * 1000)
            inner.append(a.timings_ms.total - a.timings_ms.embed)
print(json.dumps({"wall": wall, "inner": inner}))
'''


def tree_of(commit: str, tmp: Path) -> Path:
    if commit == "HEAD":
        return ROOT
    folder = tmp / commit
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def run_side(tree: Path, repeat: int, backend: str) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", WORKER, str(tree), str(ROOT / "corpus"), str(DEV), str(repeat),
                          backend], env=env, cwd=tree, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default=WAVE1)
    ap.add_argument("--head", default="HEAD")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--backend", default="torch", choices=("torch", "onnx"))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        trees = {name: tree_of(c, Path(tmp)) for name, c in (("base", args.base), ("head", args.head))}
        got: dict[str, dict[str, list[float]]] = {"base": {"wall": [], "inner": []}, "head": {"wall": [], "inner": []}}
        for r in range(args.rounds):
            for name in (("base", "head") if r % 2 == 0 else ("head", "base")):
                res = run_side(trees[name], args.repeat, args.backend)
                for k in res:
                    got[name][k] += res[k]
                print(f"round {r + 1} {name}: p50 {np.median(res['wall']):.2f} ms", file=sys.stderr)
    print(f"backend {args.backend}; {len(got['base']['wall'])} asks per side (dev set, seed corpus)")
    print("| | base " + args.base + " | head " + args.head + " | head - base | head / base |")
    print("|---|---|---|---|---|")
    for k, label in (("wall", "ask p50 ms (embedding included)"), ("inner", "p50 ms without embedding")):
        b, h = float(np.median(got["base"][k])), float(np.median(got["head"][k]))
        print(f"| {label} | {b:.2f} | {h:.2f} | {h - b:+.2f} | {h / b:.2f} |")


if __name__ == "__main__":
    main()

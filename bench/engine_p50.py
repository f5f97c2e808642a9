"""Engine latency of two commits in one run: the first release's engine (b7846fa) against today's,
same embedding backend.

Each side runs in its own long-lived process from its own code tree (`git archive <commit>` into
a temporary folder; this tree for "HEAD" — uncommitted edits included) and builds the seed corpus
into a temporary index with that code. Every question of ../shared/eval/dev.jsonl is then asked of
both engines back to back (which goes first alternates), `--rounds × --repeat` times after one
warm-up pass, so that load from other processes on this shared machine falls on both alike. It
reports per-ask wall time (`Engine.ask`, embedding included) and the engine's own timings without
the embedding; only the difference and the ratio of the medians mean anything.

    python -m bench.engine_p50                      # b7846fa vs HEAD, torch on both
    python -m bench.engine_p50 --base <commit> --rounds 3 --repeat 3 --backend torch
    python -m bench.engine_p50 --head-backend onnx  # b7846fa as it shipped (torch) vs HEAD as it ships (ONNX)
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

FIRST_RELEASE = "b7846fa"
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"

# Runs inside a code tree (its folder first on sys.path): both layouts of the package are handled
# (b7846fa had bot/*.py; today's code groups them in stage subpackages).
WORKER = r'''
import json, sys, tempfile, time
from pathlib import Path
tree, corpus, backend = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
sys.path.insert(0, tree)
from bot.settings import Settings, cpu_count
from bot.engine import Engine
try:
    from bot.embed.embedder import load_embedder
    from bot.store.build import build_index
    from bot.text.analyser import Tokenizer
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
    assert backend == "torch", "b7846fa embeds with torch only"
    emb = load_embedder(s.model, s.model_cache_dir, cpu_count())
tok = Tokenizer()
tmp = tempfile.mkdtemp()
build_index(corpus, Path(tmp) / "index", emb, tok, max_bytes=50 << 20)
try:  # the fitted files are loaded at the edge and passed in, where the engine takes them
    from bot.engine import Models
    fitted = {"models": Models.load()}
except ImportError:
    fitted = {}
eng = Engine.load(Path(tmp) / "index", emb, tok, **fitted)
print("ready", flush=True)
for line in sys.stdin:  # one question per line; one timing per line back
    c = json.loads(line)
    t = time.perf_counter()
    a = eng.ask(c["question"], c.get("history") or [])
    wall = (time.perf_counter() - t) * 1000
    print(json.dumps({"wall": wall, "inner": a.timings_ms.total - a.timings_ms.embed}), flush=True)
'''


def tree_of(commit: str, tmp: Path) -> Path:
    if commit == "HEAD":
        return ROOT
    folder = tmp / commit
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def start(tree: Path, backend: str) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.Popen([sys.executable, "-c", WORKER, str(tree), str(ROOT / "corpus"), backend], env=env,
                            cwd=tree, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    while (line := proc.stdout.readline()) and line.strip() != "ready":
        pass
    return proc


def ask(proc: subprocess.Popen, case: dict) -> dict:
    proc.stdin.write(json.dumps(case, ensure_ascii=False) + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default=FIRST_RELEASE)
    ap.add_argument("--head", default="HEAD")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--backend", default="torch", choices=("torch", "onnx"))
    ap.add_argument("--head-backend", default=None, choices=("torch", "onnx"),
                    help="the head's backend, when it differs from --backend (b7846fa had torch only)")
    args = ap.parse_args(argv)
    cases = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    got: dict[str, dict[str, list[float]]] = {"base": {"wall": [], "inner": []}, "head": {"wall": [], "inner": []}}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {name: tree_of(c, Path(tmp)) for name, c in (("base", args.base), ("head", args.head))}
        backends = {"base": args.backend, "head": args.head_backend or args.backend}
        procs = {name: start(tree, backends[name]) for name, tree in trees.items()}
        try:
            for case in cases:  # warm-up: first-call allocations and per-sentence caches
                for proc in procs.values():
                    ask(proc, case)
            # Each question goes to both engines back to back, the first alternating, so that
            # load from other processes falls on both alike.
            for r in range(args.rounds * args.repeat):
                for i, case in enumerate(cases):
                    order = ("base", "head") if (r + i) % 2 == 0 else ("head", "base")
                    for name in order:
                        res = ask(procs[name], case)
                        for k in res:
                            got[name][k].append(res[k])
        finally:
            for proc in procs.values():
                proc.stdin.close()
                proc.wait(timeout=60)
    print(f"backend: base {backends['base']}, head {backends['head']}; {len(got['base']['wall'])} asks per side "
          "(dev set, seed corpus)")
    print("| | base " + args.base + " | head " + args.head + " | head - base | head / base |")
    print("|---|---|---|---|---|")
    for k, label in (("wall", "ask p50 ms (embedding included)"), ("inner", "p50 ms without embedding")):
        b, h = float(np.median(got["base"][k])), float(np.median(got["head"][k]))
        print(f"| {label} | {b:.2f} | {h:.2f} | {h - b:+.2f} | {h / b:.2f} |")


if __name__ == "__main__":
    main()

"""Choose the retrieval fusion by measurement: which ranked lists, their weights and the RRF constant.

The three lists (passages by dense cosine, passages by their best sentence's cosine, BM25) are
computed once per JSQuAD question on the cached open-corpus index (run `python -m bench.qa
--sets ja` first); every candidate fusion is then scored offline by hit@1, cross-validated by
article (a setting is chosen on the other folds' articles and scored on the held-out fold), with
the seed corpus's dev questions as a check. The chosen setting goes to bot/answer/fusion.json.

    python -m bench.fit_fusion            # fit, print the table, write bot/answer/fusion.json
    python -m bench.fit_fusion --dry-run  # print only
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from bench import jsquad
from bench.common import ROOT, offline
from bench.qa import CACHE, DEV_FILE, QueryCache

OUT = ROOT / "bot" / "answer" / "fusion.json"
FOLDS = 5
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
RRF_KS = (5, 10, 20, 40, 60)


def ranked_lists(engine, cases: list[dict]) -> list[dict]:
    """The three ranked lists (rows, best first) per case, plus the rows holding its gold."""
    from bot.answer.conversation import resolve_query
    from bot.answer.retrieval import ranked_lists as lists_of
    from bot.engine import validate
    from bot.evaluate import gold_ranges
    from bot.language import detect_language

    index = engine.index
    queries = []
    for c in cases:
        q, history = validate(c["question"], c.get("history") or [], 3)
        queries.append(resolve_query(q, history, detect_language(q), engine.tokenizer))
    vectors = np.concatenate([engine.embedder.encode_queries(queries[i:i + 256])
                              for i in range(0, len(queries), 256)]) if queries else []
    out = []
    for c, query, qvec in zip(cases, queries, vectors):
        tokens, use_lexical = engine._lexical_query(query)
        lists = lists_of(index, qvec, tokens, use_lexical)
        gold = {r for lst in lists.values() for r in lst
                if any(gold_ranges(index.passages[r].text, g) for g in c["gold_spans"])}
        out.append({"lists": lists, "gold": gold, "article": c.get("article", "dev")})
    return out


def fused_top(lists: dict[str, list[int]], weights: dict[str, float], k: int) -> int | None:
    scores: dict[int, float] = {}
    for name, rows in lists.items():
        w = weights.get(name, 0.0)
        if w:
            for rank, r in enumerate(rows):
                scores[r] = scores.get(r, 0.0) + w / (k + rank + 1)
    return max(scores, key=lambda r: (scores[r], -r)) if scores else None


def hit1(data: list[dict], setting: tuple) -> float:
    weights, k = setting
    return float(np.mean([fused_top(d["lists"], weights, k) in d["gold"] for d in data])) if data else 0.0


def settings() -> list[tuple]:
    out = []
    for wp, ws, wl in itertools.product(WEIGHTS, WEIGHTS, WEIGHTS):
        if wp == ws == wl == 0 or max(wp, ws, wl) != 1.0:  # scale-free: the largest weight is 1
            continue
        for k in RRF_KS:
            out.append(({"passage": wp, "sentence": ws, "bm25": wl}, k))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    offline()
    from bot.embed.embedder import load_embedder
    from bot.engine import Engine
    from bot.evaluate import load_cases
    from bot.settings import Settings, cpu_count
    from bot.store.lexical import Tokenizer

    s = Settings()
    embedder = QueryCache(load_embedder(s.model, s.model_cache_dir, cpu_count()), CACHE / "queries.json")
    tokenizer = Tokenizer()
    articles = jsquad.load_articles()
    cases = [c for c in jsquad.answerable_of(articles, jsquad.holdout_titles(articles)) if c["answerable"]]
    data = ranked_lists(Engine.load(CACHE / "index", embedder, tokenizer), cases)
    dev = [c for c in load_cases(DEV_FILE) if c["answerable"] and c["lang"] == "ja"]
    dev_data = ranked_lists(Engine.load(CACHE / "seed-index", embedder, tokenizer), dev)
    embedder.save()

    grid = settings()
    folds = np.array(jsquad.split_by_article([{"article": d["article"]} for d in data], FOLDS))
    cv_hits = []
    for f in range(FOLDS):
        train = [d for d, g in zip(data, folds) if g != f]
        test = [d for d, g in zip(data, folds) if g == f]
        best = max(grid, key=lambda st: hit1(train, st))
        cv_hits.append((hit1(test, best), len(test), best))
    cv = sum(h * n for h, n, _ in cv_hits) / sum(n for _, n, _ in cv_hits)
    chosen = max(grid, key=lambda st: hit1(data, st))
    print("| setting | JSQuAD hit@1 | dev (seed) hit@1 |\n|---|---|---|")
    named = {"passages only": ({"passage": 1.0}, 60), "BM25 only": ({"bm25": 1.0}, 60),
             "wave 1 (equal RRF, k=60)": ({"passage": 1.0, "sentence": 1.0, "bm25": 1.0}, 60),
             "chosen": chosen}
    for name, st in named.items():
        print(f"| {name} {st[0]} k={st[1]} | {hit1(data, st):.3f} | {hit1(dev_data, st):.3f} |")
    print(f"\ncross-validated hit@1 (setting chosen on the other {FOLDS - 1} folds' articles): {cv:.3f}")
    for h, n, st in cv_hits:
        print(f"  fold: {h:.3f} on {n} questions with {st[0]} k={st[1]}")
    if not args.dry_run:
        OUT.write_text(json.dumps({"format": 1, "fitted_by": "bench/fit_fusion.py",
                                   "weights": chosen[0], "rrf_k": chosen[1],
                                   "jsquad_hit@1": round(hit1(data, chosen), 4),
                                   "cv_hit@1": round(cv, 4)}, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Choose the retrieval fusion by measurement: which ranked lists, their weights and the RRF constant.

The three lists (passages by dense cosine, passages by their best sentence's cosine, BM25) are
computed once per JSQuAD question as the engine searches (`Engine.retrieve`) on the cached
open-corpus index of `make bench-qa` (built here when it is not there yet). Weighted reciprocal-rank
fusions are scored on a grid by hit@1; score fusions
(a weighted sum of each candidate's scores, `bot.retrieve.retrieval.SCORES`) get their weights from
a conditional logit that puts the gold passage first. Everything is cross-validated by article
(chosen or fitted on the other folds' articles, scored on the held-out fold), with the seed
corpus's dev questions as a check. The chosen setting goes to bot/retrieve/fusion.json.

    python -m fit.fit_fusion            # fit, print the table, write bot/retrieve/fusion.json
    python -m fit.fit_fusion --dry-run  # print only
    python -m fit.fit_fusion --lang en  # the English questions' entry ("languages": {"en": ...})
"""

from __future__ import annotations

import argparse
import itertools
import json

import numpy as np

from bench import jsquad
from bench.common import ROOT, offline
from bench.qa import CACHE, DEV_FILE, QueryCache, load_engine
from bot.retrieve.retrieval import FEATURES, FUSION_FILE, FUSION_FORMAT, SCORES, Fusion, Fusions, fuse
from fit.common import JSQUAD, models, provenance

OUT = FUSION_FILE
FOLDS = 5
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
RRF_KS = (5, 10, 20, 40, 60)


def ranked_lists(engine, cases: list[dict]) -> list[dict]:
    """The three ranked lists (rows, best first) per case, plus the rows holding its gold."""
    from bot.evaluate import gold_ranges
    from bot.retrieve.retrieval import ranked_lists as lists_of
    from bot.retrieve.retrieval import score_features

    out = []
    for c in cases:
        # The question as the engine searches it (resolved, embedded, its BM25 tokens); the lists
        # are then taken before fusion.
        found = engine.retrieve(c["question"], c.get("history") or [], sentences=False)
        index, qvec = found.index, found.qvec
        full = lists_of(index, qvec, found.lexical_tokens, found.use_lexical)
        lists = full.ranked
        gold = {r for lst in lists.values() for r in lst
                if any(gold_ranges(index.passages[r].text, g) for g in c["gold_spans"])}
        rows = sorted({r for lst in lists.values() for r in lst})
        out.append({"lists": lists, "gold": gold, "article": c.get("article", "dev"), "rows": rows,
                    "features": score_features(index, full, qvec, rows)})
    return out


LISTS = ("passage", "sentence", "bm25")


def settings() -> list[tuple]:
    out = []
    for wp, ws, wl in itertools.product(WEIGHTS, WEIGHTS, WEIGHTS):
        if wp == ws == wl == 0 or max(wp, ws, wl) != 1.0:  # scale-free: the largest weight is 1
            continue
        for k in RRF_KS:
            out.append(({"passage": wp, "sentence": ws, "bm25": wl}, k))
    return out


def hit_matrix(data: list[dict], grid: list[tuple]) -> np.ndarray:
    """hits[case, setting]: does the setting's fused first passage hold the case's gold?
    Fusion is a weighted sum of reciprocal ranks, so each case is one small matrix product per k."""
    hits = np.zeros((len(data), len(grid)), dtype=bool)
    by_k: dict[float, list[int]] = {}
    for j, (_, k) in enumerate(grid):
        by_k.setdefault(k, []).append(j)
    for i, d in enumerate(data):
        rows = sorted({r for name in LISTS for r in d["lists"].get(name, [])})
        if not rows:
            continue
        pos = {r: n for n, r in enumerate(rows)}
        gold = np.array([r in d["gold"] for r in rows])
        if not gold.any():
            continue
        for k, cols in by_k.items():
            rr = np.zeros((len(rows), len(LISTS)))
            for c, name in enumerate(LISTS):
                for rank, r in enumerate(d["lists"].get(name, [])):
                    rr[pos[r], c] = 1.0 / (k + rank + 1)
            W = np.array([[grid[j][0][name] for name in LISTS] for j in cols])
            scores = rr @ W.T  # rows × settings; ties go to the lower row, as in retrieval
            hits[i, cols] = gold[np.argmax(scores, axis=0)]
    return hits


# A follow-up's current document: a bonus in cosine units (about the gap between the first and
# the fifth passage); not fitted here, the follow-up rows of bench.qa measure it.
TOPIC_LINEAR = 0.05
# The fitted weights are scaled so that the cosine weights sum to what they did in the score
# fusion chosen before (0.85 + 0.7): the fused score keeps its units, in which the follow-up
# bonus above and the sentence ranker's fused-gap feature (bot/answer/choice.py) are measured.
COSINE_SCALE = 1.55
L2 = 1.0


def fit_linear(data: list[dict], cols: list[int]) -> np.ndarray:
    """Weights of a score fusion over the `cols` of SCORES: a conditional logit (softmax over each
    question's candidate passages, fit/clogit.py) fitted to put the gold passage first, on
    standardised columns; returned in the columns' own units."""
    from fit.clogit import fit_conditional_logit

    groups = [(d["features"][:, cols], np.array([r in d["gold"] for r in d["rows"]], dtype=float))
              for d in data if d["rows"] and d["gold"] & set(d["rows"])]
    X = np.concatenate([x for x, _ in groups]).astype(np.float64)
    target = np.concatenate([g / g.sum() for _, g in groups])
    sizes = np.array([len(g) for _, g in groups])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    group = np.repeat(np.arange(len(groups)), sizes)
    mu, sd = X.mean(0), X.std(0) + 1e-9
    w = fit_conditional_logit((X - mu) / sd, target, starts, group, L2, 500) / sd
    cosine = [i for i, c in enumerate(cols) if SCORES[c] != "bm25"]
    return w * (COSINE_SCALE / w[cosine].sum())


def linear_hits(data: list[dict], w: np.ndarray, cols: list[int], k: int) -> np.ndarray:
    """Per case: does one of the first `k` passages of the score fusion hold the gold? Ties go to
    the lower row, as in retrieval."""
    out = np.zeros(len(data), dtype=bool)
    for i, d in enumerate(data):
        if d["rows"]:
            gold = np.array([r in d["gold"] for r in d["rows"]])
            out[i] = gold[np.argsort(-(d["features"][:, cols] @ w), kind="stable")[:k]].any()
    return out


def rrf_hits_at3(data: list[dict], setting: tuple) -> np.ndarray:
    out = np.zeros(len(data), dtype=bool)
    for i, d in enumerate(data):
        fused = fuse(d["lists"], Fusion(setting[0], setting[1]))
        out[i] = bool(set(sorted(fused, key=lambda r: (-fused[r], r))[:3]) & d["gold"])
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--lang", default="ja", choices=("ja", "en"),
                    help="fit for Japanese questions, or for the English ones of bench/data/jsquad_en.jsonl")
    args = ap.parse_args(argv)
    offline()
    from bot.embed.embedder import load_embedder
    from bot.evaluate import load_cases
    from bot.settings import Settings, cpu_count
    from bot.text.analyser import Tokenizer

    s = Settings()
    embedder = QueryCache(load_embedder(s.model, s.model_cache_dir, cpu_count()), CACHE)
    tokenizer = Tokenizer()
    articles = jsquad.load_articles()
    held_out = jsquad.holdout_titles(articles)
    if args.lang == "ja":
        cases = [c for c in jsquad.answerable_of(articles, held_out) if c["answerable"]]
    else:
        from bench.jsquad_en import english_cases
        cases = [c for c in english_cases() if c["answerable"]]
    # The fusion being fitted is not used (the lists are taken before it): equal RRF stands in.
    fitting = models(fusion=Fusions(Fusion({"passage": 1.0, "sentence": 1.0, "bm25": 1.0}), {}))
    jsquad.write_corpus(articles, CACHE / "corpus", held_out)
    data = ranked_lists(load_engine(CACHE / "corpus", CACHE / "index", embedder, tokenizer, fitting), cases)
    dev = [c for c in load_cases(DEV_FILE) if c["answerable"] and c["lang"] == args.lang]
    dev_data = ranked_lists(load_engine(ROOT / "corpus", CACHE / "seed-index", embedder, tokenizer, fitting), dev)
    embedder.save()

    named = [({"passage": 1.0, "sentence": 0.0, "bm25": 0.0}, 60), ({"passage": 0.0, "sentence": 0.0, "bm25": 1.0}, 60),
             ({"passage": 1.0, "sentence": 1.0, "bm25": 1.0}, 60)]
    grid = named + settings()
    hits, dev_hits = hit_matrix(data, grid), hit_matrix(dev_data, grid)
    folds = np.array(jsquad.split_by_article([{"article": d["article"]} for d in data], FOLDS))
    cv_hits = []
    for f in range(FOLDS):
        best = int(np.argmax(hits[folds != f].mean(0)))
        cv_hits.append((float(hits[folds == f, best].mean()), int((folds == f).sum()), grid[best]))
    cv = sum(h * n for h, n, _ in cv_hits) / sum(n for _, n, _ in cv_hits)
    chosen = int(np.argmax(hits.mean(0)))
    print(f"| setting | JSQuAD hit@1 ({args.lang}) | dev (seed, {args.lang}) hit@1 |\n|---|---|---|")
    for name, j in (("passages only", 0), ("BM25 only", 1), ("equal RRF", 2), ("chosen", chosen)):
        print(f"| {name} {grid[j][0]} k={grid[j][1]} | {hits[:, j].mean():.3f} | {dev_hits[:, j].mean():.3f} |")
    print(f"\ncross-validated hit@1 (setting chosen on the other {FOLDS - 1} folds' articles): {cv:.3f}")
    for h, n, st in cv_hits:
        print(f"  fold: {h:.3f} on {n} questions with {st[0]} k={st[1]}")
    rrf3 = sum(rrf_hits_at3([d for d, fold in zip(data, folds, strict=False) if fold == f], st).sum()
               for f, (_, _, st) in enumerate(cv_hits)) / len(data)
    print(f"  best RRF: hit@3 {rrf_hits_at3(data, grid[chosen]).mean():.3f}, cross-validated {rrf3:.3f}")
    # Score fusions: which scores, weights by conditional logit, chosen by cross-validated
    # hit@1 + hit@3 (both are targets of the benchmark).
    candidates = {"passage, sentence, BM25": [0, 1, 3], "passage, sentence, second sentence, BM25": [0, 1, 2, 3]}
    scored = []
    for name, cols in candidates.items():
        h1 = np.zeros(len(data), dtype=bool)
        h3 = np.zeros(len(data), dtype=bool)
        for f in range(FOLDS):
            w = fit_linear([d for d, fold in zip(data, folds, strict=False) if fold != f], cols)
            test = [d for d, fold in zip(data, folds, strict=False) if fold == f]
            h1[folds == f], h3[folds == f] = linear_hits(test, w, cols, 1), linear_hits(test, w, cols, 3)
        w = fit_linear(data, cols)
        weights = dict(zip((SCORES[c] for c in cols), np.round(w, 3), strict=True))
        print(f"\nscore fusion over {name}: weights {weights}; "
              f"hit@1 {linear_hits(data, w, cols, 1).mean():.3f}, hit@3 {linear_hits(data, w, cols, 3).mean():.3f}; "
              f"cross-validated hit@1 {h1.mean():.3f}, hit@3 {h3.mean():.3f}; dev hit@1 "
              f"{linear_hits(dev_data, w, cols, 1).mean():.3f}, hit@3 {linear_hits(dev_data, w, cols, 3).mean():.3f}")
        scored.append((h1.mean() + h3.mean(), name, cols, w, h1.mean(), h3.mean(),
                       linear_hits(data, w, cols, 1).mean()))
    shipped = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    if args.lang == "ja" and shipped.get("method") == "linear":
        ws = np.array([shipped["weights"].get(n, 0.0) for n in SCORES])
        print(f"\nshipped score fusion {shipped['weights']}: "
              f"hit@1 {linear_hits(data, ws, [0, 1, 2, 3], 1).mean():.3f}, "
              f"hit@3 {linear_hits(data, ws, [0, 1, 2, 3], 3).mean():.3f}")
    _, lname, lcols, lw, lcv1, lcv3, lhit1 = max(scored, key=lambda t: t[0])
    print(f"chosen score fusion: {lname}")
    if not args.dry_run:
        whole = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
        languages = whole.get("languages", {})
        previous = whole if args.lang == "ja" else languages.get(args.lang, whole)
        if lcv1 > cv:  # the better method by cross-validated hit@1
            out = {"method": "linear",
                   "weights": {**{SCORES[c]: round(float(x), 4) for c, x in zip(lcols, lw, strict=False)},
                               "topic": previous.get("weights", {}).get("topic", TOPIC_LINEAR)},
                   "jsquad_hit@1": round(float(lhit1), 4), "cv_hit@1": round(float(lcv1), 4),
                   "cv_hit@3": round(float(lcv3), 4)}
        else:
            weights, k = grid[chosen]
            out = {"method": "rrf", "weights": {**weights, "topic": previous.get("weights", {}).get("topic", 1.0)},
                   "rrf_k": k, "jsquad_hit@1": round(float(hits[:, chosen].mean()), 4), "cv_hit@1": round(cv, 4)}
        if args.lang == "ja":
            whole = {**provenance(FUSION_FORMAT, FEATURES, "python -m fit.fit_fusion (languages.en: python -m "
                                  "fit.fit_fusion --lang en)",
                                  "the ranked lists of the answerable questions of " + JSQUAD + " on the make "
                                  "bench-qa open-corpus index (the gold passage first), cross-validated by article; "
                                  "checked on the seed dev questions (../shared/eval/dev.jsonl); en: "
                                  "bench/data/jsquad_en.jsonl"),
                     **out, **({"languages": languages} if languages else {})}
        else:  # another language's questions get their own entry (bot.retrieve.retrieval.Fusions)
            whole = {**whole, **provenance(FUSION_FORMAT, FEATURES, whole.get("fitted_by", ""), whole.get("data", "")),
                     "languages": {**languages, args.lang: out}}
        OUT.write_text(json.dumps(whole, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

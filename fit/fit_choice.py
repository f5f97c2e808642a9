"""Fit (and cross-validate) the sentence ranker of bot/answer/choice.py on the JSQuAD open corpus.

For every answerable Japanese question the engine retrieves and scores its candidate sentences as
it does when answering (`Engine.retrieve`, on the cached `make bench-qa` index); a candidate is
positive when it holds the annotated answer at its place (its highlight overlaps the gold span and
its text contains an annotator's answer; when the answer crosses a sentence boundary, overlapping
the gold span is enough). The ranker is a conditional logit (softmax over one question's
candidates, L2-regularised, standardised features), cross-validated by article (5 folds). From
the held-out probabilities it prints, for the questions the engine answers:

- how often the first sentence holds the answer (fixed mix vs ranker),
- for each confidence level, how often the quoted sentences hold the answer and how many are
  quoted on average, and the calibration of the first sentence's probability.

The confidence level written to choice.json is `--confidence` (default 0.9: quote until the
answer is held with 90 % probability); the printed table shows whether the cross-validated rate
matches it.

    python -m fit.fit_choice             # collect (cached in bench/results/choice-data.npz), CV, write
    python -m fit.fit_choice --no-write  # figures only
    python -m fit.fit_choice --recollect # features changed: collect again
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from bench import jsquad
from bench.common import RESULTS_DIR, offline
from fit.clogit import fit_conditional_logit
from fit.common import JSQUAD, models, provenance

FOLDS = 5
L2 = 1.0
LIMIT = 3
DATA = RESULTS_DIR / "choice-data.npz"
CONFIDENCES = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def collect(limit: int | None = None) -> dict:
    """Features and labels of every answerable question's candidates (see the module docstring)."""
    offline()
    from bench.qa import CACHE, QueryCache, load_engine, prewarm
    from bot.answer.choice import FEATURES, ChoiceModel
    from bot.answer.sentences import pick_sentences
    from bot.embed.embedder import load_embedder
    from bot.engine import validate
    from bot.evaluate import gold_ranges, norm
    from bot.settings import Settings, cpu_count
    from bot.text.analyser import Tokenizer

    settings = Settings()
    embedder = load_embedder(settings.model, settings.model_cache_dir, cpu_count())
    tokenizer = Tokenizer()
    articles = jsquad.load_articles()
    held_out = jsquad.holdout_titles(articles)
    jsquad.write_corpus(articles, CACHE / "corpus", held_out)
    cases = [c for c in jsquad.answerable_of(articles, held_out) if c["answerable"]][:limit]
    cached = QueryCache(embedder, CACHE)
    # The ranker being fitted is not used to collect its data: it is stood in for by a uniform one.
    n = len(FEATURES)
    uniform = ChoiceModel(np.zeros(n), np.ones(n), np.zeros(n), 1.0)
    engine = load_engine(CACHE / "corpus", CACHE / "index", cached, tokenizer, models(choice=uniform))
    prewarm(cached, cases, tokenizer)
    cached.save()
    rows, labels, exacts, base_pick, groups = [], [], [], [], []
    meta = []
    t0 = time.perf_counter()
    for i, case in enumerate(cases):
        q, history = validate(case["question"], [], 3)
        c = engine.retrieve(q, history)
        index = c.index
        found = engine.decide(engine.evidence(c), c.lang)
        X = engine.sentence_features(c)
        ex, key = [], []
        for s in c.scored:
            p = index.passages[s.passage_row]
            ranges = [r for g in case["gold_spans"] for r in gold_ranges(p.text, g)]
            hs, he = s.start - p.start, s.end - p.start
            ex.append(any(a < he and hs < b for a, b in ranges))
            sentence = norm(index.documents[p.doc_id].text[s.start:s.end])
            key.append(any(norm(a) in sentence for a in case["answers"]))
        ex, key = np.array(ex, bool), np.array(key, bool)
        label = ex & key if (ex & key).any() else ex
        picked = {id(s) for s in pick_sentences(index, c.scored, c.lang, LIMIT)}
        rows.append(X)
        labels.append(label)
        exacts.append(ex)
        base_pick.append(np.array([id(s) in picked for s in c.scored], bool))
        groups.append(np.full(len(c.scored), i))
        meta.append((case["id"], case["article"], found, c.q_info.qtype if c.q_info else None))
        if (i + 1) % 500 == 0:
            print(f"{i + 1}/{len(cases)} questions ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return {"X": np.vstack(rows), "label": np.concatenate(labels), "exact": np.concatenate(exacts),
            "base_pick": np.concatenate(base_pick), "group": np.concatenate(groups),
            "id": np.array([m[0] for m in meta]), "article": np.array([m[1] for m in meta]),
            "found": np.array([m[2] for m in meta]), "qtype": np.array([m[3] or "" for m in meta])}


def load_data(recollect: bool, limit: int | None) -> dict:
    if DATA.exists() and not recollect:
        from bot.answer.choice import FEATURES
        d = dict(np.load(DATA, allow_pickle=False))
        if d["X"].shape[1] == len(FEATURES):
            return d
    d = collect(limit)
    DATA.parent.mkdir(parents=True, exist_ok=True)
    np.savez(DATA, **d)
    return d


def fit(X: np.ndarray, y: np.ndarray, group: np.ndarray, l2: float = L2):
    """Conditional logit over each group's rows; target spread evenly over its positives.
    Returns (mean, scale, weights)."""
    mean, scale = X.mean(0), X.std(0) + 1e-9
    Z = (X - mean) / scale
    keep = np.isin(group, np.unique(group[y]))  # questions with a positive candidate
    Z, y, group = Z[keep], y[keep], group[keep]
    _, group = np.unique(group, return_inverse=True)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    pos = np.add.reduceat(y.astype(float), starts)
    target = y / pos[group]
    w = fit_conditional_logit(Z, target, starts, group, l2, maxiter=1000)
    return mean, scale, w


def softmax_by_group(s: np.ndarray, group: np.ndarray) -> np.ndarray:
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    m = np.maximum.reduceat(s, starts)
    _, g = np.unique(group, return_inverse=True)
    e = np.exp(s - m[g])
    return e / np.add.reduceat(e, starts)[g]


def cross_validate(d: dict) -> np.ndarray:
    """Held-out probabilities for every candidate, folds by article."""
    fold_of_case = np.array(jsquad.split_by_article([{"article": a} for a in d["article"]], FOLDS))
    fold = fold_of_case[d["group"]]
    probs = np.zeros(len(fold))
    for f in range(FOLDS):
        mean, scale, w = fit(d["X"][fold != f], d["label"][fold != f], d["group"][fold != f])
        m = fold == f
        if not m.any():
            continue
        probs[m] = softmax_by_group(((d["X"][m] - mean) / scale) @ w, d["group"][m])
    return probs


def quoted(probs: np.ndarray, confidence: float, limit: int = LIMIT) -> np.ndarray:
    """Which candidates `choice.choose` quotes (without its near-duplicate check)."""
    order = np.argsort(-probs, kind="stable")
    out = np.zeros(len(probs), bool)
    held = 0.0
    for k in order:
        if out.sum() >= limit or (out.any() and held >= confidence):
            break
        out[k] = True
        held += probs[k]
    return out


def report(d: dict, probs: np.ndarray) -> None:
    groups = np.unique(d["group"])
    starts = np.flatnonzero(np.r_[True, d["group"][1:] != d["group"][:-1]])
    ends = np.r_[starts[1:], len(d["group"])]
    found = d["found"]
    has_pos = np.array([d["label"][a:b].any() for a, b in zip(starts, ends, strict=False)])
    print(f"questions {len(groups)}, answered by the engine {found.sum()}, "
          f"with the answer among the candidates {has_pos[found].mean():.3f} of those")
    first_base = np.array([d["label"][a] for a in starts])
    first_new = np.array([d["label"][a + int(np.argmax(probs[a:b]))] for a, b in zip(starts, ends, strict=False)])
    print(f"first sentence holds the answer (found questions): fixed mix {first_base[found].mean():.3f}, "
          f"ranker {first_new[found].mean():.3f}")
    base_hold = np.array([(d["label"][a:b] & d["base_pick"][a:b]).any() for a, b in zip(starts, ends, strict=False)])
    base_exact = np.array([(d["exact"][a:b] & d["base_pick"][a:b]).any() for a, b in zip(starts, ends, strict=False)])
    base_n = np.array([d["base_pick"][a:b].sum() for a, b in zip(starts, ends, strict=False)])
    n_all = len(groups)
    print(f"fixed mix (margin {0.03}): quoted hold the answer {base_hold[found].sum() / n_all:.3f} of all, "
          f"exact {base_exact[found].sum() / n_all:.3f}, sentences {base_n[found].mean():.2f}")
    print("confidence  holds(all)  exact(all)  sentences  held-out P(holds | found)")
    for conf in CONFIDENCES:
        hold, ex, n = [], [], []
        for a, b in zip(starts, ends, strict=False):
            q = quoted(probs[a:b], conf)
            hold.append((d["label"][a:b] & q).any())
            ex.append((d["exact"][a:b] & q).any())
            n.append(q.sum())
        hold, ex, n = np.array(hold), np.array(ex), np.array(n)
        print(f"  {conf:.2f}      {hold[found].sum() / n_all:.3f}       {ex[found].sum() / n_all:.3f}      "
              f"{n[found].mean():.2f}       {hold[found].mean():.3f}")
    # Calibration of the first sentence's probability.
    top_p = np.array([probs[a:b].max() for a, b in zip(starts, ends, strict=False)])
    print("calibration (first sentence): P bin, questions, rate it holds the answer")
    for lo, hi in ((0, .3), (.3, .5), (.5, .7), (.7, .85), (.85, .95), (.95, 1.01)):
        m = found & (top_p >= lo) & (top_p < hi)
        if m.any():
            print(f"  [{lo:.2f}, {hi:.2f})  {m.sum():5d}  {first_new[m].mean():.3f}  (mean P {top_p[m].mean():.3f})")
    for t in sorted(set(d["qtype"])):
        m = found & (d["qtype"] == t)
        print(f"  type {t or 'none':7s} n={m.sum():5d} first: mix {first_base[m].mean():.3f} ranker "
              f"{first_new[m].mean():.3f}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--recollect", action="store_true")
    ap.add_argument("--limit", type=int, default=None, help="only the first N questions (a quick look)")
    ap.add_argument("--confidence", type=float, default=0.9)
    args = ap.parse_args(argv)
    from bot.answer.choice import FEATURES, FORMAT_VERSION, MODEL_FILE
    d = load_data(args.recollect, args.limit)
    probs = cross_validate(d)
    report(d, probs)
    mean, scale, w = fit(d["X"], d["label"], d["group"])
    print("weights (standardised):")
    for name, c in sorted(zip(FEATURES, w, strict=False), key=lambda x: -abs(x[1])):
        print(f"  {name:22s} {c:+.3f}")
    if not args.no_write:
        MODEL_FILE.write_text(json.dumps({
            **provenance(FORMAT_VERSION, FEATURES, "python -m fit.fit_choice" + (
                f" --confidence {args.confidence}" if args.confidence != 0.9 else ""),
                JSQUAD + ": the answerable questions of the open corpus (the 10 held-out articles left out), "
                "each with its candidate sentences retrieved from the make bench-qa index; a candidate is "
                "positive when it holds the annotated answer"),
            "mean": [round(float(x), 6) for x in mean], "scale": [round(float(x), 6) for x in scale],
            "weights": [round(float(x), 6) for x in w], "confidence": args.confidence,
            "questions": int(len(np.unique(d["group"]))),
        }, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_FILE.relative_to(Path.cwd()) if MODEL_FILE.is_relative_to(Path.cwd()) else MODEL_FILE}")


if __name__ == "__main__":
    main()

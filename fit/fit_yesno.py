"""Fit (and cross-validate) what settles a yes/no question (bot/answer/yesno.py): two logistic
models over (question, candidate sentence) pairs labelled yes / no / unsettled: settled (yes or
no) against unsettled on every feature, and no against yes among the settled pairs on the
polarity features alone.

The pairs come from the engine's own retrieval (`Engine.retrieve`, then
`Engine.yes_no_features` for the best candidates), on three sources:

- JSQuAD's own yes/no questions (「北海道に梅雨はあるか」): the candidate holding the gold span is
  "no" when the annotated answer is negated (ない, できない), else "yes"; the other candidates are
  "unsettled". Alternative questions (「赤字か黒字か」) are not yes/no questions and are left out.
- JSQuAD questions turned into yes/no questions: the asked phrase (何年, どこ, 誰 …) replaced by
  the annotated answer (the gold sentence: "yes"), or by another question's answer of the same
  kind (the gold sentence: "unsettled": it speaks of something else).
- The project's labelled questions over the real pages (fit/data/yesno_questions.jsonl) and the
  fit split's yes/no questions of bench/data/jaxaweb_own.jsonl (its held-out ones are never read).

Cross-validated by group (a JSQuAD article, a real page's question), it prints the accuracy per
source and class; then it fits on everything and writes bot/answer/yesno.json.

    python -m fit.fit_yesno            # collect, cross-validate, write
    python -m fit.fit_yesno --no-write # figures only
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from bench import jsquad
from bench.common import offline
from fit.common import JSQUAD, ROOT, models, provenance

OWN = ROOT / "fit" / "data" / "yesno_questions.jsonl"
OWN_BENCH = ROOT / "bench" / "data" / "jaxaweb_own.jsonl"
CONVERTED = 600  # JSQuAD questions turned into yes/no questions
DEPTH = 5  # candidates per question
FOLDS = 5
C = 1.0
SEED = 8
# The asked phrase of a JSQuAD question, replaced by an answer to make a yes/no question.
_WH = re.compile(r"何年何月何日|何月何日|何年|何月|何日|何人|何か国|何カ国|何ヶ国|何回|何個|何歳|いつ|どこ|誰|だれ")


def _stand_in():
    from bot.answer.yesno import FEATURES, YesNoModel
    n = len(FEATURES)
    return YesNoModel(np.zeros(n), np.ones(n), np.zeros(n), 0.0, np.zeros(n), 0.0)


def _holds(index, s, golds) -> bool:
    from bot.evaluate import gold_ranges
    p = index.passages[s.passage_row]
    ranges = [r for g in golds for r in gold_ranges(p.text, g)]
    hs, he = s.start - p.start, s.end - p.start
    return any(a < he and hs < b for a, b in ranges)


def _pairs(engine, question: str, golds: list[str], label: str, source: str, group: str, others: bool = True):
    """(features, label, source, group) of the candidates of `question`: the gold one with `label`,
    the others (when `others`) "unsettled"."""
    from bot.engine import validate
    q, history = validate(question, [], 3)
    c = engine.retrieve(q, history)
    pool = c.scored[:DEPTH]
    if not pool:
        return []
    X = engine.yes_no_features(c, q, pool)
    out = []
    for s, x in zip(pool, X, strict=True):
        if _holds(c.index, s, golds):
            out.append((x, label, source, group))
        elif others:
            out.append((x, "unsettled", source, group))
    return out


def _negated_answer(answer: str, tokenizer) -> bool:
    from bot.answer.yesno import negated_japanese
    return negated_japanese(answer, tokenizer) or "否" in answer


def _as_yes_no(question: str, answer: str) -> str | None:
    m = _WH.search(question)
    if not m:
        return None
    q = question[:m.start()] + answer + question[m.end():]
    q = re.sub(r"[?？。\s]+$", "", q)
    return q if q.endswith("か") else q + "か？"


def collect() -> list[tuple]:
    offline()
    from bench.qa import CACHE, QueryCache, load_engine
    from bot.answer import kinds
    from bot.embed.embedder import load_embedder
    from bot.settings import Settings, cpu_count
    from bot.text.analyser import Tokenizer

    settings = Settings()
    embedder = load_embedder(settings.model, settings.model_cache_dir, cpu_count())
    tokenizer = Tokenizer()
    stand_in = models(yesno=_stand_in())
    rows: list[tuple] = []
    # -- JSQuAD
    articles = jsquad.load_articles()
    held_out = jsquad.holdout_titles(articles)
    jsquad.write_corpus(articles, CACHE / "corpus", held_out)
    cases = [c for c in jsquad.answerable_of(articles, held_out) if c["answerable"]]
    cached = QueryCache(embedder, CACHE)
    engine = load_engine(CACHE / "corpus", CACHE / "index", cached, tokenizer, stand_in)
    natural = [c for c in cases if kinds.is_yes_no(c["question"], "ja")]
    for case in natural:
        label = "no" if _negated_answer(min(case["answers"], key=len), tokenizer) else "yes"
        rows += _pairs(engine, case["question"], case["gold_spans"], label, "jsquad yes/no", case["article"])
    wh = [c for c in cases if _WH.search(c["question"]) and not kinds.is_yes_no(c["question"], "ja")]
    rng = random.Random(SEED)
    sample = rng.sample(wh, min(CONVERTED, len(wh)))
    by_kind: dict[str, list[str]] = {}
    for case in wh:
        by_kind.setdefault(_WH.search(case["question"]).group(0), []).append(min(case["answers"], key=len))
    for case in sample:
        answer = min(case["answers"], key=len)
        q = _as_yes_no(case["question"], answer)
        if q is None or not kinds.is_yes_no(q, "ja"):
            continue
        rows += _pairs(engine, q, case["gold_spans"], "yes", "jsquad converted", case["article"])
        golds = " ".join(case["gold_spans"])
        siblings = [a for a in by_kind[_WH.search(case["question"]).group(0)] if a not in golds and a != answer]
        if siblings:
            q2 = _as_yes_no(case["question"], rng.choice(siblings))
            if q2 and kinds.is_yes_no(q2, "ja"):
                rows += _pairs(engine, q2, case["gold_spans"], "unsettled", "jsquad converted", case["article"],
                               others=False)
    cached.save()
    print(f"JSQuAD: {len(natural)} yes/no questions, {len(sample)} converted", file=sys.stderr)
    # -- the real pages
    from bench import jaxaweb
    own = load_engine(jaxaweb.write_corpus(CACHE / "own-corpus", with_seed=True), CACHE / "own-index",
                      embedder, tokenizer, stand_in)
    labelled = [json.loads(line) for line in OWN.read_text(encoding="utf-8").splitlines() if line.strip()]
    keys = {"はい": "yes", "yes": "yes", "いいえ": "no", "no": "no"}
    for line in OWN_BENCH.read_text(encoding="utf-8").splitlines():
        case = json.loads(line) if line.strip() else None
        if case and case.get("kind") == "yesno" and case.get("split") == "fit":
            labelled.append({"question": case["question"], "gold_spans": case["gold_spans"],
                             "label": keys[case["answer_keys"][0][0].lower()]})
    for k, case in enumerate(labelled):
        rows += _pairs(own, case["question"], case["gold_spans"], case["label"], "real pages", f"own{k}")
    return rows


def _logit(X: np.ndarray, y: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression
    m = LogisticRegression(C=C, max_iter=2000)
    m.fit(X, y, sample_weight=weight)
    return m.coef_[0], float(m.intercept_[0])


def fit(X: np.ndarray, y: np.ndarray, weight: np.ndarray):
    """(mean, scale, settle weights, settle bias, no weights, no bias); y in CLASSES indices."""
    from bot.answer.yesno import CLASSES, FEATURES, POLARITY
    mean, scale = X.mean(0), X.std(0) + 1e-9
    Z = (X - mean) / scale
    unsettled = CLASSES.index("unsettled")
    settle_w, settle_b = _logit(Z, (y != unsettled).astype(int), weight)
    polar = [FEATURES.index(f) for f in POLARITY]
    settled = y != unsettled
    w, no_b = _logit(Z[settled][:, polar], (y[settled] == CLASSES.index("no")).astype(int), weight[settled])
    no_w = np.zeros(len(FEATURES))
    no_w[polar] = w
    return mean, scale, settle_w, settle_b, no_w, no_b


def predict(params, X: np.ndarray) -> np.ndarray:
    from bot.answer.yesno import CLASSES, YesNoModel, verdict
    return np.array([CLASSES.index(verdict(p)) for p in YesNoModel(*params).probabilities(X)])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-write", action="store_true", help="print the figures, do not write yesno.json")
    args = ap.parse_args(argv)
    from bot.answer.yesno import CLASSES, FEATURES, MODEL_FILE

    rows = collect()
    X = np.array([r[0] for r in rows])
    y = np.array([CLASSES.index(r[1]) for r in rows])
    source = np.array([r[2] for r in rows])
    group = np.array([r[3] for r in rows])
    # Each source weighs as much as the others, and within it each class as much as the others:
    # the few real-page pairs and the rare "no" are not drowned by JSQuAD's many "unsettled".
    weight = np.ones(len(y))
    for src in np.unique(source):
        for k in np.unique(y[source == src]):
            mask = (source == src) & (y == k)
            weight[mask] = 1.0 / mask.sum() / len(np.unique(y[source == src]))
    weight *= len(y) / weight.sum()
    print(f"{len(y)} pairs: " + ", ".join(f"{src} {Counter(CLASSES[k] for k in y[source == src])}"
                                            for src in np.unique(source)))
    groups = sorted(set(group))
    fold_of = {g: i % FOLDS for i, g in enumerate(random.Random(SEED).sample(groups, len(groups)))}
    fold = np.array([fold_of[g] for g in group])
    pred = np.zeros(len(y), int)
    for f in range(FOLDS):
        test = fold == f
        pred[test] = predict(fit(X[~test], y[~test], weight[~test]), X[test])
    print("cross-validated by group: accuracy per source and true class (n)")
    for src in np.unique(source):
        cells = []
        for k, name in enumerate(CLASSES):
            mask = (source == src) & (y == k)
            if mask.any():
                cells.append(f"{name} {np.mean(pred[mask] == k):.3f} ({mask.sum()})")
        print(f"  {src}: " + ", ".join(cells))
    mean, scale, settle_w, settle_b, no_w, no_b = fit(X, y, weight)
    out = provenance(1, FEATURES, "python -m fit.fit_yesno",
                     f"{JSQUAD}: its yes/no questions and {CONVERTED} questions turned into yes/no ones, on the "
                     "open-corpus index; fit/data/yesno_questions.jsonl and the fit split's yes/no questions of "
                     "bench/data/jaxaweb_own.jsonl on the real pages")
    out.update({"mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
                "settle": {"weights": settle_w.round(6).tolist(), "bias": round(settle_b, 6)},
                "no": {"weights": no_w.round(6).tolist(), "bias": round(no_b, 6),
                       "note": "fitted on the polarity features only (bot/answer/yesno.py POLARITY)"}})
    print("weights (settled, no):")
    for name, a, b in zip(FEATURES, settle_w, no_w, strict=True):
        print(f"  {name:20s} {a:+.2f} {b:+.2f}")
    if not args.no_write:
        Path(MODEL_FILE).write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()

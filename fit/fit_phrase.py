"""Fit (and cross-validate) the answer-phrase ranker of bot/answer/phrase.py on JSQuAD.

For every answerable question whose annotated answer lies inside one sentence of its paragraph,
that sentence is given to `find_phrase` with the question's type from `question_type`. Candidates
are ranked by a conditional logit (softmax over one question's candidates, L2-regularised), the
target being the candidates with the best character F1 against the annotators' answers.

    python -m fit.fit_phrase            # 5-fold CV by article, prints EM/F1, writes the model
    python -m fit.fit_phrase --no-write # CV figures only

Scores are the standard JSQuAD measures: exact match and character F1 (bags of characters after
NFKC, lower-casing and removing whitespace and punctuation), maximum over annotators.
"""

import argparse
import json
import time
import unicodedata
from collections import Counter, defaultdict

import numpy as np

from bench.jsquad import DEFAULT_PATH, load_articles, split_by_article
from bot.answer import phrase
from bot.errors import FittedFileError
from bot.ingest.passages import split_sentences
from bot.query import analysis
from bot.text.analyser import Tokenizer
from fit.clogit import fit_conditional_logit
from fit.common import provenance

FOLDS = 5
L2 = 3.0
# The types the phrase target is stated on (time, number, person, place, name).
TARGET_TYPES = ("time", "number", "person", "place", "name")


def normalize_answer(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).lower()
    return "".join(ch for ch in s if not ch.isspace() and not unicodedata.category(ch).startswith("P"))


def char_f1(pred: str, gold: str) -> float:
    p, g = Counter(normalize_answer(pred)), Counter(normalize_answer(gold))
    common = sum((p & g).values())
    if not common:
        return 0.0
    prec, rec = common / sum(p.values()), common / sum(g.values())
    return 2 * prec * rec / (prec + rec)


def exact(pred: str, gold: str) -> float:
    return float(normalize_answer(pred) == normalize_answer(gold))


def examples(articles) -> list[dict]:
    """One case per answerable question: its answer sentence, the annotators' answers, its article."""
    out = []
    for a in articles:
        for p in a.paragraphs:
            text = p["text"]
            sents = split_sentences(text)
            for qa in p["qas"]:
                valid = [x for x in qa["answers"] if x["answer_start"] >= 0
                         and text[x["answer_start"]:x["answer_start"] + len(x["text"])] == x["text"]]
                if not valid:
                    continue
                st = valid[0]["answer_start"]
                sent = next(((s, e) for s, e in sents if s <= st < e), None)
                if sent is None:
                    continue
                out.append({"id": qa["id"], "question": qa["question"], "article": a.title,
                            "sentence": text[sent[0]:sent[1]], "answers": sorted({x["text"] for x in valid})})
    return out


def featurise(cases: list[dict], tok: Tokenizer) -> list[dict]:
    for c in cases:
        q = analysis.analyse_question(c["question"], tok)
        c["qtype"] = q.qtype
        if q.qtype is None:
            continue
        spans, rows = phrase.feature_rows(c["sentence"], q, tok)
        c["spans"] = spans
        c["X"] = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(phrase.feature_names()))
        c["f1"] = np.array([max(char_f1(c["sentence"][s:e], g) for g in c["answers"]) for s, e in spans])
    return cases


def fit(cases: list[dict], l2: float = L2) -> np.ndarray:
    train = [c for c in cases if c.get("spans") and c["f1"].max() > 0]
    X = np.vstack([c["X"] for c in train])
    starts = np.cumsum([0] + [len(c["spans"]) for c in train])[:-1]
    target = np.concatenate([(c["f1"] == c["f1"].max()) / (c["f1"] == c["f1"].max()).sum() for c in train])
    group = np.repeat(np.arange(len(train)), [len(c["spans"]) for c in train])
    return fit_conditional_logit(X, target, starts, group, l2, maxiter=500)


def predict(c: dict, w: np.ndarray) -> str:
    if not c.get("spans"):
        return ""
    s, e = c["spans"][int(np.argmax(c["X"] @ w))]
    return c["sentence"][s:e]


def report(cases: list[dict], preds: dict[str, str]) -> None:
    typed = [c for c in cases if c["qtype"] in analysis.TYPES]
    print(f"questions {len(cases)}, typed {len(typed)} ({len(typed) / len(cases):.1%})")
    by = defaultdict(list)
    for c in typed:
        p = preds[c["id"]]
        em = max(exact(p, g) for g in c["answers"])
        f1 = max(char_f1(p, g) for g in c["answers"])
        by[c["qtype"]].append((em, f1))
        by["all typed"].append((em, f1))
        if c["qtype"] in TARGET_TYPES:
            by["5 targets"].append((em, f1))
    print(f"{'type':10} {'n':>5} {'EM':>6} {'F1':>6}")
    for t in list(analysis.TYPES) + ["5 targets", "all typed"]:
        if by[t]:
            a = np.array(by[t])
            print(f"{t:10} {len(a):5d} {a[:, 0].mean():6.3f} {a[:, 1].mean():6.3f}")


def timing(cases: list[dict], tok: Tokenizer, n: int = 300) -> None:
    """Wall time of question_type + find_phrase with the shipped model (a ratio to Sudachi's own
    tokenisation of the same sentence is printed too: the machine is shared)."""
    model = phrase.PhraseModel.load()
    typed = [c for c in cases if c["qtype"] in analysis.TYPES][:n]
    calls, tokenise = [], []
    for c in typed:
        t0 = time.perf_counter()
        phrase.find_phrase(c["sentence"], c["question"], analysis.question_type(c["question"], tok), tok, model)
        t1 = time.perf_counter()
        tok.morphemes(c["sentence"])
        calls.append(t1 - t0)
        tokenise.append(time.perf_counter() - t1)
    print(f"find_phrase on {len(typed)} sentences: median {np.median(calls) * 1e3:.2f} ms, "
          f"p95 {np.percentile(calls, 95) * 1e3:.2f} ms "
          f"({np.median(calls) / np.median(tokenise):.0f}x Sudachi's tokenisation of the sentence)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_PATH))
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--l2", type=float, default=L2)
    ap.add_argument("--errors", metavar="TYPE", help="print the cross-validated misses of one type")
    ap.add_argument("--below", type=float, default=0.5, help="with --errors: misses are answers under this F1")
    args = ap.parse_args()
    tok = Tokenizer()
    t0 = time.perf_counter()
    cases = featurise(examples(load_articles(args.data)), tok)
    print(f"featurised {len(cases)} cases in {time.perf_counter() - t0:.1f}s")
    folds = split_by_article(cases, FOLDS)
    preds = {}
    for k in range(FOLDS):
        w = fit([c for c, f in zip(cases, folds, strict=False) if f != k], args.l2)
        for c, f in zip(cases, folds, strict=False):
            if f == k:
                preds[c["id"]] = predict(c, w)
    oracle = [c["f1"].max() if c.get("spans") else 0.0 for c in cases if c["qtype"] in analysis.TYPES]
    print(f"candidate ceiling (best candidate's F1, typed questions): {np.mean(oracle):.3f}")
    print(f"{FOLDS}-fold cross-validation by article (l2={args.l2}):")
    report(cases, preds)
    if args.errors:
        for c in cases:
            if c["qtype"] == args.errors and max(char_f1(preds[c["id"]], g) for g in c["answers"]) < args.below \
                    and max(exact(preds[c["id"]], g) for g in c["answers"]) == 0:
                print(f"{c['question']} | gold {c['answers']} | got {preds[c['id']]!r} | {c['sentence']}")
    if args.no_write:
        try:
            timing(cases, tok)
        except FittedFileError as e:  # the shipped model predates a feature change
            print(f"no timing: {e}")
        return
    w = fit(cases, args.l2)
    fitted = provenance(phrase.FORMAT_VERSION, phrase.feature_names(),
                        "python -m fit.fit_phrase" + (f" --l2 {args.l2}" if args.l2 != L2 else ""),
                        "JSQuAD v1.3 validation: answerable questions with a typed question, their answer sentence")
    model = {**{k: fitted[k] for k in ("format", "fitted_by", "data", "commit")}, "l2": args.l2,
             "features": fitted["features"], "weights": [round(float(x), 5) for x in w]}
    # One line per key: small diffs when refitted, still plain JSON.
    lines = [f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in model.items()]
    phrase.MODEL_PATH.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    print(f"wrote {phrase.MODEL_PATH}")
    timing(cases, tok)


if __name__ == "__main__":
    main()

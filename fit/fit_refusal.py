"""Fit the refusal decision (per question language, `--lang`): a logistic regression over the
evidence the engine computes.

Reads the raw results of a full `python -m bench.qa --sets ja,dev` run (every case carries its
evidence), fits P(the documents answer) on the JSQuAD open corpus — questions of the held-out
articles are the negatives — plus the seed corpus's dev questions (their on-topic unanswerables,
such as 「JAXAの職員数は？」, are the hard negatives), cross-validated by article. The operating
point is the highest threshold whose cross-validated false-refusal rate stays within the target;
the refusal / false-refusal curve is printed. Writes bot/answer/refusal.json.

    python -m fit.fit_refusal bench/results/qa-….json [--lang ja|en] [--max-false-refusal 0.03] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from bench import jsquad
from bench.common import ROOT
from bot.answer.evidence import REFUSAL_FILE, REFUSAL_FORMAT, Z_CLIP
from fit.common import JSQUAD, provenance

OUT = REFUSAL_FILE
FOLDS = 5
L2 = 1.0


def rows(raw: dict, lang: str = "ja") -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    from bot.answer.evidence import FEATURES, features
    articles = {c["id"]: c["article"] for c in
                jsquad.answerable_of(jsquad.load_articles(), jsquad.holdout_titles(jsquad.load_articles()))}
    X, y, groups, ids = [], [], [], []
    for name in ("ja", "dev", "en"):
        for c in raw.get(name, {}).get("cases", []):
            if c["language"] != lang or not c["evidence"]:
                continue
            X.append(features(c["evidence"]))
            y.append(1.0 if c["answerable"] else 0.0)
            groups.append(articles.get(c["id"].removesuffix("-en"), "seed"))  # English ids end in -en
            ids.append(c["id"])
    assert len(FEATURES) == len(X[0])
    return np.array(X), np.array(y), groups, ids


def fit(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardised L2-regularised logistic regression; returns (mean, scale, [bias, coef...])."""
    mean, scale = X.mean(0), X.std(0)
    scale[scale < 1e-6] = 1.0  # a feature without spread for this language (English type_support) stays inert
    Z = np.hstack([np.ones((len(X), 1)), np.clip((X - mean) / scale, -Z_CLIP, Z_CLIP)])

    def loss(beta):
        z = Z @ beta
        ll = w * (np.logaddexp(0, z) - y * z)
        return ll.sum() / w.sum() + L2 * (beta[1:] @ beta[1:]) / len(X)

    def grad(beta):
        p = 1 / (1 + np.exp(-(Z @ beta)))
        g = Z.T @ (w * (p - y)) / w.sum()
        g[1:] += 2 * L2 * beta[1:] / len(X)
        return g

    beta = minimize(loss, np.zeros(Z.shape[1]), jac=grad, method="L-BFGS-B").x
    return mean, scale, beta


def prob(X: np.ndarray, mean, scale, beta) -> np.ndarray:
    return 1 / (1 + np.exp(-(beta[0] + np.clip((X - mean) / scale, -Z_CLIP, Z_CLIP) @ beta[1:])))


def class_weights(y: np.ndarray, groups: list[str]) -> np.ndarray:
    """Balance answerable and unanswerable; the seed corpus's few questions count as much as
    JSQuAD's unanswerable class, so its on-topic negatives are not drowned by thousands of
    off-topic ones."""
    seed = np.array([g == "seed" for g in groups])
    w = np.ones(len(y))
    for cls in (0.0, 1.0):
        m = (y == cls) & ~seed
        w[m] = 0.5 / max(m.sum(), 1)
    if seed.any():
        w[seed & (y == 0)] = 0.25 / max((seed & (y == 0)).sum(), 1)
        w[seed & (y == 1)] = 0.25 / max((seed & (y == 1)).sum(), 1)
    return w * len(y)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path, help="raw results of `python -m bench.qa --sets ja,dev`")
    ap.add_argument("--max-false-refusal", type=float, default=0.03)
    ap.add_argument("--lang", default="ja", choices=("ja", "en"), help="which questions' model to fit")
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    from bot.answer.evidence import FEATURES

    raw = json.loads(args.results.read_text(encoding="utf-8"))
    X, y, groups, ids = rows(raw, args.lang)
    w = class_weights(y, groups)
    titles = sorted(set(groups) - {"seed"})
    article_folds = jsquad.split_by_article([{"article": t} for t in titles], FOLDS)
    fold_of = dict(zip(titles, article_folds, strict=True))
    fold_of["seed"] = -1  # the seed questions are in every training fold and scored by the final fit
    folds = np.array([fold_of[g] for g in groups])
    p_cv = np.zeros(len(y))
    for f in range(FOLDS):
        tr, te = folds != f, folds == f
        p_cv[te] = prob(X[te], *fit(X[tr], y[tr], w[tr]))
    mean, scale, beta = fit(X, y, w)
    p_all = prob(X, mean, scale, beta)
    p_cv[folds == -1] = p_all[folds == -1]

    js = folds >= 0
    ans, una = (y == 1) & js, (y == 0) & js
    print(f"{int(ans.sum())} answerable, {int(una.sum())} unanswerable JSQuAD questions; "
          f"{int((~js).sum())} seed dev questions\n")
    print("| threshold | false refusals (answerable refused) | unanswerable refused "
          "| dev: refused unans. / false ref. |")
    print("|---|---|---|---|")
    thresholds = np.round(np.arange(0.05, 0.96, 0.05), 2)
    chosen = None
    for t in thresholds:
        fr = float(np.mean(p_cv[ans] < t))
        rr = float(np.mean(p_cv[una] < t))
        seed_u, seed_a = (~js) & (y == 0), (~js) & (y == 1)
        dev = f"{np.mean(p_cv[seed_u] < t):.2f} / {np.mean(p_cv[seed_a] < t):.2f}" if seed_u.any() else "—"
        print(f"| {t:.2f} | {fr:.3f} | {rr:.3f} | {dev} |")
        if fr <= args.max_false_refusal:
            chosen = float(t)
    if chosen is None:
        chosen = float(thresholds[0])
    fr = float(np.mean(p_cv[ans] < chosen))
    rr = float(np.mean(p_cv[una] < chosen))
    print(f"\noperating point {chosen:.2f}: cross-validated false refusals {fr:.3f}, unanswerable refused {rr:.3f}")
    print("coefficients (standardised): "
          + ", ".join(f"{n} {b:+.2f}" for n, b in zip(FEATURES, beta[1:], strict=True)))
    for i in np.where(~js)[0]:
        print(f"  dev {ids[i]}: P={p_all[i]:.2f} answerable={bool(y[i])}")
    if not args.dry_run:
        model = {**provenance(REFUSAL_FORMAT, FEATURES, "python -m fit.fit_refusal bench/results/qa-<run>.json "
                              "--lang ja, then --lang en",
                              "the evidence of each case in a make bench-qa run: ja from " + JSQUAD + " on the "
                              "open corpus, the questions of the 10 held-out articles as unanswerable, plus the "
                              "seed dev questions (../shared/eval/dev.jsonl); en from the English questions of "
                              "bench/data/jsquad_en.jsonl plus the dev set English ones"),
                 "models": {args.lang: {"mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
                                   "bias": round(float(beta[0]), 6),
                                   "coef": beta[1:].round(6).tolist(), "threshold": chosen,
                                   "cv_false_refusal": round(fr, 4), "cv_unanswerable_refused": round(rr, 4)}}}
        previous = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
        for lang, m in previous.get("models", {}).items():
            if lang != args.lang and previous.get("features") == list(FEATURES):
                model["models"][lang] = m
        OUT.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

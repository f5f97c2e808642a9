"""Fit bot/answer/asker_language.json: for each asker language, the margin (log-odds of the fitted
refusal model) within which the asker-language candidates are taken to answer as well as all of
them, so their sentences are quoted first (bot/answer/asker_language.py).

Data: the questions of each language on the real pages (the jaxaweb questions and follow-ups, and
the fit split of bench/data/jaxaweb_own.jsonl, where Japanese and English pages are indexed
together); for English also the JSQuAD English questions (Japanese pages only), where no answer
may get worse. Each candidate margin is run through the engine; the score of a margin is the sum
over the answerable questions of hit@1, hit@3, answered and lead. The margins that lose no case
and score best, when that beats keeping the evidence's order, form a range; the one written is its
middle, as far from the margins that gain nothing as from those that lose. Otherwise none is
written (that language keeps the evidence's order).

    python -m fit.fit_asker_language            # both languages, writes the file
    python -m fit.fit_asker_language --no-write
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

from fit.common import models as fitted_models
from fit.common import provenance

GRID = (-1.0, -0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


def outcome(case) -> tuple[int, ...]:
    return (int(case.rank == 1), int(case.rank is not None and case.rank <= 3),
            int(case.found and case.rank is not None and case.keys_ok), int(case.lead_ok))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-write", action="store_true", help="print the figures without writing the file")
    args = ap.parse_args(argv)

    from bench import jaxaweb
    from bench.common import offline
    from bench.jsquad_en import english_cases
    from bench.qa import QueryCache, cache_dir, load_engine
    from bot.answer.asker_language import FEATURES, FORMAT_VERSION, LANGUAGE_FILE, AskerLanguage
    from bot.embed.embedder import load_embedder
    from bot.engine import Engine
    from bot.evaluate import run_eval
    from bot.settings import Settings, cpu_count
    from bot.text.analyser import Tokenizer

    offline()
    settings = Settings()
    base = fitted_models(language=AskerLanguage({}))
    embedder = load_embedder(settings.model, settings.model_cache_dir, cpu_count(), settings.embed_backend)
    cache = cache_dir(getattr(embedder, "backend", settings.embed_backend))
    queries, tokenizer = QueryCache(embedder, cache), Tokenizer()
    # The bench.qa indexes of the real pages (built, or brought up to date, when missing).
    engines = {name: load_engine(jaxaweb.write_corpus(cache / f"{name}-corpus", with_seed=name == "own"),
                                 cache / f"{name}-index", embedder, tokenizer, base)
               for name in ("jaxaweb", "own")}
    questions = {"jaxaweb": jaxaweb.questions() + jaxaweb.follow_ups(),
                 "own": [c for c in jaxaweb.own_questions() if c.get("split", "fit") == "fit"]}
    margins: dict[str, float | None] = {}
    for lang in ("en", "ja"):
        sets = [(engines[name], [c for c in cases if c["lang"] == lang and c["answerable"]])
                for name, cases in questions.items()]
        if lang == "en":
            sets.append((Engine.load(cache / "index", queries, tokenizer, models=base),
                         [c for c in english_cases() if c["answerable"]]))

        def run(margin: float | None, sets=sets, lang=lang) -> list[tuple[int, ...]]:
            out = []
            for engine, cases in sets:
                engine.models = replace(base, language=AskerLanguage({lang: margin}))
                out += [outcome(c) for c in run_eval(engine, cases, search=False).cases]
            return out

        kept = run(None)
        baseline = sum(map(sum, kept))
        print(f"{lang}: {len(kept)} answerable questions; evidence order: score {baseline}")
        scores: dict[float, int | None] = {}
        for margin in GRID:
            got = run(margin)
            worse = sum(any(g < k for g, k in zip(a, b, strict=True)) for a, b in zip(got, kept, strict=True))
            score = sum(map(sum, got))
            print(f"  margin {margin:+.2f}: score {score} ({score - baseline:+d}), {worse} cases worse")
            scores[margin] = None if worse else score
        top = max((s for s in scores.values() if s is not None), default=None)
        best = [m for m in GRID if top is not None and top > baseline and scores[m] == top]
        margins[lang] = (best[0] + best[-1]) / 2 if best else None
        print(f"  chosen: {margins[lang]}")
    data = {**provenance(FORMAT_VERSION, FEATURES, "python -m fit.fit_asker_language",
                         "the answerable questions of each language on the real pages: ../shared/benchmarks/jaxaweb "
                         "(questions and follow-ups) and the fit split of bench/data/jaxaweb_own.jsonl; for English "
                         "also bench/data/jsquad_en.jsonl on the JSQuAD open corpus, where no case may get worse"),
            "margins": margins}
    if args.no_write:
        print(json.dumps(data, indent=1))
        return
    LANGUAGE_FILE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {LANGUAGE_FILE}")


if __name__ == "__main__":
    main()

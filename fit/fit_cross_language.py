"""Fit bot/answer/cross_language.json: how much lower the embedder puts a question's cosine to a
sentence in the other language than to a sentence in its own (bot/answer/sentences.py,
`CrossLanguage`).

Data: the Japanese questions of the fit split of bench/data/jaxaweb_own.jsonl (no follow-ups) on
the bench.qa index of the real pages and the seed page, where Japanese and English pages are
indexed together. For each question, embedded as the engine embeds it, the mean cosine to every
Japanese sentence of the index minus the mean cosine to every English one; the offset is the mean
of these over the questions (its spread is printed). Every sentence counts, not the retrieved
ones: retrieval already prefers the sentences that match, whatever their language.

Only Japanese questions are corrected: their refusal model and sentence ranker were fitted on
Japanese sentences (JSQuAD), so an English sentence must be put on that scale. The English
refusal model was fitted on English questions over Japanese sentences, cross-language cosines
included, so English questions keep theirs (null).

    python -m fit.fit_cross_language            # writes the file
    python -m fit.fit_cross_language --no-write
"""

from __future__ import annotations

import argparse
import json
import statistics

import numpy as np

from fit.common import models as fitted_models
from fit.common import provenance


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-write", action="store_true", help="print the figures without writing the file")
    args = ap.parse_args(argv)

    from bench import jaxaweb
    from bench.common import offline
    from bench.qa import QueryCache, cache_dir, load_engine
    from bot.answer.sentences import CROSS_FEATURES, CROSS_FILE, CROSS_FORMAT, CrossLanguage
    from bot.embed.embedder import load_embedder
    from bot.settings import Settings, cpu_count
    from bot.text.analyser import Tokenizer

    offline()
    settings = Settings()
    embedder = load_embedder(settings.model, settings.model_cache_dir, cpu_count(), settings.embed_backend)
    cache = cache_dir(getattr(embedder, "backend", settings.embed_backend))
    engine = load_engine(jaxaweb.write_corpus(cache / "own-corpus", with_seed=True), cache / "own-index",
                         QueryCache(embedder, cache), Tokenizer(), fitted_models(cross=CrossLanguage({})))
    index = engine.index
    assert index is not None
    lang_of = np.array([index.documents[index.passages[int(p)].doc_id].lang for p in index.sentence_passage])
    own, other = lang_of == "ja", lang_of != "ja"
    cases = [c for c in jaxaweb.own_questions()
             if c.get("split", "fit") == "fit" and c["lang"] == "ja" and not c.get("history")]
    diffs = []
    for c in cases:
        qvec = engine.retrieve(c["question"], sentences=False).qvec
        cos = index.sentence_vectors @ qvec
        diffs.append(float(cos[own].mean() - cos[other].mean()))
    offset = round(statistics.mean(diffs), 4)
    print(f"ja: {len(cases)} questions, {int(own.sum())} Japanese and {int(other.sum())} other sentences; "
          f"offset {offset} (sd {statistics.stdev(diffs):.4f})")
    data = {**provenance(CROSS_FORMAT, CROSS_FEATURES, "python -m fit.fit_cross_language",
                         "the Japanese questions of the fit split of bench/data/jaxaweb_own.jsonl (no follow-ups) "
                         "on the bench.qa index of ../shared/benchmarks/jaxaweb/corpus and the seed page: the mean "
                         "over questions of (mean cosine to Japanese sentences - mean cosine to English ones)"),
            "offsets": {"ja": offset, "en": None}}
    if args.no_write:
        print(json.dumps(data, indent=1))
        return
    CROSS_FILE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {CROSS_FILE}")


if __name__ == "__main__":
    main()

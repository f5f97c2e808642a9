"""Answer quality on the JSQuAD open corpus and the seed corpus (`make bench-qa`).

Builds the open corpus from ../shared/benchmarks/jsquad (49 articles indexed, 10 held out whose
questions must be refused) with the real model, then runs the project's eval on:

- ja: the Japanese questions (answerable and unanswerable);
- near-miss: answerable questions with their year or edition changed to one the article never
  mentions (the topic is indexed, the asked detail is not: they must be refused);
- gold-removed: questions whose paragraph is left out of an otherwise indexed article (their own
  corpus, bench/results/qa/gone-corpus): the topic is there, the answer is not, so they must be refused;
- follow-up: answerable questions whose article title is replaced by a pronoun, asked after
  another question on the same article, beside the same questions asked standalone;
- en: the English questions of bench/data/jsquad_en.jsonl (same Japanese gold), when present;
- dev: ../shared/eval/dev.jsonl on the seed corpus;
- jaxaweb: the real-domain pages' questions and follow-ups (bench/jaxaweb.py) on those pages alone;
- own: the project's own visitor questions (bench/data/jaxaweb_own.jsonl) on those pages and the
  seed page, by split (fit / held out), language and kind.

It prints one table and saves every case to bench/results/qa-<time>.json. The corpus and index are
cached under bench/results/qa/ (bench/results/qa-torch/ with JAXABOT_EMBED_BACKEND=torch: the vectors
are kept by model name, which both backends share; the build is incremental, so later runs only
embed what changed).

    python -m bench.qa                 # everything
    python -m bench.qa --sample 600    # a fixed random sample of each set (faster)
    python -m bench.qa --sets ja,dev
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench import jaxaweb, jsquad
from bench.common import RESULTS_DIR, ROOT, offline
from bench.jsquad_en import EN_PATH as EN_FILE
from bench.jsquad_en import english_cases, english_follow_ups

DEV_FILE = ROOT.parent / "shared" / "eval" / "dev.jsonl"
CACHE = RESULTS_DIR / "qa"
SETS = ("ja", "near-miss", "gold-removed", "follow-up", "en", "dev", "jaxaweb", "own")
COLUMNS = [("search_hit@1", "search@1"), ("search_hit@3", "search@3"), ("answered", "answered"),
           ("lead", "lead"), ("answer_key_accuracy", "keys"),
           ("hit@3", "cited@3"), ("citation_exactness", "exact"), ("false_refusal_rate", "false ref."),
           ("refusal_accuracy", "refused (unans.)"), ("phrase_f1", "phrase F1"), ("phrase_em", "phrase EM"),
           ("neutral_stated", "en stated"), ("latency_ms_p50", "p50 ms")]


class QueryCache:
    """Wraps the embedder so each benchmark question is embedded once across runs (the questions
    are fixed; only the engine around them changes). Passages are never cached here: the index
    build is incremental on its own. Latency figures come from the seed-corpus dev run, which
    does not use the cache."""

    def __init__(self, embedder, folder: Path) -> None:
        # Questions embedded by the int8 query graph differ from fp32 ones (the passages do not):
        # each precision keeps its own vectors beside the shared index.
        # int8 vectors also depend on the recipe the graph was made from: a refitted recipe starts
        # the cache afresh.
        precision = getattr(embedder, "query_precision", "fp32")
        path = folder / ("queries.json" if precision == "fp32" else f"queries-{precision}.json")
        self.embedder, self.path = embedder, path
        self.name, self.dim = embedder.name, embedder.dim
        self.graph = None
        if precision == "int8":
            from bot.embed.convert.quantize import load_recipe, recipe_digest
            self.graph = recipe_digest(load_recipe())
        self.vectors: dict[str, list[float]] = {}
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("model") == embedder.name and data.get("graph") == self.graph:
                self.vectors = data["vectors"]
        self.added = 0

    def encode_queries(self, texts: list[str]):
        import numpy as np
        todo = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if todo:
            for t, v in zip(todo, self.embedder.encode_queries(todo), strict=False):
                self.vectors[t] = v.tolist()
            self.added += len(todo)
        return np.array([self.vectors[t] for t in texts], dtype=np.float32)

    def encode_passages(self, texts: list[str], show_progress: bool = False):
        return self.embedder.encode_passages(texts, show_progress=show_progress)

    def save(self) -> None:
        if self.added:
            # Benchmarks may run side by side on one cache: a reader never sees a half-written file.
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"model": self.name, "graph": self.graph, "vectors": self.vectors}),
                           encoding="utf-8")
            os.replace(tmp, self.path)


def prewarm(cache: QueryCache, cases: list[dict], tokenizer) -> None:
    """Embed every query the engine will ask for, in large batches (much faster than one by one)."""
    from bot.engine import validate
    from bot.query.conversation import resolve
    from bot.text.language import detect_language
    texts = []
    for c in cases:
        q, history = validate(c["question"], c.get("history") or [], 3)
        r = resolve(q, history, detect_language(q), tokenizer)
        texts += [r.query] + ([r.previous] if r.follow_up and r.previous else [])
    todo = [t for t in dict.fromkeys(texts) if t not in cache.vectors]
    for i in range(0, len(todo), 256):
        cache.encode_queries(todo[i:i + 256])
        cache.save()  # an interrupted run keeps what it embedded


def cache_dir(backend: str) -> Path:
    """The cache of one embedding backend: the query vectors and the index's passage vectors are
    kept by model name, which ONNX and torch share, so each backend gets its own folder (and each
    query precision its own query vectors in it: `QueryCache`)."""
    return CACHE if backend == "onnx" else CACHE.with_name(f"qa-{backend}")


def sample(cases: list[dict], n: int | None, seed: int = 8) -> list[dict]:
    if not n or n >= len(cases):
        return cases
    return random.Random(seed).sample(cases, n)


def load_engine(corpus: Path, index: Path, embedder, tokenizer, models):
    """The engine on `index`, built (incrementally) from `corpus`, with the fitted `models`."""
    from bot.engine import Engine
    from bot.store.build import build_index
    summary = build_index(corpus, index, embedder, tokenizer, max_bytes=50 << 20)
    print(f"index {summary.version}: {summary.documents} documents, {summary.passages} passages "
          f"({summary.embedded_texts} texts embedded in {summary.seconds:.1f} s)", file=sys.stderr)
    return Engine.load(index, embedder, tokenizer, models=models)


def run(sets: list[str], n: int | None) -> dict:
    offline()
    from bot.embed.embedder import load_embedder
    from bot.engine import Models
    from bot.evaluate import Report, load_cases, run_eval
    from bot.settings import Settings, cpu_count
    from bot.text.analyser import Tokenizer

    settings = Settings()
    t0 = time.perf_counter()
    models = Models.load()  # the shipped fitted files, before anything slow: one that does not fit stops here
    embedder = load_embedder(settings.model, settings.model_cache_dir, cpu_count(), settings.embed_backend)
    # Vectors from another backend must not be reused (same model name): one cache per backend.
    cache = cache_dir(getattr(embedder, "backend", settings.embed_backend))
    print(f"embedding with {getattr(embedder, 'backend', '?')}; cache {cache}", file=sys.stderr)
    tokenizer = Tokenizer()
    articles = jsquad.load_articles()
    held_out = jsquad.holdout_titles(articles)
    corpus = cache / "corpus"
    written = jsquad.write_corpus(articles, corpus, held_out)
    print(f"JSQuAD open corpus: {written} articles indexed, {len(held_out)} held out", file=sys.stderr)
    cases = jsquad.answerable_of(articles, held_out)

    reports: dict[str, Report] = {}
    cached = QueryCache(embedder, cache)
    if {"ja", "near-miss", "follow-up", "en"} & set(sets):
        engine = load_engine(corpus, cache / "index", cached, tokenizer, models)
        ja = sample(cases, n) if "ja" in sets else []
        near = jsquad.near_misses(articles, cases) if "near-miss" in sets else []
        fus = sample(jsquad.follow_ups(cases), n) if "follow-up" in sets else []
        standalone = [c for c in cases if c["id"] in {f["standalone"] for f in fus}]
        en = english_cases() if "en" in sets and EN_FILE.exists() else []
        prewarm(cached, ja + near + fus + standalone + en, tokenizer)
        cached.save()
        if ja:
            reports["ja"] = run_eval(engine, ja)
        if near:  # the article is indexed, the asked year or edition is not in it
            reports["near-miss"] = run_eval(engine, near, search=False)
        if fus:
            reports["follow-up"] = run_eval(engine, fus)
            reports["(standalone)"] = run_eval(engine, standalone)
        if en:
            reports["en"] = run_eval(engine, en)
            # The articles the English methods were never tuned on (bench/jsquad_en.py).
            check = {c["id"] for c in en if c["part"] == "check"}
            reports["en (check articles)"] = Report([c for c in reports["en"].cases if c.id in check])
            en_fus = english_follow_ups(en)
            if en_fus:
                reports["en follow-up"] = run_eval(engine, en_fus)
                alone = {f["standalone"] for f in en_fus}
                reports["(en standalone)"] = Report([c for c in reports["en"].cases if c.id in alone])
        cached.save()
    if "gold-removed" in sets:
        gone_articles, gone = jsquad.without_gold(articles, held_out)
        jsquad.write_corpus(gone_articles, cache / "gone-corpus", held_out)
        engine = load_engine(cache / "gone-corpus", cache / "gone-index", cached, tokenizer, models)
        gone = sample(gone, n)
        prewarm(cached, gone, tokenizer)
        reports["gold-removed"] = run_eval(engine, gone, search=False)
        cached.save()
    if "dev" in sets:
        engine = load_engine(ROOT / "corpus", cache / "seed-index", embedder, tokenizer, models)
        reports["dev"] = run_eval(engine, load_cases(DEV_FILE))
        for lang in ("ja", "en"):  # English latency beside Japanese, in the same run
            reports[f"dev ({lang})"] = Report([c for c in reports["dev"].cases if c.language == lang])
    if {"jaxaweb", "own"} & set(sets) and jaxaweb.available():
        reports.update(real_pages(sets, cache, embedder, tokenizer, models))
    seconds = time.perf_counter() - t0
    return {"reports": reports, "seconds": seconds}


def by(report, key) -> dict:
    from bot.evaluate import Report
    groups: dict = {}
    for c in report.cases:
        groups.setdefault(key(c), []).append(c)
    return {k: Report(v) for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]))}


def real_pages(sets: list[str], cache: Path, embedder, tokenizer, models) -> dict:
    """The jaxaweb rows: its questions on its 25 pages, and the project's own questions on those
    pages and the seed page."""
    from bot.evaluate import Report, run_eval
    reports: dict = {}
    if "jaxaweb" in sets:
        engine = load_engine(jaxaweb.write_corpus(cache / "jaxaweb-corpus", with_seed=False),
                             cache / "jaxaweb-index", embedder, tokenizer, models)
        qs = run_eval(engine, jaxaweb.questions())
        for lang, r in by(qs, lambda c: c.language).items():
            reports[f"jaxaweb {lang}"] = r
        reports["jaxaweb follow-up"] = run_eval(engine, jaxaweb.follow_ups())
        for kind, r in by(qs, lambda c: c.asks_for or "(none)").items():
            reports[f"  jaxaweb asks {kind}"] = r
    own = jaxaweb.own_questions()
    if "own" in sets and own:
        engine = load_engine(jaxaweb.write_corpus(cache / "own-corpus", with_seed=True),
                             cache / "own-index", embedder, tokenizer, models)
        kinds = {c["id"]: c for c in own}
        report = run_eval(engine, own)
        for (split, group), r in by(report, lambda c: (kinds[c.id].get("split", "fit"),
                                                       "follow-up" if kinds[c.id].get("follow_up")
                                                       else c.language)).items():
            reports[f"own {split} {group}"] = r
        for kind, r in by(report, lambda c: c.kind or "(none)").items():
            reports[f"  own {kind}"] = r
        reports["own (all)"] = Report(report.cases)
    return reports


def hubs(reports: dict) -> str:
    """Per corpus of real pages, the sentence most often cited first by answers it does not answer."""
    from bot.evaluate import hub
    lines = ["", "Hub sentences (first citation of answers whose gold it does not hold):"]
    for name in ("dev", "jaxaweb ja", "jaxaweb en", "own (all)"):
        found = hub(reports[name].cases) if name in reports else None
        if found:
            text, n, answered = found
            lines.append(f"- {name}: {n} of {answered} answers open with 「{text[:40]}…」")
    return "\n".join(lines)


def table(reports: dict) -> str:
    head = "| set | cases (ans/unans) | " + " | ".join(c[1] for c in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 2)]
    for name, report in reports.items():
        m = report.metrics()
        cells = ["—" if m.get(k) is None else f"{m[k]:.3f}" if isinstance(m[k], float) else str(m[k])
                 for k, _ in COLUMNS]
        lines.append(f"| {name} | {m['answerable']}/{m['unanswerable']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, from {', '.join(SETS)}")
    ap.add_argument("--sample", type=int, default=None, help="at most this many cases per set (fixed seed)")
    ap.add_argument("--out", type=Path, default=None, help="raw results (default bench/results/qa-<time>.json)")
    args = ap.parse_args(argv)
    sets = [s for s in args.sets.split(",") if s]
    unknown = set(sets) - set(SETS)
    if unknown:
        ap.error(f"unknown sets: {', '.join(sorted(unknown))}")
    result = run(sets, args.sample)
    print(table(result["reports"]))
    print(hubs(result["reports"]))
    print(f"\n({result['seconds']:.0f} s; answered = a top-3 citation holds the gold at its place and the "
          "answer text holds an annotator's answer; phrase F1/EM over questions asking for a time, number, "
          "name or place)")
    out = args.out or RESULTS_DIR / time.strftime("qa-%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({name: {"metrics": r.metrics(), "cases": [asdict(c) for c in r.cases]}
                               for name, r in result["reports"].items()}, ensure_ascii=False), encoding="utf-8")
    print(f"raw results: {out}")


if __name__ == "__main__":
    main()

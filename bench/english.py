"""English askers on the JSQuAD open corpus: retrieval and answers for the English questions of
bench/data/jsquad_en.jsonl, reported separately for the tuning and the checking articles
(bench/jsquad_en.py), with the same questions in Japanese alongside.

    .venv/bin/python -m bench.english --index /tmp/jsq/index [--corpus /tmp/jsq/corpus] [--part check]

Builds the corpus and index (in the given folders) when they do not exist yet. Prints Markdown.
"""

import argparse
import json
import re
import statistics
import time
import unicodedata
from pathlib import Path

from bench.jsquad import holdout_titles, load_articles, write_corpus
from bench.jsquad_en import english_cases
from bot.evaluate import gold_ranges

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]


def neutral(answer: str) -> bool:
    """A gold answer an English sentence can state as it is: it holds digits or Latin letters."""
    return bool(re.search(r"[0-9A-Za-z]", unicodedata.normalize("NFKC", answer)))


def stated(answer: str, english: str) -> bool:
    """Whether the English part states a language-neutral gold: each of its numbers (a month may be
    named) and Latin words appears."""
    a = unicodedata.normalize("NFKC", answer)
    e = unicodedata.normalize("NFKC", english).replace(",", "")
    for m in re.finditer(r"([0-9][0-9,.]*)(月)?", a):
        num = m.group(1).replace(",", "").rstrip(".")
        if m.group(2) and num.isdigit() and 1 <= int(num) <= 12 and MONTHS[int(num) - 1] in e:
            continue
        if not re.search(r"(?<![0-9.])" + re.escape(num) + r"(?![0-9])", e):
            return False
    for w in re.findall(r"[A-Za-z][A-Za-z\-]*", a):
        if w.lower() not in e.lower():
            return False
    return True


def english_part(answer: str) -> str:
    """The answer's English statement: its text before the quoted Japanese sentences."""
    return answer.split("\n\n", 1)[0]


def hit(text: str, golds: list[str]) -> bool:
    return any(gold_ranges(text, g) for g in golds)


def run(engine, cases: list[dict]) -> list[dict]:
    rows = []
    for c in cases:
        t = time.perf_counter()
        ans = engine.ask(c["question"], [], 3)
        ms = (time.perf_counter() - t) * 1000
        search = engine.search(c["question"], 3)
        rows.append({
            "id": c["id"], "part": c.get("part", ""), "answerable": c["answerable"], "found": ans.found,
            "retrieved@3": c["answerable"] and any(hit(h.text, c["gold_spans"]) for h in search.hits),
            "cited@3": c["answerable"] and ans.found and any(hit(x.text, c["gold_spans"]) for x in ans.citations[:3]),
            "neutral": c["answerable"] and any(neutral(a) for a in c["answers"]),
            "stated": ans.found and any(stated(a, english_part(ans.answer)) for a in c["answers"] if neutral(a)),
            "ms": ms, "question": c["question"], "answer": ans.answer,
        })
    return rows


def variants(engine, cases: list[dict]) -> dict:
    """Retrieval hit@3 (answerable cases) for each way of using the Japanese terms: what the
    fusion was chosen from."""
    from bot.answer import crosslingual
    from bot.answer.retrieval import retrieve
    index = engine.index
    out: dict[str, list[bool]] = {}
    for c in cases:
        if not c["answerable"]:
            continue
        terms = crosslingual.english_terms(c["question"], index.terms, index.lexical)
        plain, augmented = engine.embedder.encode_queries([c["question"],
                                                           crosslingual.dense_query(c["question"], terms)])
        tokens = crosslingual.lexical_tokens(terms)
        for name, qvec, lex in (("dense (English only)", plain, False), ("dense + BM25 terms", plain, True),
                                ("dense with terms", augmented, False),
                                ("dense with terms + BM25 terms", augmented, True)):
            hits = retrieve(index, qvec, tokens, use_lexical=lex and bool(tokens), k=3)
            out.setdefault(name, []).append(any(hit(index.passages[h.row].text, c["gold_spans"]) for h in hits))
    return {k: round(sum(v) / len(v), 3) for k, v in out.items()}


def fit_refusal(rows: list[dict], min_refused: float = 0.9) -> tuple:
    """The English refusal rule's thresholds (gap, sim, coverage), from per-case evidence rows
    (`answerable`, `cited`, `sim`, `gap`, `coverage`, as written by `--evidence`): the most
    answerable questions answered with the gold cited, while refusing at least `min_refused` of
    the unanswerable ones."""
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    best = None
    for g in (0.0, 0.02, 0.025, 0.03, 0.035, 0.04, 0.045, 0.05, 0.055):
        for sim in (0.70, 0.78, 0.80, 0.82, 0.83, 0.84, 0.85):
            for cov in (0.0, 0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6):
                ok = lambda r: r["gap"] >= g and r["sim"] >= sim and r["coverage"] >= cov  # noqa: E731
                refused = sum(not ok(r) for r in una) / len(una)
                cited = sum(r["cited"] and ok(r) for r in ans) / len(ans)
                if refused >= min_refused and (best is None or cited > best[0]):
                    best = (round(cited, 3), round(refused, 3), g, sim, cov)
    return best


def summary(rows: list[dict]) -> dict:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    neu = [r for r in ans if r["neutral"] and r["cited@3"]]
    mean = lambda xs: round(sum(xs) / len(xs), 3) if xs else None  # noqa: E731
    return {"n": len(rows), "answerable": len(ans), "unanswerable": len(una),
            "retrieval hit@3": mean([r["retrieved@3"] for r in ans]),
            "answer cites gold in top 3": mean([r["cited@3"] for r in ans]),
            "answerable refused": mean([not r["found"] for r in ans]),
            "unanswerable refused": mean([not r["found"] for r in una]),
            "neutral gold stated": mean([r["stated"] for r in neu]), "neutral n": len(neu),
            "p50 ms": round(statistics.median([r["ms"] for r in rows]), 1) if rows else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--part", choices=["tune", "check", "all"], default="all")
    ap.add_argument("--japanese", action="store_true", help="also ask the same questions in Japanese")
    ap.add_argument("--variants", action="store_true", help="only compare retrieval variants (hit@3)")
    ap.add_argument("--out", type=Path, default=None, help="write per-case rows (JSON lines)")
    args = ap.parse_args()

    from bot.embed.embedder import load_embedder
    from bot.engine import Engine
    from bot.settings import Settings, cpu_count
    from bot.store.build import build_index
    from bot.store.lexical import Tokenizer

    s = Settings()
    embedder = load_embedder(s.model, s.model_cache_dir, s.torch_threads or cpu_count())
    if not (args.index / "CURRENT").exists() and not any(args.index.glob("v*")):
        corpus = args.corpus or args.index.parent / "corpus"
        articles = load_articles()
        write_corpus(articles, corpus, holdout_titles(articles))
        build_index(corpus, args.index, embedder, Tokenizer(), max_bytes=int(s.max_file_mb * 2**20))
    engine = Engine.load(args.index, embedder)
    engine.ask("warm up", [], 3)

    cases = english_cases()
    parts = ["tune", "check"] if args.part == "all" else [args.part]
    if args.variants:
        for part in parts:
            print(f"retrieval hit@3, {part}:", variants(engine, [c for c in cases if c["part"] == part]))
        return
    table = {}
    all_rows = []
    for part in parts:
        sel = [c for c in cases if c["part"] == part]
        rows = run(engine, sel)
        all_rows += rows
        table[f"en {part}"] = summary(rows)
        if args.japanese:
            ja = [{**c, "question": c["question_ja"]} for c in sel]
            table[f"ja {part}"] = summary(run(engine, ja))
    keys = list(next(iter(table.values())))
    print("| rows | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, m in table.items():
        print(f"| {name} | " + " | ".join(str(m[k]) for k in keys) + " |")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            for r in all_rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

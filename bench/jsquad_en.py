"""English versions of JSQuAD validation questions (bench/data/jsquad_en.jsonl, CC BY-SA 4.0; see
bench/data/README.md): which questions were picked, and the tune/check split by article.

The picked questions are spread over all articles by a fixed seed (round robin over the articles
in a seeded order, a seeded shuffle of each article's questions), never chosen by hand. Answerable
questions come from the corpus articles, unanswerable ones from the held-out articles. Articles
are split by the same kind of seed into a tuning part (2/3) and a checking part (1/3): methods are
tuned on the first and reported on the second.

    .venv/bin/python -m bench.jsquad_en --pick     # the ids to translate, with their Japanese text
"""

import argparse
import json
import random
import re
from pathlib import Path

from bench.jsquad import answerable_of, holdout_titles, load_articles

EN_PATH = Path(__file__).resolve().parent / "data" / "jsquad_en.jsonl"
PICK_SEED = 9
ANSWERABLE = 300
UNANSWERABLE = 100
CHECK_SHARE = 3  # every third article (in seeded order) is kept for checking


def _round_robin(cases: list[dict], count: int, rng: random.Random) -> list[dict]:
    by_article: dict[str, list[dict]] = {}
    for c in cases:
        by_article.setdefault(c["article"], []).append(c)
    titles = sorted(by_article)
    rng.shuffle(titles)
    for t in titles:
        rng.shuffle(by_article[t])
    out, seen_q = [], set()
    while len(out) < count and any(by_article.values()):
        for t in titles:
            while by_article[t]:
                c = by_article[t].pop()
                if c["question"] not in seen_q:  # duplicates of one question text count once
                    seen_q.add(c["question"])
                    out.append(c)
                    break
            if len(out) == count:
                break
    return out


def pick(cases: list[dict], seed: int = PICK_SEED) -> list[dict]:
    rng = random.Random(seed)
    return (_round_robin([c for c in cases if c["answerable"]], ANSWERABLE, rng)
            + _round_robin([c for c in cases if not c["answerable"]], UNANSWERABLE, rng))


def check_articles(cases: list[dict], seed: int = PICK_SEED) -> set[str]:
    """Articles whose questions are only used to check, never to tune."""
    titles = sorted({c["article"] for c in cases})
    random.Random(seed + 1).shuffle(titles)
    return {t for i, t in enumerate(titles) if i % CHECK_SHARE == 0}


def english_cases(path: Path = EN_PATH) -> list[dict]:
    """The English questions as eval cases (gold from the dataset by id), each with `part`
    'tune' or 'check'."""
    articles = load_articles()
    by_id = {c["id"]: c for c in answerable_of(articles, holdout_titles(articles))}
    check = check_articles(list(by_id.values()))
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        c = by_id[row["id"]]
        out.append({**c, "id": c["id"] + "-en", "lang": "en", "question": row["question"],
                    "question_ja": c["question"], "part": "check" if c["article"] in check else "tune"})
    return out


_PROPER = re.compile(r"\b[A-Z][A-Za-z0-9\-'’]*(?:\s+(?:of\s+|the\s+|and\s+)?[A-Z][A-Za-z0-9\-'’]*)*")


def _names(question: str) -> list[tuple[str, bool]]:
    """Capitalised phrases of a question (possessive 's cut off), each with whether it opens the
    question (a capital there may only mark the sentence start)."""
    out = []
    for m in _PROPER.finditer(question):
        name = re.sub(r"(?:'s|’s)$", "", m.group(0))
        if len(name) > 1:
            out.append((name, m.start() == 0))
    return out


def english_follow_ups(cases: list[dict], seed: int = PICK_SEED) -> list[dict]:
    """Follow-up versions of answerable English questions: the name a question shares with another
    question about the same article ("Laos") becomes "it" ("its" for "Laos's"), asked after that
    other question (its user turn and its annotated answer), as the Japanese follow-ups are made."""
    rng = random.Random(seed)
    by_article: dict[str, list[dict]] = {}
    for c in cases:
        if c["answerable"]:
            by_article.setdefault(c["article"], []).append(c)
    out = []
    for c in cases:
        if not c["answerable"]:
            continue
        others = [o for o in by_article[c["article"]] if o["id"] != c["id"]]
        # A name at the start of the question counts when the other question has it mid-sentence.
        shared = [(len(n), n, o) for n, first in _names(c["question"]) for o in others
                  if re.search(r"(?<!^)\b" + re.escape(n) + r"\b" if first else r"\b" + re.escape(n) + r"\b",
                               o["question"])]
        if not shared:
            continue
        best = max(n for n, _, _ in shared)
        name, prev = rng.choice(sorted([(n, o["id"]) for k, n, o in shared if k == best]))
        prev = next(o for o in others if o["id"] == prev)
        q = re.sub(re.escape(name) + r"(?:'s|’s)", "its", c["question"], count=1)
        q = q.replace(name, "it", 1)
        if q.startswith(("it", "its")):
            q = q[0].upper() + q[1:]
        history = [{"role": "user", "content": prev["question"]},
                   {"role": "assistant", "content": prev["answers"][0]}]
        out.append({**c, "id": c["id"] + "-fu", "question": q, "history": history, "standalone": c["id"]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pick", action="store_true", help="print the picked questions (JSON lines)")
    args = ap.parse_args()
    articles = load_articles()
    cases = answerable_of(articles, holdout_titles(articles))
    if args.pick:
        for c in pick(cases):
            print(json.dumps({"id": c["id"], "article": c["article"], "q": c["question"],
                              "a": c["answers"][0], "answerable": c["answerable"]}, ensure_ascii=False))


if __name__ == "__main__":
    main()

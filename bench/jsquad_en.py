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

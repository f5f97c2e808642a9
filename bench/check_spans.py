"""Checks the project's own question files: every gold span of an answerable case is found in the
page it names (NFKC, case and whitespace ignored, as bot/evaluate.py matches them), spans are short,
ids are unique, and the jaxaweb split is by document.

    .venv/bin/python -m bench.check_spans            # both files; jaxaweb pages from ../shared
    .venv/bin/python -m bench.check_spans --pages DIR

The jaxaweb pages are third-party text and are read from ../shared at check time, never copied."""

import argparse
import collections
import sys
from pathlib import Path

from bot.evaluate import load_cases, norm

ROOT = Path(__file__).resolve().parent.parent
SEED_PAGE = ROOT / "corpus" / "jaxa-international-cooperation.txt"
OWN = ROOT / "bench" / "data" / "jaxaweb_own.jsonl"
SEED_QUESTIONS = ROOT / "bench" / "data" / "seed_questions.jsonl"
HELDOUT = ROOT / "tests" / "data" / "heldout.jsonl"
PAGES = ROOT.parent / "shared" / "benchmarks" / "jaxaweb" / "corpus"
KINDS = {"time", "number", "place", "person", "org", "name", "definition", "list", "description",
         "reason", "yesno", "unanswerable"}
MAX_SPAN = 25


def body(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if text.startswith("---"):
        text = text.split("\n---", 1)[1].split("\n", 1)[1]
    return text


def check_cases(cases: list[dict], page_of, own: bool) -> list[str]:
    errors = []
    seen = set()
    for c in cases:
        if c["id"] in seen:
            errors.append(f"{c['id']}: duplicate id")
        seen.add(c["id"])
        errors += shape_errors(c)
        if own:
            errors += own_field_errors(c)
        errors += span_errors(c, page_of, own)
    return errors


def shape_errors(c: dict) -> list[str]:
    """The fields every question file has: language and conversation turns."""
    cid, errors = c["id"], []
    if c["lang"] not in ("ja", "en"):
        errors.append(f"{cid}: lang {c['lang']!r}")
    for turn in c["history"]:
        if set(turn) != {"role", "content"} or turn["role"] not in ("user", "assistant"):
            errors.append(f"{cid}: bad history turn {turn!r}")
    return errors


def own_field_errors(c: dict) -> list[str]:
    """The fields only jaxaweb_own.jsonl carries, and their agreement with the rest of the case."""
    cid, errors = c["id"], []
    if c["kind"] not in KINDS:
        errors.append(f"{cid}: kind {c['kind']!r}")
    if c["follow_up"] != bool(c["history"]):
        errors.append(f"{cid}: follow_up does not match history")
    if c["split"] not in ("fit", "heldout"):
        errors.append(f"{cid}: split {c['split']!r}")
    if (c["kind"] == "unanswerable") == c["answerable"]:
        errors.append(f"{cid}: kind and answerable disagree")
    return errors


def span_errors(c: dict, page_of, own: bool) -> list[str]:
    """An unanswerable case names nothing; an answerable one has keys and short spans found in its page."""
    cid, errors = c["id"], []
    if not c["answerable"]:
        if c["gold_spans"] or c["answer_keys"] or (own and c["doc"] is not None):
            errors.append(f"{cid}: unanswerable case with spans, keys or doc")
        return errors
    if not c["gold_spans"] or not c["answer_keys"] or not all(c["answer_keys"]):
        errors.append(f"{cid}: answerable case without spans or keys")
    text = norm(page_of(c))
    for span in c["gold_spans"]:
        if len(span) > MAX_SPAN:
            errors.append(f"{cid}: span longer than {MAX_SPAN}: {span!r}")
        if norm(span) not in text:
            errors.append(f"{cid}: span not found in {c.get('doc', 'seed')}: {span!r}")
    return errors


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=Path, default=PAGES)
    args = ap.parse_args(argv)
    seed = body(SEED_PAGE)
    errors = []

    if SEED_QUESTIONS.is_file():
        cases = load_cases(SEED_QUESTIONS)
        errors += [f"seed_questions {e}" for e in check_cases(cases, lambda c: seed, own=False)]
        old = {c["question"] for c in load_cases(HELDOUT)}
        errors += [f"seed_questions {c['id']}: also in heldout.jsonl" for c in cases if c["question"] in old]
        print(f"seed_questions.jsonl: {len(cases)} cases, {sum(c['answerable'] for c in cases)} answerable, "
              f"{sum(len(c['gold_spans']) for c in cases)} spans")

    own = load_cases(OWN)
    if args.pages.is_dir():
        pages = {p.stem: body(p) for p in args.pages.glob("*.md")}
        pages["seed"] = seed
        missing = {c["doc"] for c in own if c["answerable"]} - set(pages)
        errors += [f"jaxaweb_own: unknown doc {d}" for d in sorted(missing)]
        errors += [f"jaxaweb_own {e}" for e in check_cases(
            [c for c in own if c["doc"] not in missing], lambda c: pages[c["doc"]], own=True)]
    else:
        print(f"{args.pages} is missing: jaxaweb_own.jsonl spans not checked")
    splits = collections.defaultdict(set)
    for c in own:
        if c["doc"]:
            splits[c["doc"]].add(c["split"])
    errors += [f"jaxaweb_own: {d} in both splits" for d, s in splits.items() if len(s) > 1]
    print(f"jaxaweb_own.jsonl: {len(own)} cases, {sum(c['answerable'] for c in own)} answerable, "
          f"{sum(len(c['gold_spans']) for c in own)} spans, {len(splits)} documents")
    for e in errors:
        print(e)
    print("all gold spans found" if not errors else f"{len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

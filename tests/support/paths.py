"""Where the tests find the repository's files: the seed corpus, the project's own questions,
the test data and these support modules (started as scripts by some tests)."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED_CORPUS = ROOT / "corpus"
# The project's own evaluation questions on the seed page (no file outside the repository).
SEED_QUESTIONS = ROOT / "bench" / "data" / "seed_questions.jsonl"
DATA = ROOT / "tests" / "data"
HELDOUT = DATA / "heldout.jsonl"
SUPPORT = ROOT / "tests" / "support"


def question_texts(*paths: Path) -> list[str]:
    """The questions (and history turns) of JSONL question files."""
    out = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                out += [case["question"], *(t["content"] for t in case.get("history") or [])]
    return out

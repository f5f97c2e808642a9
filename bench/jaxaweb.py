"""The real-domain benchmark: public pages of JAXA's field (../shared/benchmarks/jaxaweb, read at
benchmark time, never copied into the project) and the project's own visitor questions over those
pages and the seed page (bench/data/jaxaweb_own.jsonl, written by the team).

Two small corpora are built under the benchmark cache: the 25 pages alone (the jaxaweb questions
are asked against them, as the benchmark's README says) and the 25 pages plus the seed page (the
project's own questions, some of which are about the seed page).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench.common import ROOT

SHARED = ROOT.parent / "shared" / "benchmarks" / "jaxaweb"
OWN = ROOT / "bench" / "data" / "jaxaweb_own.jsonl"
SEED = ROOT / "corpus" / "jaxa-international-cooperation.txt"


def available() -> bool:
    return (SHARED / "questions.jsonl").is_file()


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_corpus(folder: Path, with_seed: bool) -> Path:
    """The pages (and the seed page) as a corpus folder; files that did not change are left as they
    are, so the incremental build embeds nothing on later runs."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {p.name: p for p in sorted((SHARED / "corpus").glob("*.md"))}
    if with_seed:
        wanted[SEED.name] = SEED
    for name, src in wanted.items():
        dst = folder / name
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)
    for stale in folder.iterdir():
        if stale.name not in wanted:
            stale.unlink()
    return folder


def questions() -> list[dict]:
    return _read(SHARED / "questions.jsonl")


def follow_ups() -> list[dict]:
    return [{**c, "follow_up": True} for c in _read(SHARED / "followups.jsonl")]


def own_questions() -> list[dict]:
    return _read(OWN) if OWN.is_file() else []

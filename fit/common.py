"""What every fitting script shares: the provenance written into a fitted file, and the engine's
models with the one being refit stood in for (a file that no longer fits the code must not stop
its own refit)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JSQUAD = "JSQuAD v1.3 validation (../shared/benchmarks/jsquad/valid-v1.3.json)"


def commit() -> str:
    """The commit of the code a fit runs on (short hash), marked `-dirty` when bot/ or fit/ have
    uncommitted changes: the fitted numbers belong to that code."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "bot", "fit")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def provenance(fmt: int, features, fitted_by: str, data: str) -> dict:
    """The fields every fitted file starts with (checked by bot/fitted.py when it is loaded)."""
    return {"format": fmt, "features": list(features), "fitted_by": fitted_by, "data": data, "commit": commit()}


def models(**stand_ins):
    """The engine's fitted models (bot.engine.Models) from the shipped files, except those named in
    `stand_ins` (fusion=, refusal=, choice=, phrase=, yesno=, language=, cross=), which replace the file
    being refit."""
    from bot.answer.asker_language import AskerLanguage
    from bot.answer.choice import ChoiceModel
    from bot.answer.evidence import RefusalModel
    from bot.answer.phrase import PhraseModel
    from bot.answer.sentences import CrossLanguage
    from bot.answer.yesno import YesNoModel
    from bot.engine import Models
    from bot.retrieve.retrieval import Fusions

    loaders = {"fusion": Fusions.load, "refusal": RefusalModel.load_all, "choice": ChoiceModel.load,
               "phrase": PhraseModel.load,
               "yesno": YesNoModel.load, "language": AskerLanguage.load, "cross": CrossLanguage.load}
    return Models(**{name: stand_ins[name] if name in stand_ins else load() for name, load in loaders.items()})

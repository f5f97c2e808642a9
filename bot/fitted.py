"""Reading a file of fitted parameters: the one check every such file passes before it is used.

Each file beside the code it parameterises (choice.json, refusal.json, phrase_model.json,
fusion.json, query_int8.json, asker_language.json, cross_language.json) says what it is: `format`
(the layout version its reader expects),
`features` (the names of the inputs its numbers belong to, in order), `fitted_by` (the command that
wrote it), `data` (what it was fitted on) and `commit` (the code it was fitted with). A file whose
format or features differ from the code's would give numbers to the wrong inputs, so it is
refused with the file and the difference named; nothing falls back to another rule.
"""

import json
from collections.abc import Sequence
from pathlib import Path

from bot.errors import FittedFileError

PROVENANCE = ("format", "features", "fitted_by", "data", "commit")
_ROOT = Path(__file__).resolve().parent.parent
REFIT = "refit it (fit/README.md)"


def shown(path: Path) -> str:
    """The file as the project names it (bot/answer/choice.json), else its full path."""
    path = Path(path).resolve()
    return str(path.relative_to(_ROOT)) if path.is_relative_to(_ROOT) else str(path)


def read(path: Path, fmt: int, features: Sequence[str]) -> dict:
    """The fitted file at `path` as a dict, after checking that it carries its provenance, that
    its `format` is `fmt` and that its `features` are `features`, in order; FittedFileError
    naming the file and the mismatch otherwise."""
    name = shown(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FittedFileError(f"{name} is missing; {REFIT}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise FittedFileError(f"{name} cannot be read ({exc}); {REFIT}") from None
    if not isinstance(data, dict):
        raise FittedFileError(f"{name} is not a JSON object; {REFIT}")
    lacking = [k for k in PROVENANCE if k not in data]
    if lacking:
        raise FittedFileError(f"{name} lacks {', '.join(lacking)}; {REFIT}")
    if data["format"] != fmt:
        raise FittedFileError(f"{name} has format {data['format']!r}, this code reads format {fmt}; {REFIT}")
    difference = feature_difference(data["features"], features)
    if difference:
        raise FittedFileError(f"{name} was fitted on other features than this code computes ({difference}); {REFIT}")
    return data


def feature_difference(fitted, code: Sequence[str]) -> str | None:
    """What differs between a file's feature names and the code's, in words; None when equal."""
    if not isinstance(fitted, list) or not all(isinstance(f, str) for f in fitted):
        return "its features are not a list of names"
    code = list(code)
    if fitted == code:
        return None
    extra = [f for f in fitted if f not in code]
    missing = [f for f in code if f not in fitted]
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing[:5]) + (" …" if len(missing) > 5 else ""))
    if extra:
        parts.append("unknown " + ", ".join(extra[:5]) + (" …" if len(extra) > 5 else ""))
    if not parts and len(fitted) != len(code):
        parts.append(f"{len(fitted)} names where the code has {len(code)}")
    elif not parts:
        at = next(k for k, (a, b) in enumerate(zip(fitted, code, strict=True)) if a != b)
        parts.append(f"in another order from position {at}: {fitted[at]!r} where the code has {code[at]!r}")
    return "; ".join(parts)


def require(condition: bool, path: Path, what: str) -> None:
    """A reader's own check of a file's contents (a weight per feature, a known method)."""
    if not condition:
        raise FittedFileError(f"{shown(path)}: {what}; {REFIT}")

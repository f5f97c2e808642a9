"""bot/README.md's layer table is the architecture: every module of bot/ is in it, and each one
imports (at any depth of its code) only from its own row or the rows above. Nothing imports the
CLI, and nothing in bot/ imports the web layer except the CLI, the entry point that starts it."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _table() -> dict[str, int]:
    rank = {}
    rows = [line for line in (ROOT / "bot" / "README.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| `")]
    for i, line in enumerate(rows):
        for path in re.findall(r"`([\w/]+\.py)`", line.split("|")[1]):
            rank["bot." + path[:-3].replace("/", ".")] = i
    return rank


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def _modules() -> dict[str, Path]:
    return {"bot." + ".".join(p.relative_to(ROOT / "bot").with_suffix("").parts): p
            for p in (ROOT / "bot").rglob("*.py") if p.name != "__init__.py"}


def test_every_module_is_in_the_layer_table():
    assert set(_modules()) == set(_table())


def test_modules_import_only_from_their_row_or_the_rows_above():
    rank = _table()
    upward = [f"{m} imports {n}" for m, path in _modules().items() for n in _imports(path)
              if n in rank and rank[n] > rank[m]]
    assert upward == []


def _is(name: str, module: str) -> bool:
    return name == module or name.startswith(module + ".")


def test_nothing_imports_the_edges():
    cli = ROOT / "bot" / "cli.py"
    sources = list((ROOT / "bot").rglob("*.py")) + list((ROOT / "web").rglob("*.py"))
    offenders = [f"{p.relative_to(ROOT)} imports {n}" for p in sources for n in _imports(p)
                 if _is(n, "bot.cli") or _is(n, "web") and p.is_relative_to(ROOT / "bot") and p != cli]
    assert offenders == []

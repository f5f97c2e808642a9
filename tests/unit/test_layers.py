"""The layer tables are the architecture: bot/README.md's for the engine, web/README.md's for the
HTTP edge. Every module is in its table and imports (at any depth of its code) only from its own
row or the rows above; web/ may import bot/, bot/ never imports web/ except from the CLI (the top
edge, which starts the server), and nothing imports the CLI."""

import ast
import re
from pathlib import Path

import pytest
from paths import ROOT

PACKAGES = ("bot", "web")


def _table(package: str) -> dict[str, int]:
    rank = {}
    rows = [line for line in (ROOT / package / "README.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| `")]
    for i, line in enumerate(rows):
        for path in re.findall(r"`([\w/]+\.py)`", line.split("|")[1]):
            rank[f"{package}." + path[:-3].replace("/", ".")] = i
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


def _modules(package: str) -> dict[str, Path]:
    return {f"{package}." + ".".join(p.relative_to(ROOT / package).with_suffix("").parts): p
            for p in (ROOT / package).rglob("*.py") if p.name != "__init__.py"}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_is_in_the_layer_table(package):
    assert set(_modules(package)) == set(_table(package))


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_import_only_from_their_row_or_the_rows_above(package):
    rank = _table(package)
    upward = [f"{m} imports {n}" for m, path in _modules(package).items() for n in _imports(path)
              if n in rank and rank[n] > rank[m]]
    assert upward == []


def _is(name: str, module: str) -> bool:
    return name == module or name.startswith(module + ".")


def test_only_the_cli_imports_the_web_layer_and_nothing_imports_the_cli():
    cli = ROOT / "bot" / "cli.py"
    offenders = [f"{p.relative_to(ROOT)} imports {n}" for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
                 for n in _imports(p)
                 if _is(n, "bot.cli") or (_is(n, "web") and pkg == "bot" and p != cli)]
    assert offenders == []


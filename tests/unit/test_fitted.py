"""The fitted files shipped beside the code (bot/fitted.py): each carries its provenance and is
checked when it is loaded; one whose format or features differ from the code's is refused by name,
and the server does not start on it (the CLI prints one line, health says why)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from paths import ROOT

from bot.answer.asker_language import LANGUAGE_FILE, AskerLanguage
from bot.answer.choice import MODEL_FILE, ChoiceModel
from bot.answer.evidence import REFUSAL_FILE, RefusalModel
from bot.answer.phrase import MODEL_PATH, PhraseModel
from bot.answer.sentences import CROSS_FILE, CrossLanguage
from bot.answer.yesno import MODEL_FILE as YESNO_FILE
from bot.answer.yesno import YesNoModel
from bot.embed.convert.quantize import RECIPE_FILE, load_recipe
from bot.errors import FittedFileError
from bot.fitted import feature_difference
from bot.retrieve.retrieval import FUSION_FILE, Fusions

LOADERS = {"choice": (MODEL_FILE, ChoiceModel.load), "refusal": (REFUSAL_FILE, RefusalModel.load_all),
           "phrase": (MODEL_PATH, PhraseModel.load), "fusion": (FUSION_FILE, Fusions.load),
           "query_int8": (RECIPE_FILE, load_recipe), "yesno": (YESNO_FILE, YesNoModel.load),
           "asker_language": (LANGUAGE_FILE, AskerLanguage.load), "cross_language": (CROSS_FILE, CrossLanguage.load)}


def _rewritten(path: Path, folder: Path, change) -> Path:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    out = folder / path.name
    out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return out


@pytest.mark.parametrize("name", LOADERS)
def test_each_shipped_file_loads_and_says_where_it_comes_from(name):
    path, load = LOADERS[name]
    load(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == 1 and data["features"]
    assert data["fitted_by"].startswith("python -m fit.fit_") and data["data"]
    assert re.fullmatch(r"[0-9a-f]{7,40}", data["commit"])


@pytest.mark.parametrize("name", LOADERS)
def test_a_file_fitted_on_other_features_is_refused_naming_the_difference(name, tmp_path):
    path, load = LOADERS[name]
    last = json.loads(path.read_text(encoding="utf-8"))["features"][-1]
    fewer = _rewritten(path, tmp_path, lambda d: d["features"].pop())
    with pytest.raises(FittedFileError, match=rf"{path.name} was fitted on other features than this code "
                                              rf"computes \(missing {re.escape(last)}\); refit it"):
        load(fewer)


@pytest.mark.parametrize("name", LOADERS)
def test_a_file_of_another_format_is_refused(name, tmp_path):
    path, load = LOADERS[name]
    newer = _rewritten(path, tmp_path, lambda d: d.update(format=2))
    with pytest.raises(FittedFileError, match=rf"{path.name} has format 2, this code reads format 1; refit it"):
        load(newer)


@pytest.mark.parametrize("name", LOADERS)
def test_a_file_without_its_provenance_is_refused(name, tmp_path):
    path, load = LOADERS[name]
    bare = _rewritten(path, tmp_path, lambda d: [d.pop(k) for k in ("data", "commit")])
    with pytest.raises(FittedFileError, match=rf"{path.name} lacks data, commit; refit it"):
        load(bare)


def test_the_difference_is_said_in_words():
    code = ["a", "b", "c"]
    assert feature_difference(["a", "b", "c"], code) is None
    assert feature_difference(["a", "b"], code) == "missing c"
    assert feature_difference(["a", "b", "c", "d"], code) == "unknown d"
    assert feature_difference(["a", "c", "b"], code) == "in another order from position 1: 'c' where the code has 'b'"
    assert feature_difference(["a", "b", "c", "c"], code) == "4 names where the code has 3"
    assert feature_difference("abc", code) == "its features are not a list of names"


@pytest.fixture
def broken_tree(tmp_path) -> Path:
    """A copy of the code whose choice.json was fitted on one feature fewer than the code computes."""
    tree = tmp_path / "tree"
    for package in ("bot", "web"):
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    _rewritten(tree / "bot" / "answer" / "choice.json", tree / "bot" / "answer", lambda d: d["features"].pop())
    return tree


def _run(tree: Path, code: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "JAXABOT_INDEX_DIR": str(tree / "index"),
           "JAXABOT_CORPUS_DIR": str(ROOT / "corpus")}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=120)


def test_serve_refuses_to_start_on_a_file_that_does_not_fit_the_code(broken_tree):
    out = _run(broken_tree, "from bot.cli import app; app()", "serve", "--port", "1")
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "error: bot/answer/choice.json was fitted on other features than this code computes (missing novelty); "
        "refit it (fit/README.md)"]


def test_health_says_which_file_stops_the_server(broken_tree):
    code = ("import json\n"
            "from fastapi.testclient import TestClient\n"
            "from web.app import create_app\n"
            "with TestClient(create_app()) as client:\n"
            "    client.app.state.runtime.loaded.wait(60)\n"
            "    r = client.get('/api/health')\n"
            "    print(json.dumps({'code': r.status_code, **r.json()}))\n")
    out = _run(broken_tree, code)
    assert out.returncode == 0, out.stderr
    health = json.loads(out.stdout.strip().splitlines()[-1])
    assert health["code"] == 503 and health["status"] == "error"
    assert health["detail"] == ("bot/answer/choice.json was fitted on other features than this code computes "
                                "(missing novelty); refit it (fit/README.md)")

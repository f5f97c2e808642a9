import subprocess
import sys

from fakes import WITHOUT_CONVERT_EXTRA, FakeEmbedder
from typer.testing import CliRunner

from bot.cli import app


def test_help_does_not_import_torch():
    code = ("import sys; from typer.testing import CliRunner; from bot.cli import app; "
            "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
            "assert 'index' in r.output and 'ask' in r.output; "
            "heavy = [m for m in ('torch', 'faiss', 'sentence_transformers', 'transformers') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_server_imports_without_the_convert_extra():
    code = WITHOUT_CONVERT_EXTRA + (
        "from typer.testing import CliRunner\n"
        "from bot.cli import app\n"
        "import bot.engine, bot.embed.embedder, bot.embed.onnx_embedder, web.app\n"
        "assert CliRunner().invoke(app, ['serve', '--help']).exit_code == 0\n"
        "try:\n"
        "    import torch\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('torch was importable')\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_torch_backend_without_the_convert_extra_says_what_to_install(tmp_path):
    code = WITHOUT_CONVERT_EXTRA + (
        "from pathlib import Path\n"
        "from bot.embed.embedder import load_torch_embedder\n"
        "from bot.errors import ModelError\n"
        "try:\n"
        "    load_torch_embedder('some/model', Path(sys.argv[1]), 1)\n"
        "except ModelError as exc:\n"
        "    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, capture_output=True, text=True)
    assert "convert" in out.stdout and "pip install" in out.stdout


def test_check_reports_missing_index_as_a_message(tmp_path):
    result = CliRunner().invoke(app, ["index", "--check", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no index" in result.output and "Traceback" not in result.output


def test_check_names_the_damaged_file(tmp_path, corpus_copy, tokenizer):
    from bot.store.build import build_index
    index_dir = tmp_path / "index"
    version = build_index(corpus_copy, index_dir, FakeEmbedder(), tokenizer, max_bytes=10**6).version
    runner = CliRunner()
    ok = runner.invoke(app, ["index", "--check", "--index", str(index_dir)])
    assert ok.exit_code == 0 and version in ok.output and "verified" in ok.output
    target = index_dir / version / "documents.jsonl"
    target.write_bytes(target.read_bytes()[:-10])
    bad = runner.invoke(app, ["index", "--check", "--index", str(index_dir)])
    assert bad.exit_code == 1 and "documents.jsonl" in bad.output and "damaged" in bad.output


def test_serve_with_nothing_to_index_fails_before_starting(tmp_path, monkeypatch):
    empty = tmp_path / "corpus"
    empty.mkdir()
    (empty / "blank.txt").write_text("")
    # serve hands its flags to the app through the environment; let monkeypatch restore them.
    monkeypatch.setenv("JAXABOT_CORPUS_DIR", str(empty))
    monkeypatch.setenv("JAXABOT_INDEX_DIR", str(tmp_path / "index"))
    result = CliRunner().invoke(app, ["serve", "--corpus", str(empty), "--index", str(tmp_path / "index")])
    assert result.exit_code == 1
    assert "no usable document" in result.output and "blank.txt: empty file" in result.output


def test_ask_refuses_text_that_is_not_unicode_before_loading_anything(tmp_path):
    # Bytes on the command line that are not UTF-8 reach Python as lone surrogates.
    result = CliRunner().invoke(app, ["ask", "SAFE\udcff?", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "not valid Unicode" in result.output and "Traceback" not in result.output

"""Crash safety: builds killed with SIGKILL at random moments never leave a half-written version
current; the previous version keeps serving; a rebuild cleans up."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from fakes import FakeEmbedder
from paths import ROOT, SUPPORT
from typer.testing import CliRunner

from bot.cli import app
from bot.engine import Engine
from bot.store import versions as store
from bot.store.index import load_index

KILLS = 20


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seed = (ROOT / "corpus" / "jaxa-international-cooperation.txt").read_text(encoding="utf-8")
    for i in range(12):
        (corpus / f"doc{i:02d}.txt").write_text(seed.replace("PAGE TOP", f"版 {i}"), encoding="utf-8")
    return corpus


def _start_build(corpus: Path, index: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(SUPPORT)]))
    return subprocess.Popen([sys.executable, str(SUPPORT / "fault_build.py"), str(corpus), str(index)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)


def test_sigkill_during_builds_never_corrupts_the_current_index(tmp_path, tokenizer, models):
    corpus = _corpus(tmp_path)
    index = tmp_path / "index"
    t0 = time.perf_counter()
    first = _start_build(corpus, index)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    duration = time.perf_counter() - t0  # interpreter start to published version
    rng = random.Random(1234)
    completed, killed, trial = 0, 0, 0
    seen_versions = {store.current_version(index)}
    # Keep going until KILLS builds have really died mid-way (a kill may land after the end).
    while killed < KILLS:
        trial += 1
        assert trial <= 3 * KILLS, f"only {killed} of {trial} builds were killed mid-way"
        (corpus / f"doc{trial % 12:02d}.txt").write_text(f"試行{trial}の文書です。" * 40, encoding="utf-8")
        before = store.current_version(index)
        proc = _start_build(corpus, index)
        # Random moments across the whole build, from interpreter start to the final rename.
        time.sleep(rng.uniform(0.0, duration))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        if proc.returncode == 0:
            completed += 1
        else:
            killed += 1
        current = store.current_version(index)
        assert current == before or current not in seen_versions, "CURRENT went backwards"
        seen_versions.add(current)
        # The current version is complete and verified (what `jaxabot index --check` does) ...
        loaded = load_index(index)
        assert not current.startswith(".")
        assert (index / current / "manifest.json").exists()
        # ... and a server (the engine it wraps) starts and answers from it.
        answer = Engine(FakeEmbedder(), tokenizer, loaded, models=models).ask("カナダとの協力について")
        assert answer.index_version == current
    check = CliRunner().invoke(app, ["index", "--check", "--index", str(index)])
    assert check.exit_code == 0, check.output
    # A build that is allowed to finish sweeps leftovers of the killed ones.
    final = _start_build(corpus, index)
    assert final.wait(120) == 0
    leftovers = [p.name for p in index.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == []
    assert len(store.versions(index)) <= 2
    print(f"{killed} killed, {completed} completed in {time.perf_counter() - t0:.1f} s")


def test_truncated_or_flipped_files_are_refused_and_rebuilt(tmp_path, tokenizer):
    corpus = _corpus(tmp_path)
    index = tmp_path / "index"
    assert _start_build(corpus, index).wait(120) == 0
    version = store.current_version(index)
    runner = CliRunner()
    bm25_file = next((index / version / "bm25").glob("*.npy"))
    bm25_file.write_bytes(bm25_file.read_bytes()[: len(bm25_file.read_bytes()) // 2])
    bad = runner.invoke(app, ["index", "--check", "--index", str(index)])
    assert bad.exit_code == 1 and bm25_file.name in bad.output
    bm25_file.unlink()
    faiss_file = index / version / "dense.faiss"
    data = bytearray(faiss_file.read_bytes())
    data[len(data) // 2] ^= 0x01
    faiss_file.write_bytes(bytes(data))
    bad = runner.invoke(app, ["index", "--check", "--index", str(index)])
    assert bad.exit_code == 1 and "damaged" in bad.output or "missing" in bad.output
    assert _start_build(corpus, index).wait(120) == 0
    ok = runner.invoke(app, ["index", "--check", "--index", str(index)])
    assert ok.exit_code == 0, ok.output

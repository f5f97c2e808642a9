"""Distributed builds on a real Ray head (one per module, loopback only): the CLI with the real
model equals a local build; workers embed with the driver's settings (backend, model, threads);
incremental builds send only changed documents; a dying worker is retried; a failing model
publishes nothing; the server's first build and admin rebuild take the same Ray path with
JAXABOT_RAY_ADDRESS, and a rebuild shows its rows and rate in the build status and says why a
failed one published nothing."""

import functools
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

# Not importorskip: ray must be imported only after the fixture sets its auth environment.
if importlib.util.find_spec("ray") is None:
    pytest.skip("the cluster extra is not installed", allow_module_level=True)

from fakes import BrokenEmbedder, CrashOnceEmbedder, FakeEmbedder, SlowEmbedder  # noqa: E402
from paths import ROOT  # noqa: E402
from ray_head import ray_head  # noqa: E402
from web_helpers import ADMIN_TOKEN, make_settings, wait_build, wait_ready  # noqa: E402

from bot.errors import BuildError  # noqa: E402
from bot.store import versions as store  # noqa: E402
from bot.store.build import build_index  # noqa: E402
from bot.store.distributed import RayEmbedder, plan_blocks, ray_session, settings_loader  # noqa: E402

pytestmark = pytest.mark.ray

JAXABOT = Path(sys.executable).parent / "jaxabot"
MAX_BYTES = 10**6
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def head(tmp_path_factory):
    temp = tmp_path_factory.mktemp("ray") / "t"  # Ray's socket paths must stay short
    temp.mkdir()
    with ray_head(temp) as (address, env):
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield address, env
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def _current(index_dir: Path):
    folder, manifest = store.open_current(index_dir)
    return folder, manifest, np.load(folder / "passage_vectors.npy"), np.load(folder / "sentence_vectors.npy")


def test_workers_load_the_model_with_the_drivers_settings(tmp_path):
    from bot.settings import Settings

    s = Settings(embed_backend="torch", model="some/model", model_cache_dir=tmp_path, torch_threads=3)
    load = settings_loader(s)
    assert load.func.__name__ == "load_embedder" and load.args == ("some/model", tmp_path, 3, "torch")
    # A server passes the backend its own queries really use (here: ONNX fell back to torch).
    assert settings_loader(Settings(), "torch").args[1:] == (Settings().model_cache_dir, 1, "torch")


def test_workers_with_another_backend_than_the_queries_publish_nothing():
    """The workers report the backend they really embed with (the CLI test sees `torch` come back
    from them); a build whose workers disagree with each other or with the server's queries fails
    at the first batch, before anything is published."""
    server = RayEmbedder("m", FakeEmbedder, expect_backend="onnx")
    server._check_backends({"onnx"})
    with pytest.raises(BuildError, match="embedded with torch, but queries are embedded with onnx"):
        server._check_backends({"torch"})
    with pytest.raises(BuildError, match="different backends \\(onnx, torch\\); nothing was published"):
        RayEmbedder("m", FakeEmbedder)._check_backends({"torch", "onnx"})
    RayEmbedder("m", FakeEmbedder)._check_backends({"torch"})  # the CLI accepts what all workers use


def test_blocks_give_every_actor_work():
    assert plan_blocks(10, 2) == (8, 2)
    assert plan_blocks(3, 2) == (3, 1)
    blocks, batch = plan_blocks(100_000, 4)
    assert blocks * batch >= 100_000 and batch <= 256 and blocks >= 16


@pytest.mark.slow
def test_cli_build_on_ray_equals_a_local_build(head, tmp_path, seed_index_dir):
    address, env = head
    index_dir = tmp_path / "index"
    # The driver's JAXABOT_EMBED_BACKEND (not the default, onnx) must reach the workers: they
    # embed with torch, and the result still equals the local (ONNX) build.
    run = subprocess.run([str(JAXABOT), "index", "--ray", address, "--corpus", str(ROOT / "corpus"),
                          "--index", str(index_dir)], env={**os.environ, **env, "JAXABOT_EMBED_BACKEND": "torch"},
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "built:" in run.stdout and f"embedded on Ray at {address} with torch" in run.stdout
    assert "texts on Ray" in run.stderr  # progress: rows embedded / total, rate
    check = subprocess.run([str(JAXABOT), "index", "--check", "--index", str(index_dir)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and "verified" in check.stdout

    ray_folder, ray_manifest, ray_p, ray_s = _current(index_dir)
    local_folder, local_manifest, local_p, local_s = _current(seed_index_dir)
    for name in ("passages.jsonl", "documents.jsonl"):
        assert (ray_folder / name).read_text(encoding="utf-8") == (local_folder / name).read_text(encoding="utf-8")
    for key in ("model", "counts", "dense", "documents", "chunker_version"):
        assert ray_manifest[key] == local_manifest[key]
    assert ray_p.shape == local_p.shape and ray_s.shape == local_s.shape
    assert np.min(np.sum(ray_p * local_p, axis=1)) >= 0.999
    assert np.min(np.sum(ray_s * local_s, axis=1)) >= 0.999


def test_incremental_build_sends_only_changed_documents(head, tmp_path, corpus_copy, tokenizer):
    address, _ = head
    ray_index, local_index = tmp_path / "ray", tmp_path / "local"
    for i in range(6):  # > 512 texts: a build that embedded in chunks would start several jobs
        (corpus_copy / f"gen{i}.md").write_text(f"# 生成{i}\n\n" + "\n\n".join(
            f"## 節{j}\n\n" + "".join(f"文書{i}の節{j}の文{k}である。" for k in range(8)) for j in range(12)) + "\n",
            encoding="utf-8")
    with ray_session(address):
        embedder = RayEmbedder("fake-bigram", FakeEmbedder, actors=2)
        first = build_index(corpus_copy, ray_index, embedder, tokenizer, max_bytes=MAX_BYTES)
        assert first.embedded_texts == embedder.last_run["texts"] > 512
        assert embedder.runs == 1  # one cluster job (one model load per worker) per build
        (corpus_copy / "added.md").write_text(
            "# 追加\n\n小惑星探査機の新しい計画が発表された。打ち上げは2031年の予定である。\n", encoding="utf-8")
        second = build_index(corpus_copy, ray_index, embedder, tokenizer, max_bytes=MAX_BYTES)
    assert second.embedded_documents == 1 and second.reused_documents == first.documents
    assert embedder.last_run["texts"] == second.embedded_texts < first.embedded_texts
    assert embedder.runs == 2
    assert sum(w["texts"] for w in embedder.last_run["workers"].values()) == second.embedded_texts
    build_index(corpus_copy, local_index, FakeEmbedder(), tokenizer, max_bytes=MAX_BYTES)
    ray_folder, _, ray_p, ray_s = _current(ray_index)
    local_folder, _, local_p, local_s = _current(local_index)
    assert (ray_folder / "passages.jsonl").read_bytes() == (local_folder / "passages.jsonl").read_bytes()
    np.testing.assert_allclose(ray_p, local_p, atol=1e-6)
    np.testing.assert_allclose(ray_s, local_s, atol=1e-6)


def test_a_worker_that_dies_is_retried(head, tmp_path, corpus_copy, tokenizer):
    address, _ = head
    marker = tmp_path / "crashed"
    with ray_session(address):
        embedder = RayEmbedder("fake-bigram", functools.partial(CrashOnceEmbedder, str(marker)), actors=2)
        summary = build_index(corpus_copy, tmp_path / "index", embedder, tokenizer, max_bytes=MAX_BYTES)
    assert marker.exists()  # a worker really died
    assert summary.changed and summary.embedded_texts > 0
    _, _, p, _ = _current(tmp_path / "index")
    local = build_index(corpus_copy, tmp_path / "local", FakeEmbedder(), tokenizer, max_bytes=MAX_BYTES)
    assert local.passages == summary.passages
    np.testing.assert_allclose(p, _current(tmp_path / "local")[2], atol=1e-6)


def test_a_failing_build_publishes_nothing(head, tmp_path, corpus_copy, tokenizer):
    address, _ = head
    index_dir = tmp_path / "index"
    good = build_index(corpus_copy, index_dir, FakeEmbedder(), tokenizer, max_bytes=MAX_BYTES).version
    before = sorted(p.name for p in index_dir.iterdir())
    (corpus_copy / "added.md").write_text("# 追加\n\n新しい文書。\n", encoding="utf-8")
    rows = []
    with ray_session(address):
        embedder = RayEmbedder("fake-bigram", BrokenEmbedder, actors=2,
                               on_rows=lambda done, total, rate: rows.append(done))
        with pytest.raises(BuildError, match="nothing was published.*broken model"):
            build_index(corpus_copy, index_dir, embedder, tokenizer, max_bytes=MAX_BYTES)
    assert store.current_version(index_dir) == good
    assert sorted(p.name for p in index_dir.iterdir()) == before
    assert json.loads((index_dir / good / "manifest.json").read_text())["counts"]["documents"] == 1


def test_cli_takes_the_address_from_the_environment(monkeypatch, tmp_path):
    """JAXABOT_RAY_ADDRESS selects a Ray build like --ray; a cluster that cannot be reached is a
    one-line error, not a traceback (no cluster is started here)."""
    from typer.testing import CliRunner

    import bot.store.distributed as distributed
    from bot.cli import app

    seen = []

    def unreachable(address, num_cpus=None):
        seen.append(address)
        raise BuildError(f"cannot connect to the Ray cluster at {address!r}: refused")

    monkeypatch.setattr(distributed, "ray_session", unreachable)
    monkeypatch.setenv("JAXABOT_RAY_ADDRESS", "10.0.0.1:6379")
    result = CliRunner().invoke(app, ["index", "--corpus", str(ROOT / "corpus"), "--index", str(tmp_path / "i")])
    assert result.exit_code == 1 and seen == ["10.0.0.1:6379"]
    assert "cannot connect to the Ray cluster" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "i").exists() or store.current_version(tmp_path / "i") is None


# -- the server's admin rebuild on Ray (JAXABOT_RAY_ADDRESS) ----------------------------------

def _recording(rebuilder) -> list:
    """Every progress report the status shows, in order."""
    seen, record = [], rebuilder._record

    def keep(p):
        seen.append((p.stage, p.rows_done, p.rows_total, p.rows_per_second))
        record(p)

    rebuilder._record = keep
    return seen


def _generate(corpus: Path, documents: int) -> None:
    """Documents of 10 paragraphs of 6 sentences: enough rows for several cluster batches."""
    for i in range(documents):
        (corpus / f"gen{i}.md").write_text(f"# 生成{i}\n\n" + "\n\n".join(
            "".join(f"文書{i}の段落{j}の文{k}である。" for k in range(6)) for j in range(10)) + "\n", encoding="utf-8")


def test_api_rebuild_on_ray_reports_rows_and_a_failed_one_publishes_nothing(head, corpus_copy, fake_app_factory):
    address, _ = head
    _generate(corpus_copy, 4)
    client = fake_app_factory(corpus_dir=corpus_copy, admin_token=ADMIN_TOKEN, ray_address=address, ray_actors=2)
    rebuilder = client.app.state.runtime.rebuilder
    rebuilder.ray_loader = FakeEmbedder  # what each worker loads
    seen = _recording(rebuilder)
    before = client.get("/api/index/status", headers=AUTH).json()
    assert before["embedding_on"] == f"ray {address}"

    assert client.post("/api/index/rebuild", headers=AUTH).status_code == 202
    done = wait_build(client, AUTH, timeout=300)
    assert done["state"] == "idle" and done["error"] is None, done
    assert done["last_build"]["embedded_documents"] == 4
    assert done["index_version"] == done["current_version"] != before["current_version"]
    p = done["progress"]
    assert p["stage"] == "done" and p["rows_done"] == p["rows_total"] == done["last_build"]["embedded_texts"]
    rows = [r for stage, r, total, rate in seen if stage == "embedding"]
    assert rows == sorted(rows) and 0 < rows[1] and rows[-1] == p["rows_total"]
    assert len(set(rows)) > 2  # rows came back batch by batch while the cluster job ran
    assert any(rate for stage, r, total, rate in seen if stage == "embedding")

    (corpus_copy / "added.md").write_text("# 追加\n\n新しい文書。\n", encoding="utf-8")
    rebuilder.ray_loader = BrokenEmbedder
    assert client.post("/api/index/rebuild", headers=AUTH).status_code == 202
    failed = wait_build(client, AUTH, timeout=300)
    assert failed["state"] == "failed"
    assert "nothing was published" in failed["error"] and "broken model" in failed["error"]
    assert failed["current_version"] == failed["index_version"] == done["current_version"]
    assert failed["last_build"] == done["last_build"]
    assert client.post("/api/ask", json={"question": "生成0の段落は？"}).status_code == 200


def test_server_first_build_embeds_on_ray(head, corpus_copy, fake_app_factory, monkeypatch, tmp_path):
    """A server started without an index, with JAXABOT_RAY_ADDRESS, builds its first index on the
    cluster as its rebuilds do: its own model embeds nothing but the questions."""
    import bot.store.distributed as distributed

    address, _ = head
    monkeypatch.setattr(distributed, "settings_loader", lambda settings, backend=None: FakeEmbedder)
    driver = FakeEmbedder()
    client = fake_app_factory(embedder=driver, index_dir=tmp_path / "new-index", corpus_dir=corpus_copy,
                              build_if_missing=True, ray_address=address, ray_actors=2)
    assert client.get("/api/health").json()["status"] == "ok"
    assert driver.calls == []  # every passage and sentence vector came from the cluster
    _, _, passages, sentences = _current(tmp_path / "new-index")
    assert len(passages) > 0 and len(sentences) > 0
    r = client.get("/api/search", params={"q": "APRSAF", "k": 3})
    assert r.status_code == 200 and r.json()["hits"]
    assert driver.calls == [1]  # the query, here


def test_api_rebuild_on_ray_can_be_cancelled(head, corpus_copy, fake_app_factory):
    address, _ = head
    _generate(corpus_copy, 8)
    client = fake_app_factory(corpus_dir=corpus_copy, admin_token=ADMIN_TOKEN, ray_address=address, ray_actors=2)
    rebuilder = client.app.state.runtime.rebuilder
    rebuilder.ray_loader = functools.partial(SlowEmbedder, 0.5)
    before = client.get("/api/index/status", headers=AUTH).json()["current_version"]
    assert client.post("/api/index/rebuild", headers=AUTH).status_code == 202
    deadline = time.monotonic() + 240
    while True:  # cancel once the cluster has returned some rows, not all
        status = client.get("/api/index/status", headers=AUTH).json()
        p = status["progress"]
        if p and p["stage"] == "embedding" and 0 < p["rows_done"] < p["rows_total"]:
            break
        assert status["state"] == "running" and time.monotonic() < deadline, status
        time.sleep(0.05)
    assert client.post("/api/index/cancel", headers=AUTH).status_code == 200
    final = wait_build(client, AUTH, timeout=120)
    assert final["state"] == "cancelled" and final["current_version"] == before == final["index_version"]


@pytest.mark.slow
def test_api_rebuild_on_ray_with_the_real_model(head, corpus_copy, real_index_copy, real_embedder, tokenizer):
    """The real server path end to end: the workers load the real model from the server's
    settings (its ONNX backend), the new document is embedded on the cluster and answered."""
    from fastapi.testclient import TestClient

    from web.app import create_app

    address, _ = head
    (corpus_copy / "probe.md").write_text(
        "# 月面基地計画\n\n架空の月面基地「かぐや村」は2040年に完成する予定である。"
        "基地には12人の宇宙飛行士が滞在できる。\n", encoding="utf-8")
    settings = make_settings(corpus_copy, real_index_copy, admin_token=ADMIN_TOKEN, ray_address=address,
                             ray_actors=2)
    app = create_app(settings, embedder=real_embedder, tokenizer=tokenizer)
    with TestClient(app, raise_server_exceptions=False) as client:
        wait_ready(app.state.runtime)
        seen = _recording(app.state.runtime.rebuilder)
        assert client.post("/api/index/rebuild", headers=AUTH).status_code == 202
        done = wait_build(client, AUTH, timeout=600)
        assert done["state"] == "idle", done
        assert done["last_build"]["embedded_documents"] == 1 and done["last_build"]["reused_documents"] > 0
        assert done["progress"]["rows_done"] == done["progress"]["rows_total"] > 0
        assert [s for s in seen if s[0] == "embedding" and s[1] == done["progress"]["rows_total"]]
        answer = client.post("/api/ask", json={"question": "かぐや村はいつ完成する予定ですか？"}).json()
    assert "2040" in answer["answer"], answer
    # The cluster's vectors equal the server's own model's.
    from bot.ingest.passages import split_passages

    folder, _, p, _ = _current(real_index_copy)
    rows = [i for i, line in enumerate((folder / "passages.jsonl").read_text(encoding="utf-8").splitlines())
            if json.loads(line)["doc_id"].startswith("probe")]
    doc = next(d for d in map(json.loads, (folder / "documents.jsonl").read_text(encoding="utf-8").splitlines())
               if d["doc_id"].startswith("probe"))
    local = real_embedder.encode_passages([x.embed_text for x in split_passages(doc["doc_id"], doc["text"])])
    assert rows and len(rows) == len(local)
    assert np.min(np.sum(p[rows] * local, axis=1)) >= 0.999

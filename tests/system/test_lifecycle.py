"""Index lifecycle on real builds (fake embedder, real FAISS/BM25/Sudachi) and real servers:
rollback by history, pruning, last-good fallback (`degraded`) for every kind of damage, a server
that follows CURRENT and survives files changed under it, admin rollback / progress / cancel,
and `serve --watch`."""

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fakes import FakeEmbedder
from paths import ROOT, SUPPORT
from typer.testing import CliRunner
from web_helpers import ADMIN_TOKEN, free_port, make_settings, wait_build

from bot.errors import BuildCancelled, IndexCorrupt, NothingToRollBack
from bot.store import versions as store
from bot.store.build import build_index
from bot.store.index import load_index, load_servable

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _build(corpus: Path, index: Path, tokenizer, text: str | None = None, **kw) -> str:
    if text is not None:
        (corpus / "extra.txt").write_text(text, encoding="utf-8")
    kw.setdefault("keep_previous", 1)
    return build_index(corpus, index, FakeEmbedder(), tokenizer, max_bytes=10**7, **kw).version


@pytest.fixture
def three_versions(corpus_copy, tmp_path, tokenizer):
    index = tmp_path / "index"
    names = [_build(corpus_copy, index, tokenizer, f"版{i}の追加文書です。", keep_previous=5) for i in range(3)]
    return corpus_copy, index, names


# -- rollback and pruning by history ---------------------------------------------------------

def test_rollback_walks_back_through_what_was_live_and_never_restores_a_rejected_version(three_versions):
    _, index, (a, b, c) = three_versions
    assert store.rollback(index) == b
    assert store.rollback(index) == a
    with pytest.raises(NothingToRollBack):
        store.rollback(index)
    assert store.current_version(index) == a  # a failed rollback changes nothing
    assert set(store.read_history(index).rejected) == {b, c}


def test_prune_keeps_the_version_live_before_and_deletes_the_rolled_back_one(three_versions, tokenizer):
    corpus, index, (a, b, c) = three_versions
    assert store.rollback(index) == b  # c was bad
    d = _build(corpus, index, tokenizer, "新しい版の文書です。", keep_previous=1)
    # The old rule (keep the newest-named other folder) kept c and deleted b.
    assert sorted(store.versions(index)) == sorted([b, d])
    assert store.rollback(index) == b


def test_rollback_skips_a_damaged_earlier_version(three_versions):
    _, index, (a, b, c) = three_versions
    (index / b / "passages.jsonl").write_text("damaged\n", encoding="utf-8")
    assert store.rollback(index) == a
    assert b in store.read_history(index).rejected


def test_rollback_from_a_garbage_current(three_versions):
    _, index, (a, b, c) = three_versions
    (index / "CURRENT").write_bytes(b"\x00\xffgarbage/..\n")
    assert store.rollback(index) == c  # the last version recorded live, verified


def test_cli_rollback(three_versions):
    from bot.cli import app
    _, index, (a, b, c) = three_versions
    out = CliRunner().invoke(app, ["index", "--rollback", "--index", str(index)])
    assert out.exit_code == 0 and b in out.output
    assert store.current_version(index) == b


# -- last-good fallback for every kind of damage ---------------------------------------------

def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGE = {
    "flipped byte": lambda index, v: _flip(index / v / "dense.faiss"),
    "truncated file": lambda index, v: _truncate(index / v / "sentence_vectors.npy"),
    "bad manifest": lambda index, v: (index / v / "manifest.json").write_text("{not json", encoding="utf-8"),
    "missing folder": lambda index, v: shutil.rmtree(index / v),
    "garbage CURRENT": lambda index, v: (index / "CURRENT").write_text("../../etc\n", encoding="utf-8"),
    "missing CURRENT": lambda index, v: (index / "CURRENT").unlink(),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_current_falls_back_to_the_newest_intact_version(three_versions, damage):
    _, index, (a, b, c) = three_versions
    DAMAGE[damage](index, c)
    loaded, problem = load_servable(index, model="fake-bigram")
    # Only CURRENT is damaged: the version it last named is intact and the newest.
    expected = c if "CURRENT" in damage else b
    assert loaded.version == expected and problem and expected in problem
    assert "/" not in problem  # a public reason: versions, no paths


def test_a_rejected_version_is_never_a_fallback(three_versions):
    _, index, (a, b, c) = three_versions
    store.rollback(index)  # c rejected, b current
    _flip(index / b / "dense.faiss")
    loaded, problem = load_servable(index, model="fake-bigram")
    assert loaded.version == a


def test_loaded_index_does_not_map_files_a_truncation_cannot_kill_it(corpus_copy, tmp_path, tokenizer):
    # In a child process: before the fix, touching the vectors after truncation was SIGBUS.
    index = tmp_path / "index"
    _build(corpus_copy, index, tokenizer)
    code = (
        "import sys; from pathlib import Path; from bot.store.index import load_index\n"
        "idx = load_index(Path(sys.argv[1]))\n"
        "folder = Path(sys.argv[1]) / idx.version\n"
        "for name in ('passage_vectors.npy', 'sentence_vectors.npy'):\n"
        "    open(folder / name, 'r+b').truncate(128)\n"
        "print(float(idx.passage_vectors.sum()) + float(idx.sentence_vectors[-1].sum()))\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code, str(index)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    with pytest.raises(IndexCorrupt, match="bytes"):
        load_index(index, check=False)  # sizes are checked even without checksums


# -- a real server following CURRENT and surviving damage ------------------------------------

class _Server:
    def __init__(self, corpus: Path, index: Path, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(SUPPORT)]))
        self.log = log
        self.proc = subprocess.Popen([sys.executable, str(SUPPORT / "fake_server.py"), str(corpus), str(index),
                                      str(self.port), "0.2"], stdout=subprocess.DEVNULL,
                                     stderr=open(log, "w"), env=env)

    def get(self, path: str, **kw):
        return httpx.get(self.base + path, timeout=10, **kw)

    def wait(self, predicate, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"server died ({self.proc.returncode}): {self.log.read_text()[-2000:]}"
            try:
                last = self.get("/api/health")
                if predicate(last.json()):
                    return last.json()
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"condition not met in {timeout} s; last health {last and last.text}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def server_on(tmp_path):
    servers = []

    def start(corpus: Path, index: Path) -> _Server:
        s = _Server(corpus, index, tmp_path / f"server{len(servers)}.log")
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


def test_server_follows_cli_builds_and_rollbacks_and_survives_truncated_files(three_versions, server_on, tokenizer):
    corpus, index, (a, b, c) = three_versions
    server = server_on(corpus, index)
    assert server.wait(lambda h: h["status"] == "ok")["index_version"] == c
    ask = lambda: httpx.post(server.base + "/api/ask", json={"question": "カナダとの協力について"}, timeout=30)  # noqa: E731
    assert ask().status_code == 200

    # A build by another process (here: this one) is served within a few polls.
    d = _build(corpus, index, tokenizer, "追跡局の新しい文書です。", keep_previous=5)
    server.wait(lambda h: h["index_version"] == d, timeout=15)
    # So is a rollback.
    assert store.rollback(index) == c
    server.wait(lambda h: h["index_version"] == c, timeout=15)

    # Files of the served version truncated under the server: it keeps answering from memory
    # and reports degraded (before: SIGBUS on the next question, no log line).
    for name in ("passage_vectors.npy", "sentence_vectors.npy"):
        open(index / c / name, "r+b").truncate(64)
    assert ask().status_code == 200
    health = server.wait(lambda h: h["status"] == "degraded", timeout=15)
    assert c in health["detail"] and "/" not in health["detail"]
    assert ask().json()["index_version"] == c
    status = server.get("/api/index/status", headers={"Authorization": "Bearer t0ken"}).json()
    assert status["degraded"] and status["current_version"] == c

    # The served version's folder deleted: the server moves to the newest intact version.
    shutil.rmtree(index / c)
    health = server.wait(lambda h: h["index_version"] == b, timeout=15)
    assert health["status"] == "degraded"
    assert ask().status_code == 200
    assert "degraded" in server.log.read_text()
    assert server.proc.poll() is None


def test_server_starts_degraded_on_a_garbage_current_and_recovers_after_a_build(three_versions, server_on,
                                                                                tokenizer):
    corpus, index, (a, b, c) = three_versions
    (index / "CURRENT").write_bytes(b"\xff\xfe not a version \n")
    server = server_on(corpus, index)
    health = server.wait(lambda h: h["status"] != "loading")
    assert health["status"] == "degraded" and health["index_version"] == c
    assert "CURRENT" in health["detail"]
    d = _build(corpus, index, tokenizer, "修復後の文書です。")
    health = server.wait(lambda h: h["index_version"] == d, timeout=15)
    assert health["status"] == "ok" and health["detail"] is None


def test_serve_starts_when_current_is_unreadable(three_versions, monkeypatch):
    import uvicorn

    from bot.cli import app
    corpus, index, _ = three_versions
    (index / "CURRENT").write_text("..\n", encoding="utf-8")
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(a))
    for key in ("JAXABOT_CORPUS_DIR", "JAXABOT_INDEX_DIR", "JAXABOT_WATCH"):
        monkeypatch.delenv(key, raising=False)
    out = CliRunner().invoke(app, ["serve", "--corpus", str(corpus), "--index", str(index), "--watch"])
    assert out.exit_code == 0, out.output
    assert calls and "newest intact version" in out.output
    # The flags reach the app as its settings object, not through the environment.
    settings = calls[0][0].state.settings
    assert settings.watch and settings.corpus_dir == corpus and settings.index_dir == index
    assert "JAXABOT_WATCH" not in os.environ


# -- admin API: rollback, progress, cancel ---------------------------------------------------

def test_admin_rollback_serves_the_previous_version(three_versions, fake_app_factory):
    corpus, index, (a, b, c) = three_versions
    client = fake_app_factory(index_dir=index, corpus_dir=corpus, admin_token=ADMIN_TOKEN)
    assert client.post("/api/index/rollback").status_code == 401
    r = client.post("/api/index/rollback", headers=AUTH)
    assert r.status_code == 200 and r.json() == {"current_version": b}
    assert client.get("/api/health").json()["index_version"] == b
    assert client.post("/api/index/rollback", headers=AUTH).json()["current_version"] == a
    r = client.post("/api/index/rollback", headers=AUTH)
    assert r.status_code == 409 and r.json()["error"] == "nothing_to_roll_back"
    assert client.get("/api/health").json()["index_version"] == a


def test_rollback_verifies_without_the_build_lock(three_versions):
    _, index, (a, b, c) = three_versions

    def verify_while_a_build_starts(folder, manifest):
        with store.build_lock(index):  # BuildInProgress if the rollback held it
            pass
        store.verify(folder, manifest)

    assert store.rollback(index, verify_while_a_build_starts) == b


def test_a_build_published_during_a_rollbacks_verification_is_not_undone(three_versions, tokenizer):
    corpus, index, (a, b, c) = three_versions
    built = []

    def verify_while_a_build_publishes(folder, manifest):
        if not built:
            built.append(_build(corpus, index, tokenizer, "検証中にできた版です。", keep_previous=5))
        store.verify(folder, manifest)

    # The choice (b, before c) is made again on what is live now: d is rolled back to c.
    assert store.rollback(index, verify_while_a_build_publishes) == c
    assert store.read_history(index).rejected == built


class _GatedVerifier:
    """store.verify that first waits for `release` (as hashing a version of several GB does)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, folder, manifest) -> None:
        self.entered.set()
        self.release.wait(10)
        store.verify(folder, manifest)


class _SlowCallbacks(logging.Handler):
    """asyncio's debug-mode reports of callbacks that held the event loop too long."""

    def __init__(self) -> None:
        super().__init__()
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Executing"):
            self.reports.append(message)


@contextmanager
def audited_server(app, slow_callback_s: float = 1.0):
    """`live_server` with the event loop in asyncio debug mode: yields (base URL, reports), the
    callbacks that ran longer than `slow_callback_s` on the loop (anything blocking it)."""
    import asyncio

    import uvicorn

    from web.server.connections import GuardedH11Protocol
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", http=GuardedH11Protocol, loop="asyncio"))

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        loop.set_debug(True)
        loop.slow_callback_duration = slow_callback_s
        await server.serve()

    handler = _SlowCallbacks()
    asyncio_log = logging.getLogger("asyncio")
    asyncio_log.addHandler(handler)
    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="uvicorn-audited", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield base, handler.reports
    finally:
        server.should_exit = True
        thread.join(30)
        asyncio_log.removeHandler(handler)


def test_status_and_health_answer_while_a_rollback_verifies(three_versions, tokenizer):
    from web.app import create_app
    corpus, index, (a, b, c) = three_versions
    app = create_app(make_settings(corpus, index, model="fake-bigram", admin_token=ADMIN_TOKEN),
                     embedder=FakeEmbedder(), tokenizer=tokenizer)
    verifier = _GatedVerifier()
    rolled_back = {}
    with audited_server(app) as (base, slow_callbacks):
        app.state.runtime.rebuilder.verify_version = verifier
        rollback = threading.Thread(target=lambda: rolled_back.update(
            r=httpx.post(f"{base}/api/index/rollback", headers=AUTH, timeout=30)))
        rollback.start()
        try:
            assert verifier.entered.wait(10), "the rollback did not start verifying"
            # Each would wait for the rollback (up to 10 s) if it blocked the loop or the lock.
            status = httpx.get(f"{base}/api/index/status", headers=AUTH, timeout=2)
            assert status.status_code == 200 and status.json()["current_version"] == c
            health = httpx.get(f"{base}/api/health", timeout=2)
            assert health.status_code == 200 and health.json()["index_version"] == c
            assert httpx.post(f"{base}/api/index/cancel", headers=AUTH, timeout=2).status_code == 200
        finally:
            verifier.release.set()
            rollback.join(30)
        assert rolled_back["r"].status_code == 200 and rolled_back["r"].json() == {"current_version": b}
        assert httpx.get(f"{base}/api/health", timeout=5).json()["index_version"] == b
    assert slow_callbacks == []


class _SlowEmbedder(FakeEmbedder):
    """Slow enough per batch that a test can watch progress and cancel mid-embedding."""

    def encode_passages(self, texts, show_progress=False):
        time.sleep(0.05 * max(1, len(texts) // 64))
        return super().encode_passages(texts)


def test_build_reports_progress_and_can_be_cancelled(corpus_copy, tmp_path, tokenizer, monkeypatch):
    import bot.store.build as build
    monkeypatch.setattr(build, "EMBED_CHUNK", 16)
    for i in range(20):
        (corpus_copy / f"d{i}.txt").write_text(f"文書{i}の本文です。" * 30, encoding="utf-8")
    seen, cancel = [], threading.Event()

    def progress(p):
        seen.append((p.stage, p.documents_done, p.documents_total, p.rows_done, p.rows_total))
        if p.stage == "embedding" and p.rows_done >= 32:
            cancel.set()

    with pytest.raises(BuildCancelled):
        build_index(corpus_copy, tmp_path / "index", _SlowEmbedder(), tokenizer, max_bytes=10**7,
                    progress=progress, cancel=cancel)
    assert not store.versions(tmp_path / "index")  # nothing published
    stages = [s[0] for s in seen]
    assert stages[0] == "reading" and "splitting" in stages and "embedding" in stages
    assert any(s[0] == "splitting" and s[1] == s[2] == 21 for s in seen)
    rows = [s[3] for s in seen if s[0] == "embedding"]
    assert rows == sorted(rows) and seen[-1][4] > rows[-1]


def test_admin_progress_and_cancel(corpus_copy, tmp_path, fake_app_factory, monkeypatch):
    import bot.store.build as build
    monkeypatch.setattr(build, "EMBED_CHUNK", 8)
    for i in range(30):
        (corpus_copy / f"d{i}.txt").write_text(f"文書{i}の本文です。" * 30, encoding="utf-8")
    client = fake_app_factory(embedder=_SlowEmbedder(), index_dir=tmp_path / "index", corpus_dir=corpus_copy,
                              admin_token=ADMIN_TOKEN)
    assert client.post("/api/index/rebuild", headers=AUTH).status_code == 202
    deadline = time.monotonic() + 60
    while True:
        status = client.get("/api/index/status", headers=AUTH).json()
        p = status["progress"]
        if p and p["stage"] == "embedding" and p["rows_done"] > 0:
            break
        assert status["state"] == "running" and time.monotonic() < deadline, status
        time.sleep(0.05)
    assert p["documents_total"] == 31 and p["rows_total"] > p["rows_done"] and p["elapsed_seconds"] > 0
    assert client.post("/api/index/cancel", headers=AUTH).status_code == 200
    final = wait_build(client, AUTH)
    assert final["state"] == "cancelled" and final["current_version"] is None
    assert client.get("/api/health").status_code == 503  # still no index: nothing was published


# -- serve --watch ---------------------------------------------------------------------------

def test_watch_rebuilds_when_the_corpus_changes(corpus_copy, tmp_path, fake_app_factory, fake_seed_index):
    index = tmp_path / "index"
    shutil.copytree(fake_seed_index, index)
    client = fake_app_factory(index_dir=index, corpus_dir=corpus_copy, watch=True, watch_debounce_ms=200,
                              admin_token=ADMIN_TOKEN)
    before = client.get("/api/health").json()["index_version"]
    time.sleep(0.5)  # let the watcher start
    for i in range(3):  # a burst of saves: one rebuild once quiet
        (corpus_copy / f"watched{i}.md").write_text(f"# 監視\n\n監視で追加された文書{i}です。", encoding="utf-8")
    deadline = time.monotonic() + 60
    while client.get("/api/health").json()["index_version"] == before:
        assert time.monotonic() < deadline, "the watcher did not rebuild"
        time.sleep(0.1)
    wait_build(client, AUTH)
    assert client.get("/api/documents/watched2").status_code == 200
    watcher = client.app.state.runtime.watcher
    assert 1 <= watcher.builds_started <= 2


def test_a_server_without_an_index_serves_the_first_cli_build(corpus_copy, tmp_path, fake_app_factory, tokenizer):
    index = tmp_path / "index"
    client = fake_app_factory(index_dir=index, corpus_dir=corpus_copy, follow_interval=0.2)
    assert client.get("/api/health").json()["status"] == "no_index"
    version = _build(corpus_copy, index, tokenizer)
    deadline = time.monotonic() + 15
    while (health := client.get("/api/health").json())["status"] != "ok":
        assert time.monotonic() < deadline, health
        time.sleep(0.1)
    assert health["index_version"] == version


def _watching(fake_app_factory, fake_seed_index, corpus: Path, tmp_path: Path, debounce_ms: int):
    index = tmp_path / "index"
    shutil.copytree(fake_seed_index, index)
    client = fake_app_factory(index_dir=index, corpus_dir=corpus, watch=True, watch_debounce_ms=debounce_ms,
                              admin_token=ADMIN_TOKEN)
    time.sleep(0.5)  # let the watcher start
    return client, client.app.state.runtime.watcher


def _wait_for(predicate, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, what
        time.sleep(0.05)
    return result


def test_watch_waits_until_a_slowly_written_file_is_complete(corpus_copy, tmp_path, fake_app_factory,
                                                            fake_seed_index):
    client, watcher = _watching(fake_app_factory, fake_seed_index, corpus_copy, tmp_path, debounce_ms=500)
    lines = [f"ゆっくり書かれた文書の第{i}段落です。" for i in range(20)]
    with open(corpus_copy / "slow.md", "w", encoding="utf-8") as f:
        f.write("# 遅い書き込み\n\n")
        for line in lines:  # ~2 s, a write every 0.1 s: never quiet for 0.5 s
            f.write(line + "\n\n")
            f.flush()
            time.sleep(0.1)
    assert watcher.builds_started == 0  # nothing built while the writer was writing
    _wait_for(lambda: watcher.builds_started, "the watcher did not rebuild")
    wait_build(client, AUTH)
    time.sleep(1.0)  # two debounce times: no second build follows
    assert watcher.builds_started == 1
    text = client.get("/api/documents/slow").json()["text"]
    assert all(line in text for line in lines)


def test_watch_builds_once_for_a_burst_of_edits(corpus_copy, tmp_path, fake_app_factory, fake_seed_index):
    client, watcher = _watching(fake_app_factory, fake_seed_index, corpus_copy, tmp_path, debounce_ms=500)
    for i in range(20):
        (corpus_copy / "edited.md").write_text(f"# 編集\n\n{i}回目の編集です。", encoding="utf-8")
        time.sleep(0.02)
    _wait_for(lambda: watcher.builds_started, "the watcher did not rebuild")
    wait_build(client, AUTH)
    time.sleep(1.0)
    assert watcher.builds_started == 1
    assert "19回目の編集です。" in client.get("/api/documents/edited").json()["text"]


def test_watch_follows_a_replaced_or_restored_corpus_folder(corpus_copy, tmp_path, fake_app_factory,
                                                            fake_seed_index, caplog):
    client, watcher = _watching(fake_app_factory, fake_seed_index, corpus_copy, tmp_path, debounce_ms=200)

    def served(doc_id: str) -> bool:
        return client.get(f"/api/documents/{doc_id}").status_code == 200

    def add(name: str) -> None:
        (corpus_copy / f"{name}.md").write_text(f"# {name}\n\n{name}で追加された文書です。", encoding="utf-8")

    # A deploy: the new folder is renamed over the old one.
    staged = tmp_path / "corpus-new"
    shutil.copytree(corpus_copy, staged)
    (staged / "deployed.md").write_text("# 配備\n\n配備で追加された文書です。", encoding="utf-8")
    corpus_copy.rename(tmp_path / "corpus-old")
    staged.rename(corpus_copy)
    _wait_for(lambda: served("deployed"), "the replaced folder was not indexed")
    add("after-deploy")  # the new folder is the one watched now
    _wait_for(lambda: served("after-deploy"), "a file added after the deploy was not indexed")

    # Deleted: health and the log say so; nothing is built meanwhile.
    wait_build(client, AUTH)
    builds = watcher.builds_started
    shutil.rmtree(corpus_copy)
    health = _wait_for(lambda: (h := client.get("/api/health").json())["status"] == "degraded" and h,
                       "health did not report the missing folder")
    assert "corpus folder is missing" in health["detail"] and str(tmp_path) not in health["detail"]
    assert "corpus folder" in caplog.text and "is missing" in caplog.text
    time.sleep(0.5)
    assert watcher.builds_started == builds

    # Restored: watched again, indexed again, health ok again.
    shutil.copytree(tmp_path / "corpus-old", corpus_copy)
    add("restored")
    _wait_for(lambda: served("restored"), "the restored folder was not indexed")
    assert client.get("/api/health").json()["status"] == "ok"
    add("after-restore")
    _wait_for(lambda: served("after-restore"), "a file added after the restore was not indexed")

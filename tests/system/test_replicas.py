"""Two real `jaxabot serve` replicas share one index folder: a CLI build made while both are
under load is followed by both (new version, answers from the new document), and no request
fails meanwhile (issue 13, "Replicas serving one index")."""

import os
import shutil
import subprocess
import threading
import time

import httpx
import pytest
from paths import ROOT
from server_process import (
    ADDED_DOC_ID,
    MARKER_ANSWER_KEY,
    MARKER_QUESTION_JA,
    OFFLINE_ENV,
    VENV_BIN,
    Server,
    Workspace,
    added_document,
)

from bot.store import versions as store

# PYTHONPATH: the subprocesses run this checkout's code, not whatever the venv has installed.
ENV = {"PYTHONPATH": str(ROOT), "JAXABOT_FOLLOW_INTERVAL": "0.2"}
LOAD_QUESTION = "SAFEは何年に設立されましたか？"
MAX_REQUESTS, MAX_LOAD_SECONDS = 200, 60.0


def _health(base: str) -> dict:
    return httpx.get(base + "/api/health", timeout=10).json()


def _load(bases: list[str], stop: threading.Event, statuses: list) -> None:
    """Alternate /api/ask between the replicas until told to stop (bounded in count and time)."""
    deadline = time.monotonic() + MAX_LOAD_SECONDS
    with httpx.Client(timeout=60) as client:
        for i in range(MAX_REQUESTS):
            if stop.is_set() or time.monotonic() > deadline:
                return
            base = bases[i % len(bases)]
            try:
                r = client.post(base + "/api/ask", json={"question": LOAD_QUESTION})
                statuses.append((base, r.status_code, r.text[:200] if r.status_code != 200 else ""))
            except httpx.HTTPError as e:  # a dropped connection is a failed request too
                statuses.append((base, repr(e), ""))


@pytest.mark.slow
def test_two_replicas_follow_a_cli_build_under_load(tmp_path, real_index_copy):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    ws = Workspace(tmp_path, corpus, real_index_copy)
    old = store.current_version(real_index_copy)
    servers = [Server(ws, extra_env=ENV, log_name=f"replica{i}.log") for i in range(2)]
    stop, statuses = threading.Event(), []
    loader = threading.Thread(target=_load, args=([s.base for s in servers], stop, statuses), daemon=True)
    try:
        for s in servers:
            s.start()
        for s in servers:
            s.wait_first_answer(LOAD_QUESTION, timeout=300)
            health = _health(s.base)
            assert (health["status"], health["index_version"]) == ("ok", old), health

        loader.start()
        (corpus / f"{ADDED_DOC_ID}.md").write_text(added_document(1), encoding="utf-8")
        build = subprocess.run([str(VENV_BIN / "jaxabot"), "index", "--corpus", str(corpus),
                                "--index", str(real_index_copy)],
                               cwd=ROOT, env=dict(os.environ, **OFFLINE_ENV, **ENV),
                               capture_output=True, text=True, timeout=300)
        assert build.returncode == 0, build.stderr[-2000:]
        new = store.current_version(real_index_copy)
        assert new != old

        deadline = time.monotonic() + 30
        seen = {}
        while time.monotonic() < deadline:
            seen = {s.base: _health(s.base)["index_version"] for s in servers}
            if set(seen.values()) == {new}:
                break
            time.sleep(0.2)
        assert set(seen.values()) == {new}, (new, seen)

        for s in servers:
            r = httpx.post(s.base + "/api/ask", json={"question": MARKER_QUESTION_JA}, timeout=60)
            assert r.status_code == 200, r.text
            answer = r.json()
            assert answer["index_version"] == new
            assert answer["found"], answer
            assert answer["citations"][0]["doc_id"] == ADDED_DOC_ID, answer["citations"]
            assert MARKER_ANSWER_KEY in answer["answer"], answer["answer"]

        stop.set()
        loader.join(70)
        assert not loader.is_alive()
        assert len(statuses) >= 2, statuses
        print(f"{len(statuses)} load requests, {old} -> {new}")
        failed = [s for s in statuses if s[1] != 200]
        assert not failed, failed
        assert {b for b, _, _ in statuses} == {s.base for s in servers}  # both replicas were loaded
    finally:
        stop.set()
        if loader.is_alive():
            loader.join(70)
        for s in servers:
            if s.proc is not None:
                s.stop()
        for s in servers:
            if s.proc is not None and s.proc.returncode not in (0, -15):
                print(s.log_tail())

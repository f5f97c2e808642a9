"""A real `jaxabot serve` in a subprocess over a temporary workspace: what the system tests
(replicas sharing an index) and the benchmarks that serve (bench/latency.py, load.py, hostile.py,
tune.py, peers.py) both start: `server_process` on the tests' path (tests/support), and
`tests.support.server_process` from bench/. Nothing here measures or asserts."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent if (Path(sys.executable).parent / "jaxabot").exists() \
    else ROOT / ".venv" / "bin"
HOST = "127.0.0.1"
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


# -- workspace ------------------------------------------------------------------------------

@dataclass
class Workspace:
    root: Path
    corpus: Path
    index: Path


@contextmanager
def workspace(prefix: str = "jaxabot-bench-"):
    """A temporary copy of corpus/ and an empty index folder; removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        corpus = root / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)
        index = root / "index"
        yield Workspace(root, corpus, index)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# A second document for the rebuild measurements. The marker sentence is unique: nothing in the
# seed corpus mentions ハルニレ, so an answer citing it must come from this document.
ADDED_DOC_ID = "bench-added"
MARKER_QUESTION_JA = "探査機ハルニレはいつ打ち上げられる予定ですか？"
MARKER_ANSWER_KEY = "2031"


def added_document(edition: int = 1) -> str:
    paragraphs = [
        "架空の探査機ハルニレの計画",
        "探査機ハルニレは、ベンチマーク用に作られた架空の木星氷衛星探査計画です。"
        "探査機ハルニレは2031年3月に種子島宇宙センターから打ち上げられる予定です。"
        "ハルニレはエウロパの氷の下にある海を、レーダーと磁力計で調べます。",
        "国際協力",
        "ハルニレ計画には、架空の北欧宇宙機関と南米の大学連合が参加しています。"
        "観測データは打ち上げから1年後に世界中の研究者へ公開される予定です。"
        "運用は相模原の管制室と、キルナの追跡局が分担します。",
        "技術",
        "探査機は原子力を使わず、大型の太陽電池パドルで電力をまかないます。"
        "木星の強い放射線から電子機器を守るため、チタン製の保護箱を採用しました。"
        f"この文書は第{edition}版です。",
    ]
    front = "---\ntitle: 探査機ハルニレ（ベンチマーク用）\nurl: https://example.invalid/harunire\nlang: ja\n---\n"
    return front + "\n\n".join(paragraphs) + "\n"


# -- server subprocess ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def proc_status(pid: int) -> dict[str, int]:
    """VmHWM / VmRSS / Threads of a live process (kB for the Vm fields)."""
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "Threads"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


class ServerDied(RuntimeError):
    pass


class Server:
    """`.venv/bin/jaxabot serve` on 127.0.0.1:<free port> over a workspace. Its output goes to a
    log file in the workspace (printed when it fails)."""

    def __init__(self, ws: Workspace, admin_token: str | None = None, port: int | None = None,
                 extra_env: dict[str, str] | None = None, log_name: str = "server.log") -> None:
        self.ws = ws
        self.port = port or free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.admin_token = admin_token
        self.extra_env = extra_env or {}
        self.log_path = ws.root / log_name
        self.proc: subprocess.Popen | None = None
        self.t_start = 0.0

    def start(self) -> Server:
        # PYTHONFAULTHANDLER: if the server dies of a signal, its log shows where.
        env = dict(os.environ, **OFFLINE_ENV, PYTHONFAULTHANDLER="1", JAXABOT_CORPUS_DIR=str(self.ws.corpus),
                   JAXABOT_INDEX_DIR=str(self.ws.index), **self.extra_env)
        env.pop("JAXABOT_ADMIN_TOKEN", None)
        if self.admin_token:
            env["JAXABOT_ADMIN_TOKEN"] = self.admin_token
        self._log = open(self.log_path, "ab")
        self.t_start = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "jaxabot"), "serve", "--host", HOST, "--port", str(self.port)],
            cwd=self.ws.root, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def check_alive(self) -> None:
        if not self.alive():
            raise ServerDied(f"the server exited with {self.proc.returncode}; log tail:\n{self.log_tail()}")

    def status(self) -> dict[str, int]:
        return proc_status(self.pid)

    def wait_first_answer(self, question: str = "SAFEは何年に設立されましたか？",
                          timeout: float = 600.0, poll: float = 0.05) -> dict[str, float]:
        """Seconds from process start to: first HTTP response, health `ok`, first 200 from
        /api/ask. Polls /api/ask directly (503 while loading)."""
        import httpx

        marks: dict[str, float] = {}
        deadline = self.t_start + timeout
        with httpx.Client(base_url=self.base, timeout=60.0) as client:
            while time.perf_counter() < deadline:
                self.check_alive()
                try:
                    r = client.post("/api/ask", json={"question": question})
                except httpx.TransportError:
                    time.sleep(poll)
                    continue
                now = time.perf_counter() - self.t_start
                marks.setdefault("first_response_s", now)
                if r.status_code == 200:
                    marks["first_answer_s"] = now
                    return marks
                if r.status_code not in (503,):
                    raise RuntimeError(f"/api/ask answered {r.status_code} while starting: {r.text[:300]}")
                time.sleep(poll)
        raise TimeoutError(f"no answer within {timeout} s; log tail:\n{self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (uvicorn shuts down gracefully), SIGKILL after `timeout`."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                print(f"  (server {self.proc.pid} ignored SIGTERM for {timeout} s: killing it)")
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

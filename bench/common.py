"""Shared pieces of the benchmarks: the question mix, CPU meters, percentiles and Markdown tables
(the temporary workspace and the server subprocess come from tests/support/server.py). Nothing
here asserts on time; the scripts print figures."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# The served workspace lives with the tests that start it too (tests/support/server_process.py).
from tests.support.server_process import (  # noqa: F401
    ADDED_DOC_ID,
    HOST,
    MARKER_ANSWER_KEY,
    MARKER_QUESTION_JA,
    OFFLINE_ENV,
    VENV_BIN,
    Server,
    ServerDied,
    Workspace,
    added_document,
    free_port,
    proc_status,
    workspace,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"  # git-ignored: raw JSON of every run
QUESTION_FILES = [ROOT.parent / "shared" / "eval" / "dev.jsonl", ROOT / "tests" / "data" / "heldout.jsonl"]


def offline() -> None:
    """The benchmarks never reach the network (set before torch / transformers are imported)."""
    for k, v in OFFLINE_ENV.items():
        os.environ.setdefault(k, v)


# -- questions ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Question:
    id: str
    question: str
    history: tuple = ()
    lang: str = "ja"
    answerable: bool = True

    @property
    def category(self) -> str:
        if self.history:
            return "follow-up"
        if not self.answerable:
            return "not-found"
        return self.lang

    def body(self, top_k: int = 3) -> dict:
        return {"question": self.question, "history": [dict(t) for t in self.history], "top_k": top_k}


def load_questions() -> list[Question]:
    out = []
    for path in QUESTION_FILES:
        if not path.exists():  # ../shared/eval lives outside the repository
            print(f"note: {path} not found; using the other question file(s)", file=sys.stderr)
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                out.append(Question(d["id"], d["question"], tuple(d.get("history", [])),
                                    d.get("lang", "ja"), bool(d.get("answerable", True))))
    return out


def interleaved(questions: list[Question]) -> list[Question]:
    """Round-robin over the categories, so any window of the cycle mixes ja / en / follow-up /
    not-found instead of running the files in order."""
    groups: dict[str, list[Question]] = {}
    for q in questions:
        groups.setdefault(q.category, []).append(q)
    out, i = [], 0
    while len(out) < len(questions):
        for g in groups.values():
            if i < len(g):
                out.append(g[i])
        i += 1
    return out


# -- figures -----------------------------------------------------------------------------------

def percentile(values, p: float) -> float:
    if not values:
        return float("nan")
    xs = sorted(values)
    k = (len(xs) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def pcts(values, ps=(50, 95, 99)) -> dict[str, float]:
    return {f"p{p}": percentile(values, p) for p in ps}


def median(values) -> float:
    vals = [v for v in values if v is not None and v == v]
    return statistics.median(vals) if vals else float("nan")


def median_of_runs(runs: list[dict]) -> dict:
    """Per key, the median over runs (nested dicts recurse; non-numbers are taken from run 0)."""
    if not runs:
        return {}
    out = {}
    for key, first in runs[0].items():
        vals = [r.get(key) for r in runs]
        if isinstance(first, dict):
            out[key] = median_of_runs([v for v in vals if isinstance(v, dict)])
        elif isinstance(first, int) and not isinstance(first, bool) and all(v == first for v in vals):
            out[key] = first  # counts and sizes stay integers
        elif isinstance(first, (int, float)) and not isinstance(first, bool):
            out[key] = median([v for v in vals if isinstance(v, (int, float))])
        else:
            out[key] = first
    return out


def fmt(v, digits: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if v != v:
            return "—"
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table (pasted as is into docs/results.md)."""
    cells = [[str(h) for h in headers]] + [[c if isinstance(c, str) else fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine() -> dict:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"),
            "cores": len(os.sched_getaffinity(0)), "cpu": cpu, "mem_gb": round(mem_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "loadavg_start": loadavg()}


def header(title: str, info: dict) -> None:
    print(f"# {title}")
    print(f"{info['date']} — {info['cores']} cores ({info['cpu'] or 'cpu?'}), {info['mem_gb']} GB RAM, "
          f"Python {info['python']}, load average at start {info['loadavg_start']}")
    print()


def save_results(name: str, payload: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


@dataclass
class Latencies:
    """Client-side request records for one phase."""
    ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    by_category: dict[str, list[float]] = field(default_factory=dict)
    server_ms: list[float] = field(default_factory=list)

    def add(self, category: str, ms: float, server_ms: float | None = None) -> None:
        self.ms.append(ms)
        self.by_category.setdefault(category, []).append(ms)
        if server_ms is not None:
            self.server_ms.append(server_ms)

    def record(self, q, started: float, response=None, exc: Exception | None = None) -> None:
        """One /api/ask outcome: an exception, a non-200, or a latency (client and server)."""
        if exc is not None:
            self.errors.append(f"{q.id}: {type(exc).__name__}: {exc}")
        elif response.status_code != 200:
            self.errors.append(f"{q.id}: HTTP {response.status_code}: {response.text[:200]}")
        else:
            ms = (time.perf_counter() - started) * 1000
            self.add(q.category, ms, response.json()["timings_ms"]["total"])


# -- contention --------------------------------------------------------------------------------

def _busy_jiffies() -> int:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    vals = [int(x) for x in fields]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)  # idle + iowait
    return sum(vals[:8]) - idle  # without guest fields (already counted in user)


def _proc_jiffies(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    rest = stat[stat.rfind(")") + 2:].split()
    return int(rest[11]) + int(rest[12])  # utime + stime (fields 14 and 15)


class CpuMeter:
    """How busy the machine was during a phase, and how much of it was not us: a contention
    figure printed next to the timings (other engineers run tests on the same 2 cores)."""

    def __init__(self, pids_fn) -> None:
        self.pids_fn = pids_fn  # -> the pids that are "us" (this process, the server, pollers)

    def __enter__(self) -> CpuMeter:
        self.t = time.perf_counter()
        self.busy = _busy_jiffies()
        self.ours = {p: _proc_jiffies(p) for p in self.pids_fn()}
        return self

    def __exit__(self, *exc) -> None:
        hz = os.sysconf("SC_CLK_TCK")
        wall = max(1e-9, time.perf_counter() - self.t)
        busy = (_busy_jiffies() - self.busy) / hz
        pids = set(self.ours) | set(self.pids_fn())
        ours = sum(max(0, _proc_jiffies(p) - self.ours.get(p, 0)) for p in pids) / hz
        self.cores_busy = busy / wall
        self.cores_ours = ours / wall
        self.cores_others = max(0.0, busy - ours) / wall

    def summary(self) -> str:
        return (f"CPU during the phase: {self.cores_busy:.2f} cores busy, {self.cores_ours:.2f} ours, "
                f"{self.cores_others:.2f} other processes (contention)")

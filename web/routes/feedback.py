"""Feedback on answers: readers rate an answer (and may add a comment); admins list it.

The store (bot.feedback, SQLite) sits behind a FeedbackService on `app.state.feedback`: opened at
startup when the file exists (so damage is reported at once) or else on first use, and every call
made in one worker thread at a time, with a short wait for another connection's write lock, so
SQLite never holds up the event loop. A locked, damaged, full-disk or read-only store answers 503
`feedback_unavailable` (damage and the rest are also shown in /api/health as `degraded`); a store
holding `JAXABOT_FEEDBACK_MAX_ROWS` records answers 507 `feedback_full`. Writes are small and
size-limited by the request model; each client (IP address, IPv6 by its /64; behind a trusted
proxy the address it forwards, web.http.proxies) may send `feedback_per_minute` requests a minute,
more get 429 with Retry-After.
"""

import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal, TypeVar

import anyio
from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from bot.errors import FeedbackBusy, FeedbackDamaged, FeedbackError, FeedbackFull
from bot.feedback import FILENAME, FeedbackRecord, FeedbackStore
from bot.results import MAX_HISTORY_CHARS, MAX_QUESTION_CHARS
from web.deps import AdminDep, SettingsDep
from web.http.proxies import client_address, rate_key
from web.schemas import ErrorBody

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_COMMENT_CHARS = 1000
MAX_CITATIONS = 10
MAX_CITATION_FIELD_CHARS = 2000
RATE_WINDOW_S = 60.0
MAX_OFFSET = 2**63 - 1  # SQLite's largest integer
# Clients remembered by the rate limiter; the least recently seen are forgotten first.
MAX_TRACKED_CLIENTS = 10_000
# Seconds a write waits for another connection's lock (an admin's sqlite3 shell, a replica)
# before answering 503; requests waiting for the store beyond MAX_WAITING get 503 at once.
BUSY_TIMEOUT_S = 0.5
MAX_WAITING = 16
# After the store failed to open (damaged, unreadable), it is tried again at most this often.
REOPEN_INTERVAL_S = 5.0


class FeedbackService:
    """The server's feedback store: its state for health, its calls off the event loop."""

    def __init__(self, data_dir: FilePath, max_rows: int) -> None:
        self.data_dir = FilePath(data_dir)
        self.max_rows = max_rows
        # Why feedback is not being stored (public: no paths; the log has the details), or None.
        self.problem: str | None = None
        self._store: FeedbackStore | None = None
        self._lock = threading.Lock()
        self._open_error: FeedbackError | None = None
        self._retry_at = 0.0
        self._busy = False
        self._kind: str | None = None
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, op: Callable[[FeedbackStore], T], *,
                  write: Literal["add", "update", None] = None) -> T:
        """`op(store)` in a worker thread, one at a time; FeedbackError when it cannot be done."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)
        if self._limiter.statistics().tasks_waiting >= MAX_WAITING:
            raise FeedbackBusy("too many feedback requests are waiting for the database")
        return await to_thread.run_sync(self._call, op, write, limiter=self._limiter)

    def check(self) -> None:
        """Open (and so quick_check) an existing database; problems go to `problem` and the log."""
        if (self.data_dir / FILENAME).exists():
            try:
                self._call(lambda store: None, None)
            except FeedbackError:
                pass  # recorded in `problem` and logged by _call

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def _call(self, op: Callable[[FeedbackStore], T], write: Literal["add", "update", None]) -> T:
        with self._lock:
            try:
                if self._store is None:
                    self._store = self._open()
                result = op(self._store)
            except FeedbackError as exc:
                self._failed(exc)
                raise
            if self._busy:
                self._busy = False
                log.info("the feedback database is no longer locked")
            # A write shows the store works again; only a new record shows it is no longer full.
            if write == "add" or (write == "update" and self._kind != "full"):
                self._set(None, None)
            return result

    def _open(self) -> FeedbackStore:
        if self._open_error is not None and time.monotonic() < self._retry_at:
            raise type(self._open_error)(str(self._open_error))
        try:
            store = FeedbackStore(self.data_dir, busy_timeout=BUSY_TIMEOUT_S, max_rows=self.max_rows)
        except FeedbackError as exc:
            if not isinstance(exc, FeedbackBusy):
                self._open_error, self._retry_at = exc, time.monotonic() + REOPEN_INTERVAL_S
            raise
        if self._open_error is not None:  # the file that could not be opened was repaired or replaced
            self._open_error = None
            self._set(None, None)
        return store

    def _failed(self, exc: FeedbackError) -> None:
        if isinstance(exc, FeedbackBusy):  # passing: not a health problem; logged once
            if not self._busy:
                self._busy = True
                log.warning("feedback refused (503): %s", exc)
            return
        if isinstance(exc, FeedbackFull):
            self._set("full", "the feedback store is full: new feedback is refused "
                              "(JAXABOT_FEEDBACK_MAX_ROWS)", exc)
            return
        if isinstance(exc, FeedbackDamaged):
            if self._store is not None:  # found by a query: reopened (and checked) later
                self._store.close()
                self._store = None
                self._open_error, self._retry_at = exc, time.monotonic() + REOPEN_INTERVAL_S
            self._set("damaged", "the feedback database is damaged: feedback is not being stored "
                                 "(see the server log)", exc)
            return
        self._set("unwritable", "the feedback database cannot be written (disk full, read-only or "
                                "unreadable): feedback is not being stored (see the server log)", exc)

    def _set(self, kind: str | None, problem: str | None, exc: FeedbackError | None = None) -> None:
        if problem != self.problem:
            if exc is not None:
                log.error("feedback: %s", exc)
            else:
                log.info("feedback is being stored again")
        self._kind, self.problem = kind, problem


def start(app: FastAPI) -> None:
    """Check an existing feedback database in the background (health reports what is wrong)."""
    threading.Thread(target=app.state.feedback.check, name="jaxabot-feedback-check", daemon=True).start()


def close_store(app: FastAPI) -> None:
    app.state.feedback.close()


def problem(app: FastAPI) -> str | None:
    """Why feedback is not being stored, for /api/health; None when it is."""
    service = getattr(app.state, "feedback", None)
    return service.problem if service is not None else None


async def get_feedback(request: Request) -> FeedbackService:
    return request.app.state.feedback


FeedbackDep = Annotated[FeedbackService, Depends(get_feedback)]


class RateLimiter:
    """A sliding window of request times per client."""

    def __init__(self, per_window: int, window_s: float = RATE_WINDOW_S) -> None:
        self.per_window = per_window
        self.window_s = window_s
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None) -> float:
        """0 when the request may go ahead (and is counted); otherwise seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._seen.pop(client, None) or deque()
            while times and times[0] <= now - self.window_s:
                times.popleft()
            self._seen[client] = times
            while len(self._seen) > MAX_TRACKED_CLIENTS:
                self._seen.popitem(last=False)
            if len(times) >= self.per_window:
                return times[0] + self.window_s - now
            times.append(now)
            return 0.0


async def rate_limit(request: Request, settings: SettingsDep) -> None:
    limiter = getattr(request.app.state, "feedback_limiter", None)
    if limiter is None:  # one per app
        limiter = request.app.state.feedback_limiter = RateLimiter(settings.feedback_per_minute)
    client = client_address(request.client.host if request.client else None,
                            request.headers.getlist("x-forwarded-for"), settings.trusted_networks)
    wait = limiter.check(rate_key(client))
    if wait > 0:
        raise HTTPException(429, "too much feedback from this address; try again in a minute",
                            headers={"Retry-After": str(max(1, math.ceil(wait)))})


class CitedSource(BaseModel):
    """What the answer cited, as the reader saw it (the chat sends the answer's citations)."""
    model_config = ConfigDict(extra="ignore")

    n: int = Field(ge=0, le=1000)
    doc_id: str = Field(max_length=MAX_CITATION_FIELD_CHARS)
    chunk_id: str = Field(max_length=MAX_CITATION_FIELD_CHARS)
    title: str = Field("", max_length=MAX_CITATION_FIELD_CHARS)
    section: str = Field("", max_length=MAX_CITATION_FIELD_CHARS)
    highlight: tuple[int, int] | None = None


class FeedbackIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "rating": "up", "comment": "",
        "question": "SAFEは何年に設立されましたか？",
        "answer": "SAFEは2006年に設立されました。[1]",
        "citations": [{"n": 1, "doc_id": "jaxa-international-cooperation",
                       "chunk_id": "jaxa-international-cooperation#p12", "title": "国際的な取り組みと貢献",
                       "section": "アジア・太平洋地域における取り組み", "highlight": [0, 24]}],
        "index_version": "v20261126-0600", "language": "ja"}]})

    rating: Literal["up", "down"]
    comment: str = Field("", max_length=MAX_COMMENT_CHARS)
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str = Field(min_length=1, max_length=MAX_HISTORY_CHARS)
    citations: list[CitedSource] = Field(default_factory=list, max_length=MAX_CITATIONS)
    index_version: str = Field(max_length=100)
    language: Literal["ja", "en", ""] = ""


class FeedbackUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"comment": "The year is right, but I wanted the founding members too."}]})

    rating: Literal["up", "down"] | None = None
    comment: str | None = Field(None, max_length=MAX_COMMENT_CHARS)


class FeedbackReceipt(BaseModel):
    id: str = Field(description="send it with PATCH /api/feedback/{id} to add a comment or change the rating")
    rating: Literal["up", "down"]
    comment: str
    created_at: str
    updated_at: str


class FeedbackList(BaseModel):
    total: int
    items: list[FeedbackRecord]


def _receipt(record: FeedbackRecord) -> FeedbackReceipt:
    return FeedbackReceipt(**record.model_dump(include={"id", "rating", "comment", "created_at", "updated_at"}))


_LIMITED: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "invalid input (a field too long, a bad rating)"},
    413: {"model": ErrorBody, "description": "request body too large"},
    429: {"model": ErrorBody, "description": "too many feedback requests from this client"},
    503: {"model": ErrorBody, "description": "the feedback database is locked, damaged, "
                                             "read-only or on a full disk (with Retry-After)"}}

router = APIRouter(prefix="/api/feedback", tags=["feedback"])


@router.post("", status_code=201, response_model=FeedbackReceipt,
             responses={**_LIMITED, 507: {"model": ErrorBody, "description": "the feedback store is full "
                                                                              "(JAXABOT_FEEDBACK_MAX_ROWS)"}},
             dependencies=[Depends(rate_limit)])
async def add_feedback(body: FeedbackIn, feedback: FeedbackDep) -> FeedbackReceipt:
    """Rate an answer: 👍 `up` or 👎 `down`, with the question, the answer, its citations and
    the index version it came from; the comment is optional and can be added later."""
    citations = [c.model_dump() for c in body.citations]
    record = await feedback.run(lambda store: store.add(
        rating=body.rating, comment=body.comment, question=body.question, answer=body.answer,
        citations=citations, index_version=body.index_version, language=body.language), write="add")
    return _receipt(record)


@router.patch("/{feedback_id}", response_model=FeedbackReceipt,
              responses={**_LIMITED, 404: {"model": ErrorBody, "description": "no such feedback"}},
              dependencies=[Depends(rate_limit)])
async def update_feedback(body: FeedbackUpdate, feedback: FeedbackDep,
                          feedback_id: Annotated[str, Path(max_length=64)]) -> FeedbackReceipt:
    """Add a comment to one's own feedback, or change its rating (the id is the receipt's)."""
    record = await feedback.run(lambda store: store.update(feedback_id, rating=body.rating,
                                                           comment=body.comment), write="update")
    if record is None:
        raise HTTPException(404, "no feedback with that id")
    return _receipt(record)


admin_router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[AdminDep],
                         responses={401: {"model": ErrorBody, "description": "no token"},
                                    403: {"model": ErrorBody, "description": "wrong token"},
                                    404: {"model": ErrorBody, "description": "no admin token is configured"},
                                    503: {"model": ErrorBody, "description": "the feedback database "
                                                                             "cannot be read"}})


@admin_router.get("/feedback", response_model=FeedbackList)
async def list_feedback(feedback: FeedbackDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> FeedbackList:
    """All feedback, newest first (`Authorization: Bearer <JAXABOT_ADMIN_TOKEN>`)."""
    total, items = await feedback.run(lambda store: (store.count(), store.list(limit, offset)))
    return FeedbackList(total=total, items=items)

"""Feedback on answers: readers rate an answer (and may add a comment); admins list it.

The store (bot.feedback, SQLite) is opened on first use and kept on `app.state.feedback`. Writes
are small and size-limited by the request model; each client (IP address) may send
`feedback_per_minute` requests a minute, more get 429 with Retry-After.
"""

import math
import threading
import time
from collections import OrderedDict, deque
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from bot.feedback import FeedbackRecord, FeedbackStore
from bot.results import MAX_HISTORY_CHARS, MAX_QUESTION_CHARS
from web.deps import AdminDep, SettingsDep
from web.schemas import ErrorBody

MAX_COMMENT_CHARS = 1000
MAX_CITATIONS = 10
MAX_CITATION_FIELD_CHARS = 2000
RATE_WINDOW_S = 60.0
# Clients remembered by the rate limiter; the least recently seen are forgotten first.
MAX_TRACKED_CLIENTS = 10_000

_store_lock = threading.Lock()


def get_store(request: Request, settings: SettingsDep) -> FeedbackStore:
    store = getattr(request.app.state, "feedback", None)
    if store is None:
        with _store_lock:
            store = getattr(request.app.state, "feedback", None)
            if store is None:
                store = FeedbackStore(settings.data_dir)
                request.app.state.feedback = store
    return store


def close_store(app) -> None:
    store = getattr(app.state, "feedback", None)
    if store is not None:
        store.close()
        app.state.feedback = None


StoreDep = Annotated[FeedbackStore, Depends(get_store)]


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


def rate_limit(request: Request, settings: SettingsDep) -> None:
    limiter = getattr(request.app.state, "feedback_limiter", None)
    if limiter is None:  # one per app (a race here at most forgets a request or two)
        limiter = request.app.state.feedback_limiter = RateLimiter(settings.feedback_per_minute)
    client = request.client.host if request.client else "unknown"
    wait = limiter.check(client)
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


_LIMITED = {422: {"model": ErrorBody, "description": "invalid input (a field too long, a bad rating)"},
            413: {"model": ErrorBody, "description": "request body too large"},
            429: {"model": ErrorBody, "description": "too many feedback requests from this client"}}

router = APIRouter(prefix="/api/feedback", tags=["feedback"])


@router.post("", status_code=201, response_model=FeedbackReceipt, responses=_LIMITED,
             dependencies=[Depends(rate_limit)])
async def add_feedback(body: FeedbackIn, store: StoreDep) -> FeedbackReceipt:
    """Rate an answer: 👍 `up` or 👎 `down`, with the question, the answer, its citations and
    the index version it came from; the comment is optional and can be added later."""
    record = store.add(rating=body.rating, comment=body.comment, question=body.question,
                       answer=body.answer, citations=[c.model_dump() for c in body.citations],
                       index_version=body.index_version, language=body.language)
    return _receipt(record)


@router.patch("/{feedback_id}", response_model=FeedbackReceipt,
              responses={**_LIMITED, 404: {"model": ErrorBody, "description": "no such feedback"}},
              dependencies=[Depends(rate_limit)])
async def update_feedback(body: FeedbackUpdate, store: StoreDep,
                          feedback_id: Annotated[str, Path(max_length=64)]) -> FeedbackReceipt:
    """Add a comment to one's own feedback, or change its rating (the id is the receipt's)."""
    record = store.update(feedback_id, rating=body.rating, comment=body.comment)
    if record is None:
        raise HTTPException(404, "no feedback with that id")
    return _receipt(record)


admin_router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[AdminDep],
                         responses={401: {"model": ErrorBody, "description": "no token"},
                                    403: {"model": ErrorBody, "description": "wrong token"},
                                    404: {"model": ErrorBody, "description": "no admin token is configured"}})


@admin_router.get("/feedback", response_model=FeedbackList)
async def list_feedback(store: StoreDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                        offset: Annotated[int, Query(ge=0)] = 0) -> FeedbackList:
    """All feedback, newest first (`Authorization: Bearer <JAXABOT_ADMIN_TOKEN>`)."""
    return FeedbackList(total=store.count(), items=store.list(limit, offset))

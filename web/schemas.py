"""Request and response models owned by the HTTP layer. Engine results (Answer, SearchHit,
DocumentView) are bot.results models, serialised as they are."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.results import MAX_HISTORY_CHARS, MAX_HISTORY_TURNS, MAX_QUESTION_CHARS, MAX_TOP_K, BuildSummary


class HistoryTurn(BaseModel):
    model_config = ConfigDict(strict=True)

    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_HISTORY_CHARS)


class AskRequest(BaseModel):
    # Strict: a number is not a question and "3" is not a top_k.
    model_config = ConfigDict(strict=True, json_schema_extra={
        "examples": [{"question": "SAFEは何年に設立されましたか？", "history": [], "top_k": 3}]})

    question: str = Field(max_length=MAX_QUESTION_CHARS,
                          description=f"1 to {MAX_QUESTION_CHARS} characters, not only whitespace")
    history: list[HistoryTurn] = Field(
        default_factory=list, max_length=MAX_HISTORY_TURNS,
        description=f"earlier turns, oldest first: at most {MAX_HISTORY_TURNS} turns and "
                    f"{MAX_HISTORY_CHARS} characters in all")
    top_k: int = Field(3, ge=1, le=MAX_TOP_K, description="citations wanted (at most 3 are used)")

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty")
        return value

    @model_validator(mode="after")
    def _history_size(self) -> "AskRequest":
        total = sum(len(t.content) for t in self.history)
        if total > MAX_HISTORY_CHARS:
            raise ValueError(f"the history has {total} characters; at most {MAX_HISTORY_CHARS} are allowed")
        return self


class BuildProgressBody(BaseModel):
    stage: str = Field(description="reading, splitting, embedding, indexing, writing or done")
    documents_done: int
    documents_total: int
    rows_done: int = Field(description="texts (passages + sentences) embedded so far")
    rows_total: int
    rows_per_second: float | None = None
    elapsed_seconds: float


class Health(BaseModel):
    status: Literal["ok", "degraded", "no_index", "loading", "error"] = Field(
        description="`degraded` (200): answering from an older intact version because the current "
                    "one cannot be used, (`serve --watch`) the corpus folder is missing so changes "
                    "are not indexed, or feedback cannot be stored; `detail` says why")
    index_version: str | None = None
    documents: int | None = None
    passages: int | None = None
    model: str | None = None
    detail: str | None = Field(None, description="why the status is not ok")
    build: BuildProgressBody | None = Field(
        None, description="`loading` while the server builds its first index (none on disk): that build's "
                          "progress, for the chat page's start-up message")


class ErrorBody(BaseModel):
    error: str = Field(description="a stable machine-readable code")
    message: str = Field(description="what went wrong, for people")
    details: list[dict] | None = Field(None, description="per-field problems for invalid input")


class BuildStatus(BaseModel):
    state: Literal["idle", "running", "failed", "cancelled"]
    progress: BuildProgressBody | None = Field(None, description="of the running (or last) build")
    current_version: str | None = Field(None, description="the version CURRENT names on disk")
    degraded: str | None = Field(None, description="why the served version is not the current one, "
                                 "or why corpus changes are not being indexed")
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = Field(None, description="why the last build failed (the old index keeps serving)")
    last_build: BuildSummary | None = Field(None, description="summary of the last successful build")
    index_version: str | None = Field(None, description="the version being served now")
    embedding_on: str | None = Field(None, description="where a rebuild embeds: `local`, or `ray ADDRESS` "
                                                       "(JAXABOT_RAY_ADDRESS)")


class RollbackResult(BaseModel):
    current_version: str = Field(description="the version now current and served")

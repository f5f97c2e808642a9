"""Typed results of the engine. The web layer serialises exactly these (POST /api/ask etc.)."""

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

MAX_QUESTION_CHARS = 1000
MAX_HISTORY_TURNS = 20
MAX_HISTORY_CHARS = 8000
MAX_TOP_K = 10


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_HISTORY_CHARS)


class Citation(BaseModel):
    n: int
    chunk_id: str
    doc_id: str
    title: str
    url: str | None
    section: str
    text: str
    highlight: tuple[int, int] = Field(description="[start, end) of the supporting sentence within `text`")
    answer_span: tuple[int, int] | None = Field(
        default=None, description="[start, end) within `text` of the phrase that answers the question "
                                  "(a year, number, name, place...), when the question asks for one")
    section_span: tuple[int, int] | None = Field(
        default=None, description="[start, end) within `section` of the answering phrase, when the heading "
                                  "above the passage gives it and no cited sentence does (a length, a date)")
    score: float
    page: int | None = Field(default=None, description="PDF: the page (1-based) the cited sentence is on")
    slide: int | None = Field(default=None, description="PowerPoint: the slide (1-based) of the cited sentence")
    sheet: str | None = Field(default=None, description="Excel: the sheet of the cited sentence")
    row: int | None = Field(default=None, description="Excel: the row (1-based) of the cited sentence")
    ocr_confidence: float | None = Field(default=None, description="0–1, when the cited text was read by OCR")
    date: str | None = Field(default=None, description="the cited document's date (ISO 8601: 2016-03-22, or "
                                                       "2017-09 / 2017 when the source gives no more), if it has one")


class Related(BaseModel):
    chunk_id: str
    doc_id: str
    title: str
    url: str | None
    section: str
    text: str
    score: float


class Timings(BaseModel):
    embed: float
    search: float
    answer: float
    total: float


class Answer(BaseModel):
    answer: str
    found: bool
    state: Literal["answered", "partial", "not_found"] = Field(
        default="answered", description="`answered`; `partial`: the documents speak about the question but do "
                                        "not give what it asks for (what they say is cited); `not_found`")
    language: Literal["ja", "en"]
    query: str = Field(description="the retrieval query actually used (follow-ups are resolved)")
    citations: list[Citation]
    related: list[Related]
    timings_ms: Timings
    index_version: str
    asks_for: str | None = Field(default=None, description="what the question asks for (time, number, person, "
                                                           "place, name, org, thing), when it asks for a phrase")


class SearchHit(BaseModel):
    rank: int
    chunk_id: str
    doc_id: str
    title: str
    url: str | None
    section: str
    text: str
    score: float = Field(description="fused (reciprocal rank fusion) score")
    dense_score: float | None
    lexical_score: float | None


class SearchResults(BaseModel):
    query: str
    index_version: str = Field(description="the index the hits come from")
    hits: list[SearchHit]


class PassageSpan(BaseModel):
    chunk_id: str
    section: str
    start: int
    end: int
    sentences: list[tuple[int, int]]


class DocumentView(BaseModel):
    doc_id: str
    title: str
    url: str | None
    lang: str
    path: str
    text: str
    passages: list[PassageSpan]
    kind: str = Field(default="text", description="text, pdf, docx, pptx or xlsx")
    date: str | None = Field(default=None, description="the document's date (ISO 8601), if it has one")
    locations: list[tuple[int, int, dict]] = Field(
        default_factory=list, description="[start, end, {page|slide|sheet|row|ocr}]: where stretches of `text` "
                                          "come from in the file")


class IndexStats(BaseModel):
    version: str
    documents: int
    passages: int
    model: str


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str
    kept_previous: bool = False  # the version in the previous index stays in the new one


@dataclass
class BuildSummary:
    version: str
    documents: int
    passages: int
    sentences: int
    embedded_documents: int
    reused_documents: int
    removed_documents: int
    embedded_texts: int
    seconds: float
    dense_type: str
    changed: bool
    full_rebuild: bool
    skipped: list[Skipped] = field(default_factory=list)
    embed_seconds: float = 0.0  # of `seconds`, spent embedding `embedded_texts`
    ocr_pages: int = 0  # PDF pages read by OCR (in the documents read by this build)
    left_out: list[Skipped] = field(default_factory=list)  # parts of indexed files left out (pages needing OCR)

    @property
    def texts_per_second(self) -> float | None:
        return self.embedded_texts / self.embed_seconds if self.embedded_texts and self.embed_seconds > 0 else None

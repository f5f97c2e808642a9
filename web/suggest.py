"""Suggested next questions under an answer: the cited document's nearby sections, asked about.
Pure document structure (no model call), so it is cheap enough to ask after every answer."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from web.deps import EngineDep
from web.schemas import ErrorBody
from web.view import next_questions

router = APIRouter(prefix="/api", tags=["questions"])


class Suggestions(BaseModel):
    model_config = {"json_schema_extra": {"examples": [
        {"questions": ["「アジア・太平洋地域」について教えてください", "「協力機関」について教えてください"]}]}}

    questions: list[str]


@router.get("/suggestions", response_model=Suggestions,
            responses={404: {"model": ErrorBody, "description": "no such document"},
                       422: {"model": ErrorBody, "description": "invalid input"},
                       503: {"model": ErrorBody, "description": "loading, or no index"}})
async def suggestions(engine: EngineDep,
                      doc_id: Annotated[str, Query(max_length=500, description="the cited document")],
                      chunk_id: Annotated[str, Query(max_length=600, description="the cited passage")],
                      lang: Literal["ja", "en"] = "ja",
                      include_own: Annotated[bool, Query(description="also the passage's own section")] = False,
                      ) -> Suggestions:
    """Up to three questions about the sections nearest to a cited (or related) passage."""
    return Suggestions(questions=next_questions(engine.document(doc_id), chunk_id, lang, include_own))

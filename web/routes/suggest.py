"""Suggested next questions under an answer: questions about the cited document's nearby
sections, made from their first sentences (web/questions.py) and kept only when the engine
answers them. The checks are questions like any other: they run in the question queue."""

from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from web.deps import EngineDep, RuntimeDep
from web.questions import next_questions
from web.schemas import ErrorBody

router = APIRouter(prefix="/api", tags=["questions"])


class Suggestions(BaseModel):
    model_config = {"json_schema_extra": {"examples": [
        {"questions": ["APRSAFはいつ設立されましたか？", "JAXAは何を推進していますか？"]}]}}

    questions: list[str]


@router.get("/suggestions", response_model=Suggestions,
            responses={404: {"model": ErrorBody, "description": "no such document"},
                       422: {"model": ErrorBody, "description": "invalid input"},
                       503: {"model": ErrorBody, "description": "loading, or no index"}})
async def suggestions(request: Request, engine: EngineDep, runtime: RuntimeDep,
                      doc_id: Annotated[str, Query(max_length=500, description="the cited document")],
                      chunk_id: Annotated[str, Query(max_length=600, description="the cited passage")],
                      lang: Literal["ja", "en"] = "ja",
                      include_own: Annotated[bool, Query(description="also the passage's own section")] = False,
                      ) -> Suggestions:
    """Up to three questions about the sections nearest to a cited (or related) passage, each
    one the engine answers."""
    doc = engine.document(doc_id)
    ask = partial(request.app.state.suggestion_ask, engine)
    questions = await runtime.questions.run(partial(next_questions, doc, chunk_id, lang, include_own, ask=ask),
                                            request.receive)
    return Suggestions(questions=questions)


def ask_alone(engine, question: str):
    """A suggestion is checked as it would be asked on its own (it names its subject)."""
    return engine.ask(question, [])

"""The JSON API: ask, search, documents, health.

Answering and searching embed text on the CPU: they go through the runtime's bounded question
queue (web.server.workqueue) into worker threads, so the event loop stays free (health stays fast), no
more questions are computed at once than there are cores for, a full queue answers 503 with
Retry-After, and a client that has gone is not computed for.
"""

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from bot.results import MAX_QUESTION_CHARS, MAX_TOP_K, Answer, DocumentView, SearchResults, Turn
from web.deps import EngineDep, RuntimeDep
from web.http.metrics import record_answer
from web.routes.feedback import problem as feedback_problem
from web.schemas import AskRequest, BuildProgressBody, ErrorBody, Health

router = APIRouter(prefix="/api", tags=["questions"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "invalid input"},
    503: {"model": ErrorBody, "description": "loading, no index, or too many questions waiting (with Retry-After)"}}


@router.post("/ask", response_model=Answer, responses={**_ERRORS, 413: {"model": ErrorBody}})
async def ask(body: AskRequest, engine: EngineDep, runtime: RuntimeDep, request: Request) -> Answer:
    """Answer a question from the documents, with citations; follow-ups use `history`."""
    history = [Turn(role=t.role, content=t.content) for t in body.history]
    call = partial(engine.ask, body.question, history, body.top_k)
    answer = await runtime.questions.run(call, request.receive)
    record_answer(request.app, answer, "api")
    return answer


@router.get("/search", response_model=SearchResults, responses=_ERRORS)
async def search(engine: EngineDep, runtime: RuntimeDep, request: Request,
                 q: Annotated[str, Query(min_length=1, max_length=MAX_QUESTION_CHARS)],
                 k: Annotated[int, Query(ge=1, le=MAX_TOP_K)] = 5) -> SearchResults:
    """Ranked passages for a query (retrieval only, no answer)."""
    return await runtime.questions.run(partial(engine.search, q, k), request.receive)


@router.get("/documents/{doc_id:path}", response_model=DocumentView,
            responses={404: {"model": ErrorBody}, 503: _ERRORS[503]})
async def document(engine: EngineDep, doc_id: Annotated[str, Path(description="may contain '/'")]) -> DocumentView:
    """A document's cleaned text, metadata and its passages' offsets."""
    return engine.document(doc_id)


@router.get("/health", response_model=Health, tags=["service"],
            responses={503: {"model": Health, "description": "loading, no index, or failed to load"}})
async def health(runtime: RuntimeDep, request: Request) -> JSONResponse:
    """`ok` (200) when questions can be answered, `degraded` (200) when they are answered from an
    older intact version or feedback cannot be stored (see `detail`); `loading`, `no_index` or
    `error` (503) otherwise."""
    status = runtime.status
    engine = runtime.engine
    stats = engine.stats() if engine is not None else None
    detail = {"loading": "the model and index are loading",
              "error": runtime.load_error,
              "degraded": runtime.degraded,
              "no_index": runtime.index_problem or "no index has been built yet"}.get(status)
    if feedback := feedback_problem(request.app):
        detail = f"{detail}; {feedback}" if detail else feedback
        status = "degraded" if status == "ok" else status
    body = Health(status=status, detail=detail,
                  index_version=stats.version if stats else None,
                  documents=stats.documents if stats else None,
                  passages=stats.passages if stats else None,
                  model=stats.model if stats else runtime.settings.model,
                  build=(BuildProgressBody(**runtime.first_build.as_dict())
                         if status == "loading" and runtime.first_build is not None else None))
    # Degraded still answers questions (from an older intact version): 200, with the reason.
    return JSONResponse(body.model_dump(), status_code=200 if status in ("ok", "degraded") else 503)

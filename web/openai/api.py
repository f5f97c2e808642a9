"""OpenAI-compatible endpoints: GET /v1/models and POST /v1/chat/completions (plain or streamed).

Chat front ends (Open WebUI, LibreChat) and the OpenAI SDKs connect with base URL `<server>/v1`.
The last user message is the question and the earlier user/assistant messages are the history;
the answer is the same one /api/ask gives, with `[n]` markers in the assistant message and the
sources in a top-level `citations` array (plus `found`), which plain OpenAI clients ignore.

A streamed answer is computed first and then sent as OpenAI chunks (role, content pieces, a final
chunk with finish_reason, citations and found, then `data: [DONE]`): errors therefore still arrive
as an HTTP status in OpenAI's error shape, and the pieces concatenate to the non-streamed text.
Questions go through the same bounded queue as /api/ask (a full queue is a 503 with Retry-After).
Errors are shaped by web/errors.py (→ web/openai/errors.py) like every other error.
"""

import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from bot.errors import InvalidQuestion
from bot.results import Answer
from web.deps import EngineDep, RuntimeDep
from web.http.metrics import record_answer
from web.openai.errors import openai_error
from web.openai.schemas import (
    MODEL_ID,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatMessage,
    ChatRequest,
    Choice,
    ChunkChoice,
    CompletionCitation,
    Delta,
    ModelCard,
    ModelList,
    OpenAIErrorBody,
    TextPart,
)

router = APIRouter(prefix="/v1", tags=["openai"])

_ERROR = {"model": OpenAIErrorBody}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_ERROR, "description": "invalid request (OpenAI error shape)"},
    404: {**_ERROR, "description": "unknown model"},
    413: {**_ERROR, "description": "request body too large"},
    503: {**_ERROR, "description": "loading, no index, or too many questions waiting (Retry-After)"}}

# Where a streamed answer is cut into pieces: after a sentence end with its closing quotes and
# citation markers, and at line breaks, so a chat UI shows it sentence by sentence.
_BREAK = re.compile(r"[。！？]?[」』）)]*(?:\[\d+\])+[.!?]?\s*|[。！？][」』）)]*|(?<=[.!?])\s+|\n+")


def _model_card(runtime) -> ModelCard:
    engine = runtime.engine
    index = engine.index if engine is not None else None
    built = index.manifest.get("built_at") if index is not None else None
    created = int(datetime.fromisoformat(built).timestamp()) if built else 0
    return ModelCard(id=MODEL_ID, created=created, owned_by="jaxabot")


@router.get("/models", response_model=ModelList)
async def models(runtime: RuntimeDep) -> ModelList:
    """The one model, `jaxabot` (works while the server is still loading, so front ends can
    be connected at once)."""
    return ModelList(data=[_model_card(runtime)])


@router.get("/models/{model_id}", response_model=ModelCard, responses={404: _ERRORS[404]})
async def model(model_id: str, runtime: RuntimeDep) -> Response:
    if model_id != MODEL_ID:
        return _unknown_model(model_id)
    return JSONResponse(_model_card(runtime).model_dump())


def _unknown_model(name: str) -> JSONResponse:
    return openai_error(404, "model_not_found", f"the model {name!r} does not exist; use {MODEL_ID!r}",
                        [{"loc": ["body", "model"]}])


def _text(message: ChatMessage, i: int) -> str:
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    parts = []
    for part in message.content:
        if not isinstance(part, TextPart):
            raise InvalidQuestion(f"messages[{i}]: only text content is supported, not {part.type}")
        parts.append(part.text)
    return "\n".join(parts)


def conversation(messages: list[ChatMessage]) -> tuple[str, list[dict]]:
    """(question, history) from OpenAI messages. System, developer and tool messages are
    ignored: answers are quoted from the documents, instructions cannot change that."""
    turns = [(m.role, _text(m, i)) for i, m in enumerate(messages) if m.role in ("user", "assistant")]
    if not turns or turns[-1][0] != "user":
        raise InvalidQuestion("the last user or assistant message must be the user's question")
    # Checked by the engine like /api/ask's history (turns, characters).
    history = [{"role": role, "content": text} for role, text in turns[:-1] if text.strip()]
    return turns[-1][1], history


def _citations(answer: Answer) -> list[CompletionCitation]:
    return [CompletionCitation(n=c.n, title=c.title, url=c.url, doc_id=c.doc_id, chunk_id=c.chunk_id,
                               text=c.text, highlight=c.highlight, answer_span=c.answer_span,
                               section=c.section, section_span=c.section_span,
                               page=c.page, slide=c.slide, sheet=c.sheet, row=c.row, date=c.date)
            for c in answer.citations]


def pieces(text: str) -> list[str]:
    """The answer cut at sentence ends and citation markers; they join back to `text` exactly."""
    out, start = [], 0
    for m in _BREAK.finditer(text):
        if m.end() > start:
            out.append(text[start:m.end()])
            start = m.end()
    if start < len(text):
        out.append(text[start:])
    return out


def _sse(answer: Answer, completion_id: str, created: int) -> Iterator[str]:
    def chunk(delta: Delta, **final) -> str:
        body = ChatCompletionChunk(id=completion_id, created=created, model=MODEL_ID,
                                   system_fingerprint=answer.index_version,
                                   choices=[ChunkChoice(delta=delta, finish_reason=final.pop("finish_reason", None))],
                                   **final)
        data = body.model_dump()
        # Like OpenAI's chunks: a delta carries only what it sets; citations only on the last.
        data["choices"][0]["delta"] = body.choices[0].delta.model_dump(exclude_none=True)
        for key in ("citations", "found"):
            if data[key] is None:
                del data[key]
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk(Delta(role="assistant", content=""))
    for piece in pieces(answer.answer):
        yield chunk(Delta(content=piece))
    yield chunk(Delta(), finish_reason="stop", citations=_citations(answer), found=answer.found)
    yield "data: [DONE]\n\n"


@router.post("/chat/completions", response_model=ChatCompletion, responses={
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
          "description": "a chat completion, or with `stream: true` its chunks as Server-Sent Events"},
    **_ERRORS})
async def chat_completions(body: ChatRequest, request: Request, engine: EngineDep,
                           runtime: RuntimeDep) -> Response:
    """Answer the last user message from the documents, OpenAI-style. Earlier user/assistant
    messages are the history (follow-ups); sampling, token and tool parameters are accepted and
    ignored (see the README). The same limits as /api/ask apply."""
    if body.model != MODEL_ID:
        return _unknown_model(body.model)
    question, history = conversation(body.messages)
    answer = await runtime.questions.run(partial(engine.ask, question, history), request.receive)
    record_answer(request.app, answer, "openai")
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        return StreamingResponse(_sse(answer, completion_id, created), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    completion = ChatCompletion(id=completion_id, created=created, model=MODEL_ID,
                                system_fingerprint=answer.index_version,
                                choices=[Choice(message=AssistantMessage(content=answer.answer))],
                                citations=_citations(answer), found=answer.found)
    return JSONResponse(completion.model_dump())

"""HTML pages: the chat (works without JavaScript through a form POST) and the document view.

Without JavaScript the conversation lives in hidden form fields (`history_role` /
`history_content` pairs) and each question is a full page POST answered server-side. With
JavaScript, static/chat.js takes over the same form, asks /api/ask and has each answer rendered
by POST /fragments/answer, from the same template the form's page uses.
"""

import hashlib
import inspect
from functools import partial
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment
from pydantic import BaseModel, Field, ValidationError

from bot.errors import DocumentNotFound
from bot.results import MAX_HISTORY_CHARS, MAX_HISTORY_TURNS, MAX_QUESTION_CHARS, Answer, Related, Turn
from web import i18n, view
from web.chat_form import FormProblem, read_chat_form, readable_history
from web.deps import EngineDep, RuntimeDep, TemplatesDep
from web.http.metrics import record_answer
from web.i18n import EXAMPLES, STRINGS, choose_lang
from web.questions import next_questions
from web.routes.suggest import ask_alone
from web.schemas import AskRequest
from web.view import cited_place, document_blocks, fit_history, original_href, page_image_href, parse_span

router = APIRouter(include_in_schema=False)

# An unknown ?lang= falls back to the usual choice rather than failing the page.
LangQuery = Annotated[str | None, Query(max_length=8)]

_MARKUP_TEMPLATES = ("_answer.html", "_answer_fragment.html")


def markup_version(env: Environment) -> str:
    """What decides an answer's markup (its templates, view helpers and strings), as a short hash:
    the script keeps a rendered answer in its saved conversation only while this is unchanged."""
    digest = hashlib.sha256()
    loader = env.loader
    assert loader is not None  # the app's templates are read from web/templates
    for name in _MARKUP_TEMPLATES:
        digest.update(loader.get_source(env, name)[0].encode())
    for module in (view, i18n):
        digest.update(Path(inspect.getfile(module)).read_bytes())
    return digest.hexdigest()[:16]


def chat_context(lang: str, history: list[dict] | None = None, question: str | None = None,
                 answer: Answer | None = None, error: str | None = None,
                 suggestions: list[str] | None = None, starting: str | None = None,
                 draft: str = "") -> dict:
    """`starting`: what the server is doing while it starts (shown without JavaScript; the script
    polls health itself); `draft`: a question kept in the box because it could not be asked yet."""
    history = history or []
    next_history = list(history)
    if question is not None and answer is not None:
        next_history += [{"role": "user", "content": question.strip()},
                         {"role": "assistant", "content": answer.answer}]
    return {"lang": lang, "t": STRINGS[lang], "examples": EXAMPLES[lang], "history": history,
            "question": question, "answer": answer, "error": error, "suggestions": suggestions or [],
            "starting": starting, "draft": draft,
            "next_history": fit_history(next_history), "js_strings": STRINGS,
            "limits": {"turns": MAX_HISTORY_TURNS, "chars": MAX_HISTORY_CHARS, "question": MAX_QUESTION_CHARS}}


def answer_suggestions(engine, answer: Answer, ask=ask_alone) -> list[str]:
    """Next questions from the first cited (or, when nothing was found, related) passage's document."""
    source = answer.citations[0] if answer.citations else (answer.related[0] if answer.related else None)
    if source is None:
        return []
    try:
        doc = engine.document(source.doc_id)
    except DocumentNotFound:  # the index changed between the answer and now
        return []
    return next_questions(doc, source.chunk_id, answer.language, include_own=not answer.citations,
                          ask=partial(ask, engine))


def startup(runtime, lang: str) -> str | None:
    """The start-up notice while the model or the first index is loading, else None."""
    if runtime.status != "loading":
        return None
    build = runtime.first_build
    return view.starting_text(build.as_dict() if build is not None else None, STRINGS[lang])


@router.get("/", response_class=HTMLResponse)
async def chat(request: Request, templates: TemplatesDep, runtime: RuntimeDep, lang: LangQuery = None) -> Response:
    lang = choose_lang(lang, None, request.headers.get("accept-language"))
    return templates.TemplateResponse(request, "chat.html", chat_context(lang, starting=startup(runtime, lang)))


class RelatedCard(Related):
    date: str | None = None  # shown on the card when the answer carries one


class RenderedAnswer(Answer):
    related: list[RelatedCard]  # type: ignore[assignment]  # pydantic narrows a field in a subclass


class AnswerFragment(BaseModel):
    """An answer from /api/ask as the script sends it back to be rendered."""
    answer: RenderedAnswer
    question: str | None = Field(default=None, max_length=MAX_QUESTION_CHARS)
    turn: str = Field(pattern=r"^[a-z][a-z0-9]{0,15}$", description="unique in the page: its ids' prefix")
    lang: Literal["ja", "en"] = Field(description="the page's language, kept by the source links")
    suggestions: list[Annotated[str, Field(max_length=MAX_QUESTION_CHARS)]] = Field(default=[], max_length=3)


@router.post("/fragments/answer", response_class=HTMLResponse)
async def answer_fragment(body: AnswerFragment, request: Request, templates: TemplatesDep) -> Response:
    """One answer as the chat page shows it, with copy and feedback: the script renders no answer
    markup of its own. It needs no engine, so saved conversations show while the server starts."""
    return templates.TemplateResponse(request, "_answer_fragment.html", {
        "answer": body.answer, "question": body.question, "tid": body.turn, "lang": body.lang,
        "suggestions": body.suggestions, "js_strings": STRINGS})


@router.post("/", response_class=HTMLResponse)
async def chat_submit(request: Request, templates: TemplatesDep, runtime: RuntimeDep) -> Response:
    async with request.form() as form:
        try:
            question, history = read_chat_form(form)
        except FormProblem as exc:
            lang = choose_lang(None, None, request.headers.get("accept-language"))
            return templates.TemplateResponse(
                request, "chat.html", chat_context(lang, fit_history(readable_history(form)), error=str(exc)),
                status_code=422)
        # A suggested or example question arrives as its button's value (the text box is empty).
        suggested = form.getlist("suggested")
        if len(suggested) == 1 and isinstance(suggested[0], str) and suggested[0].strip():
            question = suggested[0]
        # "Search without the conversation": the same question, asked without the history (which
        # stays on the page and in the hidden fields).
        standalone = form.getlist("standalone")
        alone = False
        if len(standalone) == 1 and isinstance(standalone[0], str) and standalone[0].strip():
            question, alone = standalone[0], True
    lang = choose_lang(None, question, request.headers.get("accept-language"))
    try:
        body = AskRequest.model_validate({"question": question, "history": fit_history(history)})
    except ValidationError:
        strings = STRINGS[lang]
        if len(question) > MAX_QUESTION_CHARS:
            message = strings["too_long"].format(over=len(question) - MAX_QUESTION_CHARS, max=MAX_QUESTION_CHARS)
        else:
            message = strings["error_invalid_input"]
        safe_history = [h for h in history if h["role"] in ("user", "assistant")]
        return templates.TemplateResponse(
            request, "chat.html", chat_context(lang, fit_history(safe_history), error=message),
            status_code=422)
    starting = startup(runtime, lang)
    if starting is not None:
        # Without JavaScript nothing waits for the server: keep the question and the conversation
        # on the page, say what is happening, and let the reader send it again.
        context = chat_context(lang, fit_history(history), starting=starting, draft=question)
        return templates.TemplateResponse(request, "chat.html", context, status_code=503,
                                          headers={"Retry-After": "5"})
    engine = runtime.ready_engine()
    turns = [] if alone else [Turn(role=t.role, content=t.content) for t in body.history]
    answer = await runtime.questions.run(partial(engine.ask, body.question, turns, body.top_k),
                                         request.receive)
    record_answer(request.app, answer, "page")
    suggestions = await runtime.questions.run(
        partial(answer_suggestions, engine, answer, request.app.state.suggestion_ask), request.receive)
    context = chat_context(lang, [t.model_dump() for t in body.history], body.question, answer,
                           suggestions=suggestions)
    return templates.TemplateResponse(request, "chat.html", context)


@router.get("/documents/{doc_id:path}", response_class=HTMLResponse)
async def document(request: Request, templates: TemplatesDep, engine: EngineDep, doc_id: str,
                   chunk: str | None = None, hl: str | None = None, lang: LangQuery = None) -> Response:
    view = engine.document(doc_id)
    lang = choose_lang(lang, None, request.headers.get("accept-language"))
    span = parse_span(hl)
    place = cited_place(view, chunk, span)
    return templates.TemplateResponse(request, "document.html", {
        "lang": lang, "t": STRINGS[lang], "doc": view, "chunk": chunk,
        "blocks": document_blocks(view, chunk, span), "place": place,
        "page_image": page_image_href(doc_id, place.page, place.start, place.end) if place and place.page else None,
        "original": original_href(doc_id, place.page if place else None) if view.kind != "text" else None})


@router.get("/favicon.ico")
async def favicon(request: Request) -> FileResponse:
    return FileResponse(request.app.state.static_dir / "favicon.svg", media_type="image/svg+xml")

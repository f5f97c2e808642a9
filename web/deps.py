"""Dependencies as `Annotated` aliases, so routes declare what they need and tests can override
them with `app.dependency_overrides`.

They are `async def` although they only read attributes: FastAPI runs a plain `def` dependency in
its thread pool, which costs every question two thread hand-offs on the event loop (a noticeable
share of its CPU under load) and makes health wait for a pool thread."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates

from bot.audit import AuditLog
from bot.corpus import Corpus
from bot.engine import Engine
from bot.settings import Settings
from web.http.security import token_matches
from web.http.sessions import COOKIE, Sessions
from web.server.rebuild import Rebuilder
from web.server.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_engine(runtime: RuntimeDep) -> Engine:
    """An engine with an index; 503 (via the error handlers) while loading or without an index."""
    return runtime.ready_engine()


EngineDep = Annotated[Engine, Depends(get_engine)]


async def get_templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]

_bearer = HTTPBearer(auto_error=False, description="the server's JAXABOT_ADMIN_TOKEN")


async def get_sessions(request: Request) -> Sessions | None:
    """The admin page's sessions (None without a configured admin token)."""
    return getattr(request.app.state, "admin_sessions", None)


async def require_admin(request: Request, settings: SettingsDep,
                        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    """Who is acting, for the audit log: `bearer`, or the admin page's session. A session cookie
    is accepted only for reading (GET, HEAD: the page follows /api/index/status); changes through
    the API need the Bearer token, the page's forms their CSRF token."""
    if not settings.admin_token:
        # Not advertised: without a configured token the admin endpoints do not exist.
        raise HTTPException(404, "index rebuild over HTTP is disabled (no JAXABOT_ADMIN_TOKEN is set)")
    if credentials is not None:
        if not token_matches(credentials.credentials, settings.admin_token):
            raise HTTPException(403, "the admin token is not valid")
        return "bearer"
    sessions = await get_sessions(request)
    if request.method in ("GET", "HEAD") and sessions is not None:
        session = sessions.read(request.cookies.get(COOKIE))
        if session is not None:
            return session.who
    raise HTTPException(401, "an admin token is required: Authorization: Bearer <token>",
                        headers={"WWW-Authenticate": "Bearer"})


AdminDep = Depends(require_admin)
# The same check, giving who acts (for the audit log).
AdminActorDep = Annotated[str, Depends(require_admin)]


async def get_rebuilder(runtime: RuntimeDep) -> Rebuilder:
    return runtime.loaded_rebuilder()  # 503 while loading


RebuilderDep = Annotated[Rebuilder, Depends(get_rebuilder)]


async def get_corpus(settings: SettingsDep) -> Corpus:
    return Corpus(settings.corpus_dir, settings.data_dir, settings.index_dir, int(settings.max_file_mb * 1_000_000))


CorpusDep = Annotated[Corpus, Depends(get_corpus)]


async def get_audit(request: Request) -> AuditLog:
    return request.app.state.audit


AuditDep = Annotated[AuditLog, Depends(get_audit)]

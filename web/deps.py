"""Dependencies as `Annotated` aliases, so routes declare what they need and tests can override
them with `app.dependency_overrides`.

They are `async def` although they only read attributes: FastAPI runs a plain `def` dependency in
its thread pool, which cost every question two thread hand-offs on the event loop (a tenth of
its CPU under load, py-spy; bench/README.md) and made health wait for a pool thread."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates

from bot.engine import Engine
from bot.settings import Settings
from web.rebuild import Rebuilder
from web.runtime import Runtime
from web.security import token_matches


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


async def require_admin(settings: SettingsDep,
                        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    if not settings.admin_token:
        # Not advertised: without a configured token the admin endpoints do not exist.
        raise HTTPException(404, "index rebuild over HTTP is disabled (no JAXABOT_ADMIN_TOKEN is set)")
    if credentials is None:
        raise HTTPException(401, "an admin token is required: Authorization: Bearer <token>",
                            headers={"WWW-Authenticate": "Bearer"})
    if not token_matches(credentials.credentials, settings.admin_token):
        raise HTTPException(403, "the admin token is not valid")


AdminDep = Depends(require_admin)


async def get_rebuilder(runtime: RuntimeDep) -> Rebuilder:
    runtime.loaded_engine()  # 503 while loading
    return runtime.rebuilder


RebuilderDep = Annotated[Rebuilder, Depends(get_rebuilder)]

"""Admin endpoints: start an incremental rebuild of the index and follow it.

Both need `Authorization: Bearer <JAXABOT_ADMIN_TOKEN>`; without a configured token they answer
404, as if they did not exist.
"""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from web.deps import AdminDep, RebuilderDep
from web.schemas import BuildStatus, ErrorBody

router = APIRouter(prefix="/api/index", tags=["admin"], dependencies=[AdminDep],
                   responses={401: {"model": ErrorBody, "description": "no token"},
                              403: {"model": ErrorBody, "description": "wrong token"},
                              404: {"model": ErrorBody, "description": "rebuild over HTTP is disabled"}})


@router.post("/rebuild", status_code=202, response_model=BuildStatus,
             responses={409: {"model": ErrorBody, "description": "a rebuild is already running"}})
async def rebuild(rebuilder: RebuilderDep) -> JSONResponse:
    """Start an incremental rebuild in the background; the server switches to the new index when
    it is published, without a restart."""
    status = rebuilder.start()
    return JSONResponse(status.model_dump(mode="json"), status_code=202,
                        headers={"Location": "/api/index/status"})


@router.get("/status", response_model=BuildStatus)
async def status(rebuilder: RebuilderDep) -> BuildStatus:
    """`idle`, `running` or `failed`, with the last successful build's summary."""
    return rebuilder.status()

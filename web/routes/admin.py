"""Admin endpoints: rebuild the index, follow or cancel the build, roll back.

All need `Authorization: Bearer <JAXABOT_ADMIN_TOKEN>`; without a configured token they answer
404, as if they did not exist. Each runs the rebuilder in a worker thread: they read CURRENT or
take a file lock, which must not stall the event loop (and health with it).
"""

from anyio import to_thread
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from web.deps import AdminActorDep, AdminDep, AuditDep, RebuilderDep, RuntimeDep
from web.schemas import BuildStatus, ErrorBody, RollbackResult

router = APIRouter(prefix="/api/index", tags=["admin"], dependencies=[AdminDep],
                   responses={401: {"model": ErrorBody, "description": "no token"},
                              403: {"model": ErrorBody, "description": "wrong token"},
                              404: {"model": ErrorBody, "description": "rebuild over HTTP is disabled"}})


def _with_runtime(status: BuildStatus, runtime) -> BuildStatus:
    status.degraded = runtime.degraded
    return status


@router.post("/rebuild", status_code=202, response_model=BuildStatus,
             responses={409: {"model": ErrorBody, "description": "a rebuild is already running"}})
async def rebuild(rebuilder: RebuilderDep, runtime: RuntimeDep, audit: AuditDep, who: AdminActorDep) -> JSONResponse:
    """Start an incremental rebuild in the background; the server switches to the new index when
    it is published, without a restart."""
    status = _with_runtime(await to_thread.run_sync(rebuilder.start), runtime)
    audit.record(who, "rebuild")
    return JSONResponse(status.model_dump(mode="json"), status_code=202,
                        headers={"Location": "/api/index/status"})


@router.get("/status", response_model=BuildStatus)
async def status(rebuilder: RebuilderDep, runtime: RuntimeDep) -> BuildStatus:
    """`idle`, `running`, `failed` or `cancelled`, with the running build's progress (documents
    and embedded rows done / total, elapsed time), the last successful build's summary, the
    version served and the one CURRENT names, and `degraded` when they differ for a bad reason."""
    return _with_runtime(await to_thread.run_sync(rebuilder.status), runtime)


@router.post("/cancel", response_model=BuildStatus)
async def cancel(rebuilder: RebuilderDep, runtime: RuntimeDep, audit: AuditDep, who: AdminActorDep) -> BuildStatus:
    """Ask the running build to stop; it ends within one batch and publishes nothing (state
    `cancelled`). Without a running build, nothing happens."""
    status = _with_runtime(await to_thread.run_sync(rebuilder.cancel), runtime)
    audit.record(who, "cancel")
    return status


@router.post("/rollback", response_model=RollbackResult,
             responses={409: {"model": ErrorBody,
                              "description": "a build is running, or no earlier intact version"}})
async def rollback(rebuilder: RebuilderDep, audit: AuditDep, who: AdminActorDep) -> RollbackResult:
    """Make the version that was live before the current one current again and serve it. The
    rolled-back version is never restored by a later rollback."""
    name = await to_thread.run_sync(rebuilder.rollback)
    audit.record(who, "rollback", name)
    return RollbackResult(current_version=name)

"""Corpus files over the JSON API (Bearer token, like the other admin routes; 404 without a
configured token): list, upload, replace, delete into the trash, restore. Changes are written to
the corpus folder only: `POST /api/index/rebuild` indexes them. Each change is in the audit log.

Upload bodies may be larger than other requests (`web.http.security.BodySizeLimitMiddleware`), but
only for requests that carry the admin token or an admin page session (`large_body_allowed`).
"""

from collections.abc import Callable

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.datastructures import Headers, UploadFile
from starlette.types import Scope

from bot.corpus import MAX_FILES_PER_UPLOAD, UPLOAD_REQUEST_FILES, CorpusListing, TrashEntry
from bot.errors import UploadRejected
from bot.settings import Settings
from web.deps import AdminActorDep, AdminDep, AuditDep, CorpusDep
from web.http.security import token_matches
from web.http.sessions import COOKIE, Sessions
from web.schemas import ErrorBody

router = APIRouter(prefix="/api/documents", tags=["admin"], dependencies=[AdminDep],
                   responses={401: {"model": ErrorBody, "description": "no token"},
                              403: {"model": ErrorBody, "description": "wrong token"},
                              404: {"model": ErrorBody, "description": "no admin token is configured"}})

# Where bodies may be as large as UPLOAD_REQUEST_FILES corpus files.
UPLOAD_PATHS = {("POST", "/api/documents"), ("POST", "/admin/upload"), ("POST", "/admin/replace")}
UPLOAD_PREFIXES = {("PUT", "/api/documents/")}


class Changed(BaseModel):
    names: list[str] = Field(description="the corpus files changed")
    next: str = Field("POST /api/index/rebuild indexes the change",
                      description="what makes the change searchable")


class Restored(BaseModel):
    name: str


def upload_request_bytes(settings: Settings) -> int:
    return int(settings.max_file_mb * 1_000_000) * UPLOAD_REQUEST_FILES + 1_000_000


def large_body_allowed(settings: Settings, sessions: Sessions | None) -> Callable[[Scope], bool]:
    """Whether a request may send an upload-sized body: an upload route, with the admin token or a
    live admin page session (checked again, fully, by the route)."""
    def allowed(scope: Scope) -> bool:
        if not settings.admin_token:
            return False
        method, path = scope.get("method", ""), scope.get("path", "")
        if (method, path) not in UPLOAD_PATHS and not any(
                method == m and path.startswith(p) for m, p in UPLOAD_PREFIXES):
            return False
        headers = Headers(scope=scope)
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return token_matches(auth[7:].strip(), settings.admin_token)
        if sessions is None:
            return False
        for part in headers.get("cookie", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == COOKIE and sessions.read(value) is not None:
                return True
        return False
    return allowed


async def read_files(uploads: list) -> list[tuple[str, bytes]]:
    files = [u for u in uploads if isinstance(u, UploadFile)]
    if len(files) != len(uploads):
        raise UploadRejected("send files as multipart/form-data file parts")
    return [(u.filename or "", await u.read()) for u in files]


@router.get("", response_model=CorpusListing)
async def list_documents(corpus: CorpusDep) -> CorpusListing:
    """The corpus files with how the current index holds them (indexed, changed, pending, skipped
    with the reason, removed), and the trash."""
    return await to_thread.run_sync(corpus.listing)


@router.post("", status_code=201, response_model=Changed,
             responses={409: {"model": ErrorBody, "description": "a file of that name exists"},
                        413: {"model": ErrorBody, "description": "over JAXABOT_MAX_FILE_MB"},
                        422: {"model": ErrorBody, "description": "bad name or type (by content)"}})
async def upload(request: Request, corpus: CorpusDep, audit: AuditDep, who: AdminActorDep) -> JSONResponse:
    """Add new files: multipart/form-data, one or more `files` parts. All are checked (name, size,
    type by content) before any is written; none is written if one fails."""
    async with request.form(max_files=MAX_FILES_PER_UPLOAD, max_fields=MAX_FILES_PER_UPLOAD + 4) as form:
        files = await read_files(form.getlist("files"))
    names = [name for name, _ in await to_thread.run_sync(corpus.add, files)]
    for name in names:
        audit.record(who, "upload", name)
    return JSONResponse(Changed(names=names).model_dump(), status_code=201)


@router.put("/{name:path}", response_model=Changed,
            responses={404: {"model": ErrorBody, "description": "no such corpus file"},
                       413: {"model": ErrorBody}, 422: {"model": ErrorBody}})
async def replace(name: str, request: Request, corpus: CorpusDep, audit: AuditDep, who: AdminActorDep) -> Changed:
    """Replace an existing file's content with the request body (its type checked by content)."""
    data = await request.body()
    done = await to_thread.run_sync(corpus.replace, name, data)
    audit.record(who, "replace", done)
    return Changed(names=[done])


@router.delete("/{name:path}", response_model=TrashEntry,
               responses={404: {"model": ErrorBody, "description": "no such corpus file"}})
async def delete(name: str, corpus: CorpusDep, audit: AuditDep, who: AdminActorDep) -> TrashEntry:
    """Move a file to the trash. It stays restorable until a build publishes without it."""
    entry = await to_thread.run_sync(corpus.remove, name, who)
    audit.record(who, "delete", entry.name)
    return entry


@router.post("/trash/{entry_id}/restore", response_model=Restored,
             responses={404: {"model": ErrorBody, "description": "no such trash entry (or purged)"},
                        409: {"model": ErrorBody, "description": "the name is taken again"}})
async def restore(entry_id: str, corpus: CorpusDep, audit: AuditDep, who: AdminActorDep) -> Restored:
    """Put a deleted file back into the corpus folder."""
    name = await to_thread.run_sync(corpus.restore, entry_id)
    audit.record(who, "restore", name)
    return Restored(name=name)

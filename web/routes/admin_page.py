"""The admin page at /admin: the corpus, uploads, replace, delete and restore, rebuild with its
progress, the version history with rollback, and the audit log. Works without JavaScript (every
action is a form POST answered with a redirect back); static/admin.js adds drag and drop and
follows a running build through /api/index/status.

Without a configured admin token every /admin URL is 404, like the other admin routes. Logging in
with the token sets the signed session cookie (web.http.sessions); every form carries the session's
CSRF token. Failed logins are limited per client address.
"""

import math

from anyio import to_thread
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from bot.audit import AuditLog
from bot.corpus import MAX_FILES_PER_UPLOAD, Corpus
from bot.errors import JaxabotError, UploadRejected
from bot.store import versions as store
from web.deps import AuditDep, CorpusDep, RuntimeDep, SettingsDep, TemplatesDep
from web.errors import describe
from web.http.proxies import client_address, rate_key
from web.http.sessions import COOKIE, Session, Sessions
from web.i18n import STRINGS
from web.routes.documents_api import read_files
from web.routes.feedback import RateLimiter

router = APIRouter(prefix="/admin", include_in_schema=False)

LOGINS_PER_MINUTE = 10
NOTICES = {"uploaded": "Uploaded. Rebuild to index the new files.",
           "replaced": "Replaced. Rebuild to index the new content.",
           "deleted": "Moved to the trash. It can be restored until a rebuild publishes without it.",
           "restored": "Restored. Rebuild if the index no longer holds it.",
           "rebuild": "Rebuild started.", "cancelled": "Cancel requested.",
           "rolled_back": "Rolled back.", "logged_out": "Logged out."}


def human_size(size: int | None) -> str:
    if size is None:
        return "—"
    if size < 1000:
        return f"{size} B"
    exp = min(int(math.log(size, 1000)), 3)
    return f"{size / 1000 ** exp:.1f} {('B', 'kB', 'MB', 'GB')[exp]}"


def _sessions(request: Request) -> Sessions:
    sessions = getattr(request.app.state, "admin_sessions", None)
    if sessions is None:
        raise HTTPException(404, "the admin page is disabled (no JAXABOT_ADMIN_TOKEN is set)")
    return sessions


def _session(request: Request) -> Session | None:
    return _sessions(request).read(request.cookies.get(COOKIE))


def _login_page(request: Request, templates, status: int = 200, error: str | None = None,
                notice: str | None = None) -> Response:
    return templates.TemplateResponse(request, "admin_login.html", {
        "lang": "en", "t": STRINGS["en"], "error": error, "notice": notice}, status_code=status)


def _versions(index_dir) -> dict:
    """The version history: versions on disk newest first, which is current, which were rolled
    back, and the one a rollback would return to."""
    history = store.read_history(index_dir)
    try:
        current = store.current_version(index_dir)
    except JaxabotError:
        current = None
    rows = []
    for name in sorted(store.versions(index_dir), reverse=True):
        try:
            manifest = store.read_manifest(index_dir / name)
        except JaxabotError:
            manifest = {}
        counts = manifest.get("counts") or {}
        rows.append({"name": name, "built_at": manifest.get("built_at"), "documents": counts.get("documents"),
                     "passages": counts.get("passages"), "current": name == current,
                     "rejected": name in history.rejected})
    # As versions.rollback chooses (before it verifies checksums): the newest version live before
    # the current one that is on disk and was not rolled back.
    live = history.live[: history.live.index(current)] if current in history.live else history.live
    on_disk = {r["name"] for r in rows}
    target = next((v for v in reversed(live) if v in on_disk and v not in history.rejected and v != current), None)
    return {"rows": rows, "current": current, "rollback_to": target}


def _page_data(corpus: Corpus, audit: AuditLog, index_dir) -> dict:
    return {"listing": corpus.listing(), "versions": _versions(index_dir), "audit": audit.recent(50)}


async def _render(request: Request, templates, session: Session, runtime, corpus: Corpus, audit: AuditLog,
                  index_dir, status: int = 200, error: str | None = None, notice: str | None = None) -> Response:
    data = await to_thread.run_sync(_page_data, corpus, audit, index_dir)
    rebuilder = runtime.rebuilder
    build = await to_thread.run_sync(rebuilder.status) if rebuilder is not None else None
    if build is not None:
        build.degraded = runtime.degraded
    return templates.TemplateResponse(request, "admin.html", {
        "lang": "en", "t": STRINGS["en"], "session": session, "csrf": _sessions(request).csrf(session),
        "build": build, "error": error, "notice": notice, "human_size": human_size,
        "max_files": MAX_FILES_PER_UPLOAD, "accept": ",".join(data["listing"].accepted), **data},
        status_code=status, headers={"Cache-Control": "no-store"})


@router.get("", response_class=HTMLResponse)
async def admin(request: Request, templates: TemplatesDep, runtime: RuntimeDep, corpus: CorpusDep,
                audit: AuditDep, done: str | None = None) -> Response:
    session = _session(request)
    if session is None:
        # The login form only (200: it shows nothing of the corpus; a failed login is 401).
        return _login_page(request, templates, notice=NOTICES.get(done or ""))
    return await _render(request, templates, session, runtime, corpus, audit, runtime.settings.index_dir,
                         notice=NOTICES.get(done or ""))


def _login_limiter(request: Request) -> RateLimiter:
    limiter = getattr(request.app.state, "login_limiter", None)
    if limiter is None:
        limiter = request.app.state.login_limiter = RateLimiter(LOGINS_PER_MINUTE)
    return limiter


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, templates: TemplatesDep, settings: SettingsDep, audit: AuditDep) -> Response:
    sessions = _sessions(request)
    client = client_address(request.client.host if request.client else None,
                            request.headers.getlist("x-forwarded-for"), settings.trusted_networks)
    wait = _login_limiter(request).check(rate_key(client))
    if wait > 0:
        return Response("too many login attempts; try again in a minute", status_code=429,
                        headers={"Retry-After": str(max(1, math.ceil(wait)))}, media_type="text/plain")
    async with request.form(max_files=0, max_fields=4) as form:
        token, name = _text(form, "token"), _text(form, "name")
    if not sessions.token_ok(token):
        audit.record(f"login from {client}", "login_failed")
        return _login_page(request, templates, 401, error="That is not the admin token.")
    cookie, session = sessions.issue(name)
    audit.record(session.who, "login", detail=f"from {client}")
    response = RedirectResponse("/admin", status_code=303)
    response.set_cookie(COOKIE, cookie, max_age=sessions.seconds, path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


async def _checked(request: Request, form: FormData) -> Session:
    """The session of a form POST whose CSRF token is right; 401 / 403 otherwise."""
    sessions = _sessions(request)
    session = sessions.read(request.cookies.get(COOKIE))
    if session is None:
        raise HTTPException(401, "log in at /admin first (the session is missing or expired)")
    if not sessions.csrf_ok(session, _text(form, "csrf")):
        raise HTTPException(403, "the form's CSRF token is missing or wrong; reload /admin and try again")
    return session


@router.post("/logout")
async def logout(request: Request, audit: AuditDep) -> Response:
    async with request.form(max_files=0, max_fields=4) as form:
        session = await _checked(request, form)
    _sessions(request).revoke(session)
    audit.record(session.who, "logout")
    response = RedirectResponse("/admin?done=logged_out", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


async def _act(request: Request, templates, runtime, corpus: Corpus, audit: AuditLog, work) -> Response:
    """Run one form action: check the session and CSRF, run `work(form, session)` (returning the
    done code), redirect back; a refused action shows the page again with the reason."""
    async with request.form(max_files=MAX_FILES_PER_UPLOAD, max_fields=MAX_FILES_PER_UPLOAD + 8) as form:
        session = await _checked(request, form)
        try:
            done = await work(form, session)
        except JaxabotError as exc:
            status, _, message = describe(exc)
            return await _render(request, templates, session, runtime, corpus, audit,
                                 runtime.settings.index_dir, status=status, error=message)
    return RedirectResponse(f"/admin?done={done}", status_code=303)


@router.post("/upload")
async def upload(request: Request, templates: TemplatesDep, runtime: RuntimeDep, corpus: CorpusDep,
                 audit: AuditDep) -> Response:
    async def work(form: FormData, session: Session) -> str:
        files = [f for f in await read_files(form.getlist("files")) if f[0] or f[1]]
        names = [name for name, _ in await to_thread.run_sync(corpus.add, files)]
        for name in names:
            audit.record(session.who, "upload", name)
        return "uploaded"
    return await _act(request, templates, runtime, corpus, audit, work)


@router.post("/replace")
async def replace(request: Request, templates: TemplatesDep, runtime: RuntimeDep, corpus: CorpusDep,
                  audit: AuditDep) -> Response:
    async def work(form: FormData, session: Session) -> str:
        files = await read_files(form.getlist("file"))
        if len(files) != 1 or not files[0][1]:
            raise UploadRejected("choose the file with the new content")
        name = await to_thread.run_sync(corpus.replace, _text(form, "name"), files[0][1])
        audit.record(session.who, "replace", name)
        return "replaced"
    return await _act(request, templates, runtime, corpus, audit, work)


@router.post("/delete")
async def delete(request: Request, templates: TemplatesDep, runtime: RuntimeDep, corpus: CorpusDep,
                 audit: AuditDep) -> Response:
    async def work(form: FormData, session: Session) -> str:
        entry = await to_thread.run_sync(corpus.remove, _text(form, "name"), session.who)
        audit.record(session.who, "delete", entry.name)
        return "deleted"
    return await _act(request, templates, runtime, corpus, audit, work)


@router.post("/restore")
async def restore(request: Request, templates: TemplatesDep, runtime: RuntimeDep, corpus: CorpusDep,
                  audit: AuditDep) -> Response:
    async def work(form: FormData, session: Session) -> str:
        name = await to_thread.run_sync(corpus.restore, _text(form, "entry"))
        audit.record(session.who, "restore", name)
        return "restored"
    return await _act(request, templates, runtime, corpus, audit, work)


@router.post("/rebuild")
async def rebuild(request: Request, templates: TemplatesDep, runtime: RuntimeDep, corpus: CorpusDep,
                  audit: AuditDep) -> Response:
    async def work(form: FormData, session: Session) -> str:
        rebuilder = runtime.loaded_rebuilder()  # NotReady: 503 while loading
        await to_thread.run_sync(rebuilder.start)
        audit.record(session.who, "rebuild")
        return "rebuild"
    return await _act(request, templates, runtime, corpus, audit, work)


@router.post("/cancel")
async def cancel(request: Request, templates: TemplatesDep, runtime: RuntimeDep, corpus: CorpusDep,
                 audit: AuditDep) -> Response:
    async def work(form: FormData, session: Session) -> str:
        rebuilder = runtime.loaded_rebuilder()
        await to_thread.run_sync(rebuilder.cancel)
        audit.record(session.who, "cancel")
        return "cancelled"
    return await _act(request, templates, runtime, corpus, audit, work)


@router.post("/rollback")
async def rollback(request: Request, templates: TemplatesDep, runtime: RuntimeDep, corpus: CorpusDep,
                   audit: AuditDep) -> Response:
    async def work(form: FormData, session: Session) -> str:
        rebuilder = runtime.loaded_rebuilder()
        name = await to_thread.run_sync(rebuilder.rollback)
        audit.record(session.who, "rollback", name)
        return "rolled_back"
    return await _act(request, templates, runtime, corpus, audit, work)


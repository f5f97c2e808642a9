"""The admin page and `/api/documents` over HTTP, on a real uvicorn server on 127.0.0.1 with the
fake embedder: reachability without a token, login cookie, CSRF, uploads checked by content and
size, replace, delete into the trash and restore, rebuild, rollback, audit log, logout."""

import re
import shutil
from contextlib import ExitStack, closing

import httpx
import pytest
from web_helpers import ADMIN_TOKEN, SEED_CORPUS, live_server, make_settings

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
MD = "# 月面探査\n\n小型月着陸実証機SLIMは2024年1月20日に月面へ着陸しました。\n".encode()


@pytest.fixture
def serve(tmp_path, fake_seed_index, tokenizer):
    """serve(**settings) → (base URL, settings) of a live server on copies of the seed corpus and
    its fake index."""
    from fakes import FakeEmbedder

    from web.app import create_app
    stack = ExitStack()

    def start(**overrides):
        n = len(list(tmp_path.glob("corpus-*")))
        corpus, index = tmp_path / f"corpus-{n}", tmp_path / f"index-{n}"
        shutil.copytree(SEED_CORPUS, corpus)
        shutil.copytree(fake_seed_index, index)
        settings = make_settings(corpus, index, model="fake-bigram", data_dir=tmp_path / f"data-{n}", **overrides)
        app = create_app(settings, embedder=FakeEmbedder(), tokenizer=tokenizer)
        base = stack.enter_context(live_server(app))
        return base, settings

    yield start
    stack.close()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _login(base: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    r = client.post("/admin/login", data={"token": ADMIN_TOKEN, "name": "Hanako"})
    assert r.status_code == 303, r.text
    page = client.get("/admin")
    assert page.status_code == 200
    return client, _csrf(page.text)


def _wait(base, headers=AUTH) -> dict:
    from web_helpers import wait_build
    return wait_build(base, headers, timeout=120)


def test_without_a_token_nothing_is_reachable(serve):
    base, _ = serve(admin_token=None)
    with httpx.Client(base_url=base, timeout=30) as c:
        for method, path in [("GET", "/admin"), ("POST", "/admin/login"), ("POST", "/admin/upload"),
                             ("POST", "/admin/delete"), ("POST", "/admin/rebuild"), ("GET", "/api/documents"),
                             ("POST", "/api/documents"), ("PUT", "/api/documents/x.md"),
                             ("DELETE", "/api/documents/jaxa-international-cooperation.txt"),
                             ("POST", "/api/documents/trash/x/restore")]:
            r = c.request(method, path, headers=AUTH, data={"token": ADMIN_TOKEN})
            assert r.status_code == 404, (method, path, r.status_code)
        paths = c.get("/openapi.json").json()["paths"]
        assert not any(p.startswith("/api/documents") and p != "/api/documents/{doc_id}" for p in paths)
        assert c.get("/api/documents/jaxa-international-cooperation").status_code == 200  # the public view


def test_with_a_token_set_but_not_given_nothing_is_reachable(serve):
    base, settings = serve(admin_token=ADMIN_TOKEN)
    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as c:
        page = c.get("/admin", headers={"Accept": "text/html"})
        assert page.status_code == 200 and 'name="token"' in page.text and "data-name" not in page.text
        assert c.get("/api/documents").status_code == 401
        assert c.get("/api/documents", headers={"Authorization": "Bearer wrong"}).status_code == 403
        assert c.delete("/api/documents/jaxa-international-cooperation.txt").status_code == 401
        for path in ("/admin/upload", "/admin/delete", "/admin/rebuild", "/admin/rollback", "/admin/logout"):
            assert c.post(path, data={"name": "jaxa-international-cooperation.txt"}).status_code == 401
        # A large body is cut off at the usual limit unless the request is authenticated.
        big = {"files": ("big.md", b"a" * 200_000, "text/markdown")}
        assert c.post("/api/documents", files=big).status_code == 413
        assert c.post("/api/documents", files=big, headers={"Authorization": "Bearer wrong"}).status_code == 413
    assert (settings.corpus_dir / "jaxa-international-cooperation.txt").exists()


def test_login_sets_a_strict_http_only_cookie_and_limits_attempts(serve):
    base, _ = serve(admin_token=ADMIN_TOKEN)
    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as c:
        r = c.post("/admin/login", data={"token": "wrong"})
        assert r.status_code == 401 and "not the admin token" in r.text and "set-cookie" not in r.headers
        r = c.post("/admin/login", data={"token": ADMIN_TOKEN})
        assert r.status_code == 303 and r.headers["location"] == "/admin"
        cookie = r.headers["set-cookie"]
        for flag in ("HttpOnly", "SameSite=strict", "Path=/", "Max-Age=28800"):
            assert flag in cookie, cookie
        assert "Secure" not in cookie  # plain http on loopback; set over https
        assert c.get("/admin").status_code == 200
        for _ in range(10):
            last = c.post("/admin/login", data={"token": "wrong"})
        assert last.status_code == 429 and int(last.headers["retry-after"]) >= 1


def test_forms_need_the_sessions_csrf_token(serve):
    base, settings = serve(admin_token=ADMIN_TOKEN)
    client, csrf = _login(base)
    with closing(client):
        name = "jaxa-international-cooperation.txt"
        assert client.post("/admin/delete", data={"name": name}).status_code == 403
        assert client.post("/admin/delete", data={"name": name, "csrf": csrf[:-1] + "x"}).status_code == 403
        # Another session's token does not fit this one.
        other, other_csrf = _login(base)
        assert client.post("/admin/delete", data={"name": name, "csrf": other_csrf}).status_code == 403
        other.close()
        assert (settings.corpus_dir / name).exists()
        # The cookie alone changes nothing through the API either: that needs the Bearer token.
        assert client.delete(f"/api/documents/{name}").status_code == 401
        assert client.get("/api/documents").status_code == 200  # reading is fine
        assert client.post("/admin/delete", data={"name": name, "csrf": csrf}).status_code == 303
        assert not (settings.corpus_dir / name).exists()


def test_api_upload_replace_delete_restore_and_rebuild(serve):
    base, settings = serve(admin_token=ADMIN_TOKEN, max_file_mb=0.05)
    with httpx.Client(base_url=base, timeout=60, headers=AUTH) as c:
        r = c.post("/api/documents", files=[
            ("files", ("月面.md", MD, "text/markdown")),
            ("files", ("../../notes.txt", b"Plain notes about nothing.", "text/plain")),
        ])
        assert r.status_code == 201 and r.json()["names"] == ["月面.md", "notes.txt"], r.text
        assert (settings.corpus_dir / "月面.md").read_bytes() == MD
        assert not list(settings.corpus_dir.glob(".upload-*"))
        assert c.post("/api/documents", files={"files": ("月面.md", MD)}).json()["error"] == "document_exists"
        r = c.post("/api/documents", files={"files": ("x.txt", b"%PDF-1.7\n1 0 obj")})
        assert r.status_code == 422 and r.json()["error"] == "upload_rejected" and "PDF" in r.json()["message"]
        r = c.post("/api/documents", files={"files": ("big.md", b"a" * 60_000)})
        assert r.status_code == 413 and r.json()["error"] == "file_too_large"
        r = c.post("/api/documents", files={"files": ("x.exe", b"MZ\x90\x00")})
        assert r.status_code == 422
        rows = {d["name"]: d for d in c.get("/api/documents").json()["documents"]}
        assert rows["月面.md"]["status"] == "pending"
        assert rows["jaxa-international-cooperation.txt"]["status"] == "indexed"

        assert c.post("/api/index/rebuild").status_code == 202
        assert _wait(base)["state"] == "idle"
        rows = {d["name"]: d for d in c.get("/api/documents").json()["documents"]}
        assert rows["月面.md"]["status"] == "indexed" and rows["月面.md"]["title"] == "月面探査"
        assert rows["月面.md"]["passages"] >= 1 and rows["月面.md"]["language"] == "ja"

        r = c.put("/api/documents/notes.txt", content=b"New notes with other text.")
        assert r.status_code == 200 and r.json()["names"] == ["notes.txt"]
        assert c.put("/api/documents/notes.txt", content=b"\x89PNG\r\n\x1a\n\x00\x00").status_code == 422
        assert c.put("/api/documents/missing.txt", content=b"x").status_code == 404
        assert c.put("/api/documents/../outside.txt", content=b"text").status_code in (404, 422)

        r = c.delete("/api/documents/月面.md")
        assert r.status_code == 200 and r.json()["in_index"] is True
        entry = r.json()["id"]
        listing = c.get("/api/documents").json()
        assert [t["name"] for t in listing["trash"]] == ["月面.md"]
        assert c.post(f"/api/documents/trash/{entry}/restore").json() == {"name": "月面.md"}
        assert (settings.corpus_dir / "月面.md").exists()
        entry = c.delete("/api/documents/月面.md").json()["id"]

        assert c.post("/api/index/rebuild").status_code == 202
        assert _wait(base)["state"] == "idle"
        listing = c.get("/api/documents").json()
        assert listing["trash"] == [] and "月面.md" not in {d["name"] for d in listing["documents"]}
        assert c.post(f"/api/documents/trash/{entry}/restore").status_code == 404
    audit = [line for line in (settings.data_dir / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(audit) == 8 and all('"who": "bearer"' in line for line in audit)
    assert '"action": "upload", "target": "月面.md"' in audit[0]


def test_page_flow_without_javascript(serve):
    base, settings = serve(admin_token=ADMIN_TOKEN)
    client, csrf = _login(base)
    with closing(client):
        r = client.post("/admin/upload", data={"csrf": csrf},
                        files=[("files", ("月面.md", MD, "text/markdown"))])
        assert r.status_code == 303 and r.headers["location"] == "/admin?done=uploaded"
        page = client.get(r.headers["location"]).text
        assert 'data-name="月面.md" data-status="pending"' in page and "Uploaded." in page
        r = client.post("/admin/upload", data={"csrf": csrf}, files=[("files", ("bad.md", b"%PDF-1.4\n"))])
        assert r.status_code == 422 and "PDF" in r.text and 'id="admin-error"' in r.text

        assert client.post("/admin/rebuild", data={"csrf": csrf}).status_code == 303
        running = client.get("/admin").text
        assert 'id="build"' in running
        assert _wait(client, headers={})["state"] == "idle"  # the session cookie reads the status
        page = client.get("/admin").text
        assert 'data-name="月面.md" data-status="indexed"' in page and "月面探査" in page
        assert 'data-action="rollback"' in page

        r = client.post("/admin/replace", data={"csrf": csrf, "name": "月面.md"},
                        files={"file": ("whatever.bin", "# 月面探査\n\n新しい本文です。".encode())})
        assert r.status_code == 303
        assert "新しい本文" in (settings.corpus_dir / "月面.md").read_text(encoding="utf-8")

        assert client.post("/admin/delete", data={"csrf": csrf, "name": "月面.md"}).status_code == 303
        page = client.get("/admin").text
        entry = re.search(r'name="entry" value="([^"]+)"', page).group(1)
        assert client.post("/admin/restore", data={"csrf": csrf, "entry": entry}).status_code == 303
        assert (settings.corpus_dir / "月面.md").exists()

        before = client.get("/api/index/status").json()["index_version"]
        assert client.post("/admin/rollback", data={"csrf": csrf}).status_code == 303
        assert client.get("/api/index/status").json()["index_version"] != before

        page = client.get("/admin").text
        logged = re.findall(r'data-action-logged="(\w+)"', page)
        assert logged[:7] == ["rollback", "restore", "delete", "replace", "rebuild", "upload", "login"]
        assert "session " in page and "(Hanako)" in page

        old_cookie = client.cookies.get("jaxabot_admin")
        r = client.post("/admin/logout", data={"csrf": csrf})
        assert r.status_code == 303 and 'jaxabot_admin=""' in r.headers["set-cookie"]
    with httpx.Client(base_url=base, cookies={"jaxabot_admin": old_cookie}, timeout=30) as again:
        page = again.get("/admin")  # logged out: the old cookie is dead
        assert 'name="token"' in page.text and "data-name" not in page.text
        assert again.get("/api/index/status").status_code == 401

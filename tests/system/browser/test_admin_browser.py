"""The admin page in Chromium (Playwright driving /usr/bin/chromium): an editor logs in, uploads
a document made here, sees it indexed, asks a question answered from it, deletes it, and after the
rebuild the answer is gone. Without logging in the page and the API show nothing. The fake
embedder keeps the builds fast; the chat, the index and the answers are the real code.

Never skips: without /usr/bin/chromium it fails with instructions, as tests/system/browser/test_browser.py does.
"""

import shutil

import pytest
from browser_helpers import TIMEOUT_MS, Pages, ask
from web_helpers import ADMIN_TOKEN, SEED_CORPUS, live_server, make_settings

DOC_NAME = "宇宙庭園.pdf"
DOC_LINES = ["ザルツブルク宇宙庭園は1987年に開園しました。", "園内には月面を模した砂の庭があります。"]


def _make_pdf(path):
    """A one-page PDF with a Japanese title and text (reportlab's CID fonts), made for the test."""
    from docgen import _fonts
    from reportlab.pdfgen import canvas
    _fonts()
    c = canvas.Canvas(str(path))
    c.setTitle("ザルツブルク宇宙庭園")
    c.setFont("HeiseiKakuGo-W5", 16)
    c.drawString(60, 780, "ザルツブルク宇宙庭園")
    c.setFont("HeiseiKakuGo-W5", 11)
    for i, line in enumerate(DOC_LINES):
        c.drawString(60, 740 - 20 * i, line)
    c.showPage()
    c.save()
    return path
QUESTION = "ザルツブルク宇宙庭園は何年に開園しましたか？"


@pytest.fixture
def admin_server(tmp_path, fake_seed_index, tokenizer):
    from fakes import FakeEmbedder

    from web.app import create_app
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(SEED_CORPUS, corpus)
    shutil.copytree(fake_seed_index, index)
    settings = make_settings(corpus, index, model="fake-bigram", admin_token=ADMIN_TOKEN,
                             data_dir=tmp_path / "data")
    app = create_app(settings, embedder=FakeEmbedder(), tokenizer=tokenizer)
    with live_server(app) as base:
        yield base, settings


@pytest.fixture
def pages(browser):
    opened = Pages()

    def open_(javascript: bool = True):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP",
                                      java_script_enabled=javascript)
        context.set_default_timeout(TIMEOUT_MS)
        opened.contexts.append(context)
        return context
    yield open_, opened
    opened.close()


def _row(page, status: str):
    return page.locator(f'#documents tr[data-name="{DOC_NAME}"][data-status="{status}"]')


def _rebuild(page) -> None:
    """Click Rebuild and wait until the page, following the build (admin.js), shows it ended."""
    page.locator('[data-action="rebuild"]').click()
    page.wait_for_url("**/admin**")
    page.locator('#build[data-state="idle"]').wait_for()


def _ask_fresh(open_context, base: str, question: str):
    """Ask in a new browser context: the chat restores an earlier conversation from localStorage."""
    page = open_context().new_page()
    page.goto(base + "/")
    turn = ask(page, question, 1)
    return page, turn


def test_editor_uploads_asks_deletes_and_the_answer_goes_away(pages, admin_server, tmp_path):
    open_context, opened = pages
    base, settings = admin_server
    context = open_context()
    page, watch = opened.new(context)

    page.goto(base + "/admin")
    assert page.locator("#documents").count() == 0
    page.locator("#admin-token").fill(ADMIN_TOKEN)
    page.locator("#admin-name").fill("花子")
    page.locator('[data-action="login"]').click()
    page.locator("#documents").wait_for()
    cookie = next(c for c in context.cookies() if c["name"] == "jaxabot_admin")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # not readable by scripts

    # Drag and drop fills the form's file input (admin.js) ...
    page.evaluate("""() => {
        const dt = new DataTransfer();
        dt.items.add(new File(['text'], 'dropped.md', {type: 'text/markdown'}));
        document.getElementById('drop-zone').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true}));
    }""")
    assert page.evaluate("document.getElementById('upload-files').files[0].name") == "dropped.md"
    # ... and the editor uploads a PDF (made here) through it.
    source = _make_pdf(tmp_path / DOC_NAME)
    page.set_input_files("#upload-files", str(source))
    page.locator('[data-action="upload"]').click()
    _row(page, "pending").wait_for()
    assert (settings.corpus_dir / DOC_NAME).read_bytes() == source.read_bytes()

    _rebuild(page)
    row = _row(page, "indexed")
    row.wait_for()
    assert "ザルツブルク宇宙庭園" in row.inner_text()

    chat, turn = _ask_fresh(open_context, base, QUESTION)
    assert turn.get_attribute("data-found") == "true"
    assert "1987" in turn.locator(".answer-text").inner_text()
    assert turn.locator(".citations .card .card-title").first.inner_text() == "ザルツブルク宇宙庭園"
    chat.close()

    row.locator('[data-action="delete"]').click()
    page.locator(f'#trash tr[data-name="{DOC_NAME}"]').wait_for()
    assert _row(page, "indexed").count() == 0
    _rebuild(page)
    assert page.locator("#trash").count() == 0  # published without it: purged
    assert page.locator(f'#documents tr[data-name="{DOC_NAME}"]').count() == 0
    audit = page.locator("#audit tbody tr").all_inner_texts()
    assert any("delete" in a and DOC_NAME in a and "花子" in a for a in audit)

    chat, turn = _ask_fresh(open_context, base, QUESTION)
    assert turn.get_attribute("data-found") == "false" or \
        "ザルツブルク宇宙庭園" not in turn.locator(".citations").all_inner_texts()
    assert "1987" not in turn.locator(".answer-text").inner_text()
    chat.close()

    page.locator('[data-action="logout"]').click()
    page.locator("#admin-token").wait_for()
    assert page.locator("#documents").count() == 0
    watch.check()


def test_without_logging_in_the_page_and_api_show_nothing(pages, admin_server):
    open_context, _ = pages
    base, _ = admin_server
    context = open_context()
    page = context.new_page()
    response = page.goto(base + "/admin")
    assert response.status == 200  # the login form, nothing else
    assert page.locator("#admin-token").is_visible() and page.locator("#documents").count() == 0
    for path in ("/api/documents", "/api/index/status"):
        assert context.request.get(base + path).status == 401
    assert context.request.post(base + "/admin/rebuild", form={"csrf": "x"}).status == 401
    # A forged cookie is no session either.
    context.add_cookies([{"name": "jaxabot_admin", "value": "e30.AAAA", "url": base}])
    page.goto(base + "/admin")
    assert page.locator("#admin-token").is_visible() and page.locator("#documents").count() == 0

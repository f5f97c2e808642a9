"""The conversation UI in Debian's Chromium: persistence, the list of conversations, copy,
feedback (stored server-side, surviving a restart), the bold answer phrase, suggested questions,
the pending state, errors in the page's language, accessibility hooks and contrast, dark mode.

One uvicorn server with the fast fake embedder serves the module. Answers come from the engine's
real document structure but /api/ask is answered with a fixed result (`page.route`), so each
behaviour is tested on a known answer, including the `answer_span` the engine will fill.
Screenshots go to $SHOTS_DIR when set, else to a temp folder.
"""

import json
import re

import httpx
import pytest
from browser_helpers import (
    CONTRAST_JS,
    CONTRAST_JS_NO_COMPOSER,
    TIMEOUT_MS,
    Pages,
    Watch,
    fake_app,
    shots_dir,
    wait_until,
)
from playwright.sync_api import expect
from typer.testing import CliRunner
from web_helpers import ADMIN_TOKEN, live_server

DOC_ID = "jaxa-international-cooperation"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CONFIGS = [("light", 1280, 900), ("dark", 1280, 900), ("light", 375, 812), ("dark", 375, 812)]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ui-data")


@pytest.fixture(scope="module")
def server(fake_seed_index, data_dir, tokenizer):
    with live_server(fake_app(fake_seed_index, data_dir, tokenizer)) as base:
        yield base


@pytest.fixture(scope="module")
def answers(server):
    """A found answer citing the APRSAF sentence (answer phrase 「1993年」) and a not-found one."""
    doc = httpx.get(f"{server}/api/documents/{DOC_ID}", timeout=10).json()
    p = next(p for p in doc["passages"] if "1993年" in doc["text"][p["start"]:p["end"]])
    text = doc["text"][p["start"]:p["end"]]
    s0, s1 = next((a - p["start"], b - p["start"]) for a, b in p["sentences"] if "1993年" in doc["text"][a:b])
    span = (text.index("1993年"), text.index("1993年") + len("1993年"))
    sentence = text[s0:s1]
    citation = {"n": 1, "chunk_id": p["chunk_id"], "doc_id": DOC_ID, "title": doc["title"], "url": doc["url"],
                "section": p["section"], "text": text, "highlight": [s0, s1], "answer_span": list(span),
                "score": 0.9}
    found = {"answer": sentence + "[1]", "found": True, "language": "ja", "query": "q",
             "citations": [citation], "related": [],
             "timings_ms": {"embed": 1, "search": 1, "answer": 1, "total": 3}, "index_version": "v-test"}
    related = {k: citation[k] for k in ("chunk_id", "doc_id", "title", "url", "section", "text", "score")}
    missing = dict(found, answer="資料の中に、この質問に答える記述は見つかりませんでした。", found=False,
                   citations=[], related=[related])
    return {"found": found, "missing": missing, "sentence": sentence}


@pytest.fixture
def open_page(browser, server, answers):
    pages = Pages()

    def open_(theme="light", width=1280, height=900, context=None, locale="ja-JP", route=True):
        if context is None:
            context = browser.new_context(viewport={"width": width, "height": height}, locale=locale,
                                          color_scheme=theme, reduced_motion="reduce")
            context.set_default_timeout(TIMEOUT_MS)
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
            pages.contexts.append(context)
        page, watch = pages.new(context)
        if route:
            def fulfil(r):
                question = json.loads(r.request.post_data)["question"]
                body = dict(answers["missing"] if "職員" in question else answers["found"], query=question)
                r.fulfill(status=200, content_type="application/json", body=json.dumps(body))
            page.route("**/api/ask", fulfil)
        return page, watch

    yield open_
    pages.close()


def ask(page, question):
    n = page.locator("article.turn-bot").count()
    box = page.locator("#question")
    box.fill(question)
    box.press("Enter")
    turn = page.locator("article.turn-bot").nth(n)
    turn.wait_for()
    return turn


def user_questions(page):
    return [t.strip() for t in page.locator('[data-role="user"] .answer-text').all_inner_texts()]


TEXT_SELECTORS = ["body", ".turn-label", ".turn-user .answer-text", ".turn-bot .answer-text", "a.cite-ref",
                  ".citations-title", ".card-title", ".card-section", ".card-text", ".card-text mark",
                  "a.card-source", ".action", ".suggestions-title", ".suggestion", ".composer-foot",
                  ".chat-footer", ".chat-footer a", ".examples-menu summary", "a.header-link",
                  ".header-button", "#question"]
BORDER_SELECTORS = [".composer-inner", ".action", ".suggestion", ".examples-menu summary"]


def focus_ring_ratio(page, selector):
    return page.evaluate("""(sel) => {
      const el = document.querySelector(sel); el.focus();
      const parse = c => {
        const p = c.match(/rgba?\\(([^)]+)\\)/)[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number); return p;
      };
      const lum = p => {
        const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
        return 0.2126 * f(p[0]) + 0.7152 * f(p[1]) + 0.0722 * f(p[2]);
      };
      const style = getComputedStyle(el);
      let bg = null;
      for (let e = el.parentElement; e && !bg; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor); if (c.length < 4 || c[3] > 0.5) bg = c;
      }
      const [x, y] = [lum(parse(style.outlineColor)), lum(bg || [255, 255, 255])].sort((a, b) => b - a);
      return {style: style.outlineStyle, width: parseFloat(style.outlineWidth), ratio: (x + 0.05) / (y + 0.05)};
    }""", selector)


# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("theme, width, height", CONFIGS)
def test_answer_tools_contrast_and_screenshots(open_page, server, answers, tmp_path, theme, width, height):
    """One answer in each theme and width: hooks, the bold answer phrase, the marker's label and
    preview, copy, suggestions, contrast of text, borders, placeholder and focus rings."""
    page, watch = open_page(theme, width, height)
    page.goto(server + "/")
    folder = shots_dir(tmp_path)
    name = f"{theme}-{width}"
    page.screenshot(path=str(folder / f"ui-welcome-{name}.png"))
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") is (theme == "dark")

    # The pending state sits above the input, visibly, and is announced through role=status.
    page.evaluate("""() => { window.__pending = [];
        new MutationObserver(() => { const t = document.getElementById('pending-text').textContent;
          if (t) window.__pending.push([t, document.getElementById('pending').getBoundingClientRect().bottom,
                                        document.getElementById('question').getBoundingClientRect().top]); })
          .observe(document.getElementById('status'), {subtree: true, childList: true, characterData: true}); }""")
    turn = ask(page, "APRSAFはいつ設立されましたか？")
    seen = page.evaluate("window.__pending")
    assert seen and seen[0][0] == "資料を調べています…" and seen[0][1] <= seen[0][2]
    assert page.locator("#status").get_attribute("role") == "status"
    assert page.locator("#pending").is_hidden()

    assert page.locator('[data-role="user"]').count() == 1 and turn.get_attribute("data-role") == "assistant"
    strong = turn.locator(".card-text mark strong.answer-span")
    assert strong.inner_text() == "1993年"
    assert page.evaluate("getComputedStyle(document.querySelector('strong.answer-span')).fontWeight") >= "700"
    assert answers["sentence"] == turn.locator(".card-text mark").inner_text()
    ref = turn.locator("a.cite-ref")
    assert ref.get_attribute("aria-label") == "出典1"
    ref.focus()
    preview = turn.locator(".cite-preview")
    assert preview.is_visible() and preview.inner_text() == answers["sentence"]
    box, viewport = preview.bounding_box(), page.viewport_size
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1
    # Distinct link texts, and the new tab is announced.
    source = turn.locator("a.card-source").inner_text()
    assert source.startswith("原文で見る") and "出典1" in source
    original = turn.locator("a.card-original")
    assert original.get_attribute("target") == "_blank" and "新しいタブで開きます" in original.inner_text()
    # The answer's start is in view, below the sticky header.
    top = turn.bounding_box()["y"]
    header = page.locator(".site-header").bounding_box()
    assert header["y"] + header["height"] - 1 <= top < viewport["height"] * 0.6

    # Copy: the answer and its sources as plain text.
    turn.locator('[data-action="copy"]').click()
    wait_until(page, "document.querySelector('.action-status').textContent.length > 0")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(answers["sentence"] + "[1]")
    assert "出典:" in copied and "[1] 国際的な取り組みと貢献 — アジア・太平洋地域" in copied and "/documents/" in copied
    assert turn.locator(".action-status").inner_text() == "回答をコピーしました"

    suggestions = turn.locator(".suggestion")
    suggestions.first.wait_for()
    assert 1 <= suggestions.count() <= 3
    assert page.locator("#examples-menu").is_visible()

    page.wait_for_timeout(200)
    page.screenshot(path=str(folder / f"ui-answer-{name}.png"))
    ratios = page.evaluate(CONTRAST_JS, [TEXT_SELECTORS, BORDER_SELECTORS])
    low = {k: v for k, v in ratios.items() if v == "missing" or v < (3 if k.startswith("border") else 4.5)}
    assert not low, low
    for selector in ('[data-action="feedback-up"]', "#question", ".suggestion"):
        page.keyboard.press("Tab")  # keyboard modality, so :focus-visible applies
        ring = focus_ring_ratio(page, selector)
        assert ring["style"] != "none" or selector == "#question", (selector, ring)
        if selector != "#question":
            assert ring["width"] >= 2 and ring["ratio"] >= 3, (selector, ring)
    composer_ring = page.evaluate("""() => { document.getElementById('question').focus();
        return getComputedStyle(document.querySelector('.composer-inner')).borderTopColor; }""")
    assert composer_ring != "rgba(0, 0, 0, 0)"
    # The disabled send button keeps readable contrast too.
    page.evaluate("document.querySelector('button.send').disabled = true")
    send = page.evaluate(CONTRAST_JS, [["button.send"], []])
    assert send["button.send"] >= 4.5
    page.evaluate("document.querySelector('button.send').disabled = false")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.screenshot(path=str(folder / f"ui-answer-{name}-full.png"), full_page=True)

    # Thumbs up: pressed, thanked, and the optional comment box opens (same contrast rules).
    turn.locator('[data-action="feedback-up"]').click()
    turn.locator(".feedback-form").wait_for()
    assert turn.locator('[data-action="feedback-up"]').get_attribute("aria-pressed") == "true"
    ratios = page.evaluate(CONTRAST_JS, [['[data-action="feedback-up"]', ".feedback-label", ".feedback-send",
                                          ".action-status"], [".feedback-comment", ".feedback-send"]])
    low = {k: v for k, v in ratios.items() if v == "missing" or v < (3 if k.startswith("border") else 4.5)}
    assert not low, low
    turn.locator(".feedback-comment").scroll_into_view_if_needed()
    page.screenshot(path=str(folder / f"ui-feedback-{name}.png"))

    # The list of conversations, as a modal dialog.
    page.locator('[data-action="conversations"]').click()
    dialog = page.locator("dialog#conversations")
    dialog.wait_for()
    assert page.evaluate("document.activeElement.closest('dialog') !== null")
    ratios = page.evaluate(CONTRAST_JS, [[".conversation-title", ".conversation-meta", ".conversation-current",
                                          ".conversations-note"], [".conversation-open", ".icon-button"]])
    low = {k: v for k, v in ratios.items() if v == "missing" or v < (3 if k.startswith("border") else 4.5)}
    assert not low, low
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    delete = dialog.locator('[data-action="delete-conversation"]').first.bounding_box()
    assert delete["x"] + delete["width"] <= box["x"] + box["width"]  # long titles are cut, not the row
    page.screenshot(path=str(folder / f"ui-conversations-{name}.png"))
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    watch.check()


def test_conversation_survives_reload_language_document_and_back(open_page, server):
    page, watch = open_page()
    page.goto(server + "/")
    ask(page, "APRSAFはいつ設立されましたか？")
    ask(page, "それは誰が主体でしたか？")
    assert user_questions(page) == ["APRSAFはいつ設立されましたか？", "それは誰が主体でしたか？"]

    page.reload()
    page.locator('[data-role="assistant"]').nth(1).wait_for()
    assert user_questions(page) == ["APRSAFはいつ設立されましたか？", "それは誰が主体でしたか？"]
    assert page.locator("#welcome").count() == 0
    # Restored answers keep their cards, bold phrase and tools; the history goes to the API.
    assert page.locator("strong.answer-span").count() == 2
    with page.expect_request(lambda r: r.url.endswith("/api/ask")) as req:
        ask(page, "三つ目の質問")
    assert [t["role"] for t in req.value.post_data_json["history"]] == ["user", "assistant"] * 2

    # A second tab opens the same conversation; starting a new one there leaves this tab's alone.
    other, other_watch = open_page(context=page.context)
    other.goto(server + "/")
    other.locator('[data-role="assistant"]').nth(2).wait_for()
    other.locator('[data-action="new-conversation"]').click()
    ask(other, "別のタブの質問")
    page.reload()
    page.locator('[data-role="assistant"]').nth(2).wait_for()
    assert len(user_questions(page)) == 3
    other.close()

    page.locator('[data-action="lang"]').click()
    page.wait_for_url(re.compile(r"\?lang=en"))
    page.locator('[data-role="assistant"]').nth(2).wait_for()
    assert len(user_questions(page)) == 3
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#new-conversation").inner_text().strip() == "New conversation"

    page.locator("a.card-source").first.click()
    page.wait_for_url(re.compile(r"/documents/"))
    page.go_back()
    page.locator('[data-role="assistant"]').nth(2).wait_for()
    assert len(user_questions(page)) == 3
    page.locator("a.card-source").first.click()
    page.wait_for_url(re.compile(r"/documents/"))
    assert page.locator("html").get_attribute("lang") == "en"  # the chat's language carries over
    page.locator(".header-button", has_text="Back to the chat").click()
    page.locator('[data-role="assistant"]').nth(2).wait_for()
    assert len(user_questions(page)) == 3
    # Back where the reader left: the card whose source was opened is on screen.
    card = page.locator("#cite-j1-1").bounding_box()
    assert 0 <= card["y"] < 900
    watch.check()


def test_new_conversation_keeps_the_old_one_in_the_list(open_page, server, tmp_path):
    page, watch = open_page()
    page.goto(server + "/")
    ask(page, "APRSAFはいつ設立されましたか？")
    page.locator('[data-action="new-conversation"]').click()
    page.locator("#welcome").wait_for()
    assert page.locator("article.turn").count() == 0
    with page.expect_request(lambda r: r.url.endswith("/api/ask")) as req:
        ask(page, "JAXAの職員数は何人ですか？")
    assert req.value.post_data_json["history"] == []
    assert page.locator("article.turn-bot").get_attribute("data-found") == "false"
    # Suggestions also follow a "not found", from the related passage's document.
    page.locator(".suggestion").first.wait_for()

    page.locator('[data-action="conversations"]').click()
    dialog = page.locator("dialog#conversations")
    dialog.wait_for()
    items = dialog.locator("li.conversation-item")
    assert items.count() == 2
    assert items.first.locator(".conversation-title").inner_text() == "JAXAの職員数は何人ですか？"
    assert items.first.get_attribute("aria-current") == "true"
    page.screenshot(path=str(shots_dir(tmp_path) / "ui-conversations-light-1280.png"))

    # Rename the older one, then open it.
    items.nth(1).locator('[data-action="rename-conversation"]').click()
    field = dialog.locator("input.conversation-name")
    field.fill("APRSAFの話")
    field.press("Enter")
    assert dialog.locator(".conversation-title").all_inner_texts() == ["JAXAの職員数は何人ですか？", "APRSAFの話"]
    dialog.locator('[data-action="open-conversation"]').nth(1).click()
    assert not dialog.is_visible()
    assert user_questions(page) == ["APRSAFはいつ設立されましたか？"]

    # Names survive a reload; deleting the open conversation leaves an empty one.
    page.reload()
    page.locator('[data-action="conversations"]').click()
    # Newest activity first: renaming or opening is not activity.
    assert dialog.locator(".conversation-title").all_inner_texts() == ["JAXAの職員数は何人ですか？", "APRSAFの話"]
    assert dialog.locator("li.conversation-item").nth(1).get_attribute("aria-current") == "true"
    dialog.locator('li[aria-current="true"] [data-action="delete-conversation"]').click()
    assert dialog.locator("li.conversation-item").count() == 1
    assert page.locator("#announcer").inner_text() in ("", "会話を削除しました")
    page.keyboard.press("Escape")
    assert page.locator("article.turn").count() == 0 and page.locator("#welcome").is_visible()
    page.reload()
    assert page.locator("article.turn").count() == 0
    watch.check()


def test_feedback_is_stored_with_the_answer_and_survives_a_restart(open_page, browser, fake_seed_index,
                                                                   tokenizer, tmp_path, answers):
    """A separate server on its own data folder: rate, comment, stop, start again, still there."""
    data = tmp_path / "data"
    with live_server(fake_app(fake_seed_index, data, tokenizer)) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        page = context.new_page()
        watch = Watch(page)
        page.route("**/api/ask", lambda r: r.fulfill(status=200, content_type="application/json",
                                                     body=json.dumps(answers["found"])))
        page.goto(base + "/")
        turn = ask(page, "APRSAFはいつ設立されましたか？")
        up, down = turn.locator('[data-action="feedback-up"]'), turn.locator('[data-action="feedback-down"]')
        assert up.get_attribute("aria-pressed") == "false"
        with page.expect_response(lambda r: r.url.endswith("/api/feedback")) as resp:
            down.click()
        assert resp.value.status == 201
        expect(down).to_have_attribute("aria-pressed", "true")  # the page updates after the response
        assert up.get_attribute("aria-pressed") == "false"
        turn.locator(".feedback-comment").fill("年だけでなく参加国も知りたい")
        with page.expect_response(lambda r: "/api/feedback/" in r.url) as resp:
            turn.locator('[data-action="feedback-send"]').click()
        assert resp.value.status == 200
        expect(turn.locator(".action-status")).to_have_text("ご意見を受け付けました。ありがとうございます。")
        expect(turn.locator(".feedback-form")).to_be_hidden()
        # Kept with the conversation: after a reload the rating still shows.
        page.reload()
        assert page.locator('[data-action="feedback-down"]').get_attribute("aria-pressed") == "true"
        context.close()
        watch.check()

    with live_server(fake_app(fake_seed_index, data, tokenizer)) as base:
        listing = httpx.get(f"{base}/api/admin/feedback", headers=AUTH, timeout=10).json()
    assert listing["total"] == 1
    [item] = listing["items"]
    assert item["rating"] == "down" and item["comment"] == "年だけでなく参加国も知りたい"
    assert item["question"] == "APRSAFはいつ設立されましたか？" and item["answer"] == answers["found"]["answer"]
    assert item["index_version"] == "v-test"
    assert item["citations"][0]["chunk_id"] == answers["found"]["citations"][0]["chunk_id"]
    from bot.cli import app
    out = CliRunner().invoke(app, ["feedback", "export", "--json", "--data-dir", str(data)])
    assert json.loads(out.output)[0]["id"] == item["id"]


def test_screen_reader_hears_each_answer_once(open_page, server, answers):
    page, watch = open_page()
    page.goto(server + "/")
    log = page.locator("#log")
    assert log.get_attribute("aria-live") is None  # the log itself is not read out on every change
    live = page.locator("[aria-live], [role=status], [role=alert]")
    regions = live.evaluate_all("els => els.map(e => e.id)")
    assert set(regions) <= {"announcer", "status", "error", "toast"}, regions
    page.evaluate("""() => { window.__said = [];
        new MutationObserver(() => { const t = document.getElementById('announcer').textContent;
          if (t) window.__said.push(t); }).observe(document.getElementById('announcer'),
          {childList: true, characterData: true, subtree: true}); }""")
    ask(page, "APRSAFはいつ設立されましたか？")
    wait_until(page, "window.__said.length >= 1")
    ask(page, "JAXAの職員数は何人ですか？")
    wait_until(page, "window.__said.length >= 2")
    page.wait_for_timeout(300)
    said = page.evaluate("window.__said")
    assert len(said) == 2
    assert said[0].startswith("jaxabotの回答: ") and "（出典1）" in said[0] and "[1]" not in said[0]
    assert "APRSAFはいつ" not in said[0] and "出典1件" in said[0]
    assert "資料に答えが見つかりませんでした" in said[1] and "APRSAF" not in said[1]
    # Links are told apart by their text; card numbers have a spoken label.
    texts = page.locator("a.card-source").all_inner_texts()
    assert len(texts) == 2 and len(set(texts)) == 2, texts
    assert page.locator(".card .visually-hidden", has_text="出典1").count() >= 1
    watch.check()


def test_character_counter_instead_of_silent_truncation(open_page, server, tmp_path):
    page, watch = open_page(width=375, height=812)
    page.goto(server + "/")
    box = page.locator("#question")
    counter = page.locator("#counter")
    box.fill("あ" * 700)
    assert counter.is_hidden()
    box.fill("あ" * 850)
    assert counter.is_visible() and counter.inner_text() == "850 / 1000文字"
    box.fill("あ" * 1005)
    assert box.input_value() == "あ" * 1005  # nothing is cut off
    assert counter.inner_text() == "1005 / 1000文字" and "over" in counter.get_attribute("class")
    assert box.get_attribute("aria-invalid") == "true"
    page.screenshot(path=str(shots_dir(tmp_path) / "ui-counter-light-375.png"))
    with _no_request(page):
        box.press("Enter")
    assert "5文字長すぎます" in page.locator("#error").inner_text()
    assert page.locator("article.turn").count() == 0
    box.fill("あ" * 1000)
    assert box.get_attribute("aria-invalid") is None
    # A question taller than the screen: the answer's start is what stays in view.
    box.press("Enter")
    turn = page.locator("article.turn-bot")
    turn.wait_for()
    page.wait_for_timeout(100)
    top = turn.bounding_box()["y"]
    header = page.locator(".site-header").bounding_box()
    assert header["y"] + header["height"] - 1 <= top < 812 * 0.6, top
    watch.check()


class _no_request:
    """Asserts that no /api/ask request is sent inside the block."""

    def __init__(self, page):
        self.page, self.sent = page, []

    def __enter__(self):
        self.page.on("request", self._seen)

    def _seen(self, request):
        if request.url.endswith("/api/ask"):
            self.sent.append(request.url)

    def __exit__(self, *exc):
        self.page.wait_for_timeout(200)
        self.page.remove_listener("request", self._seen)
        assert self.sent == []


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_errors_and_start_up_speak_the_pages_language(open_page, server, theme, tmp_path, answers):
    page, watch = open_page(theme, route=False)
    # The server is "loading": the page says so in Japanese, then lets the reader ask.
    health = {"status": "loading", "detail": "the model and index are loading"}
    page.route("**/api/health", lambda r: r.fulfill(status=503, content_type="application/json",
                                                    body=json.dumps(health)))
    page.route("**/api/ask", lambda r: r.fulfill(
        status=503, content_type="application/json",
        body='{"error": "not_ready", "message": "the model and index are still loading; try again in a few seconds"}'))
    asked = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/api/ask") else None)
    page.goto(server + "/")
    page.locator("#pending-text", has_text="起動中です").wait_for()
    # Send is off while starting; a question asked meanwhile waits (no error) and goes when ready.
    assert page.locator("button.send").is_disabled()
    page.locator("#question").fill("SAFEとは？")
    page.locator("#question").press("Enter")
    page.locator("#pending-text", has_text="準備ができしだい質問を送ります").wait_for()
    assert page.locator("#error").is_hidden() and asked == []
    assert page.locator("#question").input_value() == "SAFEとは？"
    assert page.locator("#pending-text").inner_text().startswith("起動中です")
    page.screenshot(path=str(shots_dir(tmp_path) / f"ui-starting-{theme}-1280.png"))
    page.unroute("**/api/health")
    # Sent once ready; this /api/ask still says not_ready: the question waits again, no error.
    for _ in range(200):
        if asked:
            break
        page.wait_for_timeout(50)
    assert asked
    page.locator("#pending-text", has_text="準備ができしだい").wait_for()
    assert page.locator("#error").is_hidden() and page.locator("article.turn").count() == 0
    page.unroute("**/api/ask")
    page.route("**/api/ask", lambda r: r.fulfill(status=200, content_type="application/json",
                                                 body=json.dumps(dict(answers["found"], query="SAFEとは？"))))
    page.locator("article.turn-bot").wait_for()
    assert page.locator("#pending").is_hidden() and page.locator("#error").is_hidden()
    watch.errors = [e for e in watch.errors if "503" not in e]  # the browser logs the failed fetches

    # The English page, an unknown error code: English, by status.
    page.route("**/api/ask", lambda r: r.fulfill(status=429, content_type="application/json",
                                                 body='{"error": "slow_down", "message": "x"}'), times=1)
    page.goto(server + "/?lang=en")
    page.locator("#question").fill("When was SAFE founded?")
    page.locator("#question").press("Enter")
    page.locator("#error").wait_for()
    assert page.locator("#error").inner_text() == "Error: Too many requests. Please wait a moment and try again."
    watch.errors = [e for e in watch.errors if "429" not in e and "503" not in e]
    watch.check()


def test_document_page_and_docs_link_in_dark(open_page, server, tmp_path):
    page, watch = open_page("dark", 375, 812)
    page.goto(server + "/")
    link = page.locator(".chat-footer a[href='/docs']")
    assert link.is_visible()
    ask(page, "APRSAFはいつ設立されましたか？")
    page.locator("a.card-source").first.click()
    page.wait_for_url(re.compile(r"/documents/"))
    ratios = page.evaluate(CONTRAST_JS_NO_COMPOSER,
                           [["body", ".document-title", ".document-kicker", ".passage p", "mark.cited-sentence",
                             ".document-url a"], []])
    assert all(v != "missing" and v >= 4.5 for v in ratios.values()), ratios
    page.screenshot(path=str(shots_dir(tmp_path) / "ui-document-dark-375.png"))
    watch.check()

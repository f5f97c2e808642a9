"""The chat in a real browser: Playwright (sync API) driving Debian's Chromium against a uvicorn
server with the real model and the seed index.

These tests never skip: without /usr/bin/chromium they fail with instructions (CI installs it).
Screenshots go to $SHOTS_DIR when set (e.g. SHOTS_DIR=/tmp/jaxabot-shots), else to a temp folder.
"""

import re
import shutil

import pytest
from browser_helpers import TIMEOUT_MS, Pages, ask, shots_dir
from web_helpers import SEED_CORPUS, live_server, make_settings

XSS_TEXT = "<img src=x onerror=alert(1)>"
SCRIPT_TEXT = "</script><script>alert(2)</script>"


@pytest.fixture
def open_page(browser):
    pages = Pages()

    def open_(width: int = 1280, height: int = 900, javascript: bool = True, locale: str = "ja-JP"):
        context = browser.new_context(viewport={"width": width, "height": height},
                                      java_script_enabled=javascript, locale=locale)
        context.set_default_timeout(TIMEOUT_MS)
        pages.contexts.append(context)
        return pages.new(context)

    yield open_
    pages.close()


# ---------------------------------------------------------------------------------------------

def test_japanese_question_gets_a_cited_answer(open_page, real_server):
    page, watch = open_page()
    page.goto(real_server + "/")
    assert page.locator("#welcome").is_visible()
    assert page.locator("#welcome button.example").count() == 3

    # The skip link is the first stop for the keyboard and has a visible focus ring.
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, getComputedStyle(document.activeElement).outlineStyle]")
    assert focused == ["skip-link", "solid"]

    box = page.locator("#question")
    box.fill("SAFEは")
    box.press("Shift+Enter")
    assert box.input_value() == "SAFEは\n" and page.locator("article.turn").count() == 0

    # Record the pending state as it happens (it may last only a fraction of a second).
    page.evaluate("""() => {
        window.__sawPending = false;
        const pending = document.getElementById('pending');
        new MutationObserver(() => { if (!pending.hidden) window.__sawPending = true; })
            .observe(pending, {attributes: true});
    }""")
    turn = ask(page, "SAFEは何年に設立されましたか？", 1)
    assert page.evaluate("window.__sawPending") is True
    assert page.locator("#pending").is_hidden()
    assert turn.get_attribute("data-found") == "true"
    assert "2006" in turn.locator(".answer-text").inner_text()
    assert page.locator("#welcome").count() == 0
    assert page.locator("article.turn-user").inner_text().endswith("SAFEは何年に設立されましたか？")
    cards = turn.locator(".citations .card")
    assert cards.count() >= 1
    assert "SAFE" in cards.first.locator("mark").inner_text()
    assert cards.first.locator(".card-title").inner_text() == "国際的な取り組みと貢献"
    assert cards.first.locator(".card-section").inner_text()
    # Each answer is announced once through its own live region, not the whole log.
    assert page.locator("#log").get_attribute("aria-live") is None
    assert page.locator("#announcer").get_attribute("aria-live") == "polite"

    # [1] links to its card and moves focus there.
    ref = turn.locator("a.cite-ref").first
    assert ref.inner_text() == "[1]"
    ref.click()
    assert page.evaluate("document.activeElement.id") == cards.first.get_attribute("id")
    assert box.input_value() == ""
    watch.check()


def test_citation_link_lands_on_the_highlighted_passage(open_page, real_server):
    page, watch = open_page()
    page.goto(real_server + "/")
    turn = ask(page, "カナダとはどの分野で協力していますか？", 1)
    card = turn.locator(".citations .card").first
    cited = card.locator("mark").inner_text()
    assert "カナダ" in cited
    card.locator("a.card-source").click()
    page.wait_for_url(re.compile(r"/documents/jaxa-international-cooperation\?chunk=.*#p-"))
    mark = page.locator("mark.cited-sentence")
    assert mark.count() == 1 and mark.inner_text() == cited
    target = page.evaluate("location.hash.slice(1)")
    passage = page.locator(f"section.passage#{target}")
    assert "cited" in passage.get_attribute("class")
    # Scrolled to, and not hidden under the sticky header.
    box = mark.bounding_box()
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= box["y"] < 900, (box, header)
    watch.check()


def test_follow_up_question_uses_the_conversation(open_page, real_server):
    page, watch = open_page()
    page.goto(real_server + "/")
    first = ask(page, "APRSAFとは何ですか？", 1)
    assert first.get_attribute("data-found") == "true"
    with page.expect_request(lambda r: r.url.endswith("/api/ask")) as request_info:
        second = ask(page, "それはいつ設立されましたか？", 2)
    sent = request_info.value.post_data_json
    assert [t["role"] for t in sent["history"]] == ["user", "assistant"]
    assert sent["history"][0]["content"] == "APRSAFとは何ですか？"
    assert second.get_attribute("data-found") == "true"
    assert "1993" in second.locator(".answer-text").inner_text()
    # Card ids stay unique across answers.
    ids = page.eval_on_selector_all(".card[id]", "els => els.map(e => e.id)")
    assert len(ids) == len(set(ids))

    # Starting over clears the conversation.
    page.locator("#new-conversation").click()
    page.locator("#welcome").wait_for()
    assert page.locator("article.turn").count() == 0
    with page.expect_request(lambda r: r.url.endswith("/api/ask")) as request_info:
        ask(page, "SAFEは何年に設立されましたか？", 1)
    assert request_info.value.post_data_json["history"] == []
    watch.check()


def test_question_outside_the_documents_shows_not_found(open_page, real_server):
    page, watch = open_page()
    page.goto(real_server + "/")
    turn = ask(page, "JAXAの職員数は何人ですか？", 1)
    assert "not-found" in turn.get_attribute("class")
    assert turn.get_attribute("data-found") == "false"
    assert "資料に答えが見つかりませんでした" in turn.locator(".nf-title").inner_text()
    assert turn.locator(".citations:not(.related)").count() == 0
    assert turn.locator(".related .card").count() >= 1
    assert turn.locator("a.cite-ref").count() == 0
    watch.check()


def test_errors_are_shown_in_the_page(open_page, real_server):
    page, watch = open_page()
    page.goto(real_server + "/")
    page.route("**/api/ask", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body='{"error": "no_index", "message": "<b>no index</b> is loaded"}'))
    page.locator("#question").fill("SAFEは何年に設立されましたか？")
    page.locator("#question").press("Enter")
    banner = page.locator("#error")
    banner.wait_for()
    assert banner.get_attribute("role") == "alert"
    # In the page's language (the server's English message is for API clients), never as markup.
    assert banner.inner_text() == "エラー: 資料の索引がまだ作られていません。管理者にお問い合わせください。"
    assert banner.locator("b").count() == 0
    assert page.locator("#question").input_value() == "SAFEは何年に設立されましたか？"
    assert page.locator("article.turn").count() == 0
    watch.errors = [e for e in watch.errors if "503" not in e]  # the browser logs the failed fetch
    watch.check()


def test_works_without_javascript(open_page, real_server):
    page, watch = open_page(javascript=False)
    page.goto(real_server + "/")
    page.locator("button.example").first.click()
    page.locator("article.turn-bot").wait_for()
    assert page.locator("article.turn-bot .card").count() >= 1
    page.locator("#question").fill("それはいつ設立されましたか？")
    page.locator("button.send").click()
    page.wait_for_load_state()
    assert page.locator("article.turn-user").count() == 2
    page.locator("article.turn-bot .card a.card-source").first.click()
    page.wait_for_url(re.compile(r"/documents/"))
    assert page.locator("mark.cited-sentence").count() == 1
    watch.check()


def test_script_and_server_render_the_same_answer(open_page, real_server):
    """chat.js mirrors templates/_answer.html: same text, same excerpts, same links."""
    question = "When was APRSAF founded?"

    def snapshot(page):
        turn = page.locator("article.turn-bot").last
        return {
            "answer": turn.locator(".bubble").inner_text(),
            "cards": turn.locator(".card-text").all_inner_texts(),
            "marks": turn.locator(".card-text mark").all_inner_texts(),
            "places": turn.locator(".card-place").all_inner_texts(),  # none for the seed's text files
            "titles": turn.locator(".citations-title").all_inner_texts(),
            # Links carry the page's language, which differs here (the form follows the question's).
            "links": [re.sub(r"&lang=(ja|en)", "", a.get_attribute("href"))
                      for a in turn.locator(".card-links a").all()],
        }

    static, _ = open_page(javascript=False)
    static.goto(real_server + "/")
    static.locator("#question").fill(question)
    static.locator("button.send").click()
    static.locator("article.turn-bot").wait_for()
    dynamic, _ = open_page()
    dynamic.goto(real_server + "/")
    ask(dynamic, question, 1)
    expected, got = snapshot(static), snapshot(dynamic)
    assert got["cards"] and got["marks"]
    assert got["links"] == [link.replace("#cite-s-", "#cite-j1-") for link in expected["links"]]
    assert got == dict(expected, links=got["links"])


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, seed_index_dir, real_embedder, tokenizer):
    """Seed corpus plus a document full of markup, built incrementally on a copy of the seed index."""
    from bot.store.build import build_index
    from web.app import create_app
    root = tmp_path_factory.mktemp("hostile")
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(SEED_CORPUS, corpus)
    shutil.copytree(seed_index_dir, index)
    (corpus / "hostile.txt").write_text(
        "---\ntitle: \"試験文書 <script>alert('title')</script>\"\nurl: \"javascript:alert(3)\"\nlang: ja\n---\n"
        "ゼータ宇宙協定\n\n"
        f"ゼータ宇宙協定の調印式では、{XSS_TEXT} という文字列と {SCRIPT_TEXT} という文字列が資料に記載されました。\n"
        "ゼータ宇宙協定は2040年に調印される予定の架空の協定です。\n", encoding="utf-8")
    build_index(corpus, index, real_embedder, tokenizer, max_bytes=10_000_000)
    app = create_app(make_settings(corpus, index), embedder=real_embedder, tokenizer=tokenizer)
    with live_server(app) as base:
        yield base


def test_markup_in_documents_is_shown_as_text(open_page, hostile_server):
    page, watch = open_page()
    page.goto(hostile_server + "/")
    turn = ask(page, "ゼータ宇宙協定の調印式では何が記載されましたか？", 1)
    assert turn.get_attribute("data-found") == "true"
    text = turn.inner_text()
    assert XSS_TEXT in text and "</script>" in text
    assert page.locator("img[src=x]").count() == 0
    assert turn.locator("a[href^=javascript]").count() == 0
    assert "<script>alert('title')</script>" in turn.locator(".card-title").first.inner_text()

    turn.locator("a.card-source").first.click()
    page.wait_for_url(re.compile(r"/documents/hostile"))
    body = page.locator("article.document").inner_text()
    assert XSS_TEXT in body and SCRIPT_TEXT in body
    assert "<script>alert('title')</script>" in page.locator("h1.document-title").inner_text()
    assert page.locator("img[src=x]").count() == 0 and page.locator("a[href^=javascript]").count() == 0
    page.wait_for_timeout(300)  # give any injected handler a chance to fire
    watch.check()


@pytest.mark.parametrize("name, width, height", [("desktop", 1280, 900), ("phone", 375, 812)])
def test_chat_layout_and_screenshots(open_page, real_server, tmp_path, name, width, height):
    page, watch = open_page(width, height)
    page.goto(real_server + "/")
    folder = shots_dir(tmp_path)
    page.screenshot(path=str(folder / f"chat-empty-{name}.png"))
    ask(page, "APRSAFとは何ですか？", 1)
    page.wait_for_timeout(600)  # let the smooth scroll settle before the screenshot
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"horizontal overflow of {overflow}px at {width}px"
    composer = page.locator("#ask-form").bounding_box()
    assert composer["x"] >= 0 and composer["x"] + composer["width"] <= width
    page.screenshot(path=str(folder / f"chat-answer-{name}.png"))
    page.screenshot(path=str(folder / f"chat-answer-{name}-full.png"), full_page=True)
    page.locator("article.turn-bot a.card-source").first.click()
    page.wait_for_url(re.compile(r"/documents/"))
    page.wait_for_timeout(300)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.screenshot(path=str(folder / f"document-{name}.png"))
    watch.check()


def test_api_docs_render_locally_under_the_csp(open_page, real_server):
    page, watch = open_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(real_server + "/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "jaxabot" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-summary-path", has_text="/api/ask").first.wait_for()
    assert all(u.startswith(real_server) for u in requests), [u for u in requests if not u.startswith(real_server)]
    watch.check()


def test_english_question_gets_english_statement_quotes_and_glossary(open_page, real_server, tmp_path):
    """Issue 9: an English asker reads an English statement, the quoted Japanese source labelled as
    such, and a glossary that says it is not a translation; a refusal lists no Japanese passages."""
    page, watch = open_page(locale="en-US")
    page.goto(real_server + "/")
    turn = ask(page, "What was the title of the German National Day special event at Expo 2025?", 1)
    assert turn.get_attribute("data-found") == "true" and turn.get_attribute("lang") == "en"
    text = turn.locator(".answer-text").first.inner_text()
    statement = text.split("\n")[0]
    assert re.search(r"\[\d\]", statement) and not re.search(r"[\u3040-\u30ff]", statement.split(":")[0])
    # The Japanese quotes (lang="ja") and the glossary fold under the English lead.
    fold = turn.locator("details.ja-source")
    assert fold.locator("summary").inner_text() == "Japanese source text" and fold.get_attribute("open") is None
    fold.locator("summary").click()
    assert fold.locator(".ja-quote span[lang=ja]").first.is_visible()
    glossary = fold.locator(".glossary-title").inner_text()
    assert "Glossary" in glossary and "not a translation" in glossary
    assert fold.locator(".glossary span[lang=ja]").count() >= 1
    assert turn.locator("a.cite-ref").count() >= 2  # the statement's marker and the quote's
    assert turn.locator(".citations .card").count() >= 1
    turn.screenshot(path=str(shots_dir(tmp_path) / "english-answer.png"))

    refused = ask(page, "What is the best pizza topping?", 2)
    assert refused.get_attribute("data-found") == "false"
    assert refused.locator(".related .card").count() == 0
    watch.check()

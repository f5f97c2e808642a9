"""Server side of the conversation UI: the bold answer phrase, suggested questions (also without
JavaScript), automation hooks, the /docs link, errors in the page's language. Fast: templates
rendered by name and the app on the fake embedder."""

from types import SimpleNamespace

import pytest
from fakes import GatedEmbedder
from page_checks import XSS, assert_no_inline_code, fake_answer, hidden_history
from web_helpers import wait_ready

from bot.results import Answer, DocumentView, PassageSpan

DOC_ID = "jaxa-international-cooperation"


@pytest.fixture
def templates():
    from web.app import _templates
    return _templates().env


def spanned_answer(phrase: str, span_shift: int = 0) -> Answer:
    answer = fake_answer(f"設立は{phrase}です。")
    c = answer.citations[0]
    start = c.text.index(phrase) + span_shift
    cited = c.model_copy(update={"answer_span": (start, start + len(phrase))})
    return answer.model_copy(update={"citations": [cited]})


# ---------------------------------------------------------------------------------------------
# The answer phrase in bold

def test_card_parts_bolds_the_span_inside_the_cited_sentence():
    from web.view import card_parts
    text = "前の文。SAFEは2006年に設立された。後の文。"
    hl = (4, 21)
    assert card_parts(text, hl, (9, 14)) == [
        ("前の文。", False, []),
        ("SAFEは2006年に設立された。", True, [("SAFEは", False), ("2006年", True), ("に設立された。", False)]),
        ("後の文。", False, [])]
    # No span, or a span outside the sentence: the sentence is marked, nothing is bold.
    for span in (None, (0, 3), (21, 24)):
        assert card_parts(text, hl, span)[1] == (
            "SAFEは2006年に設立された。", True, [("SAFEは2006年に設立された。", False)])
    # A span overlapping the sentence's edge is clipped to it.
    assert card_parts(text, hl, (2, 8))[1][2] == [("SAFE", True), ("は2006年に設立された。", False)]


def test_answer_span_is_bold_in_the_rendered_card_and_escaped(templates):
    from web.routes.pages import chat_context
    html = templates.get_template("chat.html").render(chat_context("ja", question="Q", answer=spanned_answer("2006年")))
    assert '<mark>設立は<strong class="answer-span">2006年</strong>です。</mark>' in html
    hostile = templates.get_template("chat.html").render(chat_context("ja", question="Q", answer=spanned_answer(XSS)))
    assert '<strong class="answer-span">&lt;img src=x' in hostile and "<img src=x" not in hostile
    assert_no_inline_code(hostile)


def test_a_phrase_only_the_heading_gives_is_bold_in_the_cards_section(templates):
    from web.routes.pages import chat_context
    from web.view import section_parts
    assert section_parts("12「はやぶさ2」(95秒)", (10, 13)) == [
        ("12「はやぶさ2」(", False), ("95秒", True), (")", False)]
    assert section_parts("見出し", None) == section_parts("見出し", (2, 9)) == [("見出し", False)]
    answer = fake_answer("答え")
    cited = answer.citations[0].model_copy(update={"section": f"ガイド({XSS})", "section_span": (4, 4 + len(XSS))})
    html = templates.get_template("chat.html").render(
        chat_context("ja", question="Q", answer=answer.model_copy(update={"citations": [cited]})))
    assert '<p class="card-section">ガイド(<mark><strong class="answer-span">&lt;img src=x' in html
    assert "<img src=x" not in html


def test_markers_cards_and_links_have_distinct_spoken_labels(templates):
    from web.routes.pages import chat_context
    html = templates.get_template("chat.html").render(chat_context("ja", question="Q", answer=fake_answer("答え")))
    assert 'class="cite-ref" href="#cite-s-1" aria-label="出典1"' in html
    assert '<span class="card-n" aria-hidden="true">1</span><span class="visually-hidden">出典1</span>' in html
    assert '原文で見る<span class="visually-hidden">（出典1）</span>' in html
    assert '元のページ<span class="visually-hidden">（出典1）（新しいタブで開きます）</span>' in html
    english = fake_answer("x").model_copy(update={"language": "en"})
    en = templates.get_template("chat.html").render(chat_context("en", question="Q", answer=english))
    assert "Original page<span class=\"visually-hidden\"> (Source 1) (opens in a new tab)</span>" in en


# ---------------------------------------------------------------------------------------------
# Suggested questions

def _doc(sections: list[str]) -> DocumentView:
    """One passage per section name, each opening with a sentence about its own subject."""
    text, passages = "", []
    for i, s in enumerate(sections):
        sentence = f"機関{s}は、協力を推進しています。"
        passages.append(PassageSpan(chunk_id=f"d#p{i}", section=s, start=len(text), end=len(text) + len(sentence),
                                    sentences=[(len(text), len(text) + len(sentence))]))
        text += sentence + "\n"
    return DocumentView(doc_id="d", title="t", url=None, lang="ja", path="d.txt", text=text, passages=passages)


def test_next_questions_prefer_nearby_sections_and_are_asked_from_their_first_sentence():
    from web.questions import next_questions
    doc = _doc(["A", "B", "C", "C", "D", "E"])
    answered = lambda q: SimpleNamespace(state="answered")  # noqa: E731
    # Nearest sections first (ties: earlier in the document); C is the passage's own.
    assert next_questions(doc, "d#p2", "ja", ask=answered) == [
        "機関Bは何を推進していますか？", "機関Aは何を推進していますか？", "機関Dは何を推進していますか？"]
    assert next_questions(doc, "d#p2", "ja", include_own=True, ask=answered)[0] == "機関Cは何を推進していますか？"
    assert next_questions(doc, "d#p99", "ja") == []


def test_no_js_answer_offers_suggestions_that_continue_the_conversation(fake_client):
    r = fake_client.post("/", data={"question": "アジア・太平洋地域の協力について"})
    assert r.status_code == 200
    suggestions = r.context["suggestions"]
    assert len(suggestions) <= 3
    html = r.text
    for q in suggestions:  # each one a question the engine answers, not a section title
        assert f'form="ask-form" name="suggested" value="{q}" formnovalidate>{q}</button>' in html
        assert "について教えてください" not in q
        assert fake_client.post("/api/ask", json={"question": q}).json()["state"] == "answered"
    suggestions = suggestions or ["アジア・太平洋地域の協力について"]
    # The examples stay reachable after the first question.
    assert '<details class="examples-menu" id="examples-menu">' in html
    history = hidden_history(html)
    data = {"suggested": suggestions[0], "question": "",
            "history_role": [x for x, _ in history], "history_content": [c for _, c in history]}
    follow = fake_client.post("/", data=data)
    assert follow.status_code == 200 and follow.context["question"] == suggestions[0]
    assert len(hidden_history(follow.text)) == 4


# ---------------------------------------------------------------------------------------------
# Page furniture, hooks and errors

def test_chat_page_hooks_footer_and_regions(fake_client):
    html = fake_client.get("/").text
    for hook in ('data-action="lang"', 'data-action="new-conversation"', 'data-action="conversations"'):
        assert hook in html
    assert '<a href="/docs" data-action="api-docs">APIドキュメント</a>' in html
    assert 'id="announcer" class="visually-hidden" aria-live="polite"' in html
    assert 'id="status" class="status" role="status"' in html
    assert '<section id="log" class="log" aria-label="会話">' in html  # not a live region
    assert "maxlength" not in html.split('id="question"')[1].split(">")[0]  # no silent truncation
    assert '<meta name="color-scheme" content="light dark">' in html
    assert '<details class="examples-menu" id="examples-menu" hidden>' in html
    r = fake_client.post("/", data={"question": "x"})
    assert 'data-role="user"' in r.text and 'data-role="assistant"' in r.text


def test_no_js_errors_speak_the_pages_language(fake_client):
    r = fake_client.post("/", data={"question": "あ" * 1003})
    assert r.status_code == 422 and "質問が3文字長すぎます（最大1000文字）。" in r.text
    r = fake_client.post("/", data={"question": "   "})
    assert r.status_code == 422 and "この質問は受け付けられません" in r.text
    r = fake_client.get("/documents/no-such-doc", headers={"accept": "text/html"})
    assert r.status_code == 404 and "お探しのページや資料は見つかりませんでした。" in r.text
    r = fake_client.get("/documents/no-such-doc", headers={"accept": "text/html", "accept-language": "en"})
    assert "The page or document was not found." in r.text and '<p class="error-detail" lang="en">' in r.text


def test_start_up_error_page_is_in_japanese(fake_app_factory):
    embedder = GatedEmbedder(block_name=True)
    client = fake_app_factory(embedder=embedder, wait=False)
    assert embedder.entered.wait(10)
    r = client.post("/", data={"question": "SAFEとは？", "history_role": "user", "history_content": "JAXAとは？"},
                    headers={"accept": "text/html", "accept-language": "ja"})
    # Without JavaScript the page says it is starting, keeps the question in the box and the
    # conversation in the form, and asks the reader to send it again.
    assert r.status_code == 503 and r.headers["retry-after"]
    assert "起動中です。準備ができると質問できます…" in r.text and "もう一度送信してください" in r.text
    assert ">SAFEとは？</textarea>" in r.text and 'value="JAXAとは？"' in r.text
    embedder.release.set()
    wait_ready(client.app.state.runtime)


def test_source_links_carry_the_chats_language(templates):
    from web.routes.pages import chat_context
    from web.view import source_href
    assert source_href("d", "d#p0", (1, 4), "en") == "/documents/d?chunk=d%23p0&hl=1-4&lang=en#p-d-p0"
    assert source_href("d", "d#p0", None, "xx") == "/documents/d?chunk=d%23p0#p-d-p0"
    html = templates.get_template("chat.html").render(chat_context("en", question="Q", answer=fake_answer("x")))
    assert f'href="/documents/{DOC_ID}?chunk={DOC_ID}%23p1&amp;hl=4-5&amp;lang=en#p-' in html


# ---------------------------------------------------------------------------------------------
# Issue 26: answer states, the searched question, English layout, dates, start-up progress

def _render(templates, answer, question="Q", lang="ja"):
    from web.routes.pages import chat_context
    return templates.get_template("chat.html").render(chat_context(lang, question=question, answer=answer))


def test_three_states_render_distinctly(templates):
    answered = fake_answer("答え").model_copy(update={"query": "Q"})
    html = _render(templates, answered)
    assert 'data-state="answered"' in html and "state-answered" in html and "一部のみ回答" not in html
    assert 'role="group"' not in html.split('<div class="bubble"')[2].split(">")[0]
    partial = answered.model_copy(update={"found": False, "state": "partial",
                                          "answer": "資料は設立[1]に触れていますが、費用は書かれていません。"})
    html = _render(templates, partial)
    assert 'class="turn turn-bot state-partial"' in html and 'data-found="false" data-state="partial"' in html
    assert '<div class="bubble" role="group" aria-labelledby="state-s">' in html
    assert ('<p class="partial-title" id="state-s">'
            '<span class="partial-icon" aria-hidden="true"></span>一部のみ回答</p>') in html
    assert 'class="cite-ref" href="#cite-s-1"' in html and '<section class="citations"' in html
    missing = fake_answer("x", found=False).model_copy(update={"query": "Q", "state": "not_found"})
    html = _render(templates, missing)
    assert "state-not-found not-found" in html and 'id="state-s"><span class="nf-icon"' in html
    assert '<section class="citations related"' in html
    # An answer without `state` (stored before it existed) is told by `found`.
    from web.view import answer_state
    assert answer_state(fake_answer("x", found=False)) == "not_found" and answer_state(answered) == "answered"


def test_searched_question_and_the_no_js_re_ask_without_history(templates, fake_client):
    from web.view import searched_query
    assert searched_query("それはいつ？", "APRSAF それはいつ？") == "APRSAF それはいつ？"
    assert searched_query(" APRSAFとは？ ", "APRSAFとは？") is None and searched_query("q", None) is None
    html = _render(templates, fake_answer("x").model_copy(update={"query": "SAFE <b>いつ</b>"}), question="いつ？")
    assert '<p class="searched-text">「SAFE &lt;b&gt;いつ&lt;/b&gt;」として検索しました</p>' in html
    assert 'name="standalone" value="いつ？" formnovalidate>前の会話を使わずに検索</button>' in html
    en = _render(templates, fake_answer("x").model_copy(update={"query": "When was SAFE founded?", "language": "en"}),
                 question="When was it founded?", lang="en")
    assert "Searched for: When was SAFE founded?" in en and ">Search without the conversation</button>" in en

    seen = []
    engine = fake_client.app.state.runtime.engine
    ask = engine.ask
    engine.ask = lambda question, history, top_k=3: seen.append(list(history)) or ask(question, history, top_k)
    data = {"standalone": "それはいつですか？", "question": "", "history_role": ["user", "assistant"],
            "history_content": ["SAFEとは？", "答え"]}
    r = fake_client.post("/", data=data)
    assert r.status_code == 200 and seen == [[]] and r.context["question"] == "それはいつですか？"
    assert len(hidden_history(r.text)) == 4  # the conversation stays on the page


def test_english_answer_folds_japanese_quotes_and_glossary(templates):
    from web.view import answer_layout
    text = ("When: 2006 [1]. (From the cited Japanese text; its words are glossed below.)\n\n"
            "「SAFEは2006年に設立。」[1] (Japanese source)\n“An English one.” [1] (English source)\n\n"
            "Glossary (dictionary glosses of words in the quoted Japanese; not a translation):\n- 設立: establishment")
    layout = answer_layout(text, "en")
    assert layout.main == ("When: 2006 [1]. (From the cited Japanese text; its words are glossed below.)\n\n"
                           "“An English one.” [1] (English source)")
    assert layout.quotes == ["「SAFEは2006年に設立。」[1]"] and layout.glossary == [("設立", "establishment")]
    assert answer_layout("Only English.\n\n“x” [1] (English source)", "en").quotes == []
    assert answer_layout(text, "ja").main == text
    html = _render(templates, fake_answer("x").model_copy(update={"answer": text, "language": "en", "query": "Q"}),
                   lang="en")
    assert '<details class="ja-source">' in html and "<summary>Japanese source text</summary>" in html
    assert '<p class="ja-quote"><span lang="ja">「SAFEは2006年に設立。」</span><a class="cite-ref"' in html
    assert '<li><span lang="ja">設立</span>: establishment</li>' in html
    # Japanese document text in an English answer carries lang="ja".
    assert '<h3 class="card-title" lang="ja">' in html and '<blockquote class="card-text" lang="ja">' in html


def test_dates_on_cards_and_in_the_document_view(templates):
    from web.view import format_date
    assert format_date("2019-09-24", "ja") == ("2019年9月24日", "2019-09-24")
    assert format_date("2019-09", "en") == ("September 2019", "2019-09")
    assert format_date("平成31年", "ja") == ("平成31年", None)
    assert format_date(None, "ja") is None and format_date("", "en") is None
    answer = fake_answer("x")
    dated = answer.model_copy(update={"citations": [answer.citations[0].model_copy(update={"date": "2019-09-24"})]})
    html = _render(templates, dated)
    assert '<p class="card-date"><time datetime="2019-09-24">2019年9月24日の資料</time></p>' in html
    assert 'class="card-date"' not in _render(templates, answer)  # no date, no line

    doc = DocumentView(doc_id="d", title="t", url=None, lang="ja", path="d.txt", text="本文。", passages=[],
                    date="2024-04-01")
    from web.i18n import STRINGS
    page = templates.get_template("document.html").render(lang="en", t=STRINGS["en"], doc=doc, chunk=None,
                                                          blocks=[], place=None, page_image=None, original=None)
    assert '<p class="document-date"><time datetime="2024-04-01">Dated 1 April 2024</time></p>' in page


def test_plural_strings_and_short_english_placeholder():
    from web.i18n import STRINGS
    assert STRINGS["en"]["questions_count_one"] == "{n} question"
    assert STRINGS["en"]["questions_count"] == "{n} questions"
    assert STRINGS["en"]["sources_count_one"] == "{n} source"
    assert len(STRINGS["en"]["placeholder"]) <= 30


def test_health_reports_the_first_builds_progress_while_starting(fake_app_factory, tmp_path, monkeypatch):
    import threading

    import web.server.runtime
    from bot.store.progress import BuildProgress
    release, reported = threading.Event(), threading.Event()
    real_build = web.server.runtime.build_index

    def slow_build(*args, progress=None, **kwargs):
        progress(BuildProgress(stage="splitting", documents_done=38, documents_total=76))
        reported.set()
        assert release.wait(60)
        return real_build(*args, progress=progress, **kwargs)

    monkeypatch.setattr(web.server.runtime, "build_index", slow_build)
    client = fake_app_factory(index_dir=tmp_path / "new-index", build_if_missing=True, wait=False)
    assert reported.wait(30)
    r = client.get("/api/health")
    assert r.status_code == 503 and r.json()["status"] == "loading"
    build = r.json()["build"]
    assert (build["stage"], build["documents_done"], build["documents_total"]) == ("splitting", 38, 76)
    page = client.get("/", headers={"accept-language": "ja"})
    assert "<noscript><p class=\"startup-notice\" role=\"status\">索引を作成中 38/76件" in page.text
    release.set()
    wait_ready(client.app.state.runtime)
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json()["build"] is None
    assert "startup-notice" not in client.get("/").text


# ---------------------------------------------------------------------------------------------
# Issue 24: where the cited sentence is (page, slide, sheet and row, OCR) on every card

def test_card_place_speaks_the_readers_language():
    from web.i18n import STRINGS
    from web.view import card_place, ocr_percent
    ja, en = STRINGS["ja"], STRINGS["en"]
    c = fake_answer("x").citations[0]
    assert card_place(c, ja) == [] and card_place(SimpleNamespace(), en) == []  # plain text, related passages
    pdf = c.model_copy(update={"page": 3, "ocr_confidence": 0.864})
    assert card_place(pdf, ja) == [("where", "3ページ"), ("ocr", "OCR（信頼度 86%）")]
    assert card_place(pdf, en) == [("where", "Page 3"), ("ocr", "OCR (confidence 86%)")]
    slide = c.model_copy(update={"slide": 3})
    assert card_place(slide, ja) == [("where", "スライド3")] and card_place(slide, en) == [("where", "Slide 3")]
    sheet = c.model_copy(update={"sheet": "予算", "row": 3})
    assert card_place(sheet, ja) == [("where", "シート「予算」3行目")]
    assert card_place(sheet, en) == [("where", "Sheet “予算”, row 3")]
    assert card_place(c.model_copy(update={"sheet": "予算"}), ja) == [("where", "シート「予算」")]
    # Half up, clamped, and nothing for a missing or unusable value.
    assert [ocr_percent(v) for v in (0.855, 0.005, 0.0, 1.0, 1.2, -0.1, None, float("nan"))] == \
        [86, 1, 0, 100, 100, 0, None, None]


def test_cards_show_the_place_and_ocr_mark_and_keep_their_document_link(templates):
    answer = fake_answer("x")
    c = answer.citations[0]
    located = answer.model_copy(update={"citations": [
        c.model_copy(update={"page": 3, "ocr_confidence": 0.86}),
        c.model_copy(update={"n": 2, "sheet": "<b>予算</b>", "row": 3})]})
    html = _render(templates, located)
    assert ('<p class="card-place" data-role="card-place"><span class="card-where">3ページ</span> · '
            '<span class="card-ocr">OCR（信頼度 86%）</span></p>') in html
    # Sheet names are document text: escaped.
    assert ('<p class="card-place" data-role="card-place"><span class="card-where">'
            'シート「&lt;b&gt;予算&lt;/b&gt;」3行目</span></p>') in html
    assert html.count('class="card-place"') == 2
    assert f'<a class="card-source" href="/documents/{DOC_ID}?chunk={DOC_ID}%23p1&amp;hl=4-5&amp;lang=ja#p-' in html
    en = _render(templates, located.model_copy(update={"language": "en"}), lang="en")
    assert '<span class="card-where">Page 3</span> · <span class="card-ocr">OCR (confidence 86%)</span>' in en
    assert "Sheet “&lt;b&gt;予算&lt;/b&gt;”, row 3" in en
    plain = _render(templates, answer)
    assert 'class="card-place"' not in plain  # nothing when the citation has no location
    slide = answer.model_copy(update={"citations": [c.model_copy(update={"slide": 7})]})
    assert '<span class="card-where">スライド7</span></p>' in _render(templates, slide)
    assert_no_inline_code(html)

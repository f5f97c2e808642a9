"""The HTML pages: which template renders with which context, the no-JavaScript chat, the
document view's anchors and highlights, escaping, and the pure view helpers."""

import re

import pytest
from page_checks import DOC_ID, XSS, assert_no_inline_code, fake_answer, hidden_history
from web_helpers import ADMIN_TOKEN, wait_build

from bot.results import DocumentView, PassageSpan

# ---------------------------------------------------------------------------------------------
# Routes → template name and context

@pytest.mark.slow
def test_empty_chat_page(real_client):
    r = real_client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.template.name == "chat.html"
    assert r.context["lang"] == "ja" and r.context["answer"] is None and r.context["history"] == []
    for q in ("SAFEは何年に設立されましたか？", "カナダとはどの分野で協力していますか？", "When was APRSAF founded?"):
        assert q in r.context["examples"] and q in r.text
    html = r.text
    assert '<form id="ask-form" class="composer" method="post" action="/">' in html
    assert '<label for="question"' in html and 'aria-live="polite"' in html
    assert "新しい会話" in html and 'src="/static/chat.js"' in html
    assert_no_inline_code(html)
    assert "http://" not in html.replace("http://www.w3.org", "") and "cdn" not in html.lower()


@pytest.mark.slow
@pytest.mark.parametrize("headers, params, lang", [
    ({"accept-language": "en-US,en;q=0.9,ja;q=0.5"}, {}, "en"),
    ({"accept-language": "fr-FR,ja;q=0.8,en;q=0.7"}, {}, "ja"),
    ({"accept-language": "en"}, {"lang": "ja"}, "ja"),
    ({}, {"lang": "en"}, "en"),
    ({}, {}, "ja"),
])
def test_page_language(real_client, headers, params, lang):
    r = real_client.get("/", headers=headers, params=params)
    assert r.context["lang"] == lang and f'<html lang="{lang}">' in r.text
    assert ("<span>New conversation</span>" in r.text) == (lang == "en")


@pytest.mark.slow
def test_no_js_form_post_renders_the_answer(real_client):
    r = real_client.post("/", data={"question": "SAFEは何年に設立されましたか？"})
    assert r.status_code == 200 and r.template.name == "chat.html"
    answer = r.context["answer"]
    assert answer.found and "2006" in answer.answer
    html = r.text
    assert 'class="turn turn-user"' in html and "SAFEは何年に設立されましたか？" in html
    assert html.count('class="card"') == len(answer.citations) >= 1
    c = answer.citations[0]
    # The answer phrase (answer_span) is bold inside the marked sentence.
    unbolded = re.sub(r'</?strong[^>]*>', "", html)
    assert f'<mark>{c.text[c.highlight[0]:c.highlight[1]]}</mark>' in unbolded
    if c.answer_span:
        assert f'<strong class="answer-span">{c.text[c.answer_span[0]:c.answer_span[1]]}</strong>' in html
    assert f'href="#cite-s-{c.n}"' in html and f'id="cite-s-{c.n}"' in html
    assert f'href="/documents/{DOC_ID}?chunk={DOC_ID}%23' in html
    # The conversation travels in hidden fields for the next question.
    assert hidden_history(html) == [("user", "SAFEは何年に設立されましたか？"), ("assistant", answer.answer)]
    assert_no_inline_code(html)


@pytest.mark.slow
def test_no_js_follow_up_uses_the_hidden_history(real_client):
    first = real_client.post("/", data={"question": "APRSAFとは何ですか？"})
    history = hidden_history(first.text)
    data = {"question": "それはいつ設立されましたか？",
            "history_role": [r for r, _ in history], "history_content": [c for _, c in history]}
    r = real_client.post("/", data=data)
    assert r.status_code == 200
    assert r.context["answer"].found and "1993" in r.context["answer"].answer
    assert "APRSAF" in r.context["answer"].query
    assert len(hidden_history(r.text)) == 4
    shown = r.text.split("<template")[0]  # the turns, not the script's templates after them
    assert shown.count('class="turn turn-user"') == 2


@pytest.mark.slow
def test_no_js_not_found_looks_different(real_client):
    r = real_client.post("/", data={"question": "JAXAの職員数は何人ですか？"})
    assert r.status_code == 200 and not r.context["answer"].found
    assert 'class="turn turn-bot state-not-found not-found"' in r.text and 'data-state="not_found"' in r.text
    assert "資料に答えが見つかりませんでした" in r.text
    assert 'class="citations related"' in r.text


@pytest.mark.slow
@pytest.mark.parametrize("data", [{"question": "   "}, {"question": "あ" * 1001}, {},
                                  {"question": "SAFE", "history_role": "system", "history_content": "x"}])
def test_no_js_invalid_question_is_422_page(real_client, data):
    r = real_client.post("/", data=data)
    assert r.status_code == 422 and r.template.name == "chat.html"
    assert r.context["error"] and 'role="alert"' in r.text


@pytest.mark.slow
def test_no_js_long_conversations_are_trimmed_not_refused(real_client):
    roles = ["user", "assistant"] * 15
    r = real_client.post("/", data={"question": "SAFEは何年に設立されましたか？", "history_role": roles,
                                    "history_content": ["あ" * 100] * 30})
    assert r.status_code == 200
    assert len(hidden_history(r.text)) == 20


@pytest.mark.slow
def test_document_page_has_an_anchor_per_passage(real_client):
    doc = real_client.get(f"/api/documents/{DOC_ID}").json()
    r = real_client.get(f"/documents/{DOC_ID}")
    assert r.status_code == 200 and r.template.name == "document.html"
    for p in doc["passages"]:
        anchor = "p-" + re.sub(r"[^A-Za-z0-9_-]", "-", p["chunk_id"])
        assert f'id="{anchor}"' in r.text
    assert "cited-sentence" not in r.text
    assert "<h1 class=\"document-title\">国際的な取り組みと貢献</h1>" in r.text
    assert_no_inline_code(r.text)


@pytest.mark.slow
def test_document_page_highlights_the_cited_sentence(real_client):
    answer = real_client.post("/api/ask", json={"question": "カナダとはどの分野で協力していますか？"}).json()
    c = answer["citations"][0]
    s, e = c["highlight"]
    r = real_client.get(f"/documents/{c['doc_id']}", params={"chunk": c["chunk_id"], "hl": f"{s}-{e}"})
    assert r.status_code == 200 and r.context["chunk"] == c["chunk_id"]
    cited = [b for b in r.context["blocks"] if b.cited]
    assert len(cited) == 1
    assert f'<mark class="cited-sentence">{c["text"][s:e]}</mark>' in r.text
    assert 'class="passage cited"' in r.text and 'aria-current="true"' in r.text


@pytest.mark.slow
@pytest.mark.parametrize("hl", ["", "abc", "9-3", "0-99999", "-1-5"])
def test_document_page_ignores_bad_highlights(real_client, hl):
    r = real_client.get(f"/documents/{DOC_ID}", params={"chunk": f"{DOC_ID}#p1", "hl": hl})
    assert r.status_code == 200


@pytest.mark.slow
def test_unknown_document_page_is_an_html_404(real_client):
    r = real_client.get("/documents/nope", headers={"accept": "text/html"})
    assert r.status_code == 404 and r.template.name == "error.html"
    assert "nope" in r.text and "Traceback" not in r.text


# ---------------------------------------------------------------------------------------------
# Escaping: templates rendered by name with hostile context

@pytest.fixture
def templates():
    from web.app import _templates
    return _templates().env


def test_chat_template_escapes_everything(templates):
    from web.routes.pages import chat_context
    context = chat_context("ja", history=[{"role": "user", "content": XSS},
                                          {"role": "assistant", "content": XSS}],
                           question=XSS, answer=fake_answer(XSS, url="javascript:alert(3)"))
    html = templates.get_template("chat.html").render(context)
    assert "<img src=x" not in html and "<script>alert" not in html and "</script><script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "javascript:" not in html
    # The JSON data block cannot be closed early by a string inside it.
    block = html.split('<script type="application/json" id="ui-strings">')[1].split("</script>")[0]
    assert "<" not in block
    assert_no_inline_code(html)


def test_not_found_template_shows_related(templates):
    from web.routes.pages import chat_context
    context = chat_context("en", question="Q?", answer=fake_answer(XSS, found=False))
    html = templates.get_template("chat.html").render(context)
    assert "not-found" in html
    # Labels inside an answer follow the answer's language, not the page's.
    assert '<h2 class="citations-title">関連がありそうな箇所</h2>' in html
    assert "&lt;img" in html and "<img src=x" not in html


def test_document_template_escapes_and_marks(templates):
    from web.view import document_blocks
    text = f"見出し\n\n{XSS}。次の文。\n\n末尾の段落。"
    first = text.index(XSS)
    doc = DocumentView(doc_id="d/x", title=XSS, url="javascript:alert(1)", lang="ja", path="d/x.txt", text=text,
                       passages=[PassageSpan(chunk_id="d/x#p0", section="見出し", start=first,
                                             end=text.index("\n\n末尾"), sentences=[(first, first + len(XSS) + 1)]),
                                 PassageSpan(chunk_id="d/x#p1", section="見出し", start=text.index("末尾"),
                                             end=len(text), sentences=[(text.index("末尾"), len(text))])])
    from web.i18n import STRINGS
    html = templates.get_template("document.html").render(
        lang="ja", t=STRINGS["ja"], doc=doc, chunk="d/x#p0",
        blocks=document_blocks(doc, "d/x#p0", (0, len(XSS) + 1)))
    assert "<img src=x" not in html and "<script>alert" not in html and "javascript:" not in html
    assert '<h2 class="doc-heading">見出し</h2>' in html
    assert 'id="p-d-x-p0"' in html and 'id="p-d-x-p1"' in html
    assert f'<mark class="cited-sentence">{XSS.replace("<", "&lt;").replace(">", "&gt;")}。</mark>' in html
    assert 'href="#p-d-x-p0"' in html  # the skip link goes to the cited passage


def test_error_template(templates):
    from web.i18n import STRINGS
    html = templates.get_template("error.html").render(lang="en", t=STRINGS["en"], status=503, message=XSS)
    assert "503" in html and "&lt;img" in html and "<img src=x" not in html


def test_hostile_document_through_the_app(fake_app_factory, corpus_copy, tmp_path):
    (corpus_copy / "xss.txt").write_text(
        f"---\ntitle: \"{XSS}\"\nurl: \"javascript:alert(9)\"\n---\n"
        f"XSS試験\n\n{XSS} という文字列を含む試験文書です。\n",
        encoding="utf-8")
    client = fake_app_factory(index_dir=tmp_path / "x-index", corpus_dir=corpus_copy, admin_token=ADMIN_TOKEN)
    client.post("/api/index/rebuild", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert wait_build(client, {"Authorization": f"Bearer {ADMIN_TOKEN}"})["state"] == "idle"
    r = client.get("/documents/xss")
    assert r.status_code == 200
    assert "<img src=x" not in r.text and "<script>alert" not in r.text and "javascript:" not in r.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in r.text


# ---------------------------------------------------------------------------------------------
# The script's answers: rendered by the server from the form page's template

def _bot_turn(html: str) -> str:
    return html.split('<article class="turn turn-bot')[1].split("</article>")[0]


def test_answer_fragment_is_the_forms_markup_with_the_tools(templates, fake_client):
    from web.routes.pages import chat_context
    answer = fake_answer(XSS, url="javascript:alert(3)").model_copy(update={"query": "SAFE いつ"})
    page = templates.get_template("chat.html").render(chat_context("en", question="いつ？", answer=answer))
    r = fake_client.post("/fragments/answer", json={"answer": answer.model_dump(), "question": "いつ？",
                                                   "turn": "j2", "lang": "en"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    fragment = r.text
    tools = fragment.split('<div class="answer-tools">')[1].split("</form>")[0]
    assert 'data-action="copy"' in tools and 'id="comment-j2"' in tools
    assert '<span class="action-text">コピー</span>' in tools and "built-in method" not in fragment
    without_tools = fragment.replace('<div class="answer-tools">' + tools + "</form>\n</div>\n", "")
    assert _bot_turn(without_tools) == _bot_turn(page).replace("-s-", "-j2-").replace('"state-s"', '"state-j2"')
    assert "&lang=en#" in fragment.replace("&amp;", "&")  # the page's language, for the source links
    assert "<img src=x" not in fragment and "javascript:" not in fragment
    assert_no_inline_code(fragment)


def test_answer_fragment_refuses_what_it_cannot_render(fake_client):
    answer = fake_answer("x").model_dump()
    for body in ({"answer": answer, "turn": 'j1" onclick="x', "lang": "ja"},
                 {"answer": answer, "turn": "j1", "lang": "fr"},
                 {"answer": {"answer": "x"}, "turn": "j1", "lang": "ja"},
                 {"answer": answer, "turn": "j1", "lang": "ja", "suggestions": ["a", "b", "c", "d"]}):
        assert fake_client.post("/fragments/answer", json=body).status_code == 422, body


def test_chat_page_carries_the_markup_version_and_the_turn_templates(templates):
    import json

    from web.routes.pages import chat_context, markup_version
    html = templates.get_template("chat.html").render(chat_context("ja"))
    block = html.split('<script type="application/json" id="ui-strings">')[1].split("</script>")[0]
    assert json.loads(block)["markup"] == markup_version(templates) and len(markup_version(templates)) == 16
    assert '<template id="user-turn-template"><article class="turn turn-user"' in html
    assert '<template id="past-turn-template"><article class="turn turn-bot past"' in html


# ---------------------------------------------------------------------------------------------
# Pure helpers

def test_answer_parts_links_only_known_markers():
    from web.view import answer_parts
    answer = fake_answer("文")
    assert answer_parts("A[1]B[7]C", answer.citations) == [("A", None), ("[1]", 1), ("B[7]C", None)]
    assert answer_parts("", answer.citations) == []
    assert answer_parts("[1]", answer.citations) == [("[1]", 1)]


@pytest.mark.parametrize("text, mark, expected", [
    ("abcdef", (1, 3), [("a", False), ("bc", True), ("def", False)]),
    ("abcdef", (0, 6), [("abcdef", True)]),
    ("abcdef", None, [("abcdef", False)]),
    ("abcdef", (4, 99), [("abcd", False), ("ef", True)]),
    ("abcdef", (7, 9), [("abcdef", False)]),
    ("", (0, 1), []),
    ("あ", (0, 1), [("あ", True)]),
])
def test_mark_parts_round_trip(text, mark, expected):
    from web.view import mark_parts
    parts = mark_parts(text, 0, len(text), mark)
    assert parts == expected
    assert "".join(t for t, _ in parts) == text


def test_excerpt_keeps_the_cited_sentence_and_nearby_context():
    from web.view import excerpt_parts
    text = "前の文です。" * 20 + "引用文。" + "後の文です。" * 20
    s = text.index("引用文。")
    before, cited, after = excerpt_parts(text, (s, s + 4), context=30)
    assert cited == ("引用文。", True)
    assert before[0].startswith("…前の文") and before[0].endswith("です。") and len(before[0]) <= 31
    assert after[0].startswith("後の文") and after[0].endswith("です。…") and len(after[0]) <= 32
    assert text.find(before[0][1:] + "引用文。" + after[0][:-1]) >= 0  # contiguous source text


@pytest.mark.parametrize("text, highlight, expected", [
    ("abc", (0, 3), [("abc", True)]),
    ("短い文。", None, [("短い文。", False)]),
    ("", None, []),
    ("x" * 50, (10, 20), [("x" * 10, False), ("x" * 10, True), ("x" * 30, False)]),
    ("x" * 100, (60, 70), [("…" + "x" * 30, False), ("x" * 10, True), ("x" * 30, False)]),
    ("x" * 100, None, [("x" * 60 + "…", False)]),
])
def test_excerpt_edges(text, highlight, expected):
    from web.view import excerpt_parts
    assert excerpt_parts(text, highlight, context=30) == expected


@pytest.mark.parametrize("value, expected", [("3-9", (3, 9)), ("9-3", None), ("", None), (None, None),
                                             ("a-b", None), ("1-2-3", None), ("5-5", None)])
def test_parse_span(value, expected):
    from web.view import parse_span
    assert parse_span(value) == expected


def test_links_and_anchors():
    from web.view import anchor, safe_url, source_href
    assert anchor("a/b c#p3") == "p-a-b-c-p3"
    assert source_href("a/b c", "a/b c#p3", (2, 9)) == "/documents/a/b%20c?chunk=a%2Fb%20c%23p3&hl=2-9#p-a-b-c-p3"
    assert source_href("d", "d#p0") == "/documents/d?chunk=d%23p0#p-d-p0"
    assert safe_url("https://www.jaxa.jp/x") == "https://www.jaxa.jp/x"
    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "", None, "//evil"):
        assert safe_url(bad) is None


def test_fit_history_keeps_the_newest_turns():
    from web.view import fit_history
    turns = [{"role": "user", "content": str(i)} for i in range(30)]
    assert fit_history(turns) == turns[-20:]
    big = [{"role": "user", "content": "x" * 5000}, {"role": "user", "content": "y" * 5000}]
    assert fit_history(big) == big[1:]
    assert fit_history([]) == []


@pytest.mark.parametrize("header, lang", [(None, "ja"), ("", "ja"), ("en", "en"), ("en-GB,en;q=0.8", "en"),
                                          ("de,en;q=0.5,ja;q=0.9", "ja"), ("ja;q=0.1,en;q=0.2", "en"),
                                          ("fr", "ja"), ("en;q=abc,ja", "ja")])
def test_accept_language(header, lang):
    from web.i18n import from_accept_language
    assert from_accept_language(header) == lang

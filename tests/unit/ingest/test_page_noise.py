"""Real pages' noise cleaned at ingest (breadcrumbs, share and bookmark buttons, doubled headings,
the title repeated, dates as section names), documents' dates, and suggested questions made from
sections' first sentences and kept only when answered (tests/data/noisy_pages/)."""

from types import SimpleNamespace

import pytest
from paths import DATA

from bot.ingest.cleaning import clean_text, is_breadcrumb
from bot.ingest.dates import date_line, parse_date, stated_date
from bot.ingest.documents import load_corpus
from bot.ingest.passages import is_heading, split_passages
from bot.results import DocumentView, PassageSpan
from web.questions import english_question, japanese_question, next_questions
from web.view import format_date, site_name

PAGES = DATA / "noisy_pages"
MB = 10 ** 6


@pytest.fixture(scope="module")
def docs():
    found, skipped = load_corpus(PAGES, MB)
    assert skipped == []
    return {d.doc_id: d for d in found}


def _sentences(doc) -> list[str]:
    return [doc.text[s:e] for p in split_passages(doc.doc_id, doc.text, doc.title) for s, e in p.sentences]


def _sections(doc) -> list[str]:
    return [p.section for p in split_passages(doc.doc_id, doc.text, doc.title)]


# -- item 3: page noise -----------------------------------------------------------------------

def test_breadcrumbs_go_by_shape():
    assert is_breadcrumb("ホーム > 会議 > 第21回")
    assert is_breadcrumb("• TOP> • プレスリリース>") and is_breadcrumb("• TOP>")
    assert not is_breadcrumb("気温は30度 > 25度でした。")
    assert not is_breadcrumb("1 > 0")


def test_breadcrumbs_share_and_bookmark_buttons_are_gone(docs):
    for doc_id in ("press-agreement", "press-launch", "meeting-report", "observatory"):
        text = docs[doc_id].text
        assert ">" not in text and "ホーム" not in text, doc_id
        assert "はてなブックマーク" not in text and "プレスリリース・記者会見等" not in text, doc_id
    launch = docs["press-launch"].text
    assert "Share" not in launch and "Tweet" not in launch
    assert "太陽電池パドルの展開も確認されました。" in launch
    # The trail rendered as a numbered list, ending in the page's title.
    assert not docs["meeting-report"].text.startswith("ホーム")


def test_doubled_headings_and_the_repeated_title_appear_once(docs):
    launch = docs["press-launch"].text
    assert launch.count("小型衛星「かもめ」の打ち上げ結果について") == 1
    report = docs["meeting-report"].text
    assert report.count("第5回北海宇宙会議の開催結果") == 1


def test_a_heading_is_never_a_sentence_of_a_passage(docs):
    for doc in docs.values():
        for sentence in _sentences(doc):
            line = sentence.strip()
            assert line != doc.title, (doc.doc_id, line)
    report = docs["meeting-report"]
    assert "1.会議の目的" in _sections(report) and "1.会議の目的" not in _sentences(report)
    agreement = docs["press-agreement"]
    assert "協定の背景" in _sections(agreement) and "協定の背景" not in _sentences(agreement)
    # A list of short lines stays content: only a line right before a sentence titles it.
    text = "主な歴史:\n2005 観測網の設立\n2006 研究会の設立\n2008 衛星計画の開始"
    assert clean_text(text) == text


def test_dates_and_greetings_never_name_a_section(docs):
    for doc in docs.values():
        for section in _sections(doc):
            assert date_line(section) is None, (doc.doc_id, section)
            assert not section.endswith(","), (doc.doc_id, section)
    assert not is_heading("2023.02.15(水)") and not is_heading("平成28年3月22日")
    assert not is_heading("Ladies and gentlemen,")
    assert is_heading("協定の背景")


def test_offsets_stay_exact(docs):
    for doc in docs.values():
        for p in split_passages(doc.doc_id, doc.text, doc.title):
            assert doc.text[p.start:p.end] == p.text


# -- item 4: dates ----------------------------------------------------------------------------

def test_dates_are_read_in_every_form():
    assert date_line("平成28年3月22日") == "2016-03-22"
    assert date_line("令和元年5月1日") == "2019-05-01"
    assert date_line("2023.02.15(水)") == "2023-02-15"
    assert date_line("最終更新日:2019年9月24日") == "2019-09-24"
    assert date_line("Last Updated: December 12, 2018") == "2018-12-12"
    assert date_line("30 September 2018") == "2018-09-30"
    assert date_line("2014年12月2日~5日 東京") is None  # a date and a place: an event, not the page's date
    assert parse_date("2021-04-01T09:00:00+09:00") == "2021-04-01"
    assert parse_date("2019年9月24日") == "2019-09-24"
    assert parse_date("not a date") is None
    # A date inside the running text is what the text is about, not the page's date.
    assert stated_date("本会議は、2019年9月24日に開催されました。\n\n詳細は後日お知らせします。") is None
    assert stated_date("本文です。", title="宇宙会議(令和5年6月13日)") == "2023-06-13"
    # What an opening sentence says happened today dates the page; a later date in it does not.
    assert stated_date("両機関の長は、本日2019年9月24日に会合を持ちました。\n\n次の文。") == "2019-09-24"
    assert stated_date("Today, 24 September 2019, the two agencies met.") == "2019-09-24"
    assert stated_date("JAXAは本日、2030年までの計画を発表しました。") is None


def test_documents_carry_their_dates(docs):
    assert docs["press-agreement"].date == "2016-03-22"  # 和暦, standing alone near the top
    assert docs["press-launch"].date == "2023-02-15"
    assert docs["meeting-report"].date == "2019-09-24"  # an update label
    assert docs["speech-workshop"].date == "2018-09-30"
    assert docs["topics"].date == "2024-06-14"  # front matter
    assert docs["observatory"].date == "2021-04-01"  # <meta property="article:published_time">


def test_document_label_is_the_site_and_a_readable_date():
    assert site_name("https://www.example.org/press/a.html") == "example.org"
    assert site_name("javascript:alert(1)") is None
    assert format_date("2016-03-22", "ja")[0] == "2016年3月22日"
    assert format_date("2017-09", "en")[0] == "September 2017"
    assert format_date("2016-03-22", "en")[0] == "22 March 2016"
    assert format_date(None, "ja") is None


# -- item 5: suggestions ----------------------------------------------------------------------

def test_questions_come_from_a_sentences_subject_and_predicate():
    assert japanese_question("架空宇宙研究所は、北方地域の宇宙機関との協力を推進しています。") == \
        "架空宇宙研究所は何を推進していますか？"
    assert japanese_question("北海宇宙機関は、2009年に設立された北方地域の宇宙機関です。") == \
        "北海宇宙機関とは何ですか？"
    assert japanese_question("かもめは、2023年に種子島から打ち上げられました。") == \
        "かもめはいつ種子島から打ち上げられましたか？"
    assert japanese_question("これは大切な会議です。") is None  # a pronoun names no subject
    assert japanese_question("協定の背景") is None  # a heading is no sentence
    assert english_question("The Polar CubeSat Programme offers universities free deployment.") == \
        "What does The Polar CubeSat Programme offer?"
    assert english_question("Sentinel Asia is an international cooperative project.") == "What is Sentinel Asia?"
    assert english_question("Ladies and gentlemen,") is None
    assert english_question("On behalf of the office, I am honoured to welcome you all.") is None


def _view(doc) -> DocumentView:
    spans = [PassageSpan(chunk_id=p.chunk_id, section=p.section, start=p.start, end=p.end,
                         sentences=list(p.sentences)) for p in split_passages(doc.doc_id, doc.text, doc.title)]
    return DocumentView(doc_id=doc.doc_id, title=doc.title, url=doc.url, lang=doc.lang, path=doc.path,
                        text=doc.text, passages=spans)


def test_suggestions_are_answered_questions_in_the_readers_language(docs):
    view = _view(docs["press-launch"])
    asked: list[str] = []

    def ask(question):  # a fake engine: answers only what it knows
        asked.append(question)
        state = "answered" if "かもめ" in question else "not_found"
        return SimpleNamespace(state=state)

    first = view.passages[0].chunk_id
    questions = next_questions(view, first, "ja", ask=ask)
    assert questions == ["かもめとは何ですか？"]
    assert set(questions) < set(asked) or questions == asked  # every suggestion was asked first
    assert all(q.endswith("？") and "「" not in q[:1] for q in questions)
    # Without an answer, nothing is suggested.
    assert next_questions(view, first, "ja", ask=lambda q: SimpleNamespace(state="partial")) == []


def test_greetings_and_buttons_are_never_suggested(docs):
    view = _view(docs["speech-workshop"])
    questions = next_questions(view, view.passages[-1].chunk_id, "en", include_own=True,
                               ask=lambda q: SimpleNamespace(state="answered"))
    assert questions and all("Ladies" not in q and "honoured" not in q and "Share" not in q for q in questions)
    assert "What does The Polar CubeSat Programme offer?" in questions
    # A Japanese page gives an English reader questions only about subjects written in English.
    ja_view = _view(docs["topics"])
    assert next_questions(ja_view, ja_view.passages[0].chunk_id, "en", include_own=True,
                          ask=lambda q: SimpleNamespace(state="answered")) == []

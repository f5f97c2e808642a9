"""Definitions, yes/no questions and lists."""

import pytest
from paths import DATA

from bot.answer.kinds import coordinated, defines, definition_subject, is_yes_no


@pytest.mark.parametrize("question, lang, subject", [
    ("APRSAFとは何ですか？", "ja", "APRSAF"),
    ("センチネルアジアってどんな活動ですか？", "ja", "センチネルアジア"),
    ("What is Sentinel Asia?", "en", "Sentinel Asia"),
    ("APRSAFはどこで開かれましたか？", "ja", None),
    ("What is India responsible for in LUPEX, and why?", "en", None),
])
def test_definition_subject(question, lang, subject):
    assert definition_subject(question, lang) == subject


def test_a_definition_is_a_sentence_with_the_subject_as_its_topic_not_a_heading():
    assert defines("APRSAFは、1993年から毎年開催している国際会議です。", "APRSAF")
    assert defines("アジア太平洋地域宇宙機関会議(APRSAF)は、1993年に設立されました。", "APRSAF")
    assert defines("Sentinel Asia is an international cooperative project.", "Sentinel Asia")
    assert not defines("APRSAF25年間の歴史", "APRSAF")  # a heading
    assert not defines("2006 SAFEの設立", "SAFE")
    assert not defines("JAXAは今年もAPRSAFに参加しました。", "APRSAF")  # APRSAF is not the topic


@pytest.mark.parametrize("question, lang, yes_no", [
    ("APRSAF-21では分科会の再編が行われましたか？", "ja", True),
    ("APRSAF-21はどこで開かれましたか？", "ja", False),
    ("APRSAFとは何ですか？", "ja", False),
    ("Was KhalifaSat developed in the UAE?", "en", True),
    ("When was KhalifaSat launched?", "en", False),
    # a choice between alternatives is not answered yes or no
    ("オランダは対日貿易では赤字か黒字か？", "ja", False),
    ("2016年の補欠選挙では落選したか、当選したか", "ja", False),
    ("国から許可を取った上での管理売春は合法ですか？違法ですか？", "ja", False),
    ("それは行われなかったのですか？", "ja", True),
    ("Is Wikidata free or paid?", "en", False),
])
def test_yes_no_questions(question, lang, yes_no):
    assert is_yes_no(question, lang) is yes_no


def test_a_lead_takes_in_the_items_coordinated_with_it():
    s = "スリランカとネパールにとっては国として初めての人工衛星となります。"
    spans = [(0, 5), (6, 10), (15, 17)]
    assert coordinated(s, 0, 5, spans, lambda t: t in ("スリランカ", "ネパール")) == (0, 10)
    assert coordinated(s, 6, 10, spans, lambda t: t in ("スリランカ", "ネパール")) == (0, 10)
    assert coordinated(s, 0, 5, spans, lambda t: t == "スリランカ") == (0, 5)


@pytest.mark.parametrize("text, fragment", [
    ("大阪・関西万博 ドイツナショナルデー特別イベント「地球、その先へ」開催", True),  # a title line
    ("月極域探査機(LUPEX)ミッションのイメージ (CG)", True),  # a caption
    ("2.", True),
    ("APRSAFは1993年に設立されました。", False),
    ("Sentinel Asia is an international project.", False),
])
def test_a_line_without_a_sentence_end_is_a_fragment(text, fragment):
    from bot.engine import _fragment
    assert _fragment(text) is fragment


@pytest.mark.slow
@pytest.mark.parametrize("question", ["宇宙法についてJAXAは何をしていますか？", "JAXAはどの国と協力していますか？",
                                      "ドイツとの協力について教えてください。"])
def test_a_title_line_never_opens_an_answer(real_engine, question):
    from bot.engine import _fragment
    a = real_engine.ask(question)
    if a.citations:
        c = a.citations[0]
        assert not _fragment(c.text[c.highlight[0]:c.highlight[1]]), a.answer


@pytest.fixture(scope="module")
def dated_engine(tmp_path_factory, real_embedder, tokenizer, models):
    from bot.engine import Engine
    from bot.store.build import build_index
    index = tmp_path_factory.mktemp("dated") / "index"
    pages = DATA / "dated_pages"
    build_index(pages, index, real_embedder, tokenizer, max_bytes=10**6)
    return Engine.load(index, real_embedder, tokenizer, models=models)



@pytest.mark.slow
def test_the_pages_own_date_line_gives_no_lead_phrase(dated_engine):
    """Quoted beside a sentence, the page's date line (its date, 2016-08-25) neither outranks the
    sentence's date nor stands in when no sentence gives the asked year."""
    c = dated_engine.retrieve("宇宙機関が国際機関と協力取決めを結んだのはいつですか？")
    text = lambda s: dated_engine._text(c.index, s)  # noqa: E731
    dateline = next(s for s in c.scored if text(s).strip() == "平成28年8月25日")
    signed = next(s for s in c.scored if "締結し" in text(s))
    q_info = c.q_info
    for chosen in ([dateline, signed], [signed, dateline]):
        phrase = dated_engine._phrase(c.index, chosen, c.query, q_info)
        assert phrase is not None and phrase.vector_row == signed.vector_row
    landing = dated_engine.retrieve("月面での探査で宇宙飛行士が月に降り立つのは何年ですか？")
    future = next(s for s in landing.scored if "水資源" in dated_engine._text(landing.index, s))
    line = next(s for s in landing.scored if dated_engine._text(landing.index, s).strip() == "平成28年8月25日")
    assert dated_engine._phrase(landing.index, [future, line], landing.query, landing.q_info) is None



@pytest.mark.parametrize("question, now", [
    ("宇宙機関の理事長は誰ですか？", True),
    ("JAXAの職員は何人いますか？", True),
    ("宇宙機関の理事長は誰でしたか？", False),
    ("2017年の宇宙機関の理事長は誰ですか？", False),
    ("第21回の会議に参加したのは何人ですか？", False),
    ("協定に署名した理事長は誰ですか？", False),
])
def test_a_question_about_the_present(question, now):
    from bot.answer.kinds import asks_now
    assert asks_now(question) is now


@pytest.fixture(scope="module")
def officers_engine(tmp_path_factory, real_embedder, tokenizer, models):
    from pathlib import Path

    from bot.engine import Engine
    from bot.store.build import build_index
    index = tmp_path_factory.mktemp("officers") / "index"
    pages = Path(__file__).resolve().parents[2] / "data" / "officers"
    build_index(pages, index, real_embedder, tokenizer, max_bytes=10**6)
    return Engine.load(index, real_embedder, tokenizer, models=models)


@pytest.mark.slow
def test_about_the_present_the_newest_dated_source_leads_and_says_when(officers_engine):
    now = officers_engine.ask("宇宙機関の理事長は誰ですか？")
    assert now.found and now.answer.splitlines()[0].startswith("山川宏です（2019年9月24日時点）。"), now.answer
    then = officers_engine.ask("2017年の宇宙機関の理事長は誰でしたか？")
    assert then.found and "山川" not in then.answer.splitlines()[0], then.answer

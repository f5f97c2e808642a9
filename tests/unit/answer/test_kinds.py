"""Definitions, yes/no questions and lists."""

import pytest
from paths import DATA

from bot.answer.kinds import (
    abbreviation,
    asked_event,
    clause_of_predicate,
    clause_of_question,
    coordinated,
    counting,
    dates_another,
    defines,
    definition_subject,
    expanded,
    glossed,
    is_yes_no,
    japanese_side,
    labelled_value,
    names_the_asked,
    official_name_end,
    only_relative,
    sided,
    spelled_out,
    titled,
    written_out,
    year_of_day,
)
from bot.query.analysis import morpheme_toks, question_info


@pytest.mark.parametrize("question, lang, subject", [
    ("APRSAFとは何ですか？", "ja", "APRSAF"),
    ("センチネルアジアってどんな活動ですか？", "ja", "センチネルアジア"),
    ("SAFEとは？", "ja", "SAFE"),
    ("What is Tokai Radio Broadcasting the name of?", "en", None),
    ("What was its predecessor?", "en", None),
    ("What is GISTDA's predecessor?", "en", None),
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


def test_a_phrase_spelled_out_in_latin_script_is_a_name():
    s = "ASI及び国立研究会議(CNR:National Research Council)が大部分の株式を保有。"
    assert spelled_out(s, s.index("("))
    assert not spelled_out(s, s.index("が大部分"))
    hall = "代々木競技場(主体育館:1964年 設計・丹下健三)"
    assert not spelled_out(hall, hall.index("("))


def test_coordinated_items_may_carry_their_abbreviation_in_brackets():
    s = "文部科学省(MEXT)、宇宙航空研究開発機構(JAXA)"
    spans = [(0, 5), (12, 22)]
    org = lambda t: t.endswith(("省", "機構"))  # noqa: E731
    assert coordinated(s, 0, 5, spans, org) == (0, 22)
    assert coordinated(s, 12, 22, spans, org) == (0, 22)


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


@pytest.mark.parametrize("question, now", [
    ("Who is the president of the space agency?", True),
    ("Who was the president of the space agency?", False),
    ("Who was the agency's president in 2017?", False),
    ("Who chaired the 21st meeting?", False),
    ("Who is its first president?", False),
    ("Who signed the statement for the agency?", False),
])
def test_an_english_question_about_the_present(question, now):
    from bot.answer.kinds import asks_now
    assert asks_now(question, "en") is now


@pytest.mark.slow
def test_in_english_too_the_newest_dated_source_leads_and_says_when(tmp_path_factory, real_embedder, tokenizer,
                                                                    models):
    from pathlib import Path

    from bot.engine import Engine
    from bot.store.build import build_index
    index = tmp_path_factory.mktemp("officers_en") / "index"
    build_index(Path(__file__).resolve().parents[2] / "data" / "officers_en", index, real_embedder, tokenizer,
                max_bytes=10**6)
    engine = Engine.load(index, real_embedder, tokenizer, models=models)
    now = engine.ask("Who is the president of the Space Agency?")
    assert now.found and now.answer.splitlines()[0].startswith(
        "Who: Hiroshi Yamakawa (as of 24 September 2019) ["), now.answer
    then = engine.ask("Who was the president of the Space Agency in 2017?")
    assert then.found and "Yamakawa" not in then.answer.splitlines()[0], then.answer


@pytest.mark.slow
def test_a_label_line_is_quoted_with_its_value_and_the_value_leads(tmp_path_factory, real_embedder, tokenizer,
                                                                   models):
    from pathlib import Path

    from bot.engine import Engine
    from bot.store.build import build_index
    index = tmp_path_factory.mktemp("labels") / "index"
    build_index(Path(__file__).resolve().parents[2] / "data" / "label_pages", index, real_embedder, tokenizer,
                max_bytes=10**6)
    engine = Engine.load(index, real_embedder, tokenizer, models=models)
    answer = engine.ask("地域宇宙機関会議の日本側の主催者はどこですか？")
    lead = answer.answer.splitlines()[0]
    assert answer.found and ("文部科学省" in lead or "宇宙航空研究開発機構" in lead), answer.answer
    # The label line alone, when it is the chosen one, is quoted with the value on the line after it.
    from bot.answer.sentences import ScoredSentence
    p = engine.index.passages[0]
    text = engine.index.documents[p.doc_id].text
    i = next(i for i, (a, b) in enumerate(p.sentences) if text[a:b].startswith("日本側主催"))
    label = ScoredSentence(0, i, 0, *p.sentences[i], 0.9, 0.9, 1.0, 1.0)
    quoted = Engine._with_value(engine.index, label)
    said = text[quoted.start:quoted.end]
    assert said.startswith("日本側主催:") and "文部科学省(MEXT)" in said
    first = ScoredSentence(0, 0, 0, *p.sentences[0], 0.9, 0.9, 1.0, 1.0)
    assert Engine._with_value(engine.index, first) == first


def test_a_date_in_a_month_the_question_states_is_not_its_answer():
    from bot.answer.kinds import restates, stated_months
    known = stated_months("2019年2月にJAXAへ引き渡された超小型衛星はいつ頃放出される予定でしたか？")
    assert known == {(2019, 2)}
    sentence = "2019年2月18日に衛星3機、翌19日には衛星1機が引き渡され、5月から6月頃に放出される予定です。"
    for phrase, restated in (("2019年2月18日", True), ("翌19日", True), ("5月から6月頃", False)):
        a = sentence.index(phrase)
        assert restates(sentence, a, a + len(phrase), known) is restated, phrase
    assert not restates("2020年2月1日に打ち上げた。", 0, 9, known)


def test_a_phrase_glossed_with_what_the_question_names_is_not_its_answer():
    from bot.answer.kinds import names_the_asked
    sentence = "アジア太平洋地域宇宙機関会議(APRSAF)は、1992年に開催されたアジア太平洋国際宇宙年会議を契機に始まった。"
    question = "APRSAFが始まるきっかけとなったのは何という会議ですか？"
    for phrase, own in (("アジア太平洋地域宇宙機関会議", True), ("アジア太平洋地域宇宙機関", True),
                        ("アジア太平洋国際宇宙年会議", False)):
        a = sentence.index(phrase)
        assert names_the_asked(sentence, a, a + len(phrase), question) is own, phrase
    # The question's own identifier with a common noun (MMX探査機 for a question about MMX's rover).
    # The question's own identifier, alone: 「JAXAとNASAの会合はどこで」 is not answered by JAXA,
    # unless it asks which of them (どちら).
    meeting = "国立研究開発法人宇宙航空研究開発機構(JAXA)の理事長が会合を持った。"
    a = meeting.index("JAXA")
    assert names_the_asked(meeting, a, a + 4, "JAXAとNASAの会合はどこで行われましたか？")
    assert not names_the_asked(meeting, a, a + 4, "JAXAとNASAのどちらが会合を主催しましたか？")
    rover = "DLRは、MMX探査機に搭載する小型ローバの共同検討に貢献する。"
    asked = "MMXに搭載される小型ローバの愛称は何ですか？"
    for phrase, own in (("MMX探査機", True), ("DLR", False), ("小型ローバ", False)):
        a = rover.index(phrase)
        assert names_the_asked(rover, a, a + len(phrase), asked) is own, phrase


def test_of_bracketed_phrases_the_one_belonging_to_what_the_question_names_leads():
    from bot.answer.kinds import owned_by_question
    sentence = "野口宇宙飛行士(2009年12月~2010年6月)、古川宇宙飛行士(2011年6月~11月)がソユーズで滞在した。"
    spans = [(sentence.index(p), sentence.index(p) + len(p)) for p in ("2009年12月~2010年6月", "2011年6月~11月")]
    assert owned_by_question(sentence, spans, {"古川", "宇宙飛行士", "ソユーズ"}) == spans[1]
    assert owned_by_question(sentence, spans, {"野口", "宇宙飛行士"}) is None  # the first-ranked is theirs
    assert owned_by_question(sentence, spans, {"宇宙飛行士", "ソユーズ"}) is None  # nothing singles one out


def test_a_bracketed_description_after_a_name_does_not_make_it_the_asked_thing():
    from bot.answer.kinds import names_the_asked, owned_by_question
    sentence = "拍子（周期的なアクセント）がなくてもリズムは成り立つ。"
    assert not names_the_asked(sentence, 0, 2, "周期的なアクセントのことを何と言うか？")
    riba = "英国は、英国王立建築家協会：（RIBA）と建築家登録委員会（ARB）の二つがある。"
    spans = [(riba.index(x), riba.index(x) + len(x)) for x in ("RIBA", "ARB")]
    assert owned_by_question(riba, spans, {"英国", "王立", "建築家", "協会", "略称"}) is None


def test_a_date_range_is_given_whole_when_the_question_asks_from_when_to_when():
    from bot.answer.kinds import range_end
    cell = "熱帯降雨観測衛星(TRMM) |\n1997年~2015年 |"
    a = cell.index("1997年")
    assert cell[a:range_end("TRMMはいつからいつまで観測していましたか？", cell, a + 5)] == "1997年~2015年"
    held = "平成18年12月5日(火)〜7日(木)に開催"
    assert held[:range_end("何日から何日まで開かれましたか？", held, 10)] == "平成18年12月5日(火)〜7日(木)"
    assert range_end("いつ開かれましたか？", held, 10) == 10


def test_an_era_date_keeps_its_era_and_its_range_end_in_an_era():
    from bot.answer.constraints import in_western_years
    from bot.answer.kinds import range_end, with_era
    period = "(応募期間:平成27年9月10日~平成28年3月31日)。"
    a = period.index("27年")
    assert period[with_era(period, a):].startswith("平成27年9月10日")
    assert with_era("2015年9月", 0) == 0 and with_era("平成の27件", 3) == 3
    b = period.index("日~") + 1
    assert period[a:range_end("応募期間はいつからいつまでですか？", period, b)] == "27年9月10日~平成28年3月31日"
    assert in_western_years("平成27年9月10日~平成28年3月31日") == "2015年9月10日~2016年3月31日"
    assert in_western_years("令和元年5月") == "2019年5月" and in_western_years("2015年9月") is None


def test_a_day_is_given_with_the_clock_time_written_after_it():
    from bot.answer.kinds import with_clock
    held = "タイ国標準時刻12月2日(月)午前9時、ホテルにて式典を開催"
    day = held.index("日") + 1
    assert held[:with_clock(held, day)].endswith("12月2日(月)午前9時")
    talk = "5日 14:00から講演"
    assert talk[:with_clock(talk, 2)] == "5日 14:00"
    # a number of hours is no clock time, and a month ends with no day
    assert with_clock("5日12時間の試験", 2) == 2 and with_clock("12月 9時", 3) == 3


def test_a_labelled_value_leads():
    from bot.answer.kinds import labelled
    line = "衛星名:1KUNS-PF(1st Kenyan University NanoSatellite-Precursor Flight)"
    spans = [(line.index(x), line.index(x) + len(x)) for x in ("NanoSatellite-Precursor", "1KUNS-PF")]
    assert labelled(line, spans, {"KiboCUBE", "衛星", "名前"}) == spans[1]
    assert labelled(line, spans, {"KiboCUBE", "名前"}) is None
    rate = "15歳以上の国民の識字率は83.8%（男性：89.6%、女性：78.4%）である。"
    spans = [(rate.index(x), rate.index(x) + 5) for x in ("83.8%", "89.6%")]
    assert labelled(rate, spans, {"国民", "識字率", "男性"}) is None  # a breakdown in brackets is no label


def test_a_table_cell_line_is_read_with_its_row():
    from bot.engine import table_row
    lines = ["衛星名 | 主なセンサ | 観測期間 |", "熱帯降雨観測衛星(TRMM) |", "降雨レーダ(PR) |", "1997年~2015年 |",
             "GPM主衛星 |", "二周波降水レーダ(DPR) |", "2014年~ |", "本文の文です。"]
    assert [table_row(lines, i) for i in range(len(lines))] == [None, (1, 3), (1, 3), (1, 3), (4, 6), (4, 6),
                                                                (4, 6), None]
    assert table_row(["前の文です。", "セル |", "セル |"], 1) is None  # no header: not a table we can read


def test_a_definition_may_use_another_name_the_documents_give_the_subject():
    from bot.answer.kinds import aliases
    text = "JAXAは、検討中の火星衛星探査計画(Martian Moons eXploration : MMX)についてDLRと合意しました。"
    assert aliases(text, "火星衛星探査計画") == ["Martian Moons eXploration", "MMX"]
    assert aliases("火星衛星探査計画について", "火星衛星探査計画") == []
    assert aliases("パルス（アクセント）と拍", "パルス") == []  # a Japanese gloss is no other name
    assert defines("MMXは、火星の衛星から物質を採取して地球に帰還する計画です。", "MMX")
    # a name glossed in brackets is not the sentence's topic, whatever follows it
    assert not defines(text, "Martian Moons eXploration")


def test_a_kind_asked_is_held_by_the_title_written_with_its_first_character():
    guests = "タイ国シリントン王女を始め、GISTDA長官、その他関係者が出席する予定です。"
    spans = [(guests.index(x), guests.index(x) + len(x)) for x in ("タイ国シリントン王女", "GISTDA長官", "他関係者")]
    assert titled(guests, spans, "王族") == spans[0]
    assert titled(guests, spans, "学者") is None


def test_the_kind_of_body_asked_says_which_name_was_asked():
    line = "機関・国名:University of Nairobi(ナイロビ大学)/ケニア共和国"
    spans = [(line.index(x), line.index(x) + len(x)) for x in ("Nairobi", "ケニア共和国", "ナイロビ大学")]
    assert titled(line, spans, "大学") == spans[2]
    assert titled(line, spans[:2], "大学") is None
    # the question's own words are not its answer
    board = "都道府県委員会の最高決議機関は、都道府県委員会総会である。"
    spans = [(board.index(x), board.index(x) + len(x)) for x in ("最高決議機関", "都道府県委員会総会")]
    assert titled(board, spans, "機関", "都道府県委員会の最高決議機関は？") is None
    # a description of one of the kind names none
    laos = "パテト・ラオの政党であるラオス人民革命党が一党独裁体制を行っている。"
    spans = [(laos.index(x), laos.index(x) + len(x)) for x in ("パテト・ラオの政党", "ラオス人民革命党")]
    assert titled(laos, spans, "政党", "ラオスの一党独裁体制を行っている政党は？", name=True) is None
    # while an office is named by what it is of (何の皇帝 → ドイツ帝国の皇帝)
    reich = "ホーエンツォレルン家はプロイセン王を経て、1871年にドイツ帝国の皇帝となった。"
    spans = [(reich.index(x), reich.index(x) + len(x)) for x in ("プロイセン王", "ドイツ帝国の皇帝")]
    assert titled(reich, spans, "皇帝", "ホーエンツォレルン家は1871年に何の皇帝となったか？") == spans[1]


@pytest.fixture(scope="module")
def lead_engine(tmp_path_factory, real_embedder, tokenizer, models):
    from bot.engine import Engine
    from bot.store.build import build_index
    index = tmp_path_factory.mktemp("lead") / "index"
    build_index(DATA / "lead_pages", index, real_embedder, tokenizer, max_bytes=10**6)
    return Engine.load(index, real_embedder, tokenizer, models=models)


def _sentence(engine, c, part, score):
    """The page's sentence holding `part`, as a candidate scored `score`."""
    from bot.answer.sentences import ScoredSentence
    for row, p in enumerate(c.index.passages):
        text = c.index.documents[p.doc_id].text
        for i, (a, b) in enumerate(p.sentences):
            if part in text[a:b]:
                return ScoredSentence(row, i, row, a, b, score, score, 1.0, score)
    raise AssertionError(part)


@pytest.mark.slow
def test_asked_from_when_to_when_a_range_leads_over_a_better_scored_single_date(lead_engine):
    c = lead_engine.retrieve("第22回の会議の会期はいつからいつまででしたか？")
    chosen = [_sentence(lead_engine, c, "1993年から毎年", 0.5), _sentence(lead_engine, c, "2015年12月1日", 0.1)]
    p = lead_engine._phrase(c.index, chosen, c.query, c.q_info)
    assert p is not None and c.index.documents[c.index.passages[0].doc_id].text[p.start:p.end] == "2015年12月1日~4日"


@pytest.mark.slow
def test_a_place_no_japanese_sentence_gives_is_read_from_a_quoted_english_one(lead_engine):
    c = lead_engine.retrieve("2019年のJAXAとNASAの会合はどこで行われましたか？")
    # the Japanese sentence scores higher, but its 両機関の協力, 本日2019 and JAXA are no place
    chosen = [_sentence(lead_engine, c, "本日2019年9月24日", 0.5), _sentence(lead_engine, c, "During their", 0.2)]
    p = lead_engine._phrase(c.index, chosen, c.query, c.q_info)
    assert p is not None and c.index.documents[c.index.passages[0].doc_id].text[p.start:p.end] == \
        "JAXA Headquarters in Tokyo"


@pytest.mark.slow
def test_a_photo_caption_gives_no_lead(lead_engine):
    from bot.engine import _caption
    assert _caption("The 23rd forum at Tokyo Big Sight (Credit: JAXA)") and not _caption("(Credit: JAXA) is shown.")
    c = lead_engine.retrieve("第22回の会議はどこで開催されましたか？")
    chosen = [_sentence(lead_engine, c, "Credit", 0.5), _sentence(lead_engine, c, "バリ島", 0.2)]
    p = lead_engine._phrase(c.index, chosen, c.query, c.q_info)
    assert p is not None and "バリ島" in c.index.documents[c.index.passages[0].doc_id].text[p.start:p.end]


@pytest.mark.slow
def test_which_country_read_from_an_english_sentence_is_a_country_the_question_does_not_name(lead_engine):
    c = lead_engine.retrieve("第3回でインドネシアとともに選ばれたのはどこの国ですか？")
    chosen = [_sentence(lead_engine, c, "Mauritius", 0.5)]
    p = lead_engine._phrase(c.index, chosen, c.query, c.q_info, lead_engine._english_words(c))
    assert p is not None and c.index.documents[c.index.passages[0].doc_id].text[p.start:p.end] == "Mauritius"


@pytest.mark.slow
def test_the_role_asked_about_picks_the_name_and_a_spaced_name_is_given_whole(lead_engine):
    text = lambda c, p: c.index.documents[c.index.passages[0].doc_id].text[p.start:p.end]  # noqa: E731
    c = lead_engine.retrieve("文書交換式に立ち会った総理大臣は誰ですか？")
    chosen = [_sentence(lead_engine, c, "石破総理大臣", 0.5)]
    assert text(c, lead_engine._phrase(c.index, chosen, c.query, c.q_info)) == "石破"
    c = lead_engine.retrieve("協定に署名したのは誰ですか？")
    chosen = [_sentence(lead_engine, c, "奥村", 0.5)]
    assert text(c, lead_engine._phrase(c.index, chosen, c.query, c.q_info)) == "奥村 直樹"


@pytest.mark.slow
def test_a_definition_by_the_name_the_page_glosses_leads(lead_engine):
    c = lead_engine.retrieve("地域宇宙機関会議とは何ですか？")
    chosen = [_sentence(lead_engine, c, "JAXAは、毎年", 0.5), _sentence(lead_engine, c, "RSFは", 0.2)]
    first = lead_engine._defining_first(c.index, chosen, c.scored, "地域宇宙機関会議", 3)[0]
    assert lead_engine._text(c.index, first).startswith("RSFは")


def test_of_several_parties_signing_the_asked_partys_person_leads():
    from bot.answer.kinds import sided
    sentence = ("JAXA理事長 奥村直樹と、アラブ首長国連邦宇宙機関(以下「UAESA」)総裁 カリファ・アル・ルメイシは、"
                "協定を締結した。")
    spans = [(sentence.index(p), sentence.index(p) + len(p))
             for p in ("カリファ・アル・ルメイシ", "理事長", "奥村直樹", "直樹")]
    assert sided(sentence, spans, {"JAXA"}) == spans[2]  # the name after its title, not a part of it
    assert sided(sentence, spans, {"UAESA"}) == spans[0]
    assert sided(sentence, spans, {"ESA"}) is None  # no part names it
    # 駐UAE日本国大使 is Japan's envoy to the UAE, not the UAE's side.
    envoy = "藤木駐UAE日本国大使のご臨席のもと、UAE総裁 カリファ氏が署名した。"
    people = [(envoy.index(p), envoy.index(p) + len(p)) for p in ("藤木駐UAE日本国大使", "カリファ氏")]
    assert sided(envoy, people, {"UAE"}) == people[1]
    both = "JAXA理事 國中均とJAXA理事 山田太郎が出席した。"
    assert sided(both, [(both.index("國中均"), both.index("國中均") + 3),
                        (both.index("山田太郎"), both.index("山田太郎") + 4)], {"JAXA"}) is None


def test_a_gloss_that_spells_a_name_out_gives_way_to_the_name():
    s = "ASI及び国立研究会議(CNR:National Research Council)が株式を保有。"
    spans = [(s.index("Council"), s.index("Council") + 7), (s.index("国立"), s.index("("))]
    assert glossed(s, *spans[0], spans) == spans[1]
    t = "実行委員会(Executive Committee: ExCom)にて検討された。"
    spans = [(t.index("Exec"), t.index(")")), (0, 5)]
    assert glossed(t, *spans[0], spans) == (0, 5)
    # a bracket that only abbreviates is no spelled-out gloss
    u = "小型衛星放出機構(J-SSOD)で放出した。"
    assert glossed(u, u.index("J"), u.index(")"), [(0, 8)]) is None


def test_a_name_glossed_with_the_questions_own_acronym_is_not_its_answer():
    s = "イタリア航空宇宙研究センター(CIRA:Italian Aerospace Research Center)。"
    assert names_the_asked(s, 0, s.index("("), "CIRAの株式を保有しているのはどこですか？")
    assert not names_the_asked(s, 0, s.index("("), "ASIの本部はどこですか？")


def test_the_person_holding_the_asked_office_leads():
    s = "石破総理大臣とモディ・インド首相立合いの下、松浦理事とジョージ駐日インド大使間で文書交換式が行われました。"
    spans = [(s.index("ジョージ"), s.index("で文書")), (s.index("モディ"), s.index("モディ") + 3),
             (s.index("石破"), s.index("とモディ"))]
    assert titled(s, spans, "首相") == spans[1]
    assert titled(s, spans, "総理大臣") == spans[2]
    assert titled(s, spans, "大使") == spans[0]
    assert titled(s, spans, None) is None


def test_the_phrase_in_the_clause_naming_the_questions_subject_leads():
    s = ("2月18日に九州工業大学が製作した1Uサイズの衛星3機、翌19日にはシンガポール国立大学が製作した"
         "3Uサイズの衛星1機をJAXAに引き渡しました。")
    spans = [(s.index("1U"), s.index("1U") + 6), (s.index("3U"), s.index("3U") + 6)]
    has_name = lambda t: "九州" in t or "シンガポール" in t  # noqa: E731
    assert clause_of_question(s, spans, {"シンガポール"}, has_name) == spans[1]
    assert clause_of_question(s, spans, {"九州"}, has_name) is None  # the first-ranked is the asked one
    # A clause with no names of its own (a date or place first, the subject after) is not another subject's.
    t = "2015年、JAXAはXを打ち上げ、2016年に運用を開始した。"
    dates = [(0, 5), (t.index("2016"), t.index("2016") + 5)]
    assert clause_of_question(t, dates, {"JAXA"}, lambda x: "JAXA" in x) is None
    # Counts of one counter are siblings too (1Uサイズ…3機 / 3Uサイズ…1機: how many 1U satellites).
    counts = [(s.index("1機"), s.index("1機") + 2), (s.index("3機"), s.index("3機") + 2)]
    assert clause_of_question(s, counts, {"1U"}, has_name) == counts[1]
    assert clause_of_question(s, [counts[0], (0, 5)], {"1U"}, has_name) is None  # 1機 and 2月18日 are not


def test_an_acronym_before_the_gloss_colon_stays_an_answer():
    s = "イタリア自動車部品工業会(ANFIA:Associazione Nazionale Filiera Industria Automobilistica)"
    assert glossed(s, s.index("ANFIA"), s.index(":"), [(0, s.index("("))]) is None


def test_an_abbreviation_question_is_answered_by_the_bracketed_identifier_after_the_name():
    s = "「きぼう」の小型衛星放出機構(J-SSOD)と超小型衛星を前に記念撮影を行う関係者ら"
    q = "「きぼう」の小型衛星放出機構の略称は何ですか？"
    a, b = abbreviation(s, q)
    assert s[a:b] == "J-SSOD"
    assert abbreviation(s, "小型衛星放出機構はいつ使われましたか？") is None
    assert abbreviation("宇宙航空研究開発機構(JAXA)は協定を結んだ。", q) is None  # another name's


def _event(question, tokenizer):
    info = question_info(question, tokenizer)
    return asked_event(morpheme_toks(question, tokenizer), info.predicate, info.after)


def test_the_asked_event_is_the_verb_before_noha_or_the_last_verb(tokenizer):
    assert _event("ヴァーナー氏がESA長官に就任したのはいつですか？", tokenizer) == "就任"
    assert _event("衛星は何月何日に「きぼう」から放出されましたか？", tokenizer) == "放出"


@pytest.mark.parametrize("sentence, relative", [
    ("JAXAは5月15日、ESAのヴァーナー長官の就任後初来日の折に、会合を開催しました。", True),
    ("衛星3機が2月18日に引き渡され、「きぼう」からの放出に向けて搭載作業が実施されました。", True),
    ("ヴァーナー氏は2015年7月にESA長官に就任しました。", False),
    ("衛星は5月11日に「きぼう」から放出されました。", False),
    ("会合は5月15日に開催されました。", False),  # the event not named at all: nothing to tell
])
def test_an_event_named_only_as_a_reference_point_is_not_dated(tokenizer, sentence, relative):
    event = "就任" if "就任" in sentence or "会合" in sentence else "放出"
    assert only_relative(morpheme_toks(sentence, tokenizer), event) is relative


@pytest.mark.parametrize("question, party", [
    ("JAXA側の署名者は？", "JAXA"), ("署名したUAE側の人物は？", "UAE"), ("日本側の主催者はどこでしたか？", "日本"),
    ("両側の代表は誰ですか？", None), ("LUPEXで日本はどの部分を担当しますか？", None),
    ("共同声明でJAXAを代表したのは誰ですか？", "JAXA"), ("日本を代表する研究者は誰？", "日本"),
])
def test_the_party_a_japanese_question_asks_about(question, party):
    assert japanese_side(question) == party


def test_the_asked_partys_person_may_carry_the_party_in_the_phrase():
    s = "JAXA山川理事長およびルクセンブルク宇宙機関(LSA)セレスCEOは、6月13日に署名しました。"
    spans = [(s.index("セレス"), s.index("は、")), (0, s.index("および"))]
    assert sided(s, spans, {"JAXA"}) == spans[1]
    # Signature lines: one party a line.
    lines = "JAXA 理事長 奥村 直樹\nDLR 長官 パスカル・エーレンフロイント"
    people = [(lines.index("奥村"), lines.index("\n")), (lines.index("パスカル"), len(lines))]
    assert sided(lines, people, {"JAXA"}) == people[0]
    assert sided(lines, people, {"DLR"}) == people[1]


def test_a_count_asked_without_a_counter_is_the_number_written_before_the_asked_noun():
    s = "第21回会議(APRSAF-21)は、33の国・地域および12の国際機関から580名の参加者が集い、開催された。"
    spans = [(s.index("580"), s.index("580") + 4), (s.index("33"), s.index("33") + 2),
             (s.index("12"), s.index("12") + 2), (s.index("21回"), s.index("21回") + 3)]
    assert counting(s, spans, "機関") == spans[2]
    t = "九州工業大学の1Uサイズの衛星3機と、シンガポール国立大学の3Uサイズの衛星1機"
    sizes = [(t.index("1U"), t.index("1U") + 2), (t.index("3U"), t.index("3U") + 2)]
    assert counting(t, sizes, "サイズ") is None  # which of the two is asked is for another rule
    assert counting(s, spans, None) is None


def test_the_value_of_a_line_labelled_by_the_asked_word():
    line = "  • サイズ:1U(国連との連携協力に基づくサイズ)"
    a, b = labelled_value(line, {"サイズ"})
    assert line[a:b] == "1U"
    assert labelled_value(line, {"衛星"}) is None
    assert labelled_value("衛星のサイズは1Uです。", {"サイズ"}) is None


def test_a_date_or_the_questions_own_number_counts_nothing():
    s = "IMFの試算では、2013年のGDPは100億ドルであった。"
    assert counting(s, [(s.index("2013"), s.index("2013") + 5)], "GDP") is None
    t = "1モーラの音が2モーラ分に引き延ばされる。"
    assert counting(t, [(0, 1)], "音", "1モーラの音がどれくらいに引き延ばされるか") is None


def test_a_question_asking_what_an_acronym_stands_for_gets_the_words_before_it():
    assert expanded("DPNとは何の略ですか？") == "DPN"
    assert expanded("J-SSODは何の略？") == "J-SSOD"
    assert expanded("DPNはどこにありますか？") is None
    s = "「きぼう」の小型衛星放出機構(J-SSOD)と超小型衛星を前に記念撮影を行う"
    a, b = written_out(s, "J-SSOD")
    assert s[a:b] == "小型衛星放出機構"
    assert written_out(s, "JAXA") is None


def test_a_day_without_its_year_takes_the_year_the_page_writes_for_it():
    page = "第21回会議\nサマリ&提言\n2014年12月2日~5日 東京\n\n第21回会議は、12月2日から5日まで東京において開催された。"
    assert year_of_day("12月2日", page) == "2014年12月2日~5日"
    assert year_of_day("12月3日", page) is None  # the page gives no year for that day
    assert year_of_day("2014年12月2日", page) is None  # it has its year


def test_the_name_written_after_the_noun_whose_name_is_asked_leads():
    from bot.answer.kinds import apposed_name
    line = "2025年に水星周回軌道投入を予定している国際水星探査計画ベピコロンボ。"
    a, b = apposed_name(line, "「みお」が参加している国際水星探査計画の名前は何ですか？")
    assert line[a:b] == "ベピコロンボ"
    quoted = "日本の小惑星探査計画「はやぶさ」は成功した。"
    a, b = apposed_name(quoted, "小惑星探査計画の名称は？")
    assert quoted[a:b] == "はやぶさ"
    # the noun written twice, each with its name: which is asked, the words around them say
    trains = "パリから高速列車タリスが、フランクフルトから高速列車ICEが直通している。"
    assert apposed_name(trains, "フランクフルトから直通している高速列車の名称は？") is None
    # the noun without a name after it, or no name asked
    assert apposed_name("国際水星探査計画を紹介します。", "国際水星探査計画の名前は何ですか？") is None
    assert apposed_name(line, "国際水星探査計画はいつ始まりましたか？") is None


def test_the_doer_asked_is_the_subject_before_the_questions_verb():
    from bot.answer.kinds import doer
    line = "Kibo-ABC事務局は、UAEのMBRSCから、Kibo-ABCイニシアチブへの参加を要請する文書を受け取りました。"
    spans = [(line.index(x), line.index(x) + len(x)) for x in ("Kibo-ABCイニシアチブ", "MBRSC", "Kibo-ABC事務局")]
    assert doer(line, spans, "受け取る") == spans[2]
    assert doer(line, spans, "署名") is None  # the sentence does not write the asked act


def test_an_official_name_runs_through_its_middle_dot_to_the_body_word():
    s = "文部科学省、JAXA及びインドネシア研究技術・高等教育省(RISTEK-DIKTI)の共催により"
    end = s.index("・")
    assert s[:official_name_end(s, end, ("省", "機構"))].endswith("研究技術・高等教育省")
    t = "スリランカ・ネパールの学生"  # items joined by the dot, no body word: a list, not one name
    assert official_name_end(t, t.index("・"), ("省", "機構")) == t.index("・")


def test_a_date_of_another_founding_does_not_date_the_asked_one():
    s = "2006年に設立されたムハンマド・ビン・ラシード宇宙センターはUAE国家宇宙プログラムの本拠地です。"
    year = (0, 5)
    # Kibo-ABCは何年に設立: the year is the centre's, which the verb describes
    assert dates_another(s, *year, "設立", {"Kibo-ABC"})
    assert not dates_another(s, *year, "設立", {"ムハンマド・ビン・ラシード宇宙センター"})  # asked about it
    assert not dates_another("2008年にKibo-ABCが設立された。", *year, "設立", {"Kibo-ABC"})
    assert not dates_another("2008年に設立された。", *year, "設立", {"Kibo-ABC"})  # no other noun follows
    assert not dates_another(s, *year, "打ち上げ", {"Kibo-ABC"})  # another verb
    assert not dates_another(s, *year, "設立", set())  # the question names nothing


def test_the_phrase_in_the_clause_writing_the_asked_verb_leads():
    s = "1993年10月に締結された協定(1998年及び2003年にそれぞれ5年間延長,2008年10月12日に有効期間満了)に基づき"
    spans = [(s.index("2008"), s.index("2008") + 11), (s.index("1998"), s.index("1998") + 5),
             (s.index("2003"), s.index("2003") + 5)]
    assert clause_of_predicate(s, spans, "延長") == spans[1]
    assert clause_of_predicate(s, spans, "満了") is None  # the first-ranked clause writes it
    assert clause_of_predicate(s, spans, "打ち上げ") is None  # no clause does
    assert clause_of_predicate(s, spans[:1], "延長") is None


def test_a_person_is_named_in_the_sentence_not_only_when_read_alone(tokenizer):
    from bot.answer.phrase import named_in_sentence
    from bot.query.analysis import morpheme_toks
    toks = lambda text: morpheme_toks(text, tokenizer)  # noqa: E731
    s = "JAXAのマイクロ波放電式中和器を山川宏理事長が紹介した。"
    at = lambda p: (s.index(p), s.index(p) + len(p))  # noqa: E731
    assert not named_in_sentence(s, *at("中和"), toks)  # a surname to Sudachi only out of context
    assert named_in_sentence(s, *at("山川宏"), toks) and named_in_sentence(s, *at("山川宏理事長"), toks)

"""The identifiers a question names, and whether a sentence's context holds them."""

import pytest
from paths import DATA

from bot.answer.constraints import Context, check, identifiers, years
from bot.answer.phrase import fits_type


@pytest.mark.parametrize("text, expected", [
    ("平成27年9月に締結", {2015}),
    ("昭和61年から", {1986}),
    ("令和元年", {2019}),
    ("2019年9月24日", {2019}),
    ("12月2日から5日まで", set()),
    ("", set()),
])
def test_years_convert_japanese_eras(text, expected):
    assert years(text) == expected


def test_identifiers_of_japanese_and_english_questions(tokenizer):
    ids = identifiers("第21回のAPRSAFはどこで開催されましたか？", "ja", tokenizer)
    assert ids.editions == {21} and ids.names == {"aprsaf"}
    assert identifiers("APRSAF-21には何人が参加しましたか？", "ja", tokenizer).codes == {("aprsaf", 21)}
    assert identifiers("Where was the 22nd APRSAF meeting held?", "en").editions == {22}
    assert identifiers("Who was selected in the third round of KiboCUBE?", "en").editions == {3}
    assert identifiers("For which countries were the BIRDS-3 CubeSats first satellites?", "en").codes == {("birds", 3)}
    # a year that frames the question is not what it asks about
    assert not identifiers("2024年の時点でAPRSAFには何年の歴史がありますか？", "ja", tokenizer).years
    assert not identifiers("How many times had the panel met as of 2004?", "en").years
    # a person's surname is named; a word Sudachi reads as a given name (宇宙) is not
    assert identifiers("若田宇宙飛行士はいつ地球に帰還しましたか？", "ja", tokenizer).names == {"若田"}
    # places are written many ways (カナダ, 日加): no name check for them
    assert "カナダ" not in identifiers("JAXAとカナダ宇宙庁の初めての会合はいつですか？", "ja", tokenizer).names
    assert not identifiers("ロケットはどこから打ち上げられましたか？", "ja", tokenizer)


def _ctx(sentence, section="", title="", doc=""):
    return Context.of(sentence, section, title, doc or sentence)


def test_an_edition_must_hold_near_the_sentence(tokenizer):
    ids = identifiers("第20回のAPRSAFはどこで開催されましたか？", "ja", tokenizer)
    sibling = check(ids, _ctx("第21回アジア・太平洋地域宇宙機関会議(APRSAF-21)は東京において開催された。"))
    assert not sibling.ok and sibling.missing == ["第20回"]
    assert check(ids, _ctx("会議は東京で開催された。", title="APRSAF-20 提言文")).ok
    assert check(identifiers("APRSAF-21の参加者は何人？", "ja", tokenizer),
                 _ctx("第21回の会合には580名が参加した。", title="APRSAFの報告")).ok


def test_a_year_may_stand_anywhere_in_the_document_and_in_era_form(tokenizer):
    ids = identifiers("2015年にKiboCUBEの取決めを結んだのは誰ですか？", "ja", tokenizer)
    assert check(ids, _ctx("JAXAはKiboCUBEの取決めを締結した。", doc="KiboCUBE 平成27年9月 JAXAは締結した。")).ok
    assert check(ids, _ctx("締結した。", doc="KiboCUBEについて。2016年に締結した。")).missing == ["2015年"]


def test_names_must_be_in_the_document_unless_the_corpus_is_about_them(tokenizer):
    ids = identifiers("アルテミス計画で日本人が月面に降り立つのは何年ですか？", "ja", tokenizer)
    ctx = _ctx("日本人宇宙飛行士がソユーズ宇宙船に搭乗した。")
    assert check(ids, ctx).missing == ["アルテミス"]
    assert check(ids, ctx, common=lambda name: name == "アルテミス").ok


def test_an_english_questions_acronym_must_stand_as_a_word():
    ids = identifiers("Who was JAXA's president at the time of the joint statement with ASI?", "en")
    asia = _ctx("JAXA President Naoki Okumura met ESA.", doc="JAXA and ESA work with Asia-Pacific agencies.")
    assert check(ids, asia, lang="en").missing == ["ASI"]
    assert check(ids, _ctx("JAXA立川理事長他", doc="イタリア宇宙機関(ASI)総裁とJAXA"), lang="en").ok
    # a Japanese question's Latin word may be cut short and is matched inside the longer one
    cut = identifiers("コンゴ共和国のDPの5割は何に頼っていますか？", "ja")
    assert check(cut, _ctx("GDPの5割以上を石油に頼る。")).ok


def test_the_series_of_an_edition_must_be_in_the_document(tokenizer):
    ids = identifiers("第27回宇宙開発戦略本部はいつ開かれましたか？", "ja", tokenizer)
    other = check(ids, _ctx("第27回のAPRSAFでは活発な議論が行われました。"))
    assert not other.ok and other.missing == ["宇宙開発戦略本部"]
    assert check(ids, _ctx("第27回宇宙開発戦略本部を官邸で開催しました。")).ok
    # the nouns before the edition are its series, those after it what the series made
    ids = identifiers("BIRDSプロジェクト第3弾の1Uサイズ衛星は何機引き渡されましたか？", "ja", tokenizer)
    assert check(ids, _ctx("BIRDSプロジェクトの第3弾として製作した1Uサイズの超小型衛星3機")).ok
    # a year's counter before the series is the year's
    ids = identifiers("2006年ラオスの第6期国民議会第1回会議で選ばれたのは誰か？", "ja", tokenizer)
    assert ids.names == {"ラオス", "国民議会"}


@pytest.mark.parametrize("phrase, qtype, ok", [
    ("平成27年9月", "time", True),
    ("2020年1月29日", "time", True),
    ("13件", "time", False),
    ("科学的・技術的", "time", False),
    ("580名", "number", True),
    ("東京", "place", True),
    ("タイオリエンタルホテル", "place", True),
    ("12月2日", "place", False),
    ("モディ", "person", True),
    ("2019", "person", False),
    ("実行委員会", "org", True),
])
def test_a_lead_phrase_must_be_of_the_asked_type(tokenizer, phrase, qtype, ok):
    assert fits_type(phrase, qtype, tokenizer) is ok


@pytest.fixture(scope="module")
def meetings_engine(tmp_path_factory, real_embedder, tokenizer, models):
    from bot.engine import Engine
    from bot.store.build import build_index
    index = tmp_path_factory.mktemp("meetings") / "index"
    build_index(DATA / "pages", index, real_embedder, tokenizer, max_bytes=10**6)
    return Engine.load(index, real_embedder, tokenizer, models=models)


@pytest.mark.slow
def test_a_sibling_edition_is_refused_and_says_which(meetings_engine):
    asked = meetings_engine.ask("第21回のアジア宇宙会議はどこで開催されましたか？")
    assert asked.found and asked.answer.splitlines()[0].startswith("東京")
    sibling = meetings_engine.ask("第23回のアジア宇宙会議はどこで開催されましたか？")
    assert not sibling.found and "第23回" in sibling.answer and not sibling.citations


@pytest.mark.slow
def test_the_lead_is_of_the_asked_type(meetings_engine):
    when = meetings_engine.ask("第22回アジア宇宙会議はいつ開かれましたか？")
    # 和暦 is stated in both forms.
    assert when.found and when.answer.splitlines()[0].startswith("平成27年12月1日（2015年12月1日）")
    many = meetings_engine.ask("ASC-21には何人が参加しましたか？")
    assert many.found and many.answer.splitlines()[0].startswith("580名")


def test_a_place_that_begins_an_organisations_name_is_no_place(tokenizer):
    assert not fits_type("アラブ首長国連邦", "place", tokenizer, after="宇宙機関(United Arab Emirates")
    assert not fits_type("United Arab Emirates", "place", tokenizer, after=" Space Agency:以下「UAESA」")
    assert fits_type("アラブ首長国連邦アブダビ", "place", tokenizer, after="において、機関間協定を")
    assert fits_type("東京", "place", tokenizer, after="で開催された")
    assert not fits_type("モディ・インド", "place", tokenizer, after="首相立合いの下、")  # whose office, not where
    assert not fits_type("インド", "place", tokenizer, after="宇宙研究機関(ISRO)は")
    assert not fits_type("モディ・インド首相立合い", "place", tokenizer, after="の下、")
    assert fits_type("総理大臣官邸", "place", tokenizer, after="で開催された")
    assert not fits_type("イタリア", "place", tokenizer, after="航空宇宙研究センター(CIRA)")
    assert fits_type("種子島", "place", tokenizer, after="宇宙センターから打ち上げ")
    assert not fits_type("議論", "place", tokenizer, after="しました")  # an act is no place
    assert not fits_type("ジム", "place", tokenizer, after="・ブライデンスタイン長官は")  # a name before an office
    assert fits_type("インドネシア", "place", tokenizer, after="・バリ島にて開催")
    assert not fits_type("本日", "place", tokenizer, after="2019年9月24日に会合を持ち")  # a time word
    assert fits_type("近く", "place", tokenizer, after="で見つかった")
    assert not fits_type("本日2019年9月24日", "place", tokenizer, after="に会合を持ち")
    assert fits_type("沖縄県議補欠選挙", "place", tokenizer, after="で泡沫候補を")  # どこ of an election
    assert not fits_type("山川", "place", tokenizer, after="宏理事長と、")
    assert not fits_type("将来", "place", tokenizer, after="の両機関の協力")
    assert not fits_type("両機関の協力", "place", tokenizer, after="について議論を")  # an act, whoever's
    assert not fits_type("本日2019", "place", tokenizer, after="年9月24日に")  # pieces of a date
    assert not fits_type("年9月", "place", tokenizer, after="24日に")
    assert not fits_type("月24", "place", tokenizer, after="日に")
    assert fits_type("月面", "place", tokenizer, after="に着陸")
    assert not fits_type("国立", "place", tokenizer, after="研究開発法人宇宙航空研究開発機構(JAXA)")  # an org's
    assert fits_type("東京都渋谷区千駄ヶ谷4丁目26-7", "place", tokenizer, after="にある")  # an address
    assert fits_type("会場", "place", tokenizer, after="で行われた")


def test_a_person_phrase_ends_on_the_name_or_a_title(tokenizer):
    assert not fits_type("川勝火星衛星探査機", "person", tokenizer)  # a probe's name after the person's
    assert fits_type("ジム・ブライデンスタイン", "person", tokenizer)  # katakana Sudachi does not know
    assert fits_type("小池俊雄東京大学教授", "person", tokenizer)
    assert fits_type("奥村直樹", "person", tokenizer)
    assert fits_type("藤野保史", "person", tokenizer)  # a given name Sudachi does not know
    assert fits_type("アルフォンソ3世", "person", tokenizer)
    assert not fits_type("麻生内閣", "person", tokenizer)


def test_a_country_is_asked_for_by_its_name(tokenizer):
    assert not fits_type("関連イベント", "place", tokenizer, head="国")
    assert not fits_type("APRSAF", "place", tokenizer, head="国")
    assert fits_type("インドネシア", "place", tokenizer, head="国")
    assert fits_type("Indonesia", "place", tokenizer, head="国")
    assert fits_type("EU諸国", "place", tokenizer, head="国")  # a word for countries
    assert fits_type("関連イベント会場", "place", tokenizer)  # any other place is read leniently
    # a body or a building named after its city is in a country, not one
    assert not fits_type("ベルリン日独センター", "place", tokenizer, head="国")
    assert not fits_type("ナイロビ大学", "place", tokenizer, head="国")
    assert fits_type("ドイツ連邦共和国", "place", tokenizer, head="国")
    assert not fits_type("アジア太平洋地域の各国", "place", tokenizer, head="国")  # "each country"
    assert fits_type("ベルリン日独センター", "place", tokenizer)  # where: it is a place


def test_a_country_the_sentences_do_not_name_is_not_given(tokenizer):
    from bot.engine import Engine
    from bot.query.analysis import question_info
    country = question_info("水ロケット大会で優勝したのはどの国のチームですか？", tokenizer)
    assert not Engine._gives_asked_kind(None, [], country, None)
    assert Engine._gives_asked_kind(None, [], question_info("大会はどこで開かれましたか？", tokenizer), None)


def test_a_picked_kind_is_named_in_japanese_or_in_english(tokenizer):
    from types import SimpleNamespace

    from bot.engine import Engine
    from bot.query.analysis import question_info
    texts = ["The workshop was held in Singapore.", "It was organized under the Space Working Group."]
    doc = "\n".join(texts)
    index = SimpleNamespace(passages=[SimpleNamespace(doc_id="d")], documents={"d": SimpleNamespace(text=doc)})
    quoted = [SimpleNamespace(passage_row=0, start=doc.index(t), end=doc.index(t) + len(t)) for t in texts]
    asked = question_info("ワークショップはどのワーキンググループの下で開催されましたか？", tokenizer)
    # without the English word for グループ no quoted sentence names a group
    assert not Engine._gives_asked_kind(index, quoted, asked, None)
    english = {"グループ": ["group"]}
    assert Engine._gives_asked_kind(index, quoted, asked, None, lambda term: english.get(term, []))
    names = Engine._names_asked_noun(asked, lambda term: english.get(term, []))
    assert names is not None and [names(t) for t in texts] == [False, True]
    assert not Engine._gives_asked_kind(index, quoted[:1], asked, None, lambda term: english.get(term, []))


def test_a_counted_number_must_count_the_asked_things(tokenizer):
    assert fits_type("580名", "number", tokenizer, counter="人")
    assert fits_type("28", "number", tokenizer, counter="箇国", after="か国・地域")
    assert not fits_type("33", "number", tokenizer, counter="人", after="の国・地域")


def test_a_date_has_the_precision_asked(tokenizer):
    assert not fits_type("12月2日", "time", tokenizer, counter="年")  # 何年: no year
    assert fits_type("2014年12月2日", "time", tokenizer, counter="年")
    assert fits_type("平成28年", "time", tokenizer, counter="年")
    assert fits_type("2年間", "time", tokenizer, counter="年")  # 最低何年働く: a number of years
    assert fits_type("12月2日", "time", tokenizer, counter="日")
    assert fits_type("午前9時", "time", tokenizer, counter="時")
    assert not fits_type("タイ国標準時刻12月2日", "time", tokenizer, counter="時")  # 何時: no hour


def test_a_lists_numbering_counts_nothing(tokenizer):
    assert not fits_type("1.", "number", tokenizer)
    assert not fits_type("(2)", "number", tokenizer)
    assert fits_type("12", "number", tokenizer, after="の国際機関")
    assert not fits_type("第3弾", "number", tokenizer)  # an ordinal measures nothing (大きさはどれくらい)
    assert fits_type("10cm×10cm×10cm", "number", tokenizer)
    assert not fits_type("22回目", "number", tokenizer)
    assert fits_type("第3位", "number", tokenizer, counter="位")
    assert fits_type("第3党", "number", tokenizer, counter="番目")
    assert fits_type("第28回", "number", tokenizer, counter="回")  # 第何回


def test_a_quantity_must_be_in_the_asked_unit(tokenizer):
    duration = dict(counter="年間")
    assert fits_type("5年", "number", tokenizer, **duration)
    assert fits_type("1年間", "number", tokenizer, after="かけて", **duration)
    assert not fits_type("5", "number", tokenizer, after="年である", **duration)  # the span with its unit
    assert not fits_type("2014年", "number", tokenizer, **duration)  # a calendar year is no span
    assert not fits_type("28年", "number", tokenizer, after="3月22日", **duration)  # 平成28年3月22日
    assert not fits_type("6月13日", "number", tokenizer, **duration)
    assert fits_type("2億3,580万", "number", tokenizer, counter="金額", after="ドル")  # any currency
    assert not fits_type("第22回目", "number", tokenizer, counter="金額")
    assert not fits_type("2005", "number", tokenizer, counter="金額", after=" Sentinel Asia設立")
    assert fits_type("1.5kg", "number", tokenizer, counter="キログラム")
    assert not fits_type("図:1KUNS-PF", "number", tokenizer, counter="キログラム")


@pytest.mark.slow
def test_a_quantity_the_sentences_do_not_give_is_not_answered(meetings_engine):
    cost = meetings_engine.ask("第21回アジア宇宙会議の開催費用はいくらでしたか？")
    assert not cost.found, cost.answer
    span = meetings_engine.ask("第22回アジア宇宙会議で採択された宣言の有効期間は何年ですか？")
    assert not span.found, span.answer


@pytest.mark.slow
def test_a_question_whose_asked_kind_the_sentences_lack_gets_a_partial_answer(meetings_engine):
    a = meetings_engine.ask("第21回アジア宇宙会議では改革案が何件承認されましたか？")
    assert not a.found and a.state == "partial", a.answer
    assert a.answer.startswith("資料には、お尋ねの数は書かれていません。") and a.citations
    full = meetings_engine.ask("第22回アジア宇宙会議には何人が参加しましたか？")
    assert full.found and full.state == "answered" and "480名" in full.answer.splitlines()[0]
    who = meetings_engine.ask("第22回アジア宇宙会議で基調講演をしたのは誰ですか？")
    assert who.found and who.answer.startswith("小池俊雄")


@pytest.mark.parametrize("phrase, qtype, counter, ok", [
    ("夜間", "time", None, True),  # いつ → a time word
    ("梅雨末期", "time", None, True),
    ("内陸国", "number", "国", True),  # 何国 asks for a word ending in 国
    ("ポルトガル人", "number", "人", True),  # 何人 read なにじん
    ("1,447m", "number", "メートル", True),  # a unit written its own way
    ("労働者", "person", None, True),
    ("平均34件/日", "person", None, False),
    ("米国航空宇宙局", "place", None, False),  # an organisation names no place
    ("ジョージ駐日インド大使間", "place", None, False),  # nor do people (…大使間で文書交換式が)
    ("山川理事長", "place", None, False),
    ("首相官邸", "place", None, True),
    ("ケネディ宇宙センター", "place", None, True),
    ("緩衝地帯", "place", None, True),
])
def test_the_type_check_rules_out_only_the_plainly_wrong_kind(tokenizer, phrase, qtype, counter, ok):
    assert fits_type(phrase, qtype, tokenizer, counter=counter) is ok


def test_a_nickname_is_no_organisations_name(tokenizer):
    # 「小型ローバの愛称は」: CNES, named in the sentence about the rover, is not what it is called.
    assert not fits_type("フランス国立宇宙研究センター", "name", tokenizer, head="愛称")
    assert fits_type("イダテン", "name", tokenizer, head="愛称")
    assert fits_type("フランス国立宇宙研究センター", "name", tokenizer, head="名称")  # a body's name may be asked

"""List questions: every item of the asked kind the supporting sentences name, in document order."""

import pytest
from paths import DATA

from bot.answer.lists import (
    Candidate,
    Item,
    ListAsk,
    Source,
    asked_en,
    asked_ja,
    best,
    bullets,
    countries,
    gathered,
    marked,
    object_verbs,
    parallel_objects,
    partner_predicate,
    runs_en,
    runs_ja,
)


def _items(sentence, runs):
    return [[sentence[a:b] for a, b in r.items] for r in runs]


def test_a_japanese_run_takes_the_items_coordinated_in_a_sentence_and_its_parentheses(tokenizer):
    s = ("今後、研究開発、人材育成等の分野で協力し、"
         "4つの分科会(宇宙利用、宇宙技術、宇宙環境利用、宇宙教育)が開かれました。")
    runs = _items(s, runs_ja(s, tokenizer))
    assert ["宇宙利用", "宇宙技術", "宇宙環境利用", "宇宙教育"] in runs
    assert ["研究開発", "人材育成"] in runs
    row = "降雨レーダ(PR) TRMMマイクロ波放射計(TMI) |"  # a table row: a space separates its cells
    assert _items(row, runs_ja(row, tokenizer, fragment=True)) == [["降雨レーダ(PR)", "TRMMマイクロ波放射計(TMI)"]]
    quoted = "2021年5月までは「ご飯がススム」、2021年6月からは別のCMだった。"
    assert runs_ja(quoted, tokenizer) == []  # no item starts inside a quotation
    also = "日本の観測機器だけでなく、インドや米国、欧州の機器も搭載します。"
    assert _items(also, runs_ja(also, tokenizer)) == [["日本の観測機器", "インド", "米国", "欧州の機器"]]


def test_an_english_run_is_short_noun_phrases_joined_by_commas_and_and():
    s = "Other calamities such as flooding, earthquakes, high winds and landslides are high on the list."
    assert _items(s, runs_en(s)) == [["flooding", "earthquakes", "high winds", "landslides"]]
    s = "the shared view of President Donald Trump and Prime Minister Shinzo Abe to accelerate talks"
    assert _items(s, runs_en(s)) == [["President Donald Trump", "Prime Minister Shinzo Abe"]]


def test_the_objects_later_clauses_give_the_same_verb_are_items_too(tokenizer):
    s = "また、SandSat-1、SandSat-2を打ち上げており、最新の衛星であるDuneSatを種子島から打ち上げました。"
    assert [s[a:b] for a, b in parallel_objects(s, s.index("を"), tokenizer)] == ["DuneSat"]
    other = "また、SandSat-1、SandSat-2を打ち上げており、その画像を世界中に提供しています。"
    assert parallel_objects(other, other.index("を"), tokenizer) == []  # another verb's object


@pytest.mark.parametrize("question, head, verbs", [
    ("打ち上げた衛星にはどんなものがありますか？", "衛星", {"打ち上げ"}),
    ("どんな衛星を打ち上げましたか？", "衛星", {"打ち上げ"}),
    ("その衛星はどのロケットで打ち上げられましたか？", "ロケット", set()),  # no object of 打ち上げ
    ("衛星を打ち上げた国はどこですか？", "国", set()),  # the clause has its own object
])
def test_the_verbs_a_question_makes_its_asked_noun_the_object_of(tokenizer, question, head, verbs):
    assert object_verbs(question, (head,), tokenizer) == verbs


def test_announced_lines_are_items_even_without_their_markers():
    text = "They are divided into three groups.\n\nSpace agency: provides images\n\nUsers\n\nUniversities\n\nFigure 1"
    assert [text[a:b] for a, b in bullets(text, text.index("groups.") + 7, 3)] == ["Space agency", "Users",
                                                                                    "Universities"]
    assert bullets(text, text.index("groups.") + 7) == []  # unmarked and unannounced: not a list
    marked = "Items:\n• ミッション概要:技術実証\n• サイズ:1U\n本文です。"
    assert [marked[a:b] for a, b in bullets(marked, 6)] == ["ミッション概要", "サイズ"]


@pytest.mark.parametrize("question, qtype, heads, explicit", [
    ("分科会をすべて教えてください。", None, ("分科会",), True),
    ("APRSAF-22の分科会の分野をすべて教えてください", None, ("分野", "分科会"), True),  # and its owner
    ("1KUNS-PFではどのような技術を実証しますか？", None, ("技術",), False),
    ("どこの国や地域の観測機器が載りますか？", "place", ("国", "地域"), True),
    ("安全保障のための宇宙アーキテクチャにはどのような機能が含まれますか？", None, ("機能",), True),
    ("打ち上げた衛星にはどんなものがありますか？", None, ("衛星",), True),  # the noun before どんなもの
])
def test_a_japanese_list_question(tokenizer, question, qtype, heads, explicit):
    ask = asked_ja(question, qtype, tokenizer)
    assert ask is not None and ask.heads == heads and ask.explicit is explicit


@pytest.mark.parametrize("question, qtype", [
    ("RAICのすべてのメンバーが持っている学位は何。", "thing"),  # すべて of a subject
    ("アイヌの代表的な鮭料理を一つ挙げよ", None),  # one item
    ("格安航空はどこを主な発着拠点としている？", "place"),  # one place
    ("契約アナウンサーすべてが退社したのは何年何月か", "time"),
    ("JAXAはどの国と協力していますか？", "place"),  # a place phrase, widened by its own coordination
])
def test_factoid_questions_are_not_lists(tokenizer, question, qtype):
    assert asked_ja(question, qtype, tokenizer) is None


def test_what_a_noun_is_of_or_for_is_asked_by_its_owner(tokenizer):
    ask = asked_ja("EarthCAREは何の構造を測定しますか？", "name", tokenizer)
    assert ask is not None and ask.heads == ("構造",) and ask.owner and not ask.explicit
    en = asked_en("Who does APRSAF offer an open forum to?")
    assert en is not None and en.heads[0] == "forum" and en.owner
    assert asked_en("Who does APRSAF report to?") is None


@pytest.mark.parametrize("question, head, count", [
    ("Which sensors did TRMM carry?", "sensors", None),
    ("Into which four categories are the organizations divided?", "categories", 4),
    ("Which Japanese astronauts flew on Soyuz?", "astronauts", None),
    ("What are the main goals of the forum?", "goals", None),
    ("Besides droughts, which calamities are named as major sources of deaths?", "calamities", None),
])
def test_an_english_list_question(question, head, count):
    ask = asked_en(question)
    assert ask is not None and ask.heads[0] == head and ask.count == count


@pytest.mark.parametrize("question", ["Which country grants the right?", "What is APRSAF?",
                                      "Which letter stands for the rapid solution?", "Who signed it?",
                                      "What are architects like these called?"])
def test_english_factoid_questions_are_not_lists(question):
    assert asked_en(question) is None


def test_a_country_is_read_as_named_not_inside_a_longer_name(tokenizer):
    s = "日本国とアメリカ合衆国、日本人宇宙飛行士、カナダ宇宙庁、韓国等に加え、アラブ首長国連邦、スウェーデンのキルナ。"
    assert [s[a:b] for a, b, _ in countries(s, tokenizer)] == [
        "日本国", "アメリカ合衆国", "韓国", "アラブ首長国連邦", "スウェーデン"]
    assert [short for _, _, short in countries("ドイツ連邦共和国の大統領", tokenizer)] == ["ドイツ"]
    assert countries("ルクセンブルク宇宙機関(Luxembourg Space Agency)", tokenizer) == []


@pytest.mark.parametrize("question, predicate", [
    ("JAXAはどの国と協力していますか？", "協力"), ("JAXAはどこの国と連携していますか", "連携"),
    ("JAXAと協力している国はどこですか？", "協力"), ("オランダはどこの国と隣接している？", "隣接"),
    ("どの国で打ち上げられましたか？", None), ("フォッカー社はどこの国の企業か？", None),
])
def test_a_country_asked_as_a_partner_names_its_predicate(question, predicate):
    assert partner_predicate(question) == predicate


def _source(key, text, section, start=0):
    return Source(key, start, text, ("page", section))


def test_a_list_gathered_across_sections_leaves_out_the_side_every_section_names(tokenizer):
    sources = [_source(1, "アメリカとの協力関係は、日本国とアメリカ合衆国の交換公文から始まりました。",
                       "アメリカ・カナダ"),
               _source(2, "カナダとは、日本・カナダ宇宙パネルを開催しています。", "アメリカ・カナダ", 100),
               _source(3, "スウェーデンのキルナに日本の追跡局を設置し、協力関係は深まりました。", "ヨーロッパ", 200)]
    items = gathered(sources, tokenizer)
    assert [i.text for i in items] == ["アメリカ", "カナダ", "スウェーデン"]  # 日本 is named in both sections
    assert [(i.key, i.start) for i in items] == [(1, 0), (2, 100), (3, 200)]
    assert [i.text for i in gathered(sources, tokenizer, asked="カナダとはどの国と協力していますか")] == [
        "アメリカ", "スウェーデン"]
    # one section's countries are its own list, read as a run of its sentence
    assert gathered(sources[:2], tokenizer) == []
    # the page naming the most comes first
    other = Source(5, 0, "ルクセンブルクとの協力を発展させます。", ("other page", ""))
    assert [i.text for i in gathered([other] + sources, tokenizer)][-1] == "ルクセンブルク"


def test_items_of_several_sentences_are_each_followed_by_their_citation():
    items = [Item("ドイツ", 7, 0, 3), Item("ロシア", 9, 10, 13), Item("フランス", 9, 14, 18)]
    assert marked(items, [i.text for i in items], {7: 1, 9: 2}) == ["ドイツ[1]", "ロシア", "フランス[2]"]
    english = marked(items, ["Germany", "Russia", "France"], {7: 1, 9: 2}, " ")
    assert english == ["Germany [1]", "Russia", "France [2]"]
    assert marked(items[1:], ["ロシア", "フランス"], {9: 1}) is None  # one sentence: one mark after the list


def _cand(texts, before="", after="", quoted=True, rank=0):
    return Candidate(tuple(Item(t, 1, 0, 0) for t in texts), before, after, quoted, rank)


def test_the_run_naming_the_asked_kind_answers():
    ask = ListAsk(("分野",))
    named = _cand(["研究開発", "人材育成"], after="等の分野で", rank=1)
    other = _cand(["JAXA", "UAESA"], after="は協力します")
    assert best([other, named], ask, "どの分野で協力しますか") is named
    # a run of what the question itself names is no answer; nor one not of the asked kind
    assert best([_cand(["JAXA", "UAESA"], after="等の分野")], ask, "JAXAとUAESAはどの分野で") is None
    assert best([other], ask, "どの分野で協力しますか") is None
    # neither are a topic's words before a head (「ラーオ語とタイ語は同一言語」), nor times
    assert best([_cand(["ラーオ語", "タイ語"], after="は同一言語です")], ListAsk(("言語",)), "どんな言語") is None
    assert best([_cand(["5時", "9時"])], ListAsk(explicit=True), "主な番組は") is None
    # a run in parentheses answers only when the word before them names the asked kind
    astronauts = _cand(["野口宇宙飛行士", "古川宇宙飛行士"], before="帰還を行っています(")
    assert best([astronauts], ListAsk(explicit=True), "協力にはどんなものがありますか") is None
    assert best([_cand(["宇宙利用", "宇宙技術"], before="4つの分科会(")], ListAsk(("分科会",), None, True),
                "分科会をすべて教えて") is not None
    # items of the asked kind (each a 宇宙飛行士, its dates aside) answer from parentheses too
    named = _cand(["野口宇宙飛行士(2009年12月~2010年6月)", "古川宇宙飛行士(2011年6月~11月)"],
                  before="帰還を行っています(")
    assert best([named], ListAsk(("astronauts", "宇宙飛行士"), None, True), "Which astronauts flew?") is named
    # items that modify what follows them (ISSへの飛行及びISSからの帰還) are no list
    trip = _cand(["飛行", "ISS"], before="ISSへの", after="からの帰還を行っています")
    assert best([trip], ListAsk(explicit=True), "協力にはどんなものがありますか") is None
    # asked for a list in so many words, the quoted sentences' best run answers
    assert best([other], ListAsk(explicit=True), "協力する機関をすべて教えて") is other
    # of runs naming no asked kind, the object of the question's verb (「…を打ち上げ」)
    service = _cand(["画像", "データ解析サービス"], before="衛星の組み立てをしており、", after="を提供しています")
    launched = _cand(["SandSat-1", "SandSat-2"], after="を打ち上げており", rank=1)
    assert best([service, launched], ListAsk(("衛星",), None, True), "打ち上げた衛星にはどんなものがありますか",
                words=frozenset({"打ち上げ", "衛星"}), verbs=frozenset({"打ち上げ"})) is launched
    # as many items as asked for
    four = _cand(["Space agency", "Users", "Universities", "Donors"], quoted=False, rank=2)
    assert best([other, four], ListAsk(("categories",), 4, True), "which four categories") is four


def test_asked_what_a_noun_is_of_only_the_run_after_it_answers():
    ask = ListAsk(("構造", "structure"), owner=True)
    of = _cand(["clouds", "aerosols", "radiation"], before="a mission measuring the structure of ", rank=0)
    other = _cand(["EarthCARE", "BepiColombo"], before="joint missions such as ", rank=0)
    assert best([other, of], ask, "EarthCAREは何の構造を測定しますか") is of
    assert best([other], ask, "EarthCAREは何の構造を測定しますか") is None
    ja = _cand(["雲", "エアロゾル", "放射"], after="の構造を測定します")
    assert best([ja], ask, "何の構造を測定しますか", phrase_led=True) is ja  # before a phrase of the asked type
    forum = _cand(["governments", "space agencies", "industry"], before="APRSAF provides an open forum for ")
    assert best([forum], ListAsk(("forum",), owner=True), "Who does APRSAF offer an open forum to?") is forum


@pytest.fixture(scope="module")
def lists_engine(tmp_path_factory, real_embedder, tokenizer, models):
    from bot.engine import Engine
    from bot.store.build import build_index
    index = tmp_path_factory.mktemp("lists") / "index"
    build_index(DATA / "lists", index, real_embedder, tokenizer, max_bytes=10**6)
    return Engine.load(index, real_embedder, tokenizer, models=models)


@pytest.mark.slow
def test_a_list_question_is_answered_with_every_item_first(lists_engine):
    ja = lists_engine.ask("今年の会議の前半に開かれた分科会をすべて教えてください。")
    assert ja.found and ja.answer.splitlines()[0] == "宇宙利用、宇宙技術、宇宙教育です。[1]", ja.answer
    en = lists_engine.ask("Which calamities are major sources of losses in the region?")
    assert en.found and en.answer.splitlines()[0].startswith(
        "Answer: flooding, earthquakes and landslides [1]"), en.answer


@pytest.mark.slow
def test_a_lead_takes_in_the_names_coordinated_with_a_name_spelled_out(lists_engine):
    a = lists_engine.ask("研究センターの株式の大部分を保有しているのはどこですか？")
    assert a.found and a.answer.splitlines()[0].startswith("ASI及び国立研究会議"), a.answer


@pytest.mark.slow
def test_the_items_a_noun_is_of_lead_from_an_english_sentence(lists_engine):
    ja = lists_engine.ask("その雲のミッションは何の構造を測定しますか？")
    assert ja.found and ja.answer.splitlines()[0].startswith("clouds, aerosols and radiation"), ja.answer
    en = lists_engine.ask("Who does the forum offer an open platform to?")
    assert en.found and en.answer.splitlines()[0].startswith(
        "Answer: governments, space agencies and industry representatives"), en.answer


@pytest.mark.slow
def test_a_list_takes_the_objects_later_clauses_give_the_same_verb(lists_engine):
    a = lists_engine.ask("砂漠宇宙センターが打ち上げた衛星にはどんなものがありますか？")
    assert a.found and a.answer.splitlines()[0].startswith("SandSat-1、SandSat-2、DuneSat"), a.answer

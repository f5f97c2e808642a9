import pytest

from bot.query.analysis import analyse_question


@pytest.mark.parametrize("question, qtype", [
    ("APRSAF-13の日本側の主催者はどこですか？", "org"),  # どこ asked of a body: which organisation
    ("担当機関はどこですか？", "org"),
    ("本部はどこですか？", "place"),
    ("その作者が生まれたのはどこですか？", "place"),
    ("第21回の会議はどこで開催されましたか？", "place"),
    # an act with no doer named: which organisation did it
    ("MBRSCからの参加要請の文書を受け取ったのはどこですか？", "org"),
    ("協定に署名したのはどこですか？", "org"),
    ("APRSAF-21が開催されたのはどこですか？", "place"),  # passive: where
    ("会合を開いたのはどこですか？", "place"),  # a verb of where
    ("JAXAが協定を結んだのはどこですか？", "place"),  # the doer is named
])
def test_where_asked_of_a_person_or_body_asks_for_an_organisation(tokenizer, question, qtype):
    assert analyse_question(question, tokenizer).qtype == qtype


@pytest.mark.parametrize("question, qtype, particle, pair", [
    ("文書を交換したのは誰と誰ですか？", "person", None, True),  # two people, not "with whom"
    ("どことどこが署名しましたか？", "place", None, True),
    ("JAXAは誰と協力していますか？", "person", "と", False),
])
def test_an_interrogative_coordinated_with_itself_asks_for_two(tokenizer, question, qtype, particle, pair):
    info = analyse_question(question, tokenizer)
    assert (info.qtype, info.particle, info.pair) == (qtype, particle, pair)


def test_the_predicate_after_a_repeated_interrogative_is_the_verb(tokenizer):
    info = analyse_question("日露宇宙協力協定は何年と何年に延長されましたか？", tokenizer)
    assert (info.qtype, info.pair, info.predicate) == ("time", True, "延長")


@pytest.mark.parametrize("question, qtype, counter", [
    ("APRSAF-22の開催にかかった費用はいくらでしたか？", "number", "金額"),  # an amount of money
    ("LUPEXローバの開発費はいくらですか？", "number", "金額"),
    ("2013年のラオスのGDPはいくら？", "number", None),  # not a money noun: any quantity
    ("建築と技術の価格は？", "number", None),  # not asked with いくら: priced in anything (360クレジット)
    ("JAXAとUAESAの機関間協定の有効期間は何年ですか？", "number", "年間"),  # a span, not a year
    ("ラオスの国家主席の任期は何年か？", "number", "年間"),
    ("国分寺市長の任期は何年から何年？", "time", "年"),  # from which year to which
    ("APRSAFは何年に設立されましたか", "time", "年"),
    ("APRSAF名古屋ビジョンの採択には何か国が賛成しましたか？", "number", "箇国"),  # 何・か・国 split
])
def test_the_asked_quantity_is_read_from_its_noun(tokenizer, question, qtype, counter):
    info = analyse_question(question, tokenizer)
    assert (info.qtype, info.counter) == (qtype, counter)


def test_kangxi_radicals_are_read_as_the_ideographs_they_stand_for(tokenizer):
    # PDF text layers often carry ⽉ (U+2F49) for 月: the words must still meet the question's.
    text = "⽉⾯を移動しながら観測する"
    assert tokenizer.content_terms(text)[:2] == tokenizer.content_terms("月面を移動しながら観測する")[:2]
    first = tokenizer.morphemes(text)[0]
    assert (first.begin(), first.end()) == (0, 2)  # offsets index the text as written


def test_an_english_phrase_sudachi_respells_keeps_its_words(tokenizer):
    # Sudachi reads "Working Group" as one word, ワーキンググループ, which a Japanese question
    # (split ワーキング + グループ) and the English words never meet.
    line = "It was organized under the Space Environment Utilization Working Group (SEUWG)."
    assert {"working", "group"} <= set(tokenizer.tokens(line))
    assert {"working", "group"} <= set(tokenizer.content_terms(line))
    assert "donald trump" in tokenizer.tokens("Mr. Donald Trump spoke.")  # a name stays one term


def test_a_question_searches_without_its_grammar(tokenizer):
    terms = tokenizer.query_tokens("宇宙法についてJAXAは何をしていますか？")
    assert {"宇宙", "法", "jaxa", "\x02宙法", "\x02法に"} <= set(terms)
    # について (に + つく + て), し, い, 何 and the bigrams within them (につ, して, ます) are grammar.
    assert not {"つく", "為る", "居る", "何", "\x02につ", "\x02つい", "\x02して", "\x02ます"} & set(terms)
    for question, verb in (("日本に対して協定を結んだ機関は？", "対する"), ("JAXAによって開発された衛星は？", "よる"),
                           ("宇宙ステーションにおいて実施された実験は？", "おく")):
        assert verb not in tokenizer.query_tokens(question)
        assert verb in tokenizer.tokens(question)  # the passages' terms keep them


def test_a_passage_that_shares_only_grammar_with_the_question_does_not_outrank_the_topic(tokenizer):
    from bot.store.lexical import LexicalIndex
    passages = ["JAXAからは理事長が出席しました。JAXAについて講演し、JAXAの活動について紹介しています。",
                "宇宙法の条約を各国が議論し、JAXAも参加しています。",
                "ロケットの打ち上げは種子島で行われます。",
                "人工衛星のデータを各国に提供しています。"]
    lexical = LexicalIndex.build([tokenizer.tokens(p) for p in passages])
    question = "宇宙法についてJAXAは何をしていますか？"
    assert int(lexical.scores(tokenizer.query_tokens(question)).argmax()) == 1

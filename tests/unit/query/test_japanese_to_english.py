"""A Japanese question answered from an English page: the term table's English words of each
Japanese word, BM25 and coverage through them, and the lead read from the English sentence."""

from dataclasses import replace

import pytest
from fakes import FakeEmbedder, refusal_on_coverage

from bot.answer.compose_en import japanese_date_of
from bot.engine import Engine
from bot.query.crosslingual import EnglishBridge
from bot.store.build import build_index
from bot.store.index import load_index
from bot.store.termtable import TermTable, build_term_table

JA_TEXT = "宇宙機関の会合が東京で開催された。大学の研究者も参加した。"
EN_TEXT = ("The workshop was co-chaired by Mr. Fumiaki Tanigaki from JAXA and held in Bremen.\n"
           "DLR and JAXA signed the arrangement in February 2016.\n"
           "The region has a population of 3 billion and many space agencies.\n"
           "Students of the university selected a satellite.")


def _table(tokenizer, english: list[str]) -> TermTable:
    texts = [JA_TEXT, *english]
    vocabulary = {t for text in texts for t in tokenizer.tokens(text)}
    return build_term_table(texts, tokenizer, vocabulary, english)


def test_a_japanese_word_gets_the_english_pages_words_for_it(tokenizer):
    words = _table(tokenizer, [EN_TEXT]).english_words
    # Glosses matched by stem: 議長 "chair" ↔ co-chaired, 選ぶ "select" ↔ selected; a word the
    # Japanese pages never use is there too (人口 "population").
    assert "chaired" in words["議長"]
    assert "selected" in words["選ぶ"]
    assert "population" in words["人口"]
    assert {"agency", "agencies"} & set(words["機関"])
    # A stem two unrelated words share (universe, university) does not join them.
    assert "space" in words["宇宙"] and "university" not in words["宇宙"]
    # An irregular inflection meets its gloss through its dictionary form (開催 "holding" ↔ held).
    assert "held" in words["開催"]


def test_a_corpus_without_english_pages_has_no_english_words(tokenizer):
    assert _table(tokenizer, []).english_words == {}
    assert not EnglishBridge(TermTable.empty())


def test_the_bridge_expands_questions_and_reads_english_sentences_in_japanese():
    bridge = EnglishBridge(replace(TermTable.empty(), english_words={"議長": ["chair", "chaired"],
                                                                      "人口": ["population"]}))
    assert bridge.expand(["議長", "人口", "jaxa"]) == ["chair", "chaired", "population"]
    assert bridge.with_japanese({"co", "chaired", "by"}) == {"co", "chaired", "by", "議長"}


@pytest.mark.parametrize("phrase, expected", [
    ("February 2016", "2016年2月"), ("3rd March 2018", "2018年3月3日"), ("September 30, 2018", "2018年9月30日"),
    ("2016", None), ("November 6", None)])
def test_english_dates_in_japanese_form(phrase, expected):
    assert japanese_date_of(phrase) == expected


JA_DOC = """---
title: 宇宙協力
lang: ja
---
宇宙協力

JAXAは多くの国の宇宙機関と協力している。アジアの宇宙機関とは毎年会議を開いている。
"""

EN_DOC = """---
title: DLR-JAXA Joint Statement
lang: en
---
DLR-JAXA Joint Statement

DLR and JAXA signed an Inter-Agency Arrangement for a Strategic Partnership in February 2016.

The Kibo workshop was held in Bremen and co-chaired by Mr. Cheng Hai Tan from SSTA and Mr. Fumiaki Tanigaki from JAXA.
""" + "\n## Kibo-ABC Workshop at APRSAF-25\n\n" + " ".join([
    "The Kibo-ABC workshop at APRSAF-25 gave participants from member countries a place to meet.",
    "Thirty-five participants from twenty organizations in fourteen countries attended.",
    "The Kibo-ABC workshop at APRSAF-25 let participants from the countries discuss their programs.",
    "The Kibo-ABC workshop at APRSAF-25 was the first meeting of participants from the countries this year.",
]) + "\n"


@pytest.fixture(scope="module")
def engine(tmp_path_factory, tokenizer, models):
    root = tmp_path_factory.mktemp("jaen")
    (root / "corpus").mkdir()
    (root / "corpus" / "ja.md").write_text(JA_DOC, encoding="utf-8")
    (root / "corpus" / "en.md").write_text(EN_DOC, encoding="utf-8")
    emb = FakeEmbedder()
    build_index(root / "corpus", root / "index", emb, tokenizer, max_bytes=2**20)
    # The fake embedder's cosines mean nothing: decide on the question's words found alone.
    return Engine(emb, tokenizer, load_index(root / "index"), models=replace(models, refusal=refusal_on_coverage(0.3)))


def test_a_japanese_question_is_answered_from_the_english_page_with_its_lead(engine):
    a = engine.ask("DLRとJAXAが戦略的パートナーシップの取決めに署名したのはいつですか？")
    assert a.found and a.citations[0].title == "DLR-JAXA Joint Statement"
    assert a.answer.startswith("February 2016（2016年2月）です。[1]")
    assert a.citations[0].answer_span is not None


def test_the_english_page_meets_a_japanese_question_through_bm25(engine):
    hits = engine.search("ワークショップの共同議長は誰ですか？", k=2).hits
    assert hits[0].title == "DLR-JAXA Joint Statement" and hits[0].lexical_score > 0
    a = engine.ask("ワークショップのJAXA側の共同議長は誰ですか？")
    assert a.found and a.answer.startswith("Mr. Fumiaki Tanigakiです。")


def test_a_count_the_quoted_sentences_lack_is_read_from_their_neighbour(engine):
    # The sentences that name the workshop do not count its countries; the next one does.
    a = engine.ask("APRSAF-25のKibo-ABCワークショップには何か国から参加者がありましたか？")
    assert a.found and a.answer.startswith("fourteen countriesです。")


def test_a_japanese_questions_names_meet_the_english_pages_by_their_readings():
    bridge = EnglishBridge(replace(TermTable.empty(), english_words={"議長": ["chair"]}),
                           {"donald trump", "abe", "bridenstine", "chair", "tokyo"})
    names = [("安倍", "アベ", "安倍"), ("トランプ", "トランプ", "トランプ"),
             ("ブライデンスタイン", "ブライデンスタイン", "ブライデンスタイン"), ("ベルリン", "ベルリン", "ベルリン")]
    assert bridge.aliases(names) == {"安倍": "abe", "トランプ": "donald trump", "ブライデンスタイン": "bridenstine"}


MEETING_JA = """---
title: 月探査の会合
lang: ja
---
月探査の会合

2019年9月24日に両機関の長が会合を持ち、月探査の協力について議論を加速させることで一致した。
"""

MEETING_EN = """---
title: Joint Statement
lang: en
---
Joint Statement

They noted the May 2019 shared view of President Donald Trump and Prime Minister Shinzo Abe to accelerate discussions.
"""


def test_the_sentence_naming_the_questions_people_gives_the_lead(tmp_path, tokenizer, models):
    # The Japanese page dates another meeting; the English one names Trump and Abe.
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "ja.md").write_text(MEETING_JA, encoding="utf-8")
    (tmp_path / "corpus" / "en.md").write_text(MEETING_EN, encoding="utf-8")
    emb = FakeEmbedder()
    build_index(tmp_path / "corpus", tmp_path / "index", emb, tokenizer, max_bytes=2**20)
    engine = Engine(emb, tokenizer, load_index(tmp_path / "index"),
                    models=replace(models, refusal=refusal_on_coverage(0.3)))
    a = engine.ask("トランプ大統領と安倍首相が議論を加速させる考えで一致したのはいつですか？")
    assert a.found and a.answer.startswith("May 2019（2019年5月）です。"), a.answer

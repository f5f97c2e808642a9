"""The English answer's glossary gives a word the wording of its dictionary sense its corpus uses,
or nothing: of the first sense's glosses, the one the corpus's English pages use most (宇宙
"space", 研究 "research"), no romanised reading of a katakana common noun (ローバ "Lohba"), no rare
dictionary word split out of a longer katakana word (キューブサット → サット "Special Assault Team")."""

import pytest
from fakes import FakeEmbedder

from bot.answer.compose_en import EnglishComposer
from bot.store.build import build_index
from bot.store.index import load_index
from bot.store.termtable import build_term_table, english_frequency

SPACE_DOC = """---
title: 宇宙機関
lang: ja
---
宇宙機関

宇宙航空研究開発機構は人工衛星を打ち上げ、宇宙探査を進めている。

月面ローバの開発と月面での試験を実施した。

大学の学生が開発したキューブサットを国際宇宙ステーションから放出した。

UAEの地球観測衛星ドバイサット2は2013年に打ち上げられた。

リモートセンシング技術を防災に利用する。
"""

ENGLISH_DOC = """---
title: Space agency
lang: en
---
Space agency

The Japan Aerospace Exploration Agency launches satellites into space.

Its research on space exploration is carried out with universities.

Researchers test a lunar rover in space research facilities.
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory, tokenizer):
    root = tmp_path_factory.mktemp("gloss")
    (root / "corpus").mkdir()
    (root / "corpus" / "space.md").write_text(SPACE_DOC, encoding="utf-8")
    (root / "corpus" / "space-en.md").write_text(ENGLISH_DOC, encoding="utf-8")
    build_index(root / "corpus", root / "index", FakeEmbedder(), tokenizer, max_bytes=2**20)
    return load_index(root / "index")


def _glossary(index, tokenizer, sentence: str) -> dict[str, str]:
    return {g.japanese: g.english for g in EnglishComposer(tokenizer).glossary(index, [sentence], [])}


def test_a_katakana_common_noun_gets_no_romanised_reading(index, tokenizer):
    # JMdict has no ローバ; the name dictionary's "Lohba" only spells its kana, and Sudachi's
    # person-name tag would romanise it ("Roba"): neither says what the word means.
    assert "ローバ" not in index.terms.glosses
    glossary = _glossary(index, tokenizer, "月面ローバの開発と月面での試験を実施した。")
    assert "ローバ" not in glossary
    assert "開発" in glossary  # the sentence's other words keep their glosses


@pytest.mark.parametrize("sentence", ["大学の学生が開発したキューブサットを国際宇宙ステーションから放出した。",
                                      "UAEの地球観測衛星ドバイサット2は2013年に打ち上げられた。"])
def test_a_rare_word_split_out_of_a_longer_katakana_word_is_not_glossed(index, tokenizer, sentence):
    glossary = _glossary(index, tokenizer, sentence)
    assert "サット" not in glossary, glossary
    assert "サット" in index.terms.uncommon


def test_a_common_loanword_inside_a_longer_one_keeps_its_gloss(index, tokenizer):
    # リモート|センシング: JMdict marks リモート as common, so the split is a real one.
    assert "リモート" not in index.terms.uncommon
    glossary = _glossary(index, tokenizer, "リモートセンシング技術を防災に利用する。")
    assert glossary.get("リモート") == "remote"


def test_a_gloss_is_the_first_senses_wording_the_english_pages_use(index):
    # JMdict's first sense of 宇宙 is "universe; cosmos; space", of 研究 "study; research;
    # investigation": the English pages use "space" and "research".
    assert index.terms.glosses["宇宙"] == "space"
    assert index.terms.glosses["研究"] == "research"


def test_the_dictionarys_first_gloss_stays_unless_the_english_pages_never_use_it(tokenizer):
    texts = [SPACE_DOC.split("---\n", 2)[2]]
    english = ENGLISH_DOC.split("---\n", 2)[2].split("\n\n")
    both = [*english, "The universe is older than the solar system."]
    vocabulary = {t for s in [*texts, *both] for t in tokenizer.tokens(s)}

    def gloss(pages: list[str]) -> str:
        return build_term_table(texts, tokenizer, vocabulary, pages).glosses["宇宙"]
    assert gloss([]) == "universe"  # no English pages: the dictionary's first
    assert gloss(english) == "space"
    assert gloss(both) == "universe"  # used at all: more uses of "space" do not overrule it


def test_english_words_are_counted_once_per_passage(tokenizer):
    passages = ["Space and space again.", "Outer space.", "The universe."]
    vocabulary = {t for s in passages for t in tokenizer.tokens(s)}
    counts = english_frequency(passages, tokenizer, vocabulary)
    assert counts["space"] == 2 and counts["universe"] == 1

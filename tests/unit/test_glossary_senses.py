"""The English answer's glossary gives a word the dictionary sense its corpus uses, or nothing:
the gloss nearest the word's sentences among its dictionary glosses (宇宙 "space", 実施 not
"enforcement"), no romanised reading of a katakana common noun (ローバ "Lohba"), no rare
dictionary word split out of a longer katakana word (キューブサット → サット "Special Assault Team")."""

import numpy as np
import pytest
from fakes import FakeEmbedder

from bot.answer.compose_en import EnglishComposer
from bot.store.build import build_index
from bot.store.index import load_index
from bot.store.termtable import build_term_table

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


@pytest.fixture(scope="module")
def index(tmp_path_factory, tokenizer):
    root = tmp_path_factory.mktemp("gloss")
    (root / "corpus").mkdir()
    (root / "corpus" / "space.md").write_text(SPACE_DOC, encoding="utf-8")
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


class _ConceptEmbedder:
    """Texts as unit vectors over a few concepts, each named by the words that evoke it: a
    stand-in for a multilingual model, whose sentences and glosses share one space."""
    CONCEPTS = (("宇宙", "space", "衛星", "打ち上げ"), ("universe", "cosmos"), ("実施", "試験", "implementation"),
                ("enforcement", "enactment", "law"))

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.array([[sum(t.lower().count(w) for w in c) + 0.01 for c in self.CONCEPTS] for t in texts])
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_the_gloss_nearest_the_words_sentences_is_chosen(tokenizer):
    from bot.store.termtable import SenseContexts
    sentences = ["宇宙航空研究開発機構は人工衛星を打ち上げ、宇宙探査を進めている。", "月面での試験を実施した。"]
    texts = list(sentences)
    vocabulary = {t for s in texts for t in tokenizer.tokens(s)}
    embed = _ConceptEmbedder()
    contexts = SenseContexts([[(s, i)] for i, s in enumerate(sentences)], embed(sentences), embed)
    table = build_term_table(texts, tokenizer, vocabulary, contexts)
    plain = build_term_table(texts, tokenizer, vocabulary)
    # JMdict lists "universe" and "enforcement" first; the sentences use the other glosses.
    assert plain.glosses["宇宙"] == "universe" and plain.glosses["実施"] == "enforcement"
    assert table.glosses["宇宙"] == "space"
    assert table.glosses["実施"] == "implementation"


def test_the_real_model_chooses_the_sense_its_sentences_use(tokenizer, real_embedder):
    from bot.store.termtable import SenseContexts
    sentences = ["宇宙航空研究開発機構は人工衛星を打ち上げ、国際宇宙ステーションで宇宙実験を行う。",
                 "小型衛星の放出は2018年に実施された。", "月面探査の実証試験を実施した。",
                 "宇宙開発の国際協力を進めている。"]
    vocabulary = {t for s in sentences for t in tokenizer.tokens(s)}
    contexts = SenseContexts([[(s, i)] for i, s in enumerate(sentences)],
                             real_embedder.encode_passages(sentences), real_embedder.encode_queries)
    table = build_term_table(sentences, tokenizer, vocabulary, contexts)
    assert table.glosses["宇宙"] == "space"
    assert table.glosses["実施"] not in ("enforcement", "enactment")

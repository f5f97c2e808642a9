"""Sentence scoring across languages (bot/answer/sentences.py)."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from bot.answer.sentences import CrossLanguage, score_sentences
from bot.errors import FittedFileError

JA, EN = "衛星は地球を回る。", "The satellite orbits the Earth."


def _index() -> SimpleNamespace:
    """A Japanese and an English passage of one sentence each; the question's vector is closer to
    the Japanese one by less than the other language's offset."""
    vectors = np.array([[0.90, np.sqrt(1 - 0.90 ** 2)], [0.88, -np.sqrt(1 - 0.88 ** 2)]], dtype=np.float32)
    passage = lambda doc, text: SimpleNamespace(doc_id=doc, section=None, sentences=[(0, len(text))])  # noqa: E731
    return SimpleNamespace(passages=[passage("ja", JA), passage("en", EN)],
                           documents={"ja": SimpleNamespace(text=JA, lang="ja"),
                                      "en": SimpleNamespace(text=EN, lang="en")},
                           sentence_rows=[range(0, 1), range(1, 2)], sentence_vectors=vectors,
                           passage_vectors=vectors)


def test_an_other_language_sentence_is_scored_on_the_question_languages_scale():
    index, qvec = _index(), np.array([1.0, 0.0], dtype=np.float32)
    terms = lambda row, text: set()  # noqa: E731
    plain = score_sentences(index, [0, 1], qvec, {}, terms, "ja")
    assert [s.passage_row for s in plain] == [0, 1]
    crossed = score_sentences(index, [0, 1], qvec, {}, terms, "ja", cross=0.03)
    assert [s.passage_row for s in crossed] == [1, 0]  # the English sentence, 0.02 lower raw, now leads
    assert crossed[0].sim == pytest.approx(0.91, abs=1e-6)
    assert crossed[1].sim == pytest.approx(0.90, abs=1e-6)  # the question's own language is untouched
    # An English question's Japanese sentence is the other language's one.
    english = score_sentences(index, [0, 1], qvec, {}, terms, "en", cross=0.03)
    assert english[0].passage_row == 0 and english[0].sim == pytest.approx(0.93, abs=1e-6)


def test_the_shipped_offsets_correct_japanese_questions_only():
    cross = CrossLanguage.load()
    assert 0.0 < cross.of("ja") < 0.1
    assert cross.of("en") == 0.0  # the English refusal model was fitted on cross-language cosines


def test_an_offsets_file_of_other_features_is_refused(tmp_path):
    path = tmp_path / "cross_language.json"
    path.write_text(json.dumps({"format": 1, "features": ["sim"], "fitted_by": "x", "data": "x", "commit": "x",
                                "offsets": {"ja": 0.02}}), encoding="utf-8")
    with pytest.raises(FittedFileError):
        CrossLanguage.load(path)


def test_a_runner_up_holding_none_of_the_questions_words_gives_no_phrase():
    from bot.answer.sentences import ScoredSentence, phrase_givers

    def sentence(row: int, score: float, coverage: float) -> ScoredSentence:
        return ScoredSentence(row, 0, row, 0, 10, 0.8, 0.8, coverage, score)
    best, related, footnote = sentence(0, 0.5, 0.5), sentence(1, 0.2, 0.4), sentence(9, 0.07, 0.02)
    assert phrase_givers([best, related, footnote]) == [best, related]
    # the next sentence of the passage the question restates (これをテンポという。) may give it
    after = sentence(1, 0.17, 0.0)
    assert phrase_givers([best, after]) == [best, after]
    # the best-scored sentence gives its phrase whatever it holds
    alone = sentence(3, 0.9, 0.0)
    assert phrase_givers([alone, footnote]) == [alone]


def test_the_densest_passage_in_the_other_language_is_a_candidate_too():
    from bot.answer.sentences import candidate_rows
    from bot.retrieve.retrieval import Hit
    texts = ["日本語の一", "日本語の二", "日本語の三", "日本語の四", "日本語の五", "They shared a view in May 2019."]
    index = SimpleNamespace(passages=[SimpleNamespace(doc_id=f"d{i}", text=t) for i, t in enumerate(texts)])
    hits = [Hit(i, 1.0 - i / 10, 0.80, 5.0) for i in range(5)] + [Hit(5, 0.4, 0.90, 1.0)]
    assert candidate_rows(index, hits, n=4, lang="ja") == [0, 1, 2, 3, 5]
    # an English question's densest English passage is no other language's: the ranking decides
    assert candidate_rows(index, hits, n=4, lang="en") == [0, 1, 2, 3]


def test_an_english_ordinal_meets_a_japanese_edition_number():
    from dataclasses import replace

    from bot.query.crosslingual import EnglishBridge
    from bot.store.termtable import TermTable
    bridge = EnglishBridge(replace(TermTable.empty(), english_words={"選ぶ": ["selected"]}))
    assert {"3", "選ぶ"} <= bridge.with_japanese({"third", "round", "selected"})
    assert "21" in bridge.with_japanese({"21st", "session"})


def test_a_page_in_the_other_language_is_ranked_by_its_best_sentence_never_lower():
    from bot.answer.sentences import ScoredSentence
    from bot.engine import sentence_order
    from bot.retrieve.retrieval import Hit
    hits = [Hit(i, 1.0 - i / 10, 0.8, 5.0) for i in range(6)]
    english = {4, 5}

    def said(row: int, p: float) -> ScoredSentence:
        return ScoredSentence(row, 0, row, 0, 10, 0.8, 0.8, 0.5, p)
    # passage 4 (English) holds the likeliest sentence; passage 5 (English) a weak one
    scored = [said(0, 0.2), said(1, 0.1), said(2, 0.05), said(4, 0.6), said(5, 0.01)]
    order = [h.row for h in sentence_order(hits, scored, lambda h: h.row in english)]
    # (passage 3 had no sentence scored: any scored one goes before it)
    assert order == [4, 0, 1, 2, 5, 3]
    # the same-language order is the fused one, whatever their sentences score
    assert [h.row for h in sentence_order(hits, [said(2, 0.9)], lambda h: False)] == [0, 1, 2, 3, 4, 5]

"""Sentences in the asker's language first when they answer as well (bot/answer/asker_language.py)."""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.answer import asker_language
from bot.answer.asker_language import AskerLanguage, leading, split, written_in
from bot.errors import FittedFileError

DATA = Path(__file__).resolve().parents[2] / "data"


@dataclass(frozen=True)
class Fake:
    """A candidate sentence: its text and the P(answer) it brings to a set of candidates."""
    text: str
    p: float


def probability(candidates) -> float:
    """P(the documents answer) of a set: that of its best candidate."""
    return max(c.p for c in candidates)


TEXT = lambda c: c.text  # noqa: E731
JA_BEST = Fake("両機関は2016年に協定を締結しました。", 0.990)
EN_SAME = Fake("The two agencies signed an agreement in 2016.", 0.989)
EN_OTHER = Fake("The statement names robotics as a field of cooperation.", 0.600)
TABLE = Fake("|", 0.5)
FITTED = AskerLanguage({"en": 0.5, "ja": None})


@pytest.mark.parametrize("text, lang", [("協定を締結しました。", "ja"), ("JAXA-ESA Joint Statement", "en"),
                                        ("JAXAは5月15日に会合を開いた。", "ja"), ("2.", None), ("|", None)])
def test_the_language_a_reader_meets_in_a_sentence(text, lang):
    assert written_in(text) == lang


def test_english_sentences_that_answer_as_well_lead_for_an_english_asker():
    candidates = [JA_BEST, EN_SAME, TABLE, EN_OTHER]
    assert leading(candidates, "en", TEXT, probability, FITTED) == [EN_SAME, EN_OTHER]
    # Neither a table cell nor the Japanese sentence is English: they follow in their order.
    assert asker_language.first(candidates, lambda c: c in (EN_SAME, EN_OTHER)) == [EN_SAME, EN_OTHER, JA_BEST, TABLE]


def test_english_sentences_that_answer_worse_do_not_lead():
    # Only a sentence on another subject is in English: the set without the Japanese one is far
    # less likely to answer, so the evidence's order stands.
    assert leading([JA_BEST, EN_OTHER], "en", TEXT, probability, FITTED) == []


def test_a_language_without_a_fitted_margin_keeps_the_evidence_order():
    assert leading([EN_SAME, JA_BEST], "ja", TEXT, probability, FITTED) == []
    assert leading([JA_BEST, EN_SAME], "en", TEXT, probability, AskerLanguage({})) == []


def test_only_a_mixed_set_is_weighed():
    assert leading([EN_SAME, EN_OTHER], "en", TEXT, probability, FITTED) == []
    assert split([JA_BEST, EN_SAME, TABLE], "ja", TEXT) == ([JA_BEST], [EN_SAME, TABLE])


def test_the_margin_is_in_log_odds():
    # 0.9999 against 0.999 is a gap of 2.3 log-odds, not 0.0009: near-certain sets still differ.
    assert not FITTED.prefers("en", 0.9999, 0.999)
    assert FITTED.prefers("en", 0.999, 0.9989)
    assert FITTED.prefers("en", 0.9, 0.95)  # the English ones alone look likelier


def test_the_shipped_file_loads_and_a_malformed_one_is_refused(tmp_path):
    fitted = AskerLanguage.load()
    assert set(fitted.margins) <= {"ja", "en"}
    data = json.loads(asker_language.LANGUAGE_FILE.read_text(encoding="utf-8"))
    bad = tmp_path / "asker_language.json"
    bad.write_text(json.dumps({**data, "margins": {"fr": 1.0}}), encoding="utf-8")
    with pytest.raises(FittedFileError, match="asker_language.json: margins must be an object keyed by ja, en"):
        AskerLanguage.load(bad)


@pytest.fixture(scope="module")
def two_language_engine(tmp_path_factory, real_embedder, tokenizer, models):
    from bot.engine import Engine
    from bot.store.build import build_index
    index = tmp_path_factory.mktemp("two-languages") / "index"
    build_index(DATA / "two_languages", index, real_embedder, tokenizer, max_bytes=10**6)
    return Engine.load(index, real_embedder, tokenizer, models=models)


@pytest.mark.slow
def test_an_english_asker_gets_the_english_page_when_it_says_the_same(two_language_engine):
    """The English and the Japanese page say the same thing: the English sentence is quoted first,
    and no Japanese quote (with its glossary) comes with it."""
    a = two_language_engine.ask("What kind of satellite carried a JAXA instrument in 2013?")
    assert a.state == "answered"
    first = a.citations[0]
    assert first.doc_id == "uae-cooperation-en"
    assert "Earth observation satellite" in first.text[first.highlight[0]:first.highlight[1]]
    assert all(c.doc_id.endswith("-en") for c in a.citations), a.answer
    assert "Glossary" not in a.answer


@pytest.mark.slow
def test_a_japanese_asker_still_gets_the_japanese_page(two_language_engine):
    a = two_language_engine.ask("JAXAとアラブ首長国連邦宇宙機関はどこで協定を結びましたか？")
    assert a.citations[0].doc_id == "uae-cooperation-ja"
    assert a.answer.startswith("アブダビ")

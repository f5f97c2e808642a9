"""A number or date that only the heading above the passage states (an audio guide's length)."""
from types import SimpleNamespace

import pytest
from paths import DATA

from bot.answer import choice
from bot.query.analysis import morpheme_toks, question_info

HEADING = "12小惑星探査機「はやぶさ2」(95秒)"
BODY = "展示室では、模型と映像で旅をご紹介しています。"


def _index(section: str):
    text = f"{section}\n\n{BODY}"
    start = text.index(BODY)
    passage = SimpleNamespace(doc_id="d", section=section, start=start, end=len(text))
    return SimpleNamespace(passages=[passage], documents={"d": SimpleNamespace(text=text)}), start


def _support(question: str, section: str, tokenizer) -> float:
    index, start = _index(section)
    scored = [SimpleNamespace(vector_row=0, passage_row=0, start=start, end=start + len(BODY))]
    return choice.type_support(index, scored, question_info(question, tokenizer),
                               lambda key, text: choice.profile(morpheme_toks(text, tokenizer)))


def test_a_heading_supports_a_number_or_date_but_not_a_name(tokenizer):
    assert _support("音声ガイドの長さは何秒ですか？", HEADING, tokenizer) == 1.0
    assert _support("音声ガイドの長さは何秒ですか？", "小惑星探査機「はやぶさ2」", tokenizer) == 0.0
    # A heading's names are the page's topic, not an answer.
    assert _support("展示を作ったのはどの機関ですか？", "JAXA宇宙科学研究所の展示", tokenizer) == 0.0


@pytest.fixture(scope="module")
def guide_engine(tmp_path_factory, real_embedder, tokenizer, models):
    from bot.engine import Engine
    from bot.store.build import build_index
    index = tmp_path_factory.mktemp("guide") / "index"
    build_index(DATA / "guide", index, real_embedder, tokenizer, max_bytes=10**6)
    return Engine.load(index, real_embedder, tokenizer, models=models)


@pytest.mark.slow
def test_the_heading_gives_the_lead_and_marks_it(guide_engine):
    asked = guide_engine.ask("小惑星探査機「はやぶさ2」の展示音声ガイドの長さは何秒ですか？")
    assert asked.found and asked.answer.splitlines()[0] == "95秒です。[1]"
    first = asked.citations[0]
    assert first.answer_span is None and first.section[slice(*first.section_span)] == "95秒"


@pytest.mark.slow
def test_a_sentence_that_gives_the_asked_kind_leads_before_the_heading(guide_engine):
    asked = guide_engine.ask("はやぶさ2は何年に打ち上げられましたか？")
    assert asked.found and asked.answer.startswith("2014年")
    assert all(c.section_span is None for c in asked.citations)


@pytest.mark.parametrize("phrase, counter, ok", [
    ("95秒", "秒", True), ("二度", "秒", False), ("1分28秒", "分", True), ("88秒", "分", False),
    ("3時間", "時間", True),
])
def test_a_length_of_time_is_given_in_the_asked_unit(tokenizer, phrase, counter, ok):
    from bot.answer.phrase import fits_type
    assert fits_type(phrase, "number", tokenizer, counter=counter) is ok

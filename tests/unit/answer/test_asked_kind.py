"""The noun of an interrogative phrase (どの部分, どの国) names the kind asked for: the answering
sentence names an instance of it, so it is not a word the sentence has to contain."""

import pytest
from paths import DATA

from bot.query.analysis import question_info


@pytest.mark.parametrize("question, asked", [
    ("LUNAXで日本はどの部分を担当しますか？", {"部分"}),
    ("APRSAFが始まるきっかけとなったのは何という会議ですか？", {"会議"}),
    ("APRSAFはいつ始まりましたか？", set()),
    ("LUNAXの打上げ予定はいつですか？", set()),
])
def test_the_interrogative_phrase_names_the_asked_kind(tokenizer, question, asked):
    info = question_info(question, tokenizer)
    assert info.asked == asked
    assert not asked & info.terms


@pytest.fixture(scope="module")
def roles_engine(tmp_path_factory, real_embedder, tokenizer, models):
    from bot.engine import Engine
    from bot.store.build import build_index
    index = tmp_path_factory.mktemp("mission-roles") / "index"
    build_index(DATA / "mission_roles", index, real_embedder, tokenizer, max_bytes=10**6)
    return Engine.load(index, real_embedder, tokenizer, models=models)


@pytest.mark.slow
def test_a_which_part_question_is_answered_by_the_sentence_naming_the_part(roles_engine):
    a = roles_engine.ask("LUNAXで日本はどの部分を担当しますか？")
    assert a.state == "answered", a.answer
    assert "着陸機" in a.answer.split("\n")[0]


@pytest.mark.slow
def test_a_count_asked_by_its_noun_is_the_number_before_it_and_numbering_is_never_quoted(roles_engine):
    a = roles_engine.ask("第5回宇宙協力フォーラムに参加した国際機関はいくつですか？")
    assert a.answer.split("\n")[0].startswith("7"), a.answer
    assert all(len(c.text.strip()) > 3 for c in a.citations), [c.text for c in a.citations]

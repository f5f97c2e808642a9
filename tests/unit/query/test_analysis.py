import pytest

from bot.query.analysis import analyse_question


@pytest.mark.parametrize("question, qtype", [
    ("APRSAF-13の日本側の主催者はどこですか？", "org"),  # どこ asked of a body: which organisation
    ("担当機関はどこですか？", "org"),
    ("本部はどこですか？", "place"),
    ("その作者が生まれたのはどこですか？", "place"),
    ("第21回の会議はどこで開催されましたか？", "place"),
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

"""The answer engine with the real model, real FAISS and real BM25 on the seed corpus."""

import re

import pytest
from paths import HELDOUT

from bot.errors import InvalidQuestion
from bot.evaluate import load_cases, run_eval

pytestmark = pytest.mark.slow


def assert_grounded(result):
    """Every marker refers to a returned citation and every answer sentence is the highlighted
    sentence of the passage it cites."""
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", result.answer)]
    assert markers, result.answer
    assert sorted(set(markers)) == [c.n for c in result.citations]
    for c in result.citations:
        h0, h1 = c.highlight
        sentence = c.text[h0:h1]
        assert 0 <= h0 < h1 <= len(c.text)
        assert f"{sentence}[{c.n}]" in result.answer or f"「{sentence}」[{c.n}]" in result.answer


def test_japanese_question_gets_cited_japanese_answer(real_engine):
    r = real_engine.ask("SAFEは何年に設立されましたか？")
    assert r.found and r.language == "ja"
    assert "2006" in r.answer
    assert_grounded(r)
    c = r.citations[0]
    assert c.url == "https://www.jaxa.jp/projects/int/index_j.html"
    assert c.title == "国際的な取り組みと貢献" and c.section
    assert r.index_version == real_engine.index.version
    assert set(r.timings_ms.model_dump()) == {"embed", "search", "answer", "total"}


def test_english_question_gets_english_lead_and_quoted_sources(real_engine):
    r = real_engine.ask("What was the title of the German National Day special event at Expo 2025?")
    assert r.found and r.language == "en"
    statement = r.answer.split("\n\n")[0]
    assert re.search(r"\[\d\]", statement)  # an English statement with its citation marker
    assert "(Japanese source)" in r.answer and "not a translation" in r.answer
    assert_grounded(r)


@pytest.mark.parametrize("question, said", [
    ("SAFEとは？", "資料には、SAFEが何であるかは書かれていません。"),
    ("What is SAFE?", "The documents do not give what SAFE is;"),
])
def test_a_name_only_a_timeline_line_gives_is_not_defined(real_engine, question, said):
    r = real_engine.ask(question)  # the seed page names SAFE only in 「2006 SAFEの設立」
    assert r.state == "partial" and r.answer.startswith(said) and r.citations


def test_with_no_sentence_defining_it_the_one_saying_most_about_it_leads(real_engine):
    # The seed page never writes 「APRSAFは…」: its founding sentence leads, not the one naming
    # APRSAF-26 in passing.
    r = real_engine.ask("APRSAFとは何ですか？")
    assert r.found and r.answer.startswith("1993年、日本が主体となって")


def test_a_definition_in_english_opens_with_a_sentence_not_a_heading(real_engine):
    r = real_engine.ask("What is APRSAF?")
    c = r.citations[0]
    first = c.text[c.highlight[0]:c.highlight[1]]
    assert r.found and first.endswith("。") and f"「{first}」[{c.n}]" in r.answer.split("\n")[0]


@pytest.mark.parametrize("question", [
    "JAXAはどの国と協力していますか？", "APRSAFは誰と協力して開催していますか？",  # a phrase of a runner-up
    "What fields does JAXA cooperate on with Canada?",  # a list
    "When was the SAFE initiative established?", "What was APRSAF established for?",  # the composer's own lead
])
def test_the_sentence_an_answers_first_line_is_read_from_is_cited_first(real_engine, question):
    r = real_engine.ask(question)
    assert r.found and "[1]" in r.answer.split("\n")[0]
    assert_grounded(r)


def test_which_countries_are_listed_from_every_section_that_names_them(real_engine):
    r = real_engine.ask("JAXAはどの国と協力していますか？")
    lead = r.answer.split("\n")[0]
    named = ("アメリカ", "カナダ", "スウェーデン", "ロシア", "インド", "オーストラリア")
    assert r.found and all(c in lead for c in named)
    assert "日本" not in lead  # the side every section names is JAXA's own
    assert re.match(r"^ドイツ\[1\]、アメリカ\[2\]、カナダ\[3\]、", lead)  # document order, each cited
    assert_grounded(r)
    en = real_engine.ask("Which countries does JAXA cooperate with?").answer.split("\n")[0]
    assert all(c in en for c in ("Canada", "Sweden", "India (インド)", "(タイ)")) and "tie" not in en
    # a narrower topic keeps its own section's list
    pacific = real_engine.ask("太平洋地域ではどの国と協力していますか？").answer.split("\n")[0]
    assert "オーストラリア、ニュージーランド" in pacific and "カナダ" not in pacific


@pytest.mark.parametrize("question,lang", [
    ("JAXAの職員数は何人ですか？", "ja"),
    ("H3ロケットの打ち上げ費用は？", "ja"),
    ("What is the best pizza topping?", "en"),
])
def test_unanswerable_questions_are_refused(real_engine, question, lang):
    r = real_engine.ask(question)
    assert not r.found and r.language == lang
    assert r.citations == [] and not re.search(r"\[\d+\]", r.answer)
    assert len(r.related) <= 3


def test_japanese_follow_up_uses_the_history(real_engine):
    history = [{"role": "user", "content": "APRSAFについて教えてください"},
               {"role": "assistant", "content": "…"}]
    r = real_engine.ask("それはいつ設立されましたか？", history)
    assert r.query == "APRSAFはいつ設立されましたか？"  # the pronoun is replaced by the previous topic
    assert r.found and r.answer.startswith("1993年です。[")
    assert r.asks_for == "time"
    assert_grounded(r)


def test_english_follow_up_uses_the_history(real_engine):
    history = [{"role": "user", "content": "Does JAXA have a tracking station in Sweden?"}]
    r = real_engine.ask("Where is that station?", history)
    assert "Sweden" in r.query
    assert r.found and "キルナ" in r.answer


def test_search_in_a_conversation_reads_the_question_as_the_answer_does(real_engine):
    # 「DLR側の登壇者は？」 names DLR, yet asks about the event talked about: the answer keeps the
    # reading with the topic put back, and the search ranks passages for that same reading.
    history = [{"role": "user", "content": "ドイツナショナルデーの特別イベントはいつ開かれましたか？"},
               {"role": "assistant", "content": "…"}]
    asked = real_engine.ask("DLR側の登壇者は？", history)
    assert asked.query == "ドイツナショナルデーの特別イベントのDLR側の登壇者は？"
    assert real_engine.search("DLR側の登壇者は？", 3, history).query == asked.query


@pytest.mark.parametrize("question,history,top_k", [
    ("", [], 3),
    ("   \n\t", [], 3),
    ("あ" * 1001, [], 3),
    ("質問です", [{"role": "user", "content": "x"}] * 21, 3),
    ("質問です", [{"role": "user", "content": "x" * 4001}] * 2, 3),
    ("質問です", [{"role": "system", "content": "x"}], 3),
    ("質問です", [], 0),
    ("質問です", [], 11),
])
def test_bad_input_is_an_input_error_not_a_refusal(real_engine, question, history, top_k):
    with pytest.raises(InvalidQuestion):
        real_engine.ask(question, history, top_k)


def test_search_returns_component_scores(real_engine):
    results = real_engine.search("カナダとの協力", k=3)
    assert results.index_version == real_engine.index.version
    hits = results.hits
    assert [h.rank for h in hits] == [1, 2, 3]
    assert "カナダ" in hits[0].text
    assert hits[0].dense_score is not None and hits[0].lexical_score is not None
    assert hits[0].score >= hits[1].score >= hits[2].score
    en = real_engine.search("cooperation with Canada", k=3).hits
    # English questions get BM25 too, on Japanese search terms from the index's term table
    assert en[0].lexical_score is not None and "カナダ" in en[0].text


# Files that meet the targets. bench/data/seed_questions.jsonl (the project's own seed-page set,
# `make eval` prints where it stands) does not yet; add it here once the engine meets them.
@pytest.mark.parametrize("path", [HELDOUT], ids=["heldout"])
def test_eval_targets_hold(real_engine, path):
    if not path.exists():
        pytest.fail(f"{path} is missing")
    m = run_eval(real_engine, load_cases(path)).metrics()
    assert m["hit@3"] >= 0.95
    assert m["citation_exactness"] >= 0.90
    assert m["answer_key_accuracy"] >= 0.90
    assert m["refusal_accuracy"] >= 0.90
    assert m["false_refusal_rate"] <= 0.05


def test_a_span_another_quoted_span_covers_is_quoted_once():
    from bot.answer.sentences import ScoredSentence
    from bot.engine import _distinct
    row = ScoredSentence(0, 1, 10, 100, 160, 0.9, 0.9, 1.0, 0.8)  # a table row, widened from a cell
    cell = ScoredSentence(0, 2, 11, 120, 140, 0.8, 0.9, 1.0, 0.7)  # another cell of the row
    other = ScoredSentence(1, 0, 20, 120, 140, 0.7, 0.8, 1.0, 0.6)  # same offsets, another passage
    assert _distinct([row, row, cell, other]) == [row, other]


def test_a_count_read_from_an_english_page_counts_the_asked_things():
    from types import SimpleNamespace

    from bot.answer.sentences import ScoredSentence
    from bot.engine import Engine
    text = "Figure 1: Emergency observation satellites.\nMembers came from fourteen countries."
    second = text.index("Members")
    index = SimpleNamespace(passages=[SimpleNamespace(doc_id="d")], documents={"d": SimpleNamespace(text=text)})
    figure = ScoredSentence(0, 0, 0, 0, second - 1, 0.9, 0.9, 1.0, 0.9)
    members = ScoredSentence(0, 1, 1, second, len(text), 0.8, 0.9, 1.0, 0.8)
    engine = Engine.__new__(Engine)  # the method reads only the index it is given
    found = engine._english_phrase(index, [figure, members], "number", "Sentinel Asia", None, "箇国")
    assert text[found.start:found.end] == "fourteen countries"  # "Figure 1" counts no countries

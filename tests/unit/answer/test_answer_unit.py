"""Fast tests of the answer layer with the fake embedder."""

import re

import pytest

from bot.answer.evidence import Evidence, decide_found
from bot.engine import Engine, validate
from bot.errors import IndexMissing, InvalidQuestion
from bot.evaluate import gold_ranges, norm, score_case
from bot.store.build import build_index


@pytest.fixture
def fake_engine(corpus_copy, tmp_path, fake_embedder, tokenizer, models):
    build_index(corpus_copy, tmp_path / "index", fake_embedder, tokenizer, max_bytes=10**6)
    return Engine.load(tmp_path / "index", fake_embedder, tokenizer, models=models)


def test_answers_are_grounded_whatever_the_decision(fake_engine):
    for q in ["カナダとはどの分野について意見交換していますか？", "SAFEは何年に設立されましたか？",
              "What does ISECG do?", "今日の天気は？"]:
        r = fake_engine.ask(q)
        markers = sorted({int(n) for n in re.findall(r"\[(\d+)\]", r.answer)})
        assert markers == [c.n for c in r.citations]
        for c in r.citations:
            sentence = c.text[c.highlight[0]:c.highlight[1]]
            assert sentence and sentence in r.answer
        if not r.found:
            assert r.citations == [] and len(r.related) <= 3


def test_no_index_is_a_domain_error(fake_embedder, tokenizer, models):
    with pytest.raises(IndexMissing):
        Engine(fake_embedder, tokenizer, models=models).ask("質問")


def test_validate_strips_and_checks():
    q, turns = validate("  質問  ", [{"role": "assistant", "content": "a"}], 3)
    assert q == "質問" and turns[0].role == "assistant"
    with pytest.raises(InvalidQuestion):
        validate(None, [], 3)


@pytest.mark.parametrize("question, history", [
    ("SAFEは\ud800?", []),  # a lone surrogate: no UTF-8 for the tokenizer
    ("SAFE\udcff", []),  # how a command line passes bytes that are not UTF-8
    ("それは？", [{"role": "user", "content": "SAFE\udfff"}]),
])
def test_text_that_cannot_be_encoded_is_invalid_input(fake_engine, question, history):
    for call in (lambda: fake_engine.ask(question, history), lambda: fake_engine.search(question, 3, history)):
        with pytest.raises(InvalidQuestion, match="not valid Unicode"):
            call()


def test_the_fitted_refusal_model_separates_strong_from_weak_evidence(models):
    refusal = models.refusal
    strong = dict(sim=0.9, gap=0.12, coverage=1.0, n_terms=3, passage_sim=0.88, coverage_max=1.0,
                  lexical_agree=1.0, passage_margin=0.05)
    assert decide_found(Evidence(**strong), "ja", refusal)
    # on the topic, but the question's own words are missing: 「JAXAの職員数は何人ですか？」 as measured
    assert not decide_found(Evidence(sim=0.866, gap=0.084, coverage=0.246, n_terms=2, passage_sim=0.857,
                                     coverage_max=0.246, lexical_agree=1.0, passage_margin=0.047), "ja", refusal)
    # nothing stands out and none of its words occur: 「H3ロケットの打ち上げ費用は？」 as measured
    assert not decide_found(Evidence(sim=0.818, gap=0.035, coverage=0.0, n_terms=4, passage_sim=0.808,
                                     coverage_max=0.0, lexical_agree=0.0, passage_margin=0.025), "ja", refusal)
    # English (its own fitted model): "What was the title of the German National Day special event
    # at Expo 2025?" and "What is the best pizza topping?" on the seed corpus, as measured
    assert decide_found(Evidence(sim=0.895, gap=0.109, coverage=0.375, n_terms=10, passage_sim=0.88,
                                 coverage_max=0.316, lexical_agree=1.0, passage_margin=0.087), "en", refusal)
    assert not decide_found(Evidence(sim=0.818, gap=0.036, coverage=0.333, n_terms=1, passage_sim=0.772,
                                     coverage_max=1.0, lexical_agree=1.0, passage_margin=-0.02), "en", refusal)


@pytest.mark.parametrize("text,gold,expected", [
    ("ベルリン日独センター(JDZB)と", "ベルリン日独センター（JDZB）", [(0, 16)]),
    ("2006 SAFEの設立", "2006SAFE", [(0, 9)]),
    ("", "x", []),
    ("abc", "", []),
])
def test_gold_matching_normalises_nfkc_and_whitespace(text, gold, expected):
    assert gold_ranges(text, gold) == expected


def test_score_case_counts_rank_exactness_and_keys(fake_engine):
    r = fake_engine.ask("SAFEは何年に設立されましたか？")
    if r.found:
        golds = [r.citations[0].text[r.citations[0].highlight[0]:r.citations[0].highlight[1]]]
        case = {"id": "x", "question": "q", "answerable": True, "gold_spans": golds,
                "answer_keys": [[norm(golds[0])[:4], "nothing"]]}
        res = score_case(case, r, 1.0)
        assert res.rank == 1 and res.exact and res.keys_ok


def test_a_follow_up_embeds_its_previous_exchange_once(fake_engine, fake_embedder):
    history = [{"role": "user", "content": "APRSAFについて教えてください"},
               {"role": "assistant", "content": "APRSAFはアジア・太平洋地域宇宙機関会議です。"}]
    fake_embedder.calls.clear()
    cold = fake_engine.ask("それはいつ設立されましたか？", history)
    # The follow-up and its previous exchange in one call; the question read alone in another.
    assert fake_embedder.calls == [2, 1]
    fake_embedder.calls.clear()
    fake_engine.search("それはいつ設立されましたか？", 3, history)
    warm = fake_engine.ask("それはいつ設立されましたか？", history)
    assert 2 not in fake_embedder.calls  # the exchange's vector is reused
    assert warm.model_dump(exclude={"timings_ms"}) == cold.model_dump(exclude={"timings_ms"})


def test_a_question_asked_again_is_embedded_again(fake_engine, fake_embedder):
    # Only a follow-up's look-up of its previous exchange reads the cache: repeated questions
    # (a benchmark's cycle) cost what a new one costs.
    fake_engine.ask("SAFEは何年に設立されましたか？")
    fake_embedder.calls.clear()
    fake_engine.ask("SAFEは何年に設立されましたか？")
    assert fake_embedder.calls == [1]


def test_recent_queries_keep_the_newest_and_hand_out_read_only_vectors():
    import numpy as np

    from bot.embed.recent import RecentQueries

    recent = RecentQueries(size=2)
    a = np.ones(4, dtype=np.float32)
    recent.put("a", a)
    a[0] = 5.0  # the caller's array stays its own
    recent.put("b", np.zeros(4, dtype=np.float32))
    assert recent.get("a")[0] == 1.0  # and "a" is now the most recent
    recent.put("c", np.zeros(4, dtype=np.float32))
    assert recent.get("b") is None and recent.get("a") is not None and len(recent) == 2
    with pytest.raises(ValueError):
        recent.get("a")[0] = 2.0
    assert RecentQueries(size=0).get("x") is None


def test_a_hub_is_the_sentence_most_answers_open_with_without_answering():
    from bot.evaluate import CaseResult, hub

    def case(first, rank, found=True):
        return CaseResult("q", True, found, rank, False, False, 1.0, "q", "a", "q", first_cited=first)
    cases = [case("万博の文。", None), case("万博の文。", 2), case("万博の文。", 1),  # it answers the third
             case("宇宙条約の文。", 1), case(None, None, found=False)]
    assert hub(cases) == ("万博の文。", 2, 4)
    assert hub([case("宇宙条約の文。", 1)]) is None and hub([]) is None

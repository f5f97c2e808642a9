"""The fitted choice of quoted sentences (bot/answer/choice.py)."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from bot.answer import choice
from bot.answer.sentences import ScoredSentence
from bot.engine import Engine
from bot.errors import FittedFileError
from bot.query.analysis import morpheme_toks, question_info
from bot.store.build import build_index

SENTENCES = ["衛星は地球を回る。", "静止衛星は止まって見える。", "高度は約三万六千キロである。", "気象衛星が使う。"]


def _scored(n: int, sentences=SENTENCES) -> list[ScoredSentence]:
    starts = np.cumsum([0] + [len(t) for t in sentences])
    return [ScoredSentence(0, k, k, int(starts[k]), int(starts[k + 1]), 0.8, 0.8, 0.5, 1.0 - k / 10)
            for k in range(n)]


def _index(vectors, sentences=SENTENCES) -> SimpleNamespace:
    return SimpleNamespace(sentence_vectors=np.asarray(vectors, dtype=np.float32),
                           passages=[SimpleNamespace(doc_id="d")],
                           documents={"d": SimpleNamespace(text="".join(sentences))})


def test_choose_adds_runners_up_until_confident():
    index = _index(np.eye(4))
    probs = np.array([0.15, 0.5, 0.3, 0.05])
    one = choice.choose(index, _scored(4), np.array([0.05, 0.92, 0.02, 0.01]), 3, 0.9)
    assert [s.vector_row for s in one] == [1]
    two = choice.choose(index, _scored(4), probs, 3, 0.75)
    assert [s.vector_row for s in two] == [1, 2]  # most probable first
    assert two[0].score == pytest.approx(0.5)  # the probability becomes the citation's score
    assert [s.vector_row for s in choice.choose(index, _scored(4), probs, 3, 0.99)] == [1, 2, 0]
    assert len(choice.choose(index, _scored(4), probs, 1, 0.99)) == 1  # top_k caps it


def test_choose_skips_a_near_duplicate():
    vectors = np.eye(4)
    vectors[2] = vectors[1]  # the runner-up says the same as the best
    probs = np.array([0.15, 0.5, 0.3, 0.05])
    # Its probability counts as quoted (same content), so 0.5 + 0.3 is already confident enough.
    assert [s.vector_row for s in choice.choose(_index(vectors), _scored(4), probs, 3, 0.75)] == [1]
    assert [s.vector_row for s in choice.choose(_index(vectors), _scored(4), probs, 3, 0.9)] == [1, 0]


def test_reading_order_puts_the_best_first_but_keeps_a_continuation_after_its_topic():
    text = "衛星は止まって見える。これを静止衛星という。別の話である。"
    bounds = [(0, 11), (11, 22), (22, 29)]
    index = SimpleNamespace(passages=[SimpleNamespace(doc_id="a"), SimpleNamespace(doc_id="b")],
                            documents={"a": SimpleNamespace(text=text), "b": SimpleNamespace(text=text)})
    s = lambda row, p, prob: ScoredSentence(p, 0, row, *bounds[row % 3], 0.8, 0.8, 0.5, prob)  # noqa: E731
    topic, answer, other = s(0, 0, 0.3), s(1, 0, 0.5), s(2, 0, 0.2)
    # 「これを…」 continues the sentence before it: the two stay in document order.
    assert choice.reading_order(index, [answer, other, topic]) == [topic, answer, other]
    # Consecutive but not a continuation (「別の話…」): most probable first.
    assert choice.reading_order(index, [other, answer]) == [answer, other]
    far = s(4, 1, 0.6)  # the next row, but another document
    assert choice.reading_order(index, [answer, far, s(3, 0, 0.1)]) == [far, answer, s(3, 0, 0.1)]


def test_the_sentence_the_first_line_is_read_from_is_cited_first():
    text = "衛星は止まって見える。これを静止衛星という。別の話である。"
    bounds = [(0, 11), (11, 22), (22, 29)]
    index = SimpleNamespace(passages=[SimpleNamespace(doc_id="a")], documents={"a": SimpleNamespace(text=text)})
    s = lambda row, prob: ScoredSentence(0, 0, row, *bounds[row], 0.8, 0.8, 0.5, prob)  # noqa: E731
    topic, answer, other = s(0, 0.5), s(1, 0.3), s(2, 0.2)
    # the phrase is read from the third quote: it becomes [1], the others keep their order
    assert choice.lead_first(index, [topic, answer, other], {2}) == [other, topic, answer]
    # 「これを…」 continues its topic sentence: the two move together
    assert choice.lead_first(index, [other, topic, answer], {1}) == [topic, answer, other]
    # list items from two sentences: both lead, in their order
    assert choice.lead_first(index, [other, topic, answer], {0, 2}) == [other, topic, answer]
    assert choice.lead_first(index, [other, topic], set()) == [other, topic]


def test_probabilities_are_a_softmax_following_the_weights():
    model = choice.ChoiceModel(np.zeros(2), np.ones(2), np.array([2.0, 0.0]), 0.9)
    p = choice.probabilities(np.array([[1.0, 5.0], [0.0, 9.0], [3.0, 0.0]]), model)
    assert p.sum() == pytest.approx(1.0) and list(np.argsort(-p)) == [2, 0, 1]


def test_shipped_model_matches_the_features(tmp_path):
    model = choice.ChoiceModel.load()
    assert len(model.weights) == len(model.mean) == len(model.scale) == len(choice.FEATURES)
    assert 0.5 <= model.confidence < 1
    data = json.loads(choice.MODEL_FILE.read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1]
    stale = tmp_path / "choice.json"
    stale.write_text(json.dumps(data))
    # fitted on other features, or not there: refused, never replaced by another rule
    with pytest.raises(FittedFileError, match="choice.json was fitted on other features.*missing novelty"):
        choice.ChoiceModel.load(stale)
    with pytest.raises(FittedFileError, match="missing.json is missing"):
        choice.ChoiceModel.load(tmp_path / "missing.json")


@pytest.mark.parametrize("question, sentence, expected", [
    ("APRSAFはいつ設立されましたか？", "APRSAFは1993年に設立された。", 1.0),
    ("APRSAFはいつ設立されましたか？", "APRSAFはアジア太平洋の会議である。", 0.0),
    ("1993年に何が設立されましたか？", "1993年にAPRSAFが設立された。", 0.0),  # the year is the question's own
    ("会議には何カ国が参加しましたか？", "会議には40カ国が参加した。", 1.0),
    ("会議には何カ国が参加しましたか？", "会議は3日間開かれた。", 0.0),  # a number, not of the asked counter
    ("会議には何人が参加しましたか？", "会議には580名が参加した。", 1.0),  # the counter in another form
    ("開発費はいくらですか？", "開発費は約2億ドルである。", 1.0),  # an amount of money in any currency
    ("式典で挨拶したのは誰ですか？", "式典では田中太郎が挨拶した。", 1.0),
    ("式典に出席したのは誰ですか？", "式典にはシリントン王女が出席した。", 1.0),  # a name Sudachi lacks, titled
    ("この軌道を何と呼びますか？", "このような軌道を静止軌道という。", 1.0),
])
def test_type_match_reads_the_asked_kind(tokenizer, question, sentence, expected):
    q = question_info(question, tokenizer)
    assert choice.type_match(choice.profile(morpheme_toks(sentence, tokenizer)), q) == expected


GEO = ("---\ntitle: 人工衛星の軌道\n---\n人工衛星の軌道\n\n"
       "人工衛星は地球の周りを回る。衛星の高度によって、一周にかかる時間が変わる。"
       "地球の自転と同じ周期で赤道の上空を回る衛星は、地上からは止まって見える。"
       "このような軌道を静止軌道という。気象衛星や放送衛星の多くが使っている。\n")


@pytest.fixture
def orbit_engine(tmp_path, fake_embedder, tokenizer, models):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "orbit.txt").write_text(GEO, encoding="utf-8")
    build_index(corpus, tmp_path / "index", fake_embedder, tokenizer, max_bytes=10**6)
    return Engine.load(tmp_path / "index", fake_embedder, tokenizer, models=models)


def test_features_describe_the_sentence_after_the_questions_words(orbit_engine):
    engine = orbit_engine
    c = engine.retrieve("地上から止まって見える衛星の軌道を何と呼ぶ？")
    X = engine.sentence_features(c)
    assert X.shape == (len(c.scored), len(choice.FEATURES)) and np.isfinite(X).all()
    text = {s.vector_row: c.index.documents["orbit"].text[s.start:s.end] for s in c.scored}
    col = {n: k for k, n in enumerate(choice.FEATURES)}
    k = next(i for i, s in enumerate(c.scored) if text[s.vector_row].startswith("このような軌道"))
    before = next(i for i, s in enumerate(c.scored) if text[s.vector_row].startswith("地球の自転"))
    # The answer sentence inherits its predecessor's match through its context ...
    assert X[k, col["prev_coverage"]] == pytest.approx(X[before, col["coverage"]], abs=1e-6) or \
        X[k, col["context_coverage"]] >= X[k, col["coverage"]]
    assert X[k, col["prev_sim"]] == pytest.approx(c.scored[before].sim, abs=1e-6)
    # ... and it is the one naming something (〜という), as a 何と呼ぶ question asks.
    assert X[k, col["type_match"]] == 1.0 and X[before, col["type_match"]] == 0.0


def _chosen_texts(engine, question):
    c = engine.retrieve(question)
    return [c.index.documents["orbit"].text[s.start:s.end] for s in engine._choose(c, 3)]


def test_engine_quotes_the_answer_after_the_restated_question(orbit_engine):
    assert any(t.startswith("このような軌道を静止軌道") for t in _chosen_texts(
        orbit_engine, "地上から止まって見える衛星の軌道を何と呼ぶ？"))


@pytest.mark.slow
def test_real_model_quotes_the_naming_sentence(tmp_path, real_embedder, tokenizer, models):
    """With the real model the question's words match the sentence before the answer best; the
    fitted choice still quotes the sentence that names it, and leads with the name."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "orbit.txt").write_text(GEO, encoding="utf-8")
    build_index(corpus, tmp_path / "index", real_embedder, tokenizer, max_bytes=10**6)
    engine = Engine.load(tmp_path / "index", real_embedder, tokenizer, models=models)
    question = "地上から止まって見える衛星の軌道を何と呼ぶ？"
    assert any(t.startswith("このような軌道を静止軌道") for t in _chosen_texts(engine, question))
    answer = engine.ask(question)
    if answer.found:  # the refusal model decides separately; when it answers, the name leads
        assert "静止軌道" in answer.answer.splitlines()[0]


@pytest.mark.slow
def test_real_seed_answers_keep_their_phrase_citation(real_engine):
    r = real_engine.ask("SAFEは何年に設立されましたか？")
    assert r.found and r.answer.startswith("2006")
    spans = [c for c in r.citations if c.answer_span]
    assert len(spans) == 1 and "2006" in spans[0].text[slice(*spans[0].answer_span)]

"""Fast tests of the benchmark scoring, the fitted fusion and refusal files, and follow-up retrieval."""

import json

import pytest

from bench import jsquad
from bot.answer import evidence
from bot.answer.evidence import FEATURES, Evidence, features
from bot.engine import Engine
from bot.errors import FittedFileError
from bot.evaluate import char_f1, gold_rank, phrase_scores
from bot.results import Turn
from bot.retrieve import retrieval
from bot.retrieve.retrieval import Fusion, fuse
from bot.store.build import build_index


@pytest.mark.parametrize("pred,gold,f1", [
    ("1993年", "1993年", 1.0),
    ("1993", "1993年", 0.8889),
    ("小笠原諸島", "小 笠原諸島", 1.0),  # whitespace and width do not count
    ("東京", "大阪", 0.0),
    ("", "大阪", 0.0),
])
def test_char_f1_is_jsquads_bag_of_characters(pred, gold, f1):
    assert char_f1(pred, gold) == pytest.approx(f1, abs=1e-4)


def test_phrase_scores_take_the_best_annotator():
    assert phrase_scores("雨季", ["雨季", "梅雨の雨季"]) == (1.0, 1.0)
    em, f1 = phrase_scores("梅雨", ["雨季", "梅雨の雨季"])
    assert em == 0.0 and 0 < f1 < 1
    assert phrase_scores(None, ["雨季"]) == (0.0, 0.0)


def test_gold_rank_is_the_first_text_holding_a_gold_span():
    texts = ["関係ない文。", "設立は1993年である。", "1993年に設立。"]
    assert gold_rank(texts, ["は1993年で"]) == 2
    assert gold_rank(texts, ["2001年"]) is None


def test_weighted_fusion_follows_its_weights():
    ranked = {"passage": [1, 2, 3], "bm25": [3, 2, 1]}
    assert max(fuse(ranked, Fusion({"passage": 1.0, "bm25": 0.0}, 60)).items(), key=lambda x: x[1])[0] == 1
    assert max(fuse(ranked, Fusion({"passage": 0.25, "bm25": 1.0}, 60)).items(), key=lambda x: x[1])[0] == 3


def _vectors_index():
    """Two passages of unit vectors: passage 0 has one sentence close to the query among far ones,
    passage 1 two sentences moderately close (its best below passage 0's)."""
    from types import SimpleNamespace

    import numpy as np

    def unit(*xs):
        v = np.array(xs, dtype=np.float32)
        return v / np.linalg.norm(v)

    sentences = np.stack([unit(1, 0.1, 0), unit(0, 1, 0), unit(0, 0, 1), unit(1, 0.5, 0), unit(1, 0.6, 0)])
    return SimpleNamespace(passage_vectors=np.stack([unit(1, 1, 1), unit(1, 0.55, 0)]),
                           sentence_vectors=sentences, sentence_rows=[range(0, 3), range(3, 5)])


def test_score_features_give_best_and_second_best_sentence_cosines():
    import numpy as np

    index = _vectors_index()
    q = np.array([1, 0, 0], dtype=np.float32)
    bm25 = np.array([2.0, 4.0])
    lists = retrieval.Lists({}, {}, {}, bm25)
    X = retrieval.score_features(index, lists, q, [0, 1])
    assert retrieval.SCORES == ("passage", "sentence", "sentence2", "bm25")
    s = index.sentence_vectors @ q
    assert X[0, 1] == pytest.approx(s[0]) and X[0, 2] == pytest.approx(max(s[1], s[2]))
    assert X[1, 1] == pytest.approx(s[3]) and X[1, 2] == pytest.approx(s[4])
    assert X[:, 3].tolist() == pytest.approx([0.5, 1.0])
    assert X[0, 0] == pytest.approx(index.passage_vectors[0] @ q)


def test_linear_fusion_weighs_the_second_sentence():
    import numpy as np

    index = _vectors_index()
    q = np.array([1, 0, 0], dtype=np.float32)
    lists = retrieval.Lists({"sentence": [0, 1]}, {}, {}, None)
    # Passage 0's best sentence is the closest of all: on the best sentence alone it wins ...
    alone = retrieval.fuse_linear(index, lists, q, Fusion({"sentence": 1.0}, method="linear"))
    assert max(alone, key=alone.get) == 0
    # ... but a passage whose second sentence is as close wins when that counts.
    both = retrieval.fuse_linear(index, lists, q, Fusion({"sentence": 1.0, "sentence2": 1.0}, method="linear"))
    assert max(both, key=both.get) == 1


def test_shipped_fusion_and_refusal_files_load():
    f = retrieval.Fusions.load()
    for fusion in (f.of("ja"), f.of("en")):
        assert set(fusion.weights) <= {*retrieval.SCORES, "topic"} and fusion.rrf_k > 0
    models = evidence.RefusalModel.load_all()
    assert set(models) >= {"ja", "en"}
    for m in models.values():
        assert len(m.coef) == len(m.mean) == len(m.scale) == len(FEATURES)
        assert 0 < m.threshold < 1


def test_refusal_probability_rises_with_evidence(tmp_path):
    fitted = {"format": 1, "features": list(FEATURES), "fitted_by": "a test", "data": "none", "commit": "0000000",
              "models": {lang: {"mean": [0.0] * len(FEATURES), "scale": [1.0] * len(FEATURES), "bias": -1.0,
                                "coef": [2.0, 3.0, 1.0] + [0.0] * (len(FEATURES) - 3), "threshold": 0.5}
                         for lang in ("ja", "en")}}
    path = tmp_path / "refusal.json"
    path.write_text(json.dumps(fitted))
    models = evidence.RefusalModel.load_all(path)
    weak, strong = Evidence(0.1, 0.0, 0.0, 2), Evidence(0.9, 0.2, 1.0, 2)
    assert models["ja"].probability(weak) < 0.5 < models["ja"].probability(strong)
    assert evidence.decide_found(strong, "ja", models) and not evidence.decide_found(weak, "ja", models)
    assert strong.p_answer == models["ja"].probability(strong)
    assert len(features(strong)) == len(FEATURES)
    del fitted["models"]["en"]
    path.write_text(json.dumps(fitted))
    with pytest.raises(FittedFileError, match="refusal.json: it needs a model for each of ja, en"):
        evidence.RefusalModel.load_all(path)


def test_follow_up_prefers_the_previous_answers_document(tmp_path, fake_embedder, tokenizer, models):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("---\ntitle: 梅雨\n---\n梅雨\n\n梅雨は東アジアの雨季である。梅雨は六月に始まる。\n",
                                  encoding="utf-8")
    (corpus / "b.txt").write_text("---\ntitle: 台風\n---\n台風\n\n台風は夏から秋に来る。台風は南の海で生まれる。\n",
                                  encoding="utf-8")
    build_index(corpus, tmp_path / "index", fake_embedder, tokenizer, max_bytes=10**6)
    engine = Engine.load(tmp_path / "index", fake_embedder, tokenizer, models=models)
    history = [Turn(role="user", content="梅雨は何の一種ですか？"), Turn(role="assistant", content="雨季")]
    hits = engine.search("それはいつ始まりますか？", 2, history).hits
    assert engine.search("それはいつ始まりますか？", 2, history).query == "梅雨はいつ始まりますか？"
    assert hits[0].doc_id == "a"


@pytest.mark.parametrize("answer,doc", [("ジャカルタで開かれました。", "b"), ("バンコクで開かれました。", "a")])
def test_follow_up_favours_the_document_its_previous_answer_came_from(tmp_path, fake_embedder, tokenizer,
                                                                      models, answer, doc):
    # The previous question fits both meetings alike; only the answer says which one was meant.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    head = "---\ntitle: 会議\n---\n会議\n\n"
    (corpus / "a.txt").write_text(head + "第2回の会議はバンコクで開かれた。会議の日程は3月だった。\n",
                                  encoding="utf-8")
    (corpus / "b.txt").write_text(head + "第3回の会議はジャカルタで開かれた。会議の日程は5月だった。\n",
                                  encoding="utf-8")
    build_index(corpus, tmp_path / "index", fake_embedder, tokenizer, max_bytes=10**6)
    engine = Engine.load(tmp_path / "index", fake_embedder, tokenizer, models=models)
    history = [Turn(role="user", content="会議はどこで開かれましたか？"), Turn(role="assistant", content=answer)]
    assert engine.search("その日程は？", 2, history).hits[0].doc_id == doc


def test_jsquad_follow_up_replaces_the_title_with_a_pronoun():
    case = {"question": "日本で梅雨がないのは北海道とどこか。"}
    assert jsquad.follow_up_of(case, "梅雨") == "日本でそれがないのは北海道とどこか。"
    assert jsquad.follow_up_of({"question": "梅雨の時期はいつか"}, "梅雨") == "その時期はいつか"
    assert jsquad.follow_up_of({"question": "雨季とは何か"}, "梅雨") is None


def test_gold_span_stays_inside_its_sentence():
    text = "前の文。梅雨は雨季の一種である。次の文。"
    start = text.index("雨季")
    assert jsquad.gold_span(text, start, start + 2) == "梅雨は雨季の一種で"

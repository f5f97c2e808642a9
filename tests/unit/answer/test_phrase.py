"""The answer phrase: question types and the phrase inside a sentence, with real Sudachi and the
shipped fitted model. Sentences and questions are our own, written for these tests."""

import json

import pytest

from bot.answer import phrase
from bot.answer.phrase import find_phrase
from bot.errors import FittedFileError
from bot.query.analysis import question_info, question_type

JAXA = ("宇宙航空研究開発機構は2003年10月1日に、宇宙科学研究所など3つの機関が統合して発足し、"
        "本社を東京都調布市に置いている。")


@pytest.mark.parametrize("question, expected", [
    ("SAFEは何年に設立されましたか？", "time"),
    ("はやぶさはいつ打ち上げられた？", "time"),
    ("この寺が建てられたのは何世紀？", "time"),
    ("会議には何カ国が参加しましたか", "number"),
    ("会員は何人いる？", "number"),
    ("衛星はいくつ打ち上げられた？", "number"),
    ("工事はどのくらい続いた？", "number"),
    ("万博で誰が話しましたか？", "person"),
    ("初代の所長は何者か", "person"),
    ("それはどこで開催されましたか？", "place"),
    ("どの国が最初に参加した？", "place"),
    ("この計画は何と呼ばれている？", "name"),
    ("その探査機の名称は？", "name"),
    ("どの団体が主催した？", "org"),
    ("カナダとはどの分野で協力していますか？", "thing"),  # not a name: no phrase leads the answer
    ("なぜ打ち上げは延期されたのか", None),
    ("どのようにして衛星を回収したのか", None),
    ("国際宇宙ステーションについて教えて", None),
    ("宇宙条約とは何か", None),
])
def test_question_type(tokenizer, question, expected):
    assert question_type(question, tokenizer) == expected


def test_indefinite_interrogative_is_not_the_question(tokenizer):
    # 「いくらでも」 is not a quantity question; the question asks for a person.
    assert question_type("予算はいくらでも出すと言ったのは誰か", tokenizer) == "person"


def _answer(sentence, question, tokenizer, model):
    qtype = question_type(question, tokenizer)
    span = find_phrase(sentence, question, qtype, tokenizer, model)
    assert span is not None
    start, end = span
    assert 0 <= start < end <= len(sentence)
    return sentence[start:end]


@pytest.mark.parametrize("sentence, question, expected", [
    (JAXA, "宇宙航空研究開発機構はいつ発足した？", "2003年10月1日"),
    (JAXA, "宇宙航空研究開発機構の本社はどこに置かれている？", "東京都調布市"),
    ("会議には平成5年に24か国が参加した。", "会議には何か国が参加した？", "24か国"),
    ("会議には平成5年に24か国が参加した。", "会議は何年に開かれた？", "平成5年"),
    ("この装置は1998年にヨハネス・ミュラーが設計した。", "この装置を設計したのは誰？", "ヨハネス・ミュラー"),
    ("この探査機は「はやぶさ」と呼ばれている。", "この探査機は何と呼ばれている？", "はやぶさ"),
    ("式典には約三百人が出席した。", "式典には何人が出席した？", "約三百人"),
])
def test_find_phrase(tokenizer, sentence, question, expected, models):
    assert _answer(sentence, question, tokenizer, models.phrase) == expected


def test_no_phrase_for_untyped_question(tokenizer, models):
    assert find_phrase(JAXA, "なぜ統合したのか", None, tokenizer, models.phrase) is None


def test_no_candidate_gives_none(tokenizer, models):
    assert find_phrase("そうだった。", "いつ？", "time", tokenizer, models.phrase) is None


def test_shipped_model_loads_and_matches_the_features():
    model = phrase.PhraseModel.load()
    assert list(model.features) == phrase.feature_names()
    assert len(model.weights) == len(model.features)
    data = json.loads(phrase.MODEL_PATH.read_text(encoding="utf-8"))
    assert data["format"] == phrase.FORMAT_VERSION


def test_model_with_other_features_is_refused(tmp_path):
    data = json.loads(phrase.MODEL_PATH.read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1]
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(FittedFileError, match="refit"):
        phrase.PhraseModel.load(bad)


def test_numeric_range_is_one_phrase(tokenizer, models):
    sentence = "工事の期間はどの区間でも40日から50日前後と大差はない。"
    assert _answer(sentence, "工事の期間はどれくらいか？", tokenizer, models.phrase) == "40日から50日前後"


@pytest.mark.parametrize("sentence", ["", "。", "   ", "そうだった。"])
def test_degenerate_sentences(tokenizer, sentence, models):
    assert find_phrase(sentence, "それはいつ？", "time", tokenizer, models.phrase) is None


def test_long_sentence_still_finds_the_phrase_near_the_question_words(tokenizer, models):
    filler = "研究者たちは多くの観測装置を次々に改良し、" * 20
    sentence = filler + "新しい望遠鏡は1998年に完成した。"
    start, end = find_phrase(sentence, "新しい望遠鏡はいつ完成した？", "time", tokenizer, models.phrase)
    assert sentence[start:end] == "1998年"


# The fitted weights are read against these exact values: any change to how a feature is computed
# (or to the order of the features) needs a refit. Nonzero base features, rounded.
PINNED_FEATURES = {
    ("宇宙航空研究開発機構の本社はどこに置かれている？", "東京都調布市"): {
        "bias": 1.0, "log_chars": 1.94591, "tokens": 0.2, "full_run": 1.0, "run_start": 1.0, "run_end": 1.0,
        "near": 0.333333, "anchored": 1.0, "particle_match": 1.0, "next_ni": 1.0, "place": 1.0, "proper": 1.0,
        "proper_all": 1.0, "rel_pos": 0.790323, "left_terms": 0.166667, "before_match": 1.0,
        "first_proper": 1.0, "particle_equiv": 1.0, "unique_left": 0.166667},
    ("宇宙航空研究開発機構はいつ発足した？", "2003年10月1日"): {
        "bias": 1.0, "log_chars": 2.397895, "tokens": 0.6, "full_run": 1.0, "run_start": 1.0, "run_end": 1.0,
        "near": 0.333333, "anchored": 1.0, "next_ni": 1.0, "has_number": 1.0, "number_counter": 1.0,
        "time_unit": 1.0, "starts_number": 1.0, "digits": 0.7, "rel_pos": 0.177419, "left_terms": 0.5,
        "right_terms": 0.166667, "before_match": 1.0, "common_share": 0.5, "unique_left": 0.5,
        "unique_right": 0.083333},
}


@pytest.mark.parametrize("question, answer", list(PINNED_FEATURES))
def test_feature_vector_is_pinned(tokenizer, question, answer):
    info = question_info(question, tokenizer)
    spans, rows = phrase.feature_rows(JAXA, info, tokenizer)
    start = JAXA.index(answer)
    row = rows[spans.index((start, start + len(answer)))]
    names = phrase.feature_names()
    base = dict(zip(phrase.BASE_FEATURES, row[:len(phrase.BASE_FEATURES)], strict=True))
    assert {n: round(v, 6) for n, v in base.items() if v} == PINNED_FEATURES[(question, answer)]
    # The crossed block of the question's type repeats the base block; the other types' are zero.
    crossed = {n: v for n, v in zip(names, row, strict=True) if ":" in n and v}
    assert crossed == {f"{info.qtype}:{n}": v for n, v in base.items() if v}
    assert len(spans) == 52


def test_feature_groups_name_every_base_feature_once(tokenizer):
    info = question_info("宇宙航空研究開発機構はいつ発足した？", tokenizer)
    toks = phrase.morpheme_toks(JAXA, tokenizer)
    span = phrase._Span(toks, 0, 2, "run", (0, 2), info, [0], JAXA)
    names = [name for group in phrase.FEATURE_GROUPS for name in group(span)]
    assert sorted(names) == sorted(phrase.BASE_FEATURES) and len(set(names)) == len(names)


def test_a_name_written_with_a_space_is_given_whole(tokenizer):
    line = "JAXA 理事長 奥村 直樹"
    for part in ("奥村", "直樹"):
        a = line.index(part)
        assert phrase.whole_name(line, a, a + 2, tokenizer) == (line.index("奥村"), len(line))
    a = line.index("理事長")
    assert phrase.whole_name(line, a, a + 3, tokenizer) == (a, a + 3)  # a title is not part of the name


@pytest.mark.parametrize("sentence, question, lead, widened", [
    # 誰と誰: the people joined to the lead
    ("また同日、松浦理事とジョージ駐日インド大使間で文書交換式が行われました。", "文書を交換したのは誰と誰ですか？",
     "ジョージ駐日インド大使", "松浦理事とジョージ駐日インド大使"),
    # organisations with official names of common nouns, each with its abbreviation
    ("日本側主催: 文部科学省(MEXT)、独立行政法人宇宙航空研究開発機構(JAXA)", "日本側の主催者はどこでしたか？",
     "文部科学省", "文部科学省(MEXT)、独立行政法人宇宙航空研究開発機構"),
    # one person asked for: the lead stays one
    ("また同日、松浦理事とジョージ駐日インド大使間で文書交換式が行われました。", "文書を交換したのは誰ですか？",
     "ジョージ駐日インド大使", "ジョージ駐日インド大使"),
])
def test_a_lead_takes_in_the_coordinated_items_asked_for(tokenizer, models, fake_embedder, sentence, question,
                                                         lead, widened):
    from bot.engine import Engine
    info = question_info(question, tokenizer)
    ranked = phrase.rank_phrases(sentence, question, info.qtype, tokenizer, models.phrase, info=info)
    engine = Engine(fake_embedder, tokenizer, models=models)
    a = sentence.index(lead)
    fits = lambda text, after="": phrase.fits_type(text, info.qtype, tokenizer, info.head)  # noqa: E731
    a, b = engine._widened(sentence, a, a + len(lead), [span for _, span in ranked], info, fits)
    assert sentence[a:b] == widened

"""Yes/no questions: yes, no or not settled, in Japanese and English, from the fitted model."""

import numpy as np
import pytest

from bot.answer import yesno
from bot.answer.compose import compose_answer
from bot.answer.compose_en import EnglishComposer

# A sentence that matches the question well (its words, its meaning, the best candidate) and
# one that does not (few of its words, a weak cosine, well below the best candidate).
STRONG = dict(coverage=1.0, sim=0.92, score_gap=0.0)
WEAK = dict(coverage=0.2, sim=0.78, score_gap=-0.12)


def verdict(models, tokenizer, question, lang, sentence, match, terms=(), glosses=None):
    q = yesno.asked(question, lang, tokenizer, terms, glosses)
    cross = (lang == "ja") != bool(yesno._JAPANESE.search(sentence))
    x = yesno.features(q, sentence, match["coverage"], match["sim"], match["score_gap"], cross, False, tokenizer)
    return yesno.verdict(models.yesno.probabilities(x))


@pytest.mark.parametrize("question, lang, sentence, terms, expected", [
    ("APRSAF-21では分科会の再編が行われましたか？", "ja",
     "今次21回会合では、分科会の再編が行われたことを歓迎した。", (), "yes"),
    ("金星には固有磁場がありますか？", "ja",
     "また金星や火星にない固有磁場が、地球や水星にあるのはなぜかを解明する。", (), "no"),
    ("Was KhalifaSat developed in the UAE?", "en",
     "KhalifaSatはUAEのエンジニアチームによって開発されました。", ("開発", "UAE"), "yes"),
    ("Does JAXA charge for the emergency observation data?", "en",
     "JAXA provides the emergency observation data free of charge.", (), "no"),
    ("Was the satellite built in Japan?", "en",
     "その衛星は日本で製作されませんでした。", ("製作", "日本", "衛星"), "no"),
])
def test_a_sentence_that_matches_settles_the_question_either_way(models, tokenizer, question, lang, sentence,
                                                                  terms, expected):
    assert verdict(models, tokenizer, question, lang, sentence, STRONG, terms) == expected


@pytest.mark.parametrize("question, lang, sentence, terms", [
    ("APRSAF-21では分科会の再編が行われましたか？", "ja", "APRSAFは1993年から毎年開催されている。", ()),
    ("Was KhalifaSat developed in the UAE?", "en", "DubaiSat-2を打ち上げました。", ("開発", "UAE")),
])
def test_a_sentence_about_something_else_settles_nothing(models, tokenizer, question, lang, sentence, terms):
    assert verdict(models, tokenizer, question, lang, sentence, WEAK, terms) == "unsettled"


def test_a_negated_question_agrees_with_a_negated_sentence(tokenizer):
    q = yesno.asked("北海道には梅雨はないのですか？", "ja", tokenizer)
    assert q.negated
    near, _ = yesno.negations("北海道には梅雨がない。", q, tokenizer)
    assert near  # the mismatch feature is then 0: the sentence says what the question says
    x = yesno.features(q, "北海道には梅雨がない。", 1.0, 0.9, 0.0, False, False, tokenizer)
    assert x[yesno.FEATURES.index("negation_mismatch")] == 0.0


def test_a_negation_away_from_the_asked_words_is_not_about_them(tokenizer):
    q = yesno.asked("Was the agreement signed in Tokyo?", "en", tokenizer)
    near, elsewhere = yesno.negations("The agreement was signed in Tokyo. Rain did not stop the event at all "
                                      "in the long afternoon that followed.", q, tokenizer)
    assert not near and elsewhere


def test_the_model_file_carries_what_fitted_it(models):
    m = models.yesno
    assert m.settle.shape == (len(yesno.FEATURES),)
    # No against yes reads the polarity only.
    others = [k for k, f in enumerate(yesno.FEATURES) if f not in yesno.POLARITY]
    assert np.all(m.no[others] == 0)
    p = m.probabilities(np.zeros(len(yesno.FEATURES)))
    assert p.shape == (3,) and abs(p.sum() - 1) < 1e-9


def _index_with(tmp_path, fake_embedder, tokenizer, text, lang="ja"):
    from bot.store.build import build_index
    from bot.store.index import load_index
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.md").write_text(f"---\ntitle: t\nlang: {lang}\n---\n{text}\n", encoding="utf-8")
    build_index(corpus, tmp_path / "i", fake_embedder, tokenizer, max_bytes=10**6)
    return load_index(tmp_path / "i", model=fake_embedder.name)


def test_the_answer_leads_with_the_verdict_and_the_settling_sentence(tmp_path, fake_embedder, tokenizer):
    from bot.answer.sentences import ScoredSentence
    index = _index_with(tmp_path, fake_embedder, tokenizer, "金星には固有磁場がない。")
    p = index.passages[0]
    s, e = p.sentences[0]
    chosen = [ScoredSentence(0, 0, int(index.sentence_rows[0].start), s, e, 0.9, 0.9, 1.0, 1.0)]
    text, citations = compose_answer(index, chosen, "ja", verdict="no")
    assert text.split("\n")[0] == "いいえ。[1]" and "固有磁場がない" in text
    english = EnglishComposer(tokenizer)
    text, _ = english.compose(index, chosen, "Does Venus have a magnetic field?", [], verdict="no")
    assert text.split("\n")[0] == "No. [1]"
    text, _ = english.compose(index, chosen, "Does Venus have a magnetic field?", [], verdict="unsettled")
    assert not text.startswith(("Yes", "No")) and "do not say" in text.split("\n")[0]


def test_a_yes_no_question_about_another_edition_is_never_settled(tmp_path, fake_embedder, tokenizer, models):
    from dataclasses import replace

    from bot.engine import Engine
    _index_with(tmp_path, fake_embedder, tokenizer,
                "第21回会合では、分科会の再編が行われた。\n第21回会合は東京で開催された。")
    # A model that finds every sentence settles the question with yes: only the identifiers decide.
    n = len(yesno.FEATURES)
    always_yes = yesno.YesNoModel(np.zeros(n), np.ones(n), np.zeros(n), 10.0, np.zeros(n), -10.0)
    engine = Engine.load(tmp_path / "i", fake_embedder, tokenizer, models=replace(models, yesno=always_yes))
    asked = "第20回会合では分科会の再編が行われましたか？"
    c = engine.retrieve(asked)
    said, _ = engine._settle(c, c.scored[:3], asked, 3)
    assert said is None
    assert not engine.ask(asked).answer.startswith("はい")
    same = "第21回会合では分科会の再編が行われましたか？"
    c = engine.retrieve(same)
    said, quoted = engine._settle(c, c.scored[:3], same, 3)
    assert said == "yes" and "再編" in engine._text(c.index, quoted[0])

"""A nickname (愛称) asked of a thing the pages describe without naming it so: the bodies named
beside the thing are not its nickname; the answer says the name is not given."""

from dataclasses import replace

import pytest
from fakes import FakeEmbedder, refusal_on_coverage

from bot.answer.kinds import asks_total, calls, states_total
from bot.engine import Engine
from bot.store.build import build_index
from bot.store.index import load_index

DOC = """---
title: MMXとDLR
lang: ja
---
MMXとDLR

DLRは、MMX探査機に搭載する小型ローバのフランス国立宇宙研究センター(CNES)との共同検討により貢献します。
"""

NAMED = """---
title: 小惑星探査機
lang: ja
---
小惑星探査機

小惑星探査機の愛称は「はやぶさ」と名付けられた。
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory, tokenizer, models):
    root = tmp_path_factory.mktemp("nickname")
    (root / "corpus").mkdir()
    for name, text in (("mmx.md", DOC), ("named.md", NAMED)):
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    emb = FakeEmbedder()
    build_index(root / "corpus", root / "index", emb, tokenizer, max_bytes=2**20)
    # The fake embedder's cosines mean nothing: decide on the question's words found alone.
    return Engine(emb, tokenizer, load_index(root / "index"), models=replace(models, refusal=refusal_on_coverage(0.3)))


def test_a_sentence_naming_bodies_beside_the_thing_gives_no_nickname(engine):
    a = engine.ask("MMXに搭載される小型ローバの愛称は何ですか？")
    assert a.state == "partial" and "CNES" not in a.answer.split("\n")[0], a.answer


def test_a_sentence_that_names_the_thing_gives_its_nickname(engine):
    a = engine.ask("小惑星探査機の愛称は何ですか？")
    assert a.state == "answered" and "はやぶさ" in a.answer.split("\n")[0], a.answer


def test_a_nickname_is_given_by_a_naming_word_or_a_quote():
    assert calls("愛称は「はやぶさ」") and calls("イダテンと名付けられた")
    assert not calls("フランス国立宇宙研究センター(CNES)との共同検討")


def test_a_total_is_asked_by_its_word_and_stated_by_one():
    assert asks_total("「きぼう」から放出された超小型衛星はこれまでに合計何機ですか？")
    assert not asks_total("設立したのは全部で何人か。")
    assert states_total("現在は計200名弱の中央委員から構成されている。") and states_total("in total, 50 satellites")
    assert not states_total("九州工業大学が設計・製作した1Uサイズの衛星3機")  # 設計 is no 計

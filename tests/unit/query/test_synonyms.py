"""A Japanese question's word the pages never use, met through the pages' word of the same meaning
in the other script (顧客 ↔ クライアント, ミッション ↔ 任務): the term table's `synonyms`, BM25 and
coverage through them."""

from dataclasses import replace

import pytest
from fakes import FakeEmbedder, refusal_on_coverage

from bot.engine import Engine
from bot.store.build import build_index
from bot.store.index import load_index
from bot.store.termtable import TermTable, build_term_table

TEXT = ("当センターは地球観測衛星の組み立て・運用をしており、画像やデータ解析サービスを世界中の"
        "クライアントに提供しています。宇宙飛行士の任務は船外活動である。")

DOC = """---
title: MBRSC
lang: ja
---
MBRSC

MBRSCはKibo-ABCイニシアチブに加盟しました。
当センターは地球観測衛星の組み立て・運用をしており、画像やデータ解析サービスを世界中のクライアントに提供しています。
"""


def test_a_word_the_corpus_lacks_maps_to_its_word_in_the_other_script(tokenizer):
    vocabulary = set(tokenizer.tokens(TEXT))
    synonyms = build_term_table([TEXT], tokenizer, vocabulary).synonyms
    assert "クライアント" in [s for s, _ in synonyms["顧客"]]  # "customer; client; patron" ↔ "client"
    assert "任務" in [s for s, _ in synonyms["ミッション"]]  # "mission" ↔ "duty; ...; mission; task"
    # A word the corpus uses meets its own pages.
    assert "任務" not in synonyms and "クライアント" not in synonyms


def test_an_older_table_loads_without_synonyms(tmp_path):
    (tmp_path / "t.json").write_text('{"version": 10, "english": {}, "readings": {}, "glosses": {}}', "utf-8")
    assert TermTable.load(tmp_path / "t.json").synonyms == {}


@pytest.fixture(scope="module")
def engine(tmp_path_factory, tokenizer, models):
    root = tmp_path_factory.mktemp("syn")
    (root / "corpus").mkdir()
    (root / "corpus" / "mbrsc.md").write_text(DOC, encoding="utf-8")
    emb = FakeEmbedder()
    build_index(root / "corpus", root / "index", emb, tokenizer, max_bytes=2**20)
    # The fake embedder's cosines mean nothing: decide on the question's words found alone.
    return Engine(emb, tokenizer, load_index(root / "index"), models=replace(models, refusal=refusal_on_coverage(0.9)))


def test_the_questions_word_is_searched_and_covered_by_the_pages_word(engine):
    question = "MBRSCは世界中の顧客にどのようなサービスを提供していますか？"
    c = engine.retrieve(question)
    assert "クライアント" in c.lexical_tokens
    assert "顧客" in c.terms_of(10**9, "画像やデータ解析サービスを世界中のクライアントに提供しています。")
    a = engine.ask(question)
    assert a.found and "クライアント" in a.answer

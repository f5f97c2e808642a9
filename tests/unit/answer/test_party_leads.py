"""Leads for a question about one party among several a page names: its person on a signature
line of its own, its body in a list of co-hosts, and the clause that names the question's subject."""

from dataclasses import replace

import pytest
from fakes import FakeEmbedder, refusal_on_coverage

from bot.engine import Engine
from bot.store.build import build_index
from bot.store.index import load_index

DOCS = {
    "statement.md": """---
title: JAXA-DLR共同声明
lang: ja
---
JAXA-DLR共同声明

JAXAとDLRは2017年に共同声明に署名した。

JAXA 理事長 奥村 直樹
DLR 長官 パスカル・エーレンフロイント
""",
    "forum.md": """---
title: 第22回会議
lang: ja
---
第22回会議

2015年12月1日、文部科学省、JAXA及びインドネシア研究技術・高等教育省(RISTEK-DIKTI)の共催により、第22回会議がインドネシア・バリ島にて開催された。
""",
    "birds.md": """---
title: BIRDS衛星の引き渡し
lang: ja
---
BIRDS衛星の引き渡し

2月18日に九州工業大学がBIRDSプロジェクトの第3弾として製作した1Uサイズの衛星3機、翌19日にはシンガポール国立大学が製作した3Uサイズの衛星1機がJAXAに引き渡された。
""",
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory, tokenizer, models):
    root = tmp_path_factory.mktemp("party")
    (root / "corpus").mkdir()
    for name, text in DOCS.items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    emb = FakeEmbedder()
    build_index(root / "corpus", root / "index", emb, tokenizer, max_bytes=2**20)
    # The fake embedder's cosines mean nothing: decide on the question's words found alone.
    return Engine(emb, tokenizer, load_index(root / "index"), models=replace(models, refusal=refusal_on_coverage(0.3)))


def lead(engine, question: str) -> str:
    a = engine.ask(question)
    assert a.found, a.answer
    return a.answer.split("\n")[0]


def test_the_asked_partys_person_leads_over_the_other_partys_line(engine):
    first = lead(engine, "2017年のDLRとの共同声明でJAXAを代表したのは誰ですか？")
    assert "奥村" in first and "パスカル" not in first


def test_the_asked_partys_body_is_named_whole_and_alone(engine):
    first = lead(engine, "第22回会議をインドネシア側で共催した省はどこですか？")
    assert "研究技術・高等教育省" in first and "文部科学省" not in first


def test_the_clause_naming_the_questions_subject_gives_the_lead(engine):
    assert "3機" in lead(engine, "BIRDSプロジェクト第3弾の1Uサイズ衛星は何機引き渡されましたか？")
    assert "九州工業大学" in lead(engine, "BIRDSプロジェクト第3弾の衛星を製作した大学はどこですか？")

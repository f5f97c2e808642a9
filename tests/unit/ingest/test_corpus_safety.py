"""The corpus as hostile or awkward input: front matter that expands or lies, lines longer than
Sudachi accepts, a document that cannot be processed, and chrome told from content by repetition
and shape on a corpus of real-looking documents (tests/data/chrome_corpus)."""

import time
from pathlib import Path

import pytest
from fakes import FakeEmbedder
from paths import DATA

from bot.ingest.chrome import learn_chrome, trailing_label
from bot.ingest.cleaning import clean_text
from bot.ingest.documents import load_corpus
from bot.ingest.passages import split_passages
from bot.store.build import build_index
from bot.store.index import load_index
from bot.text.analyser import MAX_PIECE_BYTES, pieces

MB = 10**6
CHROME_CORPUS = DATA / "chrome_corpus"


def _corpus(tmp_path: Path, files: dict[str, str]) -> Path:
    corpus = tmp_path / "c"
    corpus.mkdir(exist_ok=True)
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return corpus


def _alias_bomb() -> str:
    levels = "abcdefghi"
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip(levels, levels[1:], strict=False):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "---\n" + "\n".join(lines) + "\ntitle: *i\n---\n本文です。\n"


# -- front matter ------------------------------------------------------------------------------

def test_alias_bomb_is_refused_at_once(tmp_path):
    bomb = _alias_bomb()
    assert len(bomb.encode()) < 500  # before: a 2.8 GB title, ~100 s, 3 GB of memory
    corpus = _corpus(tmp_path, {"bomb.txt": bomb, "ok.txt": "普通の文書です。"})
    t = time.perf_counter()
    docs, skipped = load_corpus(corpus, MB)
    assert time.perf_counter() - t < 5
    assert [d.doc_id for d in docs] == ["ok"]
    assert skipped[0].path == "bomb.txt" and "YAML" in skipped[0].reason


@pytest.mark.parametrize("front, reason", [
    ("x: &a 1\ntitle: *a", "anchors"),
    ("title: !!python/object/apply:os.system ['true']", "tags"),
    ("title: !custom value", "tags"),
    ("title: 2024", "title"),
    ("title: [a, b]", "title"),
    ("lang: {x: 1}", "lang"),
    ("lang: ja; DROP", "lang"),
    ("title: " + "長" * 400, "title"),
    ("note: " + "x" * 3000, "longer than"),
    ("pad: " + "x" * 9000, "larger than"),
    ("- a list", "mapping"),
    ("title: [unclosed", "not valid YAML"),
])
def test_bad_front_matter_skips_the_file_with_its_reason(tmp_path, front, reason):
    corpus = _corpus(tmp_path, {"bad.md": f"---\n{front}\n---\n本文です。\n", "ok.md": "本文です。"})
    docs, skipped = load_corpus(corpus, MB)
    assert [d.doc_id for d in docs] == ["ok"]
    assert reason in skipped[0].reason, skipped[0].reason


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
                                 "JaVaScRiPt:alert(1)", "/relative/page", "https://", "ftp://example.jp/x",
                                 "https://exa mple.jp"])
def test_only_http_urls_are_kept_and_the_document_stays(tmp_path, url):
    corpus = _corpus(tmp_path, {
        "doc.md": f"---\ntitle: 題\nurl: '{url}'\n---\n本文です。\n",
        "page.html": f"<html><head><link rel=canonical href='{url}'></head><body><p>頁の本文です。</p></body></html>",
    })
    docs, skipped = load_corpus(corpus, MB)
    assert skipped == [] and {d.doc_id: d.url for d in docs} == {"doc": None, "page": None}


def test_good_front_matter_is_kept(tmp_path):
    corpus = _corpus(tmp_path, {"doc.md": "---\ntitle: '2024'\nurl: https://example.jp/a?b=1\nlang: ja\n"
                                          "tags: [a, b]\n---\n本文です。\n"})
    (doc,), skipped = load_corpus(corpus, MB)
    assert (doc.title, doc.url, doc.lang) == ("2024", "https://example.jp/a?b=1", "ja")


# -- Sudachi's input limit and documents that cannot be processed ----------------------------

def test_long_text_is_tokenised_in_pieces(tokenizer):
    text = ("宇宙航空研究開発機構" * 3000 + "。") * 3 + "x" * 70_000
    parts = pieces(text)
    assert "".join(parts) == text and len(parts) > 1
    assert all(len(p.encode()) <= MAX_PIECE_BYTES for p in parts)
    assert tokenizer.tokens(text).count("宇宙") >= 8000
    assert tokenizer.content_terms("長い行" * 20_000)  # what the engine calls on a long sentence


def test_a_line_longer_than_sudachi_accepts_does_not_fail_the_build(corpus_copy, tmp_path, tokenizer):
    # Before: "Input is too long, it can't be more than 49149 bytes" failed every rebuild.
    (corpus_copy / "long.txt").write_text("長い行" * 20_000 + "\n\n普通の文です。", encoding="utf-8")
    summary = build_index(corpus_copy, tmp_path / "index", FakeEmbedder(), tokenizer, max_bytes=10 * MB)
    assert summary.documents == 2 and summary.skipped == []
    assert "long" in load_index(tmp_path / "index").documents


def test_a_document_that_cannot_be_processed_is_skipped_with_its_reason(corpus_copy, tmp_path, tokenizer,
                                                                         monkeypatch):
    from bot.text.analyser import Tokenizer

    class Breaking(Tokenizer):
        def tokens(self, text):
            if "壊れる文書" in text:
                raise RuntimeError("tokenizer exploded")
            return super().tokens(text)

    (corpus_copy / "broken.txt").write_text("壊れる文書です。", encoding="utf-8")
    summary = build_index(corpus_copy, tmp_path / "index", FakeEmbedder(), Breaking(), max_bytes=MB)
    assert summary.documents == 1
    assert [(s.path, "tokenizer exploded" in s.reason) for s in summary.skipped] == [("broken.txt", True)]


# -- chrome by repetition and shape ----------------------------------------------------------

@pytest.fixture(scope="module")
def chrome_docs():
    docs, skipped = load_corpus(CHROME_CORPUS, MB)
    assert skipped == []
    return {d.doc_id: d for d in docs}


def test_repeated_link_labels_are_removed(chrome_docs):
    h = chrome_docs["hayabusa2"].text
    assert "別ウィンドウで開く" not in h and "PDF" not in h
    assert "2019年2月 第1回タッチダウン\n" in h and "\n記者会見資料\n" in h
    assert "別ウィンドウで開く" not in chrome_docs["kibo"].text  # one occurrence there, learned from the corpus
    partners = chrome_docs["site/partners"].text  # HTML: a label inside the link, after its text
    assert "外部サイトへ" not in partners and "米国航空宇宙局" in partners
    assert "詳しくは協力機関一覧をご覧ください。" in partners  # a link inside prose is left as it reads


def test_content_that_looks_like_chrome_stays(chrome_docs):
    kibo = chrome_docs["kibo"].text
    assert "アメリカ 12件\nカナダ 5件\n日本 31件" in kibo  # counts are values, not labels
    assert "参加しました。" in kibo
    missions = chrome_docs["missions"].text
    assert "Apollo 11 mission\nApollo 12 mission" in missions  # an English list's last word


def test_short_final_paragraphs_and_short_english_documents_stay(chrome_docs):
    assert chrome_docs["station"].text.endswith("\n\nIt lasts ten years.")
    assert chrome_docs["note"].text == "Kibo is Japan's first crewed experiment module."
    assert chrome_docs["note"].lang == "en"
    assert clean_text("It lasts ten years.") == "It lasts ten years."
    assert clean_text("国際宇宙ステーション") == "国際宇宙ステーション"


def test_footers_and_shared_boilerplate_go(chrome_docs):
    for doc_id in ("site/aprsaf", "site/sentinel"):
        text = chrome_docs[doc_id].text
        assert "All rights reserved" not in text and "ホーム" not in text and "English" not in text
    assert chrome_docs["site/aprsaf"].text.endswith("持ち回りで開催されます。")
    assert chrome_docs["site/aprsaf"].url is None  # its canonical link was javascript:
    assert "ページの先頭へ" not in chrome_docs["hayabusa2"].text
    assert chrome_docs["hayabusa2"].text.endswith("試料が回収されました。")


def test_offsets_stay_exact_in_cleaned_text(chrome_docs):
    for doc in chrome_docs.values():
        for p in split_passages(doc.doc_id, doc.text):
            assert doc.text[p.start:p.end] == p.text
            for s, e in p.sentences:
                assert doc.text[s:e].strip() == doc.text[s:e]


def test_seed_link_labels_are_gone(corpus_copy):
    (doc,), _ = load_corpus(corpus_copy, MB)
    assert "外部リンク" not in doc.text
    assert "\n2006 SAFEの設立\n" in doc.text and "「APRSAF名古屋ビジョン」を採択しました。" in doc.text


def test_label_shapes():
    assert trailing_label("2006 SAFEの設立 外部リンク") == "外部リンク"
    assert trailing_label("資料 (PDF:1.2MB)") == trailing_label("別の資料 (PDF:850KB)")
    assert trailing_label("Annual report ↗") == "↗"
    assert trailing_label("Apollo 11 mission") is None
    assert trailing_label("カナダ 5件") is None
    assert trailing_label("外部リンク") is None  # nothing before it: a line, not a label


def test_what_the_corpus_teaches_changes_the_hash(tmp_path):
    page = "本文です。これは記事です。\n\n© 2025 Example. All rights reserved.\n"
    corpus = _corpus(tmp_path, {"a.txt": page})
    (alone,), _ = load_corpus(corpus, MB)
    assert "All rights reserved" in alone.text  # one page: a sentence like any other
    (corpus / "b.txt").write_text("別の記事です。\n\n© 2025 Example. All rights reserved.\n", encoding="utf-8")
    docs, _ = load_corpus(corpus, MB)
    a = next(d for d in docs if d.doc_id == "a")
    assert "All rights reserved" not in a.text and a.content_hash != alone.content_hash
    assert learn_chrome([page]).labels == set()


@pytest.mark.slow
def test_answer_to_the_first_example_question_carries_no_link_label(real_engine):
    r = real_engine.ask("SAFEは何年に設立されましたか？")
    assert r.found and "2006" in r.answer
    assert "外部リンク" not in r.answer and all("外部リンク" not in c.text for c in r.citations)


def test_through_the_api_no_script_urls_and_a_long_line_builds_on_a_fresh_install(fake_app_factory, corpus_copy,
                                                                                    tmp_path):
    # Before: the first build failed on Sudachi's limit and health blamed the model.
    (corpus_copy / "long.txt").write_text("長い行" * 20_000 + "\n\n普通の文です。", encoding="utf-8")
    (corpus_copy / "js.md").write_text("---\ntitle: 試験\nurl: 'javascript:alert(1)'\n---\n試験の本文です。\n",
                                       encoding="utf-8")
    (corpus_copy / "data.md").write_text("---\nurl: 'data:text/html,<b>x</b>'\n---\nデータの本文です。\n",
                                         encoding="utf-8")
    client = fake_app_factory(index_dir=tmp_path / "fresh", corpus_dir=corpus_copy, build_if_missing=True)
    assert client.get("/api/health").json()["status"] == "ok"
    for doc_id in ("js", "data"):
        r = client.get(f"/api/documents/{doc_id}")
        assert r.status_code == 200 and r.json()["url"] is None
    assert client.get("/api/documents/long").status_code == 200

import os

from bot.ingest.cleaning import clean_text
from bot.ingest.documents import load_corpus

MB = 10**6


def test_seed_document_metadata_and_boilerplate(corpus_copy):
    docs, skipped = load_corpus(corpus_copy, 10 * MB)
    assert skipped == []
    (doc,) = docs
    assert doc.doc_id == "jaxa-international-cooperation"
    assert doc.title == "国際的な取り組みと貢献"
    assert doc.url == "https://www.jaxa.jp/projects/int/index_j.html"
    assert doc.lang == "ja"
    assert doc.text.startswith("国際的な取り組みと貢献")
    for chrome in ("組織情報", "採用情報", "PAGE TOP", "AltStyle"):
        assert chrome not in doc.text
    assert doc.text.endswith("原則が決議されています。")
    assert "2006 SAFEの設立" in doc.text  # a list inside the page is content, not chrome


def test_menu_detection_is_by_shape_not_wording():
    menu = "\n".join(["ホーム", "製品", "会社案内", "お問い合わせ", "English"])
    body = "ここに本文があります。これは二文目です。"
    text = clean_text(f"{menu}\n\n見出し\n\n{body}\n\nトップへ戻る\n\nCopyright Example Inc")
    assert text == f"見出し\n\n{body}"


def test_html_keeps_headings_drops_scripts_styles_navigation(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "page.html").write_text(
        "<html lang='ja'><head><title>テスト頁</title><link rel=canonical href='https://ex.jp/p'>"
        "<style>.x{color:red}</style><script>alert('x')</script></head><body>"
        "<nav><a>ホーム</a><a>サイトマップ</a></nav><header>ロゴ</header><main>"
        "<h1>大見出し</h1><p>最初の段落です。<b>強調</b>もあります。</p>"
        "<h2>小見出し</h2><ul><li>項目一</li><li>項目二</li></ul></main>"
        "<footer>フッター</footer></body></html>", encoding="utf-8")
    (doc,), skipped = load_corpus(corpus, MB)
    assert skipped == []
    assert doc.title == "テスト頁" and doc.url == "https://ex.jp/p" and doc.lang == "ja"
    assert doc.text == "大見出し\n\n最初の段落です。強調もあります。\n\n小見出し\n\n項目一\n項目二"


def test_bad_files_are_skipped_with_reasons(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "good.md").write_text("# 題\n\n本文です。", encoding="utf-8")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02PNG" * 100)
    (corpus / "empty.txt").write_text("  \n")
    (corpus / "latin1.txt").write_bytes(b"\xff\xfe\xfa caf\xe9 \x81\x00"[:-1] + b"\xa0\xff")
    (corpus / "big.txt").write_text("あ。" * 400_000, encoding="utf-8")
    (corpus / "sjis.txt").write_bytes("シフトJISの文書です。".encode("cp932"))
    (corpus / "image.png").write_bytes(b"\x89PNG")
    os.symlink("/etc/passwd", corpus / "passwd.txt")
    docs, skipped = load_corpus(corpus, MB)
    reasons = {s.path: s.reason for s in skipped}
    assert {d.doc_id for d in docs} == {"good", "sjis"}
    assert next(d for d in docs if d.doc_id == "sjis").text == "シフトJISの文書です。"
    assert "binary" in reasons["binary.txt"]
    assert "empty" in reasons["empty.txt"]
    assert "too large" in reasons["big.txt"]
    assert "outside" in reasons["passwd.txt"]
    assert "unsupported" in reasons["image.png"]
    assert "latin1.txt" in reasons
    assert all("root:" not in d.text for d in docs)


def test_front_matter_errors_skip_the_file(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "bad.txt").write_text("---\n- a list\n---\n本文。", encoding="utf-8")
    docs, skipped = load_corpus(corpus, MB)
    assert docs == [] and "front matter" in skipped[0].reason

"""PDF, Word, PowerPoint and Excel files: reading order, tables, running headers, OCR of scanned
and garbled pages, locations (page, slide, sheet, row) and character boxes, refused files, and
citations that point into the page (end to end with the real model). Every document is made here
(tests/support/docgen.py)."""

import io
import shutil

import docgen
import numpy as np
import pytest
from fastapi.testclient import TestClient
from web_helpers import make_settings, wait_ready

from bot.ingest.documents import ReadOptions, load_corpus
from bot.ingest.locations import locate
from bot.ingest.ocr import INSTALL_HINT, Tesseract
from bot.ingest.office import OfficeLimits
from bot.ingest.pdf import ReadLimits, join_lines, needs_ocr

MB = 10**6
HAS_TESSERACT = Tesseract().unavailable() is None
needs_tesseract = pytest.mark.skipif(not HAS_TESSERACT, reason=f"Tesseract is missing ({INSTALL_HINT})")


class NoOcr:
    """An OCR engine that is not installed."""

    def unavailable(self):
        return f"Tesseract is not installed (install with: {INSTALL_HINT})"

    def read(self, image):  # pragma: no cover - never called
        raise AssertionError("OCR was called although unavailable")


def _load(folder, **options):
    docs, skipped = load_corpus(folder, 10 * MB, ReadOptions(**options))
    return {d.path: d for d in docs}, {s.path: s.reason for s in skipped}


@pytest.fixture(scope="module")
def office_corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("formats")
    docgen.report_pdf(folder / "report.pdf")
    docgen.report_docx(folder / "guide.docx")
    docgen.deck_pptx(folder / "deck.pptx")
    docgen.budget_xlsx(folder / "budget.xlsx")
    return folder


@pytest.fixture(scope="module")
def read_corpus(office_corpus):
    return _load(office_corpus, ocr=NoOcr())


def test_pdf_reading_order_columns_vertical_table_and_running_lines(read_corpus):
    docs, skipped = read_corpus
    assert skipped == {}
    pdf = docs["report.pdf"]
    text = pdf.text
    assert pdf.kind == "pdf" and pdf.pages == 4 and pdf.title == "宇宙協力年次報告書"
    # two columns read one after the other, never interleaved
    positions = [text.index(p) for p in docgen.LEFT_COLUMN + docgen.RIGHT_COLUMN]
    assert positions == sorted(positions)
    # words broken across typeset lines are joined back (no space inside Japanese)
    assert "宇宙航空研究開発機構は各国の宇宙機関と協力しています。" in text
    assert docgen.PDF_FACT in text
    # the ruled table: one line per row, header: value
    assert "項目: 人件費、金額: 1200万円\n項目: 設備費、金額: 800万円" in text
    # 縦書き: top to bottom, right to left
    assert "縦書きの一行目です。縦書きの二行目です。" in text
    # running header and page numbers are gone
    assert "宇宙協力年次報告書 2025" not in text
    assert "- 2 -" not in text and "- 3 -" not in text


def test_pdf_passages_know_their_page_and_character_boxes(read_corpus):
    pdf = read_corpus[0]["report.pdf"]
    start = pdf.text.index(docgen.PDF_FACT)
    assert locate(pdf.locations, start).page == 3
    assert locate(pdf.locations, pdf.text.index(docgen.LEFT_COLUMN[0])).page == 2
    boxes = [pdf.boxes.get(i) for i in range(start, start + len(docgen.PDF_FACT))]
    assert all(b is not None and b[0] == 3 for b in boxes)
    # left to right on one or two lines, inside the page
    width, height = pdf.page_sizes[2]
    assert all(0 <= b[1] < b[3] <= width and 0 <= b[2] < b[4] <= height for b in boxes)


def test_line_joins_keep_japanese_words_and_drop_latin_hyphens():
    def chars(s):
        return [(c, None) for c in s]
    join = lambda *lines: "".join(c for c, _ in join_lines([chars(x) for x in lines]))  # noqa: E731
    assert join("宇宙航空研", "究開発機構") == "宇宙航空研究開発機構"
    assert join("inter-", "national cooperation") == "international cooperation"
    assert join("space", "agency") == "space agency"
    assert join("JAXA", "は協力") == "JAXAは協力"


def test_garbled_and_empty_text_layers_are_recognised():
    assert needs_ocr("", has_images=True) == "has no text layer"
    assert needs_ocr("", has_images=False) is None  # a blank page
    assert needs_ocr("国際協力の取り組みを紹介します。", has_images=False) is None
    assert needs_ocr("国際\ufffd\ufffd\ufffd協力\ufffd", has_images=False) == "has a garbled text layer"
    assert needs_ocr("\ue000\ue001\ue002\ue003の", has_images=False) == "has a garbled text layer"
    assert needs_ocr("(cid:12)(cid:13)(cid:14) abc", has_images=False) == "has a garbled text layer"
    assert needs_ocr("日本䛾実験棟䛾成果䛾紹介", has_images=False) == "has a garbled text layer"


def test_docx_headings_are_sections_and_tables_keep_rows(read_corpus, tokenizer):
    from bot.ingest.passages import split_passages
    doc = read_corpus[0]["guide.docx"]
    assert doc.title == "協力事業の手引き"
    assert "項目: 人件費、金額: 1200万円\n項目: 設備費、金額: 800万円" in doc.text
    sections = {p.section for p in split_passages(doc.doc_id, doc.text)}
    assert {"目的", "予算"} <= sections


def test_slides_and_sheets_are_sections_located_by_slide_sheet_and_row(read_corpus):
    from bot.ingest.passages import split_passages
    docs = read_corpus[0]
    deck = docs["deck.pptx"]
    fact = deck.text.index(docgen.SLIDE_FACT)
    assert locate(deck.locations, fact).slide == 3
    passages = split_passages(deck.doc_id, deck.text)
    assert [p.section for p in passages if docgen.SLIDE_FACT in p.text] == ["スライド3"]
    assert "項目: 人件費、金額: 1200万円" in deck.text  # a table on a slide
    book = docs["budget.xlsx"]
    row = book.text.index("事業名: 深宇宙通信網")
    loc = locate(book.locations, row)
    assert (loc.sheet, loc.row) == ("予算", 3)
    assert "事業名: 深宇宙通信網、金額（百万円）: 4200、開始年度: 2029年度" in book.text
    assert [p.section for p in split_passages(book.doc_id, book.text) if "深宇宙通信網" in p.text] == ["Sheet: 予算"]
    assert "Sheet: 人員" in book.text


def test_refused_files_are_skipped_with_their_reason(tmp_path):
    docgen.encrypted_pdf(tmp_path / "encrypted.pdf")
    docgen.javascript_pdf(tmp_path / "script.pdf")
    docgen.embedded_file_pdf(tmp_path / "attachment.pdf")
    docgen.many_pages_pdf(tmp_path / "long.pdf", 60)
    docgen.broken_zip(tmp_path / "broken.docx")
    docgen.broken_zip(tmp_path / "broken.xlsx")
    docgen.zip_bomb_docx(tmp_path / "bomb.docx", unpacked_mb=60)
    docgen.million_rows_xlsx(tmp_path / "rows.xlsx")
    (tmp_path / "fake.pdf").write_bytes(b"%PDF-1.7\n garbage without objects")
    (tmp_path / "ok.txt").write_text("残る文書です。", encoding="utf-8")
    docs, skipped = _load(tmp_path, pdf=ReadLimits(max_pages=50),
                          office=OfficeLimits(max_unzipped_bytes=50 * MB), ocr=NoOcr())
    assert set(docs) == {"ok.txt"}
    assert "encrypted" in skipped["encrypted.pdf"]
    assert "JavaScript" in skipped["script.pdf"]
    assert "EmbeddedFile" in skipped["attachment.pdf"] or "embedded files" in skipped["attachment.pdf"]
    assert "too many pages (60 > 50" in skipped["long.pdf"]
    assert "broken zip" in skipped["broken.docx"] and "broken zip" in skipped["broken.xlsx"]
    assert "zip bomb" in skipped["bomb.docx"]
    assert "1000000 rows" in skipped["rows.xlsx"]
    assert "fake.pdf" in skipped


@pytest.mark.ocr
def test_without_tesseract_a_scanned_page_is_left_out_with_the_install_command(tmp_path):
    docgen.scanned_pdf(tmp_path / "scan.pdf")
    docgen.report_pdf(tmp_path / "report.pdf")
    docs, skipped = _load(tmp_path, ocr=NoOcr())
    assert set(docs) == {"report.pdf"}
    assert "has no text layer" in skipped["scan.pdf"] and INSTALL_HINT in skipped["scan.pdf"]


@needs_tesseract
@pytest.mark.slow
@pytest.mark.ocr
def test_scanned_and_garbled_pages_are_read_by_ocr_and_marked(tmp_path):
    docgen.scanned_pdf(tmp_path / "scan.pdf")
    docgen.garbled_pdf(tmp_path / "garbled.pdf")
    docs, skipped = _load(tmp_path)
    assert skipped == {}
    scan, garbled = docs["scan.pdf"], docs["garbled.pdf"]
    assert "観測衛星しずくは2012年" in scan.text
    assert scan.ocr_pages == 1 and 0.5 < scan.locations[0].ocr <= 1
    assert scan.boxes  # OCR'd characters have boxes too
    assert "䛾" not in garbled.text and not any("\ue000" <= c <= "\uf8ff" for c in garbled.text)
    assert "国際宇宙ステーション" in garbled.text and garbled.ocr_pages == 1


def test_a_file_that_cannot_be_read_keeps_its_previous_version(tmp_path, fake_embedder, tokenizer):
    from bot.store.build import build_index
    from bot.store.index import load_index
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    docgen.report_pdf(corpus / "report.pdf")
    docgen.budget_xlsx(corpus / "budget.xlsx")
    options = ReadOptions(ocr=NoOcr())
    first = build_index(corpus, index, fake_embedder, tokenizer, max_bytes=10 * MB, read_options=options)
    assert first.documents == 2
    before = load_index(index).documents["report"]
    docgen.broken_zip(corpus / "budget.xlsx")
    (corpus / "report.pdf").write_bytes(b"%PDF-1.7 truncated")
    second = build_index(corpus, index, fake_embedder, tokenizer, max_bytes=10 * MB, read_options=options)
    assert {s.path: s.kept_previous for s in second.skipped} == {"budget.xlsx": True, "report.pdf": True}
    assert second.documents == 2 and second.removed_documents == 0
    after = load_index(index).documents["report"]
    assert after.text == before.text and after.locations == before.locations
    assert np.array_equal(after.boxes, before.boxes)
    (corpus / "report.pdf").unlink()
    third = build_index(corpus, index, fake_embedder, tokenizer, max_bytes=10 * MB, read_options=options)
    assert third.removed_documents == 1 and third.documents == 1


class FakeOcr:
    """Reads every page as the same two words (deterministic, no Tesseract)."""

    def __init__(self):
        self.pages = 0

    def unavailable(self):
        return None

    def read(self, image):
        from bot.ingest.ocr import OcrPage, OcrWord
        self.pages += 1
        words = [OcrWord("画像の", 80.0, (100, 100, 160, 130)), OcrWord("文です。", 60.0, (160, 100, 240, 130))]
        return OcrPage([[words]], vertical=False, confidence=70.0)


@pytest.mark.ocr
def test_the_build_summary_counts_ocr_pages_and_names_pages_left_out(tmp_path, fake_embedder, tokenizer):
    from bot.store.build import build_index
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    docgen.mixed_pdf(corpus / "mixed.pdf")
    ocr = FakeOcr()
    summary = build_index(corpus, tmp_path / "i1", fake_embedder, tokenizer, max_bytes=10 * MB,
                          read_options=ReadOptions(ocr=ocr))
    assert summary.ocr_pages == 1 and ocr.pages == 1 and summary.left_out == []
    from bot.store.index import load_index
    doc = load_index(tmp_path / "i1").documents["mixed"]
    assert doc.text.endswith("画像の文です。")
    assert doc.locate(len(doc.text) - 1).ocr == 0.7 and doc.locate(len(doc.text) - 1).page == 2
    assert len(doc.span_boxes(len(doc.text) - 7, len(doc.text))) == 7  # boxes from the OCR words
    summary = build_index(corpus, tmp_path / "i2", fake_embedder, tokenizer, max_bytes=10 * MB,
                          read_options=ReadOptions(ocr=NoOcr()))
    assert summary.ocr_pages == 0 and summary.documents == 1
    assert [(s.path, INSTALL_HINT in s.reason, "page 2 has no text layer" in s.reason)
            for s in summary.left_out] == [("mixed.pdf", True, True)]


# --- end to end with the real model ------------------------------------------------------------


@pytest.fixture(scope="module")
def formats_app(tmp_path_factory, office_corpus, real_embedder, tokenizer):
    from bot.store.build import build_index
    from web.app import create_app
    corpus = tmp_path_factory.mktemp("formats-corpus")
    for f in office_corpus.iterdir():
        shutil.copy(f, corpus / f.name)
    index = tmp_path_factory.mktemp("formats-index")
    summary = build_index(corpus, index, real_embedder, tokenizer, max_bytes=10 * MB,
                          read_options=ReadOptions(ocr=NoOcr()))
    assert summary.documents == 4
    app = create_app(make_settings(corpus, index), embedder=real_embedder, tokenizer=tokenizer)
    with TestClient(app, raise_server_exceptions=False) as client:
        wait_ready(app.state.runtime)
        yield client


def _ask(client, question):
    r = client.post("/api/ask", json={"question": question})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["found"], body
    return body


@pytest.mark.slow
def test_a_pdf_answer_cites_its_page_and_the_page_image_marks_the_sentence(formats_app):
    from PIL import Image

    from web.view import source_href
    body = _ask(formats_app, "ルナゲート協定はいつ署名されましたか？")
    c = body["citations"][0]
    assert c["doc_id"] == "report" and c["page"] == 3
    assert docgen.PDF_FACT in c["text"][c["highlight"][0]:c["highlight"][1]]
    page = formats_app.get(source_href(c["doc_id"], c["chunk_id"], tuple(c["highlight"])))
    assert page.status_code == 200
    assert 'data-role="page-image"' in page.text and "/original/report#page=3" in page.text
    assert "<mark" in page.text
    src = page.text.split('data-role="page-image"')[0].rsplit('src="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert src.startswith("/page-image/report?page=3&s=")
    marked = formats_app.get(src)
    assert marked.status_code == 200 and marked.headers["content-type"] == "image/png"
    plain = formats_app.get(src.split("&s=")[0])
    a = np.asarray(Image.open(io.BytesIO(marked.content)).convert("RGB"), dtype=np.int16)
    b = np.asarray(Image.open(io.BytesIO(plain.content)).convert("RGB"), dtype=np.int16)
    changed = np.argwhere(np.abs(a - b).sum(axis=2) > 30)
    assert len(changed) > 100
    # the marked region is where the sentence's characters are (page 3, from the index's boxes)
    info = formats_app.app.state.runtime.engine.document_info("report")
    start = info.text.index(docgen.PDF_FACT)
    boxes = info.span_boxes(start, start + len(docgen.PDF_FACT))
    scale = 1.5
    top, bottom = min(bx[2] for bx in boxes) * scale, max(bx[4] for bx in boxes) * scale
    left, right = min(bx[1] for bx in boxes) * scale, max(bx[3] for bx in boxes) * scale
    ys, xs = changed[:, 0], changed[:, 1]
    assert top - 8 <= ys.min() and ys.max() <= bottom + 8
    assert left - 8 <= xs.min() and xs.max() <= right + 8
    original = formats_app.get("/original/report")
    assert original.status_code == 200 and original.content.startswith(b"%PDF")


@pytest.mark.slow
def test_a_slide_answer_cites_its_slide_and_a_sheet_answer_its_sheet_and_row(formats_app):
    from web.view import source_href
    slide = _ask(formats_app, "アルテア基地はいつ稼働を始める予定ですか？")["citations"][0]
    assert slide["doc_id"] == "deck" and slide["slide"] == 3 and slide["page"] is None
    page = formats_app.get(source_href(slide["doc_id"], slide["chunk_id"], tuple(slide["highlight"])))
    assert "スライド3" in page.text and 'data-role="cited-where"' in page.text
    sheet = _ask(formats_app, "深宇宙通信網の開始年度はいつですか？")["citations"][0]
    assert (sheet["doc_id"], sheet["sheet"], sheet["row"]) == ("budget", "予算", 3)
    page = formats_app.get(source_href(sheet["doc_id"], sheet["chunk_id"], tuple(sheet["highlight"])))
    assert "シート「予算」3行目" in page.text


@pytest.mark.slow
def test_openai_and_mcp_citations_carry_the_page(formats_app):
    r = formats_app.post("/v1/chat/completions", json={
        "model": "jaxabot", "messages": [{"role": "user", "content": "ルナゲート協定はいつ署名されましたか？"}]})
    assert r.status_code == 200, r.text
    assert r.json()["citations"][0]["page"] == 3
    from bot.results import Citation
    from web.mcp.tools import AskResult  # noqa: F401 - the MCP tool returns bot.results.Citation
    assert {"page", "slide", "sheet", "row"} <= set(Citation.model_fields)

"""Test documents made here, never third-party files: PDFs with reportlab (Japanese CID fonts,
horizontal and vertical text, two columns, a ruled table, running header and footer), a scanned
page (Japanese rendered to an image with Debian's Noto CJK font), a PDF whose text layer maps
glyphs to the wrong characters, Word/PowerPoint/Excel files, and malformed files.
Also used by `bench/ingest.py`."""

import io
import re
import zipfile
from pathlib import Path

NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")

# The sentences the tests ask about (fictional, so only these documents can answer).
PDF_FACT = "ルナゲート協定は2031年に京都で署名されました。"
SLIDE_FACT = "月面中継局アルテア基地は2034年に稼働を始める予定です。"
SHEET_FACT_ROW = ("深宇宙通信網", "4200", "2029年度")
SCAN_FACT = "観測衛星しずくは2012年に打ち上げられました。"

LEFT_COLUMN = ["左段の最初の段落です。宇宙航空研究開発機構は各国の宇宙機関と協力しています。",
               "左段の二つ目の段落です。協力の枠組みは長い時間をかけて作られました。"]
RIGHT_COLUMN = ["右段の最初の段落です。アジア太平洋地域の会議は毎年開かれています。",
                "右段の二つ目の段落です。会議には多くの国が参加しています。"]
VERTICAL = ["縦書きの一行目です。", "縦書きの二行目です。"]
TABLE = [["項目", "金額"], ["人件費", "1200万円"], ["設備費", "800万円"]]


def _fonts():
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    # HeiseiMin-W3 is used only for vertical writing here.
    for name, vertical in (("HeiseiKakuGo-W5", False), ("HeiseiMin-W3", True)):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(name, isVertical=vertical))


def _wrap(c, text: str, x: float, y: float, width_chars: int, size: float = 11) -> float:
    """Draw `text` in lines of `width_chars` characters (a word may be broken across lines, as
    in a typeset PDF); the y below the paragraph."""
    for i in range(0, len(text), width_chars):
        c.drawString(x, y, text[i:i + width_chars])
        y -= size * 1.5
    return y - size


def _header_footer(c, page: int) -> None:
    c.setFont("HeiseiKakuGo-W5", 9)
    c.drawString(50, 810, "宇宙協力年次報告書 2025")
    c.drawString(290, 25, f"- {page} -")


def report_pdf(path: Path, pages: int = 4) -> Path:
    """Page 1: title and introduction; 2: two columns; 3: the fact and a ruled table; 4: vertical
    text. Every page has the same header and a page-number footer."""
    from reportlab.lib import colors
    from reportlab.pdfgen import canvas
    from reportlab.platypus import Table, TableStyle
    _fonts()
    c = canvas.Canvas(str(path))
    c.setTitle("宇宙協力年次報告書")
    for page in range(1, pages + 1):
        _header_footer(c, page)
        c.setFont("HeiseiKakuGo-W5", 11)
        if page == 1:
            c.setFont("HeiseiKakuGo-W5", 16)
            c.drawString(50, 740, "国際協力の概要")
            c.setFont("HeiseiKakuGo-W5", 11)
            _wrap(c, "この報告書は宇宙航空研究開発機構の国際協力についてまとめたものです。"
                  "各章で主な取り組みを紹介します。", 50, 700, 30)
        elif page == 2:
            y = 740
            for para in LEFT_COLUMN:
                y = _wrap(c, para, 50, y, 18)
            y = 740
            for para in RIGHT_COLUMN:
                y = _wrap(c, para, 320, y, 18)
        elif page == 3:
            c.setFont("HeiseiKakuGo-W5", 14)
            c.drawString(50, 740, "新しい協定")
            c.setFont("HeiseiKakuGo-W5", 11)
            y = _wrap(c, "各国は月探査の協力を進めています。" + PDF_FACT + "協定には十二の機関が参加しています。",
                      50, 705, 30)
            t = Table(TABLE, colWidths=[120, 120])
            t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "HeiseiKakuGo-W5", 11),
                                   ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
            w, h = t.wrapOn(c, 300, 200)
            t.drawOn(c, 50, y - h - 20)
        elif page == 4:
            c.setFont("HeiseiMin-W3", 14)
            x = 500
            for line in VERTICAL:
                c.drawString(x, 740, line)
                x -= 24
        else:
            _wrap(c, f"これは{page}ページ目の本文です。補足の説明を載せています。", 50, 740, 30)
        c.showPage()
    c.save()
    return path


def _text_image(lines: list[str], size=(1240, 1754), font_px: int = 40):
    from PIL import Image, ImageDraw, ImageFont
    font = ImageFont.truetype(str(NOTO_CJK), font_px)
    img = Image.new("L", size, 255)
    d = ImageDraw.Draw(img)
    y = 200
    for line in lines:
        d.text((120, y), line, font=font, fill=0)
        y += int(font_px * 1.8)
    return img


def scanned_pdf(path: Path) -> Path:
    """One page that is only an image of Japanese text (150 dpi), no text layer."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas
    img = _text_image(["気候観測の歩み", "観測衛星しずくは2012年に", "打ち上げられました。"], font_px=44)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    c = canvas.Canvas(str(path), pagesize=(595.27, 841.89))
    c.drawImage(ImageReader(io.BytesIO(buf.getvalue())), 0, 0, 595.27, 841.89)
    c.showPage()
    c.save()
    return path


def mixed_pdf(path: Path) -> Path:
    """Page 1 with a text layer, page 2 only a scanned image."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas
    _fonts()
    c = canvas.Canvas(str(path), pagesize=(595.27, 841.89))
    c.setFont("HeiseiKakuGo-W5", 12)
    c.drawString(50, 700, "一ページ目には文字の層があります。")
    c.showPage()
    buf = io.BytesIO()
    _text_image(["二ページ目は画像だけです。"]).save(buf, "PNG")
    c.drawImage(ImageReader(io.BytesIO(buf.getvalue())), 0, 0, 595.27, 841.89)
    c.showPage()
    c.save()
    return path


def garbled_pdf(path: Path) -> Path:
    """Japanese drawn with a CID font whose ToUnicode map sends every character to the wrong code
    (の → 䛾, the rest to private-use code points): the page looks right, its text layer is garbage.
    The map is added by an incremental update, as a real producer's broken font would carry it."""
    from reportlab.pdfgen import canvas
    _fonts()
    text = ["国際宇宙ステーションの利用が進んでいます。", "日本の実験棟きぼうの成果です。"]
    c = canvas.Canvas(str(path), pageCompression=0)
    c.setFont("HeiseiKakuGo-W5", 20)
    y = 700
    for line in text:
        c.drawString(60, y, line)
        y -= 40
    c.showPage()
    c.save()
    raw = path.read_bytes()
    m = re.search(rb"(\d+) 0 obj\s*<<[^>]*?/BaseFont /HeiseiKakuGo-W5[^>]*?/Type /Font\s*>>", raw, re.S) \
        or re.search(rb"(\d+) 0 obj\s*<<(?:(?!endobj).)*?/HeiseiKakuGo-W5(?:(?!endobj).)*?/Type0(?:(?!endobj).)*?>>",
                     raw, re.S)
    assert m, "font object not found"
    font_num = int(m.group(1))
    body = raw[m.start():raw.index(b"endobj", m.start())]
    dict_text = body[body.index(b"<<"):body.rindex(b">>") + 2]
    codes = sorted({ord(ch) for line in text for ch in line})
    pairs = "\n".join(f"<{code:04X}> <{(0x46FE if chr(code) == 'の' else 0xE000 + i):04X}>"
                      for i, code in enumerate(codes))
    cmap = (f"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Garbled def "
            f"1 begincodespacerange <0000> <FFFF> endcodespacerange {len(codes)} beginbfchar\n{pairs}\n"
            f"endbfchar endcmap CMapName currentdict /CMap defineresource pop end end").encode()
    size = int(re.findall(rb"/Size (\d+)", raw)[-1])
    prev = int(re.findall(rb"startxref\s+(\d+)", raw)[-1])
    root = re.findall(rb"/Root (\d+ 0 R)", raw)[-1]
    new_num = size
    out = bytearray(raw if raw.endswith(b"\n") else raw + b"\n")
    off_cmap = len(out)
    out += f"{new_num} 0 obj\n<< /Length {len(cmap)} >>\nstream\n".encode() + cmap + b"\nendstream\nendobj\n"
    off_font = len(out)
    out += f"{font_num} 0 obj\n".encode() + dict_text[:-2] + f" /ToUnicode {new_num} 0 R >>\nendobj\n".encode()
    xref = len(out)
    out += (f"xref\n{font_num} 1\n{off_font:010d} 00000 n \n{new_num} 1\n{off_cmap:010d} 00000 n \n"
            f"trailer\n<< /Size {new_num + 1} /Root {root.decode()} /Prev {prev} >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    path.write_bytes(bytes(out))
    return path


def report_docx(path: Path) -> Path:
    import docx
    d = docx.Document()
    d.core_properties.title = "協力事業の手引き"
    d.add_heading("協力事業の手引き", 0)
    d.add_heading("目的", 1)
    d.add_paragraph("この手引きは国際協力事業の進め方を説明します。")
    d.add_heading("予算", 1)
    t = d.add_table(rows=3, cols=2)
    for r, row in enumerate(TABLE):
        for j, v in enumerate(row):
            t.cell(r, j).text = v
    d.add_paragraph("予算は毎年見直されます。")
    d.save(path)
    return path


def deck_pptx(path: Path) -> Path:
    from pptx import Presentation
    from pptx.util import Inches
    prs = Presentation()
    bodies = [("計画の背景", "月面探査の国際協力が広がっています。"),
              ("参加機関", "各国の宇宙機関が計画に参加しています。"),
              ("中継局の計画", SLIDE_FACT)]
    for title, body in bodies:
        s = prs.slides.add_slide(prs.slide_layouts[1])
        s.shapes.title.text = title
        s.placeholders[1].text = body
    s = prs.slides.add_slide(prs.slide_layouts[5])
    s.shapes.title.text = "予算表"
    shape = s.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(2))
    for r, row in enumerate(TABLE):
        for j, v in enumerate(row):
            shape.table.cell(r, j).text = v
    prs.save(path)
    return path


def budget_xlsx(path: Path) -> Path:
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "予算"
    ws.append(["事業名", "金額（百万円）", "開始年度"])
    ws.append(["月探査協力", "3100", "2027年度"])
    ws.append(list(SHEET_FACT_ROW))
    ws.append(["地球観測連携", "1500", "2026年度"])
    ws2 = wb.create_sheet("人員")
    ws2.append(["部署", "人数"])
    ws2.append(["国際部", 25])
    wb.save(path)
    return path


# --- malformed files --------------------------------------------------------------------------


def encrypted_pdf(path: Path) -> Path:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas
    _fonts()
    c = canvas.Canvas(str(path), encrypt=pdfencrypt.StandardEncryption("secret", canModify=0))
    c.setFont("HeiseiKakuGo-W5", 12)
    c.drawString(50, 700, "暗号化された文書です。")
    c.save()
    return path


def javascript_pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(path))
    c.drawString(50, 700, "A document with a script.")
    c.showPage()
    c.save()
    raw = path.read_bytes()
    # An OpenAction with JavaScript in the catalog, as a hostile producer would write it.
    raw = re.sub(rb"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>", raw,
                 count=1)
    path.write_bytes(raw)
    return path


def embedded_file_pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(path))
    c.drawString(50, 700, "A document with an attachment.")
    c.showPage()
    c.save()
    raw = path.read_bytes()
    raw = re.sub(rb"/Type /Catalog", b"/Type /Catalog /Names << /EmbeddedFiles << /Names [] >> >>", raw, count=1)
    path.write_bytes(raw)
    return path


def many_pages_pdf(path: Path, pages: int) -> Path:
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(path))
    for i in range(pages):
        c.drawString(50, 700, f"Page {i + 1}.")
        c.showPage()
    c.save()
    return path


def broken_zip(path: Path) -> Path:
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40 + b"not really a zip")
    return path


def zip_bomb_docx(path: Path, unpacked_mb: int = 300) -> Path:
    report_docx(path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("word/media/filler.bin", "w", force_zip64=True) as f:
            block = b"\x00" * (1 << 20)
            for _ in range(unpacked_mb):
                f.write(block)
    return path


def million_rows_xlsx(path: Path) -> Path:
    """A sheet declaring a million (empty) rows: one value at the top, one at row 1,000,000."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "見出し"
    ws["A1000000"] = "最後"
    wb.save(path)
    return path

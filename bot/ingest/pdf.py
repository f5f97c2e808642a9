"""PDF → block-structured text with page numbers and character boxes.

pdfplumber (on pdfminer.six) gives the characters with their boxes, its layout analysis
(`detect_vertical`: 縦書き lines read top to bottom, right to left) and ruled tables; pypdfium2
counts pages, renders a page for OCR and serves as the text fallback when pdfminer cannot parse
the file. Per page:

- reading order by recursive XY-cut over the text boxes: columns (a vertical gap no box crosses)
  before rows, so two columns are read one after the other, not interleaved; vertical boxes right
  to left;
- tables (ruled) become one line per row, 「見出し: 値」 pairs, from their cells' characters;
- the lines of a box are joined without a space between Japanese characters (no split words), with
  a space between Latin words, and a hyphen at a Latin line end is dropped when a lowercase word
  continues it;
- lines at the top or bottom of the page that recur (digits aside) on at least half of the pages
  (running headers, footers, page numbers) are dropped;
- a page without a text layer (a scan) or with a garbled one (U+FFFD, private-use characters,
  `(cid:N)`, CJK Extension A look-alikes such as 「䛾」 for 「の」) is OCR'd, rendered by pypdfium2;
  its text is marked with the OCR confidence. Without Tesseract the page is left out with the
  reason and the install command.

A file is refused (with the reason) when encrypted, carrying JavaScript or embedded files, over
the page limit, or unreadable.
"""

import io
import re
import time
from dataclasses import dataclass

from bot.ingest.locations import Box, Extracted, TextBuilder
from bot.ingest.ocr import OcrEngine

OCR_DPI = 300
# pdfminer's layout analysis; lines up to one line height apart are one paragraph (typeset
# Japanese leaves ~0.5–0.8), vertical writing detected.
LAPARAMS = {"detect_vertical": True, "line_margin": 1.0}
EDGE_BAND = 0.1  # top and bottom share of the page where running headers and footers live
GARBLED_SHARE = 0.1
MIN_TEXT_CHARS = 5
_DIGITS = re.compile(r"\d+")
_RISKY = (b"/JavaScript", b"/EmbeddedFile", b"/JS ", b"/JS(", b"/JS<", b"/JS/", b"/RichMedia", b"/Launch")


class PdfRefused(Exception):
    """The file is not read; the message is the reason."""


@dataclass
class ReadLimits:
    max_pages: int = 2000
    seconds: float = 600.0  # a file taking longer is given up (checked between pages)


def read_pdf(raw: bytes, limits: ReadLimits, ocr: OcrEngine | None) -> Extracted:
    import pdfplumber
    import pypdfium2 as pdfium

    if b"%PDF-" not in raw[:1024]:
        raise PdfRefused("not a PDF file")
    for marker in _RISKY:
        if marker in raw:
            raise PdfRefused(f"the PDF contains active content or attachments ({marker.decode().strip()})")
    try:
        rendered = pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise PdfRefused("the PDF is encrypted (password protected)") from None
        raise PdfRefused(f"the PDF cannot be opened ({exc})") from None
    try:
        n_pages = len(rendered)
        if n_pages > limits.max_pages:
            raise PdfRefused(f"too many pages ({n_pages} > {limits.max_pages} limit)")
        if n_pages == 0:
            raise PdfRefused("the PDF has no pages")
        try:
            pdf = pdfplumber.open(io.BytesIO(raw), laparams=LAPARAMS)
        except Exception as exc:  # pdfminer raises many kinds
            raise PdfRefused(f"the PDF cannot be parsed ({exc.__class__.__name__})") from None
        with pdf:
            _refuse_risky(pdf.doc)
            return _read_pages(pdf, rendered, limits, ocr)
    finally:
        rendered.close()


def _refuse_risky(doc) -> None:
    from pdfminer.pdftypes import resolve1
    if getattr(doc, "encryption", None):
        raise PdfRefused("the PDF is encrypted")
    catalog = resolve1(doc.catalog) or {}
    names = resolve1(catalog.get("Names")) or {}
    for key, what in (("JavaScript", "JavaScript"), ("EmbeddedFiles", "embedded files")):
        if key in names:
            raise PdfRefused(f"the PDF contains {what}")
    for key in ("OpenAction", "AA"):
        action = resolve1(catalog.get(key))
        if isinstance(action, dict) and "JS" in action:
            raise PdfRefused("the PDF contains JavaScript")


@dataclass
class _Para:
    chars: list[tuple[str, Box | None]]
    top: float
    bottom: float
    edge: bool  # in the top or bottom band of the page


def _read_pages(pdf, rendered, limits: ReadLimits, ocr: OcrEngine | None) -> Extracted:
    t0 = time.monotonic()
    pages: list[list[_Para]] = []
    sizes: list[tuple[float, float]] = []
    ocr_conf: dict[int, float] = {}
    notes: list[str] = []
    for i, page in enumerate(pdf.pages):
        if time.monotonic() - t0 > limits.seconds:
            raise PdfRefused(f"reading took longer than {limits.seconds:.0f} s (stopped at page {i + 1})")
        sizes.append((float(page.width), float(page.height)))
        try:
            paras = _text_layer(page, i + 1)
        except Exception:  # a page pdfminer cannot lay out: pdfium's plain text
            paras = _fallback_text(rendered[i], i + 1, page.height)
        text = "".join(ch for p in paras for ch, _ in p.chars)
        why = needs_ocr(text, has_images=bool(page.images))
        if why:
            reason = ocr.unavailable() if ocr is not None else "OCR is turned off"
            if reason or ocr is None:
                notes.append(f"page {i + 1} {why} and was left out: {reason}")
                paras = []
            else:
                paras, conf = _ocr_page(rendered[i], i + 1, ocr, page.height)
                ocr_conf[i + 1] = conf
        pages.append(paras)
    _drop_running_lines(pages)
    b = TextBuilder()
    for number, paras in enumerate(pages, 1):
        where: dict[str, int | float] = {"page": number}
        if number in ocr_conf:
            where["ocr"] = round(ocr_conf[number] / 100, 3)
        for para in paras:
            b.block()
            b.add("".join(ch for ch, _ in para.chars), where, [box for _, box in para.chars])
    title = (pdf.metadata or {}).get("Title")
    title = title.strip() if isinstance(title, str) and title.strip().lower() not in ("", "untitled") else None
    return Extracted("pdf", b.text, b.locations, b.boxes, sizes, title=title,
                     pages=len(pages), ocr_pages=len(ocr_conf), notes=notes)


def needs_ocr(text: str, has_images: bool) -> str | None:
    """Why a page's text layer cannot be used (None when it can)."""
    visible = [c for c in text if not c.isspace()]
    if len(visible) < MIN_TEXT_CHARS:
        return "has no text layer" if has_images else None
    bad = sum(1 for c in visible if c == "\ufffd" or "\ue000" <= c <= "\uf8ff" or "\u3400" <= c <= "\u4dbf")
    bad += 6 * text.count("(cid:")
    if bad / len(visible) > GARBLED_SHARE:
        return "has a garbled text layer"
    return None


# --- the text layer -------------------------------------------------------------------------


def _text_layer(page, number: int) -> list[_Para]:
    from pdfminer.layout import LTTextBox, LTTextBoxVertical
    height = float(page.height)
    top0 = float(page.bbox[1]) if page.bbox else 0.0
    try:
        tables = page.find_tables()
    except Exception:  # a table the finder cannot handle is read as text
        tables = []
    items: list[tuple[tuple[float, float, float, float], bool, object]] = []
    for t in tables:
        items.append((tuple(t.bbox), False, t))
    for box in page.layout:
        if not isinstance(box, LTTextBox):
            continue
        x0, y0, x1, y1 = box.bbox
        bbox = (x0, height - y1, x1, height - y0)
        if any(_inside(bbox, t.bbox) for t in tables):
            continue
        items.append((bbox, isinstance(box, LTTextBoxVertical), box))
    vertical = [it for it in items if it[1]]
    horizontal = [it for it in items if not it[1]]
    ordered = _xycut(horizontal)
    if vertical:
        vertical.sort(key=lambda it: -it[0][2])
        first_top = min(it[0][1] for it in vertical)
        ordered = ([it for it in ordered if it[0][3] <= first_top] + vertical
                   + [it for it in ordered if it[0][3] > first_top])
    paras = []
    for bbox, is_vertical, obj in ordered:
        if hasattr(obj, "cells"):
            rows = [line for line in _table_chars(page, obj, number, top0) if line]
            if rows:
                chars = [c for k, line in enumerate(rows) for c in ([("\n", None)] if k else []) + line]
                paras.append(_Para(chars, bbox[1], bbox[3], False))
            continue
        chars = _box_chars(obj, number, height, is_vertical)
        if chars:
            edge = bbox[3] < height * EDGE_BAND or bbox[1] > height * (1 - EDGE_BAND)
            paras.append(_Para(chars, bbox[1], bbox[3], edge))
    return paras


def _inside(inner, outer) -> bool:
    cx, cy = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    return outer[0] - 1 <= cx <= outer[2] + 1 and outer[1] - 1 <= cy <= outer[3] + 1


def _xycut(items: list) -> list:
    """Reading order: split at a vertical gap (columns) first, else at a horizontal gap (rows),
    recursively; what cannot be split is read top to bottom."""
    if len(items) <= 1:
        return items
    for axis in (0, 1):
        groups = _split(items, axis)
        if len(groups) > 1:
            return [it for g in groups for it in _xycut(g)]
    return sorted(items, key=lambda it: (it[0][1], it[0][0]))


def _split(items: list, axis: int) -> list[list]:
    lo, hi = (0, 2) if axis == 0 else (1, 3)
    gap = 4.0 if axis == 0 else 0.5
    ordered = sorted(items, key=lambda it: it[0][lo])
    groups, reach = [], None
    for it in ordered:
        if reach is None or it[0][lo] > reach + gap:
            groups.append([it])
            reach = it[0][hi]
        else:
            groups[-1].append(it)
            reach = max(reach, it[0][hi])
    return groups


def _is_cjk(ch: str) -> bool:
    return ("\u3000" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef"
            or "\u3400" <= ch <= "\u4dbf")


def join_lines(lines: list[list[tuple[str, Box | None]]]) -> list[tuple[str, Box | None]]:
    """One paragraph from its lines: no space between Japanese characters, a space between Latin
    words, a Latin hyphen at a line end dropped before a lowercase continuation."""
    out: list[tuple[str, Box | None]] = []
    for line in lines:
        while line and line[-1][0].isspace():
            line = line[:-1]
        while line and line[0][0].isspace():
            line = line[1:]
        if not line:
            continue
        if out:
            prev, nxt = out[-1][0], line[0][0]
            if _is_cjk(prev) or _is_cjk(nxt):
                pass
            elif prev == "-" and len(out) > 1 and out[-2][0].isalpha() and nxt.islower():
                out.pop()
            else:
                out.append((" ", None))
        out.extend(line)
    return out


def _box_chars(box, number: int, height: float, vertical: bool) -> list[tuple[str, Box | None]]:
    from pdfminer.layout import LTChar, LTTextLine
    lines = []
    for line in box:
        if not isinstance(line, LTTextLine):
            continue
        chars: list[tuple[str, Box | None]] = []
        for obj in line:
            text = obj.get_text()
            if text == "\n":
                continue
            if isinstance(obj, LTChar):
                x0, y0, x1, y1 = obj.bbox
                bx = (number, x0, height - y1, x1, height - y0)
                chars.extend((ch, bx) for ch in text)
            else:
                chars.extend((ch, None) for ch in text)
        lines.append(chars)
    return join_lines(lines)


def _table_chars(page, table, number: int, top0: float) -> list[list[tuple[str, Box | None]]]:
    """A table's rows as lines: 「見出し: 値、見出し: 値」 with the first row as the header
    (cells joined by 「 | 」 when there is none)."""
    grid = []
    for row in table.rows:
        cells = []
        for cell in row.cells:
            cells.append(_cell_chars(page, cell, number) if cell else [])
        grid.append(cells)
    if not grid:
        return []
    header = ["".join(ch for ch, _ in c).strip() for c in grid[0]]
    has_header = len(grid) > 1 and all(header) and len(set(header)) == len(header)
    sep = "、" if any(_is_cjk(ch) for h in header for ch in h) else "; "
    out = []
    rows = grid[1:] if has_header else grid
    if not has_header:
        pass
    for cells in rows:
        line: list[tuple[str, Box | None]] = []
        for j, cell in enumerate(cells):
            if not cell:
                continue
            if line:
                line.extend((ch, None) for ch in (sep if has_header else " | "))
            if has_header and j < len(header):
                line.extend((ch, None) for ch in f"{header[j]}: ")
            line.extend(cell)
        out.append(line)
    return out


def _cell_chars(page, cell, number: int) -> list[tuple[str, Box | None]]:
    x0, top, x1, bottom = cell
    inside = [c for c in page.chars
              if x0 - 0.5 <= (c["x0"] + c["x1"]) / 2 <= x1 + 0.5
              and top - 0.5 <= (c["top"] + c["bottom"]) / 2 <= bottom + 0.5]
    inside.sort(key=lambda c: (round(c["top"] / 3), c["x0"]))
    lines: list[list[tuple[str, Box | None]]] = []
    last_top = None
    for c in inside:
        if last_top is None or abs(c["top"] - last_top) > 2:
            lines.append([])
            last_top = c["top"]
        lines[-1].append((c["text"], (number, c["x0"], c["top"], c["x1"], c["bottom"])))
    return join_lines(lines)


def _fallback_text(pdfium_page, number: int, height: float) -> list[_Para]:
    textpage = pdfium_page.get_textpage()
    try:
        text = textpage.get_text_range()
    finally:
        textpage.close()
    out = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines: list[list[tuple[str, Box | None]]] = [[(ch, None) for ch in line] for line in block.split("\n")]
        chars = join_lines(lines)
        if chars:
            out.append(_Para(chars, 0.0, 0.0, False))
    return out


# --- running headers and footers ------------------------------------------------------------


def _key(para: _Para) -> str:
    return _DIGITS.sub("#", re.sub(r"\s+", "", "".join(ch for ch, _ in para.chars)))


def _drop_running_lines(pages: list[list[_Para]]) -> None:
    """Lines at a page's top or bottom that recur (digits aside) on at least half of the pages,
    two at least: running headers, footers and page numbers."""
    if len(pages) < 2:
        return
    counts: dict[str, int] = {}
    for paras in pages:
        for key in {_key(p) for p in paras if p.edge}:
            counts[key] = counts.get(key, 0) + 1
    need = max(2, (len(pages) + 1) // 2)
    running = {k for k, n in counts.items() if n >= need}
    if not running:
        return
    for paras in pages:
        keep = [p for p in paras if not (p.edge and _key(p) in running)]
        if keep:  # never empty a page on this ground
            paras[:] = keep


# --- OCR ------------------------------------------------------------------------------------


def render_page(pdfium_page, dpi: float):
    """A page as a PIL image at `dpi`."""
    return pdfium_page.render(scale=dpi / 72).to_pil()


def _ocr_page(pdfium_page, number: int, ocr: OcrEngine, height: float) -> tuple[list[_Para], float]:
    image = render_page(pdfium_page, OCR_DPI)
    result = ocr.read(image)
    scale = 72 / OCR_DPI
    paras = []
    for paragraph in result.paragraphs:
        lines = []
        for words in paragraph:
            line: list[tuple[str, Box | None]] = []
            for w in words:
                if line and not (_is_cjk(line[-1][0]) or _is_cjk(w.text[0])):
                    line.append((" ", None))
                left, top, right, bottom = (v * scale for v in w.box)
                n = len(w.text)
                for k, ch in enumerate(w.text):
                    if result.vertical:
                        step = (bottom - top) / n
                        bx = (number, left, top + k * step, right, top + (k + 1) * step)
                    else:
                        step = (right - left) / n
                        bx = (number, left + k * step, top, left + (k + 1) * step, bottom)
                    line.append((ch, bx))
            lines.append(line)
        chars = join_lines(lines)
        if chars:
            tops = [b[2] for _, b in chars if b]
            paras.append(_Para(chars, min(tops, default=0), max(tops, default=0), False))
    return paras, result.confidence

"""Word, PowerPoint and Excel files → block-structured text with locations.

python-docx / python-pptx / openpyxl directly (markitdown flattens what we keep: headings as
sections, table rows, slide and sheet boundaries):

- docx: paragraphs in document order, heading styles (and the title) on a line of their own so
  they name the section below; tables one line per row, 「見出し: 値」 with the first row as header.
- pptx: each slide a section 「スライドN」 (its title first, then its text frames and tables);
  located by slide.
- xlsx: each sheet a section 「Sheet: 名前」; a row per line (the first non-empty row is the
  header), located by sheet and row number.

The zip container is checked first: a broken zip, too many members, or members that unpack to
more than the limit (a zip bomb) refuse the file with the reason; so does a sheet with more rows
than the limit (a million empty rows).
"""

import io
import zipfile
from dataclasses import dataclass

from bot.ingest.locations import Extracted, TextBuilder

MAX_MEMBERS = 10_000


class OfficeRefused(Exception):
    """The file is not read; the message is the reason."""


@dataclass
class OfficeLimits:
    max_unzipped_bytes: int = 200_000_000
    max_ratio: float = 200.0  # unpacked / packed size of a member over 1 MB
    max_rows: int = 100_000  # per sheet


def check_zip(raw: bytes, limits: OfficeLimits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise OfficeRefused(f"not a valid Office file (broken zip: {exc})") from None
    if len(infos) > MAX_MEMBERS:
        raise OfficeRefused(f"the zip has {len(infos)} members (limit {MAX_MEMBERS})")
    total = sum(i.file_size for i in infos)
    if total > limits.max_unzipped_bytes:
        raise OfficeRefused(f"unpacks to {total / 1e6:.0f} MB (limit {limits.max_unzipped_bytes / 1e6:.0f} MB; "
                            "a zip bomb?)")
    for i in infos:
        if i.file_size > 1_000_000 and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            raise OfficeRefused(f"member {i.filename} is compressed {i.file_size / max(i.compress_size, 1):.0f}:1 "
                                "(a zip bomb?)")


def read_office(raw: bytes, kind: str, limits: OfficeLimits) -> Extracted:
    check_zip(raw, limits)
    reader = {"docx": _docx, "pptx": _pptx, "xlsx": _xlsx}[kind]
    try:
        return reader(raw, limits)
    except OfficeRefused:
        raise
    except Exception as exc:  # the libraries raise many kinds on bad files
        raise OfficeRefused(f"cannot be read as {kind} ({exc.__class__.__name__}: {str(exc)[:160]})") from None


def _clean(text: str) -> str:
    return " ".join((text or "").replace("\u000b", " ").split())


def _row_line(header: list[str], cells: list[str]) -> str:
    """A table row as one line: 「見出し: 値」 pairs when there is a header, else cells joined by |."""
    if header:
        sep = "、" if any(_japanese(h) for h in header) else "; "
        pairs = [f"{h}: {v}" if h else v for h, v in zip(header + [""] * len(cells), cells, strict=False) if v]
        return sep.join(pairs)
    return " | ".join(c for c in cells if c)


def _japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u9fff" for ch in text)


def _table_lines(rows: list[list[str]]) -> list[str]:
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    header = rows[0]
    if len(rows) > 1 and all(header) and len(set(header)) == len(header):
        return [_row_line(header, r) for r in rows[1:]]
    return [_row_line([], r) for r in rows]


def _docx(raw: bytes, limits: OfficeLimits) -> Extracted:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(raw))
    b = TextBuilder()
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            p = Paragraph(child, document)
            text = _clean(p.text)
            if not text:
                continue
            style = (p.style.name if p.style is not None else "") or ""
            if style.startswith(("Heading", "Title", "見出し", "表題")):
                b.block()
                b.add(text)
                b.block()
            else:
                b.line()
                b.add(text)
        elif tag == "tbl":
            table = Table(child, document)
            rows = [[_clean(c.text) for c in row.cells] for row in table.rows]
            b.block()
            for line in _table_lines(rows):
                b.line()
                b.add(line)
            b.block()
    title = _clean(document.core_properties.title or "") or None
    return Extracted("docx", b.text, b.locations, title=title)


def _pptx(raw: bytes, limits: OfficeLimits) -> Extracted:
    from pptx import Presentation

    deck = Presentation(io.BytesIO(raw))
    b = TextBuilder()
    n = 0
    for n, slide in enumerate(deck.slides, 1):
        where = {"slide": n}
        b.block()
        b.add(f"スライド{n}", where)
        b.block()
        title_shape = slide.shapes.title
        lines = []
        if title_shape is not None and title_shape.has_text_frame:
            lines.append(_clean(title_shape.text_frame.text))
        title_id = title_shape.shape_id if title_shape is not None else None
        for shape in slide.shapes:
            if shape.shape_id == title_id:
                continue
            if shape.has_text_frame:
                lines.extend(_clean(p.text) for p in shape.text_frame.paragraphs)
            if getattr(shape, "has_table", False) and shape.has_table:
                rows = [[_clean(c.text) for c in row.cells] for row in shape.table.rows]
                lines.extend(_table_lines(rows))
        for line in (x for x in lines if x):
            b.line()
            b.add(line, where)
    title = _clean(deck.core_properties.title or "") or None
    return Extracted("pptx", b.text, b.locations, title=title, pages=n)


def _xlsx(raw: bytes, limits: OfficeLimits) -> Extracted:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    try:
        b = TextBuilder()
        sheets = 0
        for ws in book.worksheets:
            sheets += 1
            declared = ws.max_row or 0
            if declared > limits.max_rows:
                raise OfficeRefused(f"sheet {ws.title!r} has {declared} rows (limit {limits.max_rows})")
            header: list[str] | None = None
            started = False
            for count, row in enumerate(ws.iter_rows(values_only=True), 1):
                if count > limits.max_rows:
                    raise OfficeRefused(f"sheet {ws.title!r} has more than {limits.max_rows} rows")
                cells = [_cell(v) for v in row]
                while cells and not cells[-1]:
                    cells.pop()
                if not cells:
                    continue
                if not started:
                    b.block()
                    b.add(f"Sheet: {ws.title}", {"sheet": ws.title})
                    b.block()
                    started = True
                if header is None:
                    header = cells if len(set(c for c in cells if c)) == len(cells) and all(cells) else []
                    if header:
                        continue
                b.line()
                b.add(_row_line(header, cells), {"sheet": ws.title, "row": count})
        title = _clean(book.properties.title or "") or None
    finally:
        book.close()
    return Extracted("xlsx", b.text, b.locations, title=title, pages=sheets)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _clean(str(value))

"""Where a stretch of a document's text comes from in its file: the PDF page (and each
character's box on it), the slide, the sheet and row. Readers of structured formats
(`bot.ingest.pdf`, `bot.ingest.office`) build their text with `TextBuilder`; after cleaning,
`remap` carries locations and boxes over to the cleaned text's offsets, so every offset the index
holds (passages, sentences) can be located.

Index format: `documents.jsonl` rows carry `locations` (`[start, end, {page|slide|sheet|row|ocr}]`)
and `page_sizes`; `boxes.npy` holds one row per located character (`BOX_COLUMNS`).
`LOCATIONS_VERSION` is recorded in the manifest; an index without it simply has no locations.
"""

import bisect
from dataclasses import dataclass, field

import numpy as np

LOCATIONS_VERSION = 1
# One row per character with a box: document row, offset in its text, page (1-based), and the box
# in tenths of a PDF point from the page's top-left corner.
BOX_COLUMNS = ("doc", "offset", "page", "x0", "top", "x1", "bottom")
BOX_SCALE = 10


@dataclass(frozen=True)
class Location:
    """Where `text[start:end]` comes from. `ocr` is the mean OCR confidence (0–1) when the text
    was read from the page image rather than its text layer."""
    start: int
    end: int
    page: int | None = None
    slide: int | None = None
    sheet: str | None = None
    row: int | None = None
    ocr: float | None = None

    def where(self) -> dict:
        return {k: v for k, v in (("page", self.page), ("slide", self.slide), ("sheet", self.sheet),
                                  ("row", self.row), ("ocr", self.ocr)) if v is not None}

    def to_row(self) -> list:
        return [self.start, self.end, self.where()]

    @staticmethod
    def from_row(row) -> "Location":
        start, end, where = row
        return Location(int(start), int(end), **{k: where[k] for k in ("page", "slide", "sheet", "row", "ocr")
                                                 if k in where})


Box = tuple[int, float, float, float, float]  # page, x0, top, x1, bottom (PDF points, top-left origin)


@dataclass
class Extracted:
    """A structured file read into block-structured text (paragraphs separated by a blank line,
    headings on lines of their own), with where each part comes from."""
    kind: str  # pdf, docx, pptx, xlsx
    text: str
    locations: list[Location]
    boxes: dict[int, Box] = field(default_factory=dict)  # offset in text → its character's box
    page_sizes: list[tuple[float, float]] = field(default_factory=list)  # PDF: (width, height) per page
    title: str | None = None
    pages: int = 0  # PDF pages, slides or sheets
    ocr_pages: int = 0
    notes: list[str] = field(default_factory=list)  # pages left out, with the reason


class TextBuilder:
    """Text assembled piece by piece, each piece with its location and optional per-character
    boxes. Blocks are separated by one blank line."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.locations: list[Location] = []
        self.boxes: dict[int, Box] = {}
        self._content_end = 0  # end of the last piece that was not only whitespace

    def add(self, text: str, where: dict | None = None, boxes: list[Box | None] | None = None) -> None:
        if not text:
            return
        start = self.size
        if boxes is not None:
            for i, box in enumerate(boxes[:len(text)]):
                if box is not None:
                    self.boxes[start + i] = box
        self.parts.append(text)
        self.size += len(text)
        content_end = self._content_end
        if text.strip():
            self._content_end = self.size
        if where:
            loc = Location(start, self.size, **where)
            prev = self.locations[-1] if self.locations else None
            # Only separators between two pieces from the same place: one location.
            if prev and prev.end == content_end and prev.where() == loc.where():
                self.locations[-1] = Location(prev.start, self.size, **where)
            else:
                self.locations.append(loc)

    def line(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.add("\n")

    def block(self) -> None:
        if not self.parts:
            return
        text = self.parts[-1]
        if text.endswith("\n\n"):
            return
        self.add("\n" if text.endswith("\n") else "\n\n")

    @property
    def text(self) -> str:
        return "".join(self.parts)


def locate(locations: list[Location] | tuple[Location, ...], offset: int) -> Location | None:
    """The location holding `offset` (or the nearest one starting before it), None without any."""
    if not locations:
        return None
    i = bisect.bisect_right([loc.start for loc in locations], offset) - 1
    if i < 0:
        return locations[0]
    return locations[i]


def remap(source: str, cleaned: str, locations: list[Location], boxes: dict[int, Box]
          ) -> tuple[list[Location], dict[int, Box]]:
    """Locations and boxes in `source` offsets → the same in `cleaned` offsets. Cleaning only
    drops lines, trailing labels and whitespace and re-joins blocks, so each cleaned line is found
    inside a source line at or after the previous one's."""
    mapping = _line_map(source, cleaned)
    starts = [loc.start for loc in locations]
    new_locs: list[Location] = []
    new_boxes: dict[int, Box] = {}
    for i, src in enumerate(mapping):
        if src < 0:
            continue
        if src in boxes:
            new_boxes[i] = boxes[src]
        j = bisect.bisect_right(starts, src) - 1
        if j < 0 or src >= locations[j].end:
            continue
        where = locations[j].where()
        prev = new_locs[-1] if new_locs else None
        if prev and prev.where() == where:
            new_locs[-1] = Location(prev.start, i + 1, **where)
        else:
            new_locs.append(Location(i, i + 1, **where))
    return new_locs, new_boxes


def _line_map(source: str, cleaned: str) -> list[int]:
    src_lines = _lines(source)
    out = [-1] * len(cleaned)
    j = 0
    for cstart, line in _lines(cleaned):
        if not line.strip():
            continue
        found = None
        for k in range(j, min(len(src_lines), j + 200)):
            pos = src_lines[k][1].find(line)
            if pos >= 0:
                found = (k, pos)
                break
        if found is None:
            continue
        k, pos = found
        base = src_lines[k][0] + pos
        for i in range(len(line)):
            out[cstart + i] = base + i
        j = k + 1
    return out


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def boxes_array(doc_row: int, boxes: dict[int, Box]) -> np.ndarray:
    if not boxes:
        return np.zeros((0, len(BOX_COLUMNS)), np.int32)
    rows = [(doc_row, off, page, *(round(v * BOX_SCALE) for v in (x0, top, x1, bottom)))
            for off, (page, x0, top, x1, bottom) in sorted(boxes.items())]
    return np.asarray(rows, np.int32)


def span_boxes(boxes: np.ndarray, start: int, end: int) -> list[Box]:
    """Boxes of the characters in `[start, end)` from one document's rows of `boxes.npy`
    (sorted by offset), in PDF points."""
    if not len(boxes):
        return []
    lo = int(np.searchsorted(boxes[:, 1], start, "left"))
    hi = int(np.searchsorted(boxes[:, 1], end, "left"))
    return [(int(r[2]), r[3] / BOX_SCALE, r[4] / BOX_SCALE, r[5] / BOX_SCALE, r[6] / BOX_SCALE)
            for r in boxes[lo:hi]]

"""Reading PDF and Office files: speed and extraction quality on a generated set.

The files are made by tests/support/docgen.py (reportlab PDFs with Japanese CID fonts — two columns,
a ruled table, vertical text, running header and page numbers —, a scanned page, a PDF with a
garbled text layer, docx/pptx/xlsx). Printed, not asserted:

- speed: text-layer PDF pages/s, OCR'd pages/s (Tesseract), Office files/s, peak RSS;
- quality, for jaxabot's readers and for markitdown alone on the same files: characters right
  (expected sentences found, whitespace ignored), reading order right (columns and vertical lines
  in order), tables kept (each row's cells on one line), running headers/page numbers dropped.

    .venv/bin/python -m bench.ingest [--pdfs 5] [--pages 10]
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))

import docgen  # noqa: E402

from bot.ingest.documents import ReadOptions, read_structured  # noqa: E402


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _checks(name: str) -> dict:
    """What a correct reading of each generated file contains."""
    table_rows = [["人件費", "1200万円"], ["設備費", "800万円"]]
    if name.startswith("report"):
        return {"sentences": [docgen.PDF_FACT, *docgen.LEFT_COLUMN, *docgen.RIGHT_COLUMN, *docgen.VERTICAL],
                "order": [*docgen.LEFT_COLUMN, *docgen.RIGHT_COLUMN, *docgen.VERTICAL],
                "rows": table_rows, "noise": ["宇宙協力年次報告書2025", "-2-", "-3-"]}
    if name.startswith("scan"):
        return {"sentences": ["観測衛星しずくは2012年に"], "order": [], "rows": [], "noise": []}
    if name.startswith("garbled"):
        return {"sentences": ["国際宇宙ステーションの利用が進んでいます。", "日本の実験棟きぼうの成果です。"],
                "order": ["国際宇宙ステーションの利用が進んでいます。", "日本の実験棟きぼうの成果です。"],
                "rows": [], "noise": ["䛾"]}
    if name.startswith("guide"):
        return {"sentences": ["この手引きは国際協力事業の進め方を説明します。", "予算は毎年見直されます。"],
                "order": ["この手引きは国際協力事業の進め方を説明します。", "予算は毎年見直されます。"],
                "rows": table_rows, "noise": []}
    if name.startswith("deck"):
        return {"sentences": [docgen.SLIDE_FACT, "月面探査の国際協力が広がっています。"],
                "order": ["月面探査の国際協力が広がっています。", docgen.SLIDE_FACT], "rows": table_rows, "noise": []}
    return {"sentences": [], "order": [], "rows": [list(docgen.SHEET_FACT_ROW), ["月探査協力", "3100", "2027年度"]],
            "noise": []}


def score(name: str, text: str) -> dict:
    c = _checks(name)
    flat = _norm(text)
    found = [s for s in c["sentences"] if _norm(s) in flat]
    positions = [flat.find(_norm(s)) for s in c["order"]]
    in_order = all(p >= 0 for p in positions) and positions == sorted(positions)
    lines = [_norm(line) for line in text.splitlines()]
    rows_kept = sum(1 for row in c["rows"]
                    if any(all(cell in line for cell in row) and
                           [line.find(cell) for cell in row] == sorted(line.find(cell) for cell in row)
                           for line in lines))
    noise = sum(1 for n in c["noise"] if _norm(n) in flat)
    return {"chars": (len(found), len(c["sentences"])), "order": in_order if c["order"] else None,
            "rows": (rows_kept, len(c["rows"])), "noise": (noise, len(c["noise"]))}


def generate(folder: Path, pdfs: int, pages: int) -> dict[str, list[Path]]:
    sets: dict[str, list[Path]] = {"pdf": [], "ocr": [], "office": []}
    for i in range(pdfs):
        sets["pdf"].append(docgen.report_pdf(folder / f"report{i}.pdf", pages=pages))
    for i in range(3):
        sets["ocr"].append(docgen.scanned_pdf(folder / f"scan{i}.pdf"))
    for i in range(2):
        sets["ocr"].append(docgen.garbled_pdf(folder / f"garbled{i}.pdf"))
    for i in range(5):
        sets["office"] += [docgen.report_docx(folder / f"guide{i}.docx"), docgen.deck_pptx(folder / f"deck{i}.pptx"),
                           docgen.budget_xlsx(folder / f"budget{i}.xlsx")]
    return sets


def _sum(rows, key):
    got = sum(r[key][0] for r in rows)
    total = sum(r[key][1] for r in rows)
    return f"{got}/{total}"


def _report(label: str, results: dict[str, dict]) -> None:
    rows = list(results.values())
    orders = [r["order"] for r in rows if r["order"] is not None]
    print(f"  {label:<22} sentences {_sum(rows, 'chars'):>7}   order right {sum(orders)}/{len(orders)}   "
          f"table rows kept {_sum(rows, 'rows'):>7}   headers/garbage left {_sum(rows, 'noise'):>5}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pdfs", type=int, default=5, help="text-layer PDFs")
    ap.add_argument("--pages", type=int, default=10, help="pages per text-layer PDF")
    args = ap.parse_args()
    options = ReadOptions()
    ocr_missing = options.ocr.unavailable() if options.ocr else "OCR off"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sets = generate(folder, args.pdfs, args.pages)
        ours: dict[str, dict] = {}
        timing = {}
        for kind, files in sets.items():
            t = time.perf_counter()
            units = 0
            for f in files:
                ex = read_structured(f.read_bytes(), f.suffix[1:], options)
                units += ex.pages if kind != "office" else 1
                ours[f.name] = score(f.name, ex.text)
            timing[kind] = (units, time.perf_counter() - t)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print("reading speed (this machine, one process):")
        n, s = timing["pdf"]
        print(f"  text-layer PDF   {n / s:7.1f} pages/s   ({n} pages in {s:.2f} s)")
        n, s = timing["ocr"]
        if ocr_missing:
            print(f"  OCR'd pages      (not run: {ocr_missing})")
        else:
            print(f"  OCR'd pages      {n / s:7.2f} pages/s   ({n} pages in {s:.2f} s, Tesseract jpn)")
        n, s = timing["office"]
        print(f"  Office files     {n / s:7.1f} files/s   ({n} docx/pptx/xlsx in {s:.2f} s)")
        print(f"  peak RSS         {rss:7.0f} MB")
        print("\nextraction quality on the generated set:")
        _report("jaxabot", ours)
        try:
            from markitdown import MarkItDown
        except ImportError:
            print("  markitdown             not installed (pip install -e '.[bench-ingest]')")
            return
        md = MarkItDown()
        theirs = {}
        t = time.perf_counter()
        for files in sets.values():
            for f in files:
                try:
                    text = md.convert(str(f)).text_content
                except Exception as exc:  # a converter failure scores zero
                    text = f"(failed: {exc.__class__.__name__})"
                theirs[f.name] = score(f.name, text)
        _report("markitdown alone", theirs)
        print(f"  (markitdown: {time.perf_counter() - t:.2f} s for all files; it has no OCR, no page numbers or boxes)")
        print("  docling: not run (its PDF pipeline installs torch and downloads layout models)")


if __name__ == "__main__":
    main()

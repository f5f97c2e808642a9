"""A PDF page as an image with the cited sentence's character boxes marked (server-side with
pypdfium2, so the document view shows it without JavaScript), and the original file, which the
view links to at the page (`/original/{doc_id}#page=N`).

Only files of the loaded index are served, from the corpus folder, and only while their bytes are
the ones indexed (the boxes would not fit another version): otherwise 409.
"""

import hashlib
import io
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from web.deps import EngineDep
from web.view import parse_span

router = APIRouter(include_in_schema=False)

RENDER_SCALE = 1.5  # 108 dpi: a page ~900 px wide
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _indexed_file(request: Request, info) -> bytes:
    """The document's file as it was indexed; 404 / 409 otherwise."""
    root = Path(request.app.state.settings.corpus_dir).resolve()
    path = (root / info.path).resolve()
    if not path.is_relative_to(root) or not path.is_file() or info.kind not in MEDIA_TYPES:
        raise HTTPException(404, "the document's file is not available")
    raw = path.read_bytes()
    if info.file_hash and hashlib.sha256(raw).hexdigest() != info.file_hash:
        raise HTTPException(409, "the file changed after it was indexed; rebuild the index")
    return raw


def merge_boxes(boxes: list[tuple], page: int) -> list[tuple[float, float, float, float]]:
    """The characters' boxes on `page` merged into one rectangle per line (runs of boxes whose
    vertical extents overlap)."""
    out: list[list[float]] = []
    for p, x0, top, x1, bottom in boxes:
        if p != page:
            continue
        if out:
            r = out[-1]
            overlap = min(r[3], bottom) - max(r[1], top)
            if overlap > 0.5 * min(r[3] - r[1], bottom - top) and abs(x0 - r[2]) < 3 * (bottom - top):
                r[0], r[1], r[2], r[3] = min(r[0], x0), min(r[1], top), max(r[2], x1), max(r[3], bottom)
                continue
            # vertical writing: a column of characters
            if abs(x0 - r[0]) < 0.5 * (x1 - x0) and abs(top - r[3]) < 3 * (x1 - x0):
                r[0], r[1], r[2], r[3] = min(r[0], x0), min(r[1], top), max(r[2], x1), max(r[3], bottom)
                continue
        out.append([x0, top, x1, bottom])
    return [(r[0], r[1], r[2], r[3]) for r in out]


def render_png(raw: bytes, page: int, rects: list[tuple[float, float, float, float]],
               scale: float = RENDER_SCALE) -> bytes:
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw
    pdf = pdfium.PdfDocument(raw)
    try:
        if not 1 <= page <= len(pdf):
            raise HTTPException(404, "no such page")
        image = pdf[page - 1].render(scale=scale).to_pil().convert("RGBA")
    finally:
        pdf.close()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    pad = 1.5
    for x0, top, x1, bottom in rects:
        draw.rectangle([(x0 - pad) * scale, (top - pad) * scale, (x1 + pad) * scale, (bottom + pad) * scale],
                       fill=(255, 213, 0, 90), outline=(230, 120, 0, 255), width=2)
    out = io.BytesIO()
    Image.alpha_composite(image, overlay).convert("RGB").save(out, "PNG", optimize=False)
    return out.getvalue()


@router.get("/page-image/{doc_id:path}")
async def page_image(request: Request, engine: EngineDep, doc_id: str,
                     page: Annotated[int, Query(ge=1, le=100_000)],
                     s: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    info = engine.document_info(doc_id)
    if info.kind != "pdf":
        raise HTTPException(404, "not a PDF document")
    span = parse_span(s)
    boxes = info.span_boxes(*span) if span else []

    def work() -> bytes:
        raw = _indexed_file(request, info)
        return render_png(raw, page, merge_boxes(boxes, page))

    png = await run_in_threadpool(work)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


@router.get("/original/{doc_id:path}")
async def original(request: Request, engine: EngineDep, doc_id: str) -> Response:
    info = engine.document_info(doc_id)
    raw = await run_in_threadpool(_indexed_file, request, info)
    name = Path(info.path).name.encode("ascii", "replace").decode().replace('"', "_")
    return Response(raw, media_type=MEDIA_TYPES[info.kind],
                    headers={"Content-Disposition": f'inline; filename="{name}"',
                             "X-Content-Type-Options": "nosniff"})

"""corpus/ → passages → embeddings + BM25 → a new published index version.

Incremental: a document whose file hash is unchanged reuses its stored passage and sentence
vectors; new and changed documents are embedded; deleted ones drop out. A different model or
chunker (or a damaged previous index) makes every document count as new.
"""

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bot.embed.base import Embedder
from bot.errors import CorpusError, IndexCorrupt, IndexMismatch, IndexMissing
from bot.ingest.documents import Document, ReadOptions, load_corpus
from bot.ingest.locations import BOX_SCALE, LOCATIONS_VERSION, Box, Location, boxes_array
from bot.ingest.passages import CHUNKER_VERSION, Passage, split_passages
from bot.results import BuildSummary, Skipped
from bot.store import termtable
from bot.store import versions as store
from bot.store.dense import build_dense, centroids_of, describe, save_dense
from bot.store.lexical import LEXICAL_VERSION, LexicalIndex
from bot.store.progress import ProgressFn, Reporter
from bot.text.analyser import Tokenizer

log = logging.getLogger(__name__)

# Bump when how a document's date is found changes: an index written before is rewritten (vectors
# reused) so its documents carry the dates the new rules find. An index without "dates" has none.
DATES_VERSION = 2
# Texts per embedding call: small enough that progress and cancellation are seen every few
# seconds on a CPU, large enough that the model's own batching stays efficient.
EMBED_CHUNK = 512




def _previous(index_dir: Path, model: str) -> store.StoredArrays | None:
    try:
        folder, manifest = store.open_current(index_dir, model=model, chunker=CHUNKER_VERSION)
        return store.load_arrays(folder, manifest)
    except IndexMissing:
        return None
    except (IndexCorrupt, IndexMismatch) as exc:
        log.warning("not reusing the current index (%s): full rebuild", exc)
        return None


def build_index(corpus_dir: Path, index_dir: Path, embedder: Embedder, tokenizer: Tokenizer, *,
                max_bytes: int, keep_previous: int = 1, force: bool = False,
                show_progress: bool = False, progress: ProgressFn | None = None,
                cancel: threading.Event | None = None, read_options: ReadOptions | None = None) -> BuildSummary:
    """Build (incrementally) and publish. `progress` is called with a `BuildProgress` as the build
    advances; setting `cancel` stops it with BuildCancelled before anything is published."""
    t0 = time.perf_counter()
    report = Reporter(progress, cancel)
    with store.build_lock(index_dir):
        report.update(stage="reading")
        docs, skipped, prev = _read(corpus_dir, index_dir, embedder, max_bytes, read_options, force)
        report.update(stage="splitting", documents_total=len(docs))
        left_out = _log_skipped(docs, skipped)
        ocr_pages = sum(d.ocr_pages for d in docs)
        unchanged, removed, same = _changes(docs, prev)
        if same and prev is not None:  # nothing changed since the previous version
            report.finish()
            return BuildSummary(
                version=prev.manifest["version"], documents=len(docs), passages=len(prev.passages),
                sentences=len(prev.sentence_vectors), embedded_documents=0,
                reused_documents=len(docs), removed_documents=0, embedded_texts=0,
                seconds=time.perf_counter() - t0, dense_type=prev.manifest.get("dense", {}).get("type", ""),
                changed=False, full_rebuild=False, skipped=skipped, ocr_pages=ocr_pages, left_out=left_out)

        split = _split(docs, tokenizer, skipped, report)
        docs = split.docs
        unchanged &= {d.doc_id for d in docs}
        t_embed = time.perf_counter()
        pvec, svec, embedded = _vectors(docs, split.per_doc, unchanged, prev, embedder, show_progress, report)
        embed_seconds = time.perf_counter() - t_embed
        report.update(stage="indexing")
        # Same model, incremental build: the previous IVF centroids still partition the space.
        prev_folder = index_dir / prev.manifest["version"] if prev else None
        built = _Built.of(split, unchanged, pvec, svec, tokenizer, prev_folder)
        manifest = built.manifest(embedder)
        report.update(stage="writing")
        version = store.publish(index_dir, built.write, manifest, keep_previous)
        report.finish()
        return BuildSummary(
            version=version, documents=len(docs), passages=len(split.passages), sentences=len(svec),
            embedded_documents=len(docs) - len(unchanged), reused_documents=len(unchanged),
            removed_documents=len(removed), embedded_texts=embedded,
            seconds=time.perf_counter() - t0, dense_type=manifest["dense"]["type"],
            changed=True, full_rebuild=prev is None, skipped=skipped, embed_seconds=embed_seconds,
            ocr_pages=ocr_pages, left_out=left_out)


def _read(corpus_dir: Path, index_dir: Path, embedder: Embedder, max_bytes: int, read_options: ReadOptions | None,
          force: bool) -> tuple[list[Document], list[Skipped], store.StoredArrays | None]:
    """The corpus's documents, the files skipped, and the previous version if it can be reused."""
    docs, skipped = load_corpus(corpus_dir, max_bytes, read_options)
    prev = None if force else _previous(index_dir, embedder.name)
    if prev and prev.manifest.get("model", {}).get("dim") != embedder.dim:
        prev = None
    # A file that cannot be read now keeps the version the previous index has of it.
    docs, skipped = _keep_previous(docs, skipped, prev)
    if not docs:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped) or "the folder is empty"
        raise CorpusError(f"no usable document in {corpus_dir} ({reasons})")
    return docs, skipped, prev


def _log_skipped(docs: list[Document], skipped: list[Skipped]) -> list[Skipped]:
    """Log the files skipped and the parts of documents left out; the latter as a list."""
    for s in skipped:
        log.warning("skipped %s: %s%s", s.path, s.reason,
                    " (its previous version stays in the index)" if s.kept_previous else "")
    left_out = [Skipped(d.path, note) for d in docs for note in d.notes]
    for s in left_out:
        log.warning("%s: %s", s.path, s.reason)
    return left_out


def _changes(docs: list[Document], prev: store.StoredArrays | None) -> tuple[set[str], set[str], bool]:
    """(documents the previous version has unchanged, documents it has that are gone, whether the
    previous version can stay as it is)."""
    prev_docs = prev.manifest.get("documents", {}) if prev else {}
    unchanged = {d.doc_id for d in docs if prev_docs.get(d.doc_id, {}).get("hash") == d.content_hash}
    removed = set(prev_docs) - {d.doc_id for d in docs}
    if prev is None:
        return unchanged, removed, False
    # Tokens and the English term table are derived from the text alone: an index written by an
    # older version of either is rebuilt (vectors reused), not kept as "unchanged".
    same_terms = (prev.manifest.get("lexical_version", 1) == LEXICAL_VERSION
                  and prev.manifest.get("termtable", {}).get("version") == termtable.VERSION
                  and prev.manifest.get("locations", {}).get("version") == LOCATIONS_VERSION
                  and prev.manifest.get("dates", {}).get("version") == DATES_VERSION)
    return unchanged, removed, same_terms and not removed and len(unchanged) == len(docs) == len(prev_docs)


@dataclass
class _Split:
    docs: list[Document]  # those that could be split and tokenised
    per_doc: dict[str, list[Passage]]
    passages: list[Passage]  # in document order
    tokens: list[list[str]]  # BM25 tokens of each passage


def _split(docs: list[Document], tokenizer: Tokenizer, skipped: list[Skipped], report: Reporter) -> _Split:
    """Passages and their tokens; a document that fails is added to `skipped`, not fatal."""
    out = _Split([], {}, [], [])
    for i, d in enumerate(docs):
        try:
            passages = split_passages(d.doc_id, d.text, d.title)
            doc_tokens = [tokenizer.tokens(p.embed_text) for p in passages]
        except Exception as exc:  # noqa: BLE001 - one document must never fail the build
            log.exception("cannot process %s", d.path)
            skipped.append(Skipped(d.path, f"cannot be split or tokenised ({exc.__class__.__name__}: "
                                           f"{str(exc)[:200]})"))
            continue
        out.docs.append(d)
        out.per_doc[d.doc_id] = passages
        out.passages.extend(passages)
        out.tokens.extend(doc_tokens)
        if i % 50 == 49 or i == len(docs) - 1:
            report.update(documents_done=i + 1)
    if not out.docs:
        raise CorpusError("no usable document: " + "; ".join(f"{s.path}: {s.reason}" for s in skipped))
    return out


@dataclass
class _Built:
    """Everything a version holds, ready to be written."""
    split: _Split
    pvec: np.ndarray
    svec: np.ndarray
    lexical: LexicalIndex
    terms: termtable.TermTable
    dense: faiss.Index | None  # over passages, None without passages
    dense_sentences: faiss.Index | None
    boxes: np.ndarray

    @classmethod
    def of(cls, split: _Split, unchanged: set[str], pvec: np.ndarray, svec: np.ndarray, tokenizer: Tokenizer,
           prev_folder: Path | None) -> "_Built":
        docs, per_doc = split.docs, split.per_doc
        lexical = LexicalIndex.build(split.tokens)
        english = {d.doc_id for d in docs if d.lang == "en"}
        terms = termtable.build_term_table([p.embed_text for p in split.passages], tokenizer, lexical.vocabulary,
                                           [p.text for p in split.passages if p.doc_id in english])
        fresh_p = np.array([d.doc_id not in unchanged for d in docs for _ in per_doc[d.doc_id]], bool)
        fresh_s = np.array([d.doc_id not in unchanged for d in docs for p in per_doc[d.doc_id]
                            for _ in p.sentences], bool)
        dense = (build_dense(pvec, centroids=_centroids(prev_folder, "dense.faiss"), fresh=fresh_p)
                 if len(pvec) else None)
        dense_sentences = (build_dense(svec, centroids=_centroids(prev_folder, "sentences.faiss"), fresh=fresh_s)
                           if len(svec) else None)
        boxes = np.concatenate([boxes_array(i, d.boxes) for i, d in enumerate(docs)])
        return cls(split, pvec, svec, lexical, terms, dense, dense_sentences, boxes)

    def write(self, folder: Path) -> None:
        store.write_jsonl(folder / "documents.jsonl", [_doc_row(d) for d in self.split.docs])
        np.save(folder / "boxes.npy", self.boxes, allow_pickle=False)
        store.write_jsonl(folder / "passages.jsonl", [_passage_row(p) for p in self.split.passages])
        np.save(folder / "passage_vectors.npy", self.pvec, allow_pickle=False)
        np.save(folder / "sentence_vectors.npy", self.svec, allow_pickle=False)
        if self.dense is not None:
            save_dense(self.dense, folder / "dense.faiss")
        if self.dense_sentences is not None:
            save_dense(self.dense_sentences, folder / "sentences.faiss")
        self.lexical.save(folder / "bm25")
        self.terms.save(folder / termtable.FILE)

    def manifest(self, embedder: Embedder) -> dict:
        docs = self.split.docs
        return {
            "model": {"id": embedder.name, "dim": embedder.dim},
            "chunker_version": CHUNKER_VERSION,
            "lexical_version": LEXICAL_VERSION,
            "counts": {"documents": len(docs), "passages": len(self.split.passages), "sentences": len(self.svec)},
            "dense": {"type": describe(self.dense) if self.dense is not None else "none"},
            "termtable": {"version": termtable.VERSION, "english_keys": len(self.terms.english)},
            "locations": {"version": LOCATIONS_VERSION, "boxes": len(self.boxes)},
            "dates": {"version": DATES_VERSION, "documents": sum(1 for d in docs if d.date)},
            "documents": {d.doc_id: _manifest_doc(d, len(self.split.per_doc[d.doc_id])) for d in docs},
        }


def _vectors(docs: list[Document], per_doc: dict[str, list[Passage]], unchanged: set[str],
             prev: store.StoredArrays | None, embedder: Embedder, show_progress: bool, report: Reporter):
    # Rows of the previous version, grouped by document, for the documents we reuse.
    reuse_p: dict[str, list[int]] = {}
    reuse_s: dict[str, list[int]] = {}
    if prev:
        srow = 0
        for i, row in enumerate(prev.passages):
            n = len(row["sentences"])
            if row["doc_id"] in unchanged:
                reuse_p.setdefault(row["doc_id"], []).append(i)
                reuse_s.setdefault(row["doc_id"], []).extend(range(srow, srow + n))
            srow += n

    to_embed: list[str] = []
    plan = []  # per document: (doc_id, reused?, first row in to_embed, passages, sentences)
    for d in docs:
        ps = per_doc[d.doc_id]
        n_sent = sum(len(p.sentences) for p in ps)
        if d.doc_id in unchanged:
            plan.append((d.doc_id, True, 0, len(ps), n_sent))
            continue
        plan.append((d.doc_id, False, len(to_embed), len(ps), n_sent))
        to_embed.extend(p.embed_text for p in ps)
        to_embed.extend(d.text[s:e] for p in ps for s, e in p.sentences)
    fresh = _embed(to_embed, embedder, show_progress, report) if to_embed else None

    p_parts, s_parts = [], []
    for doc_id, reused, first, n_pass, n_sent in plan:
        if reused:
            assert prev is not None  # a document is reused only from a previous version
            p_parts.append(prev.passage_vectors[reuse_p.get(doc_id, [])])
            s_parts.append(prev.sentence_vectors[reuse_s.get(doc_id, [])])
        else:
            assert fresh is not None  # a document not reused was embedded
            p_parts.append(fresh[first:first + n_pass])
            s_parts.append(fresh[first + n_pass:first + n_pass + n_sent])
    dim = embedder.dim
    pvec = np.concatenate(p_parts) if p_parts else np.zeros((0, dim), np.float32)
    svec = np.concatenate(s_parts) if s_parts else np.zeros((0, dim), np.float32)
    return np.ascontiguousarray(pvec, np.float32), np.ascontiguousarray(svec, np.float32), len(to_embed)


def _embed(texts: list[str], embedder: Embedder, show_progress: bool, report: Reporter) -> np.ndarray:
    report.update(stage="embedding", rows_total=len(texts), rows_done=0)
    if hasattr(embedder, "on_rows"):
        # A cluster embedder (bot.store.distributed.RayEmbedder) takes the whole build as one job
        # (one model load per worker) and reports its rows through `on_rows` as they come back:
        # they go to the build's progress (and cancellation check) and to the caller's callback.
        outer = embedder.on_rows

        def rows(done: int, total: int, rate: float | None) -> None:
            if outer is not None:
                outer(done, total, rate)
            report.update(rows_done=done)

        embedder.on_rows = rows
        try:
            vectors = embedder.encode_passages(texts, show_progress=show_progress)
        finally:
            embedder.on_rows = outer
        report.update(rows_done=len(texts))
        return vectors
    parts = []
    for start in range(0, len(texts), EMBED_CHUNK):
        parts.append(embedder.encode_passages(texts[start:start + EMBED_CHUNK], show_progress=show_progress))
        report.update(rows_done=min(len(texts), start + EMBED_CHUNK))
    return np.concatenate(parts)


def _centroids(folder: Path | None, name: str) -> np.ndarray | None:
    return centroids_of(folder / name) if folder is not None and (folder / name).is_file() else None


def _manifest_doc(d: Document, passages: int) -> dict:
    row = {"hash": d.content_hash, "path": d.path, "passages": passages}
    if d.date:
        row["date"] = d.date
    if d.kind != "text":
        row.update(kind=d.kind, pages=d.pages, ocr_pages=d.ocr_pages)
        if d.notes:
            row["left_out"] = list(d.notes)
    return row


def _doc_row(d: Document) -> dict:
    row: dict[str, Any] = {"doc_id": d.doc_id, "path": d.path, "title": d.title, "url": d.url, "lang": d.lang,
                           "hash": d.content_hash, "text": d.text}
    if d.date:
        row["date"] = d.date
    if d.kind != "text":
        row.update(kind=d.kind, file_hash=d.file_hash, pages=d.pages, ocr_pages=d.ocr_pages,
                   notes=list(d.notes), locations=[loc.to_row() for loc in d.locations],
                   page_sizes=[list(s) for s in d.page_sizes])
    return row


def doc_from_row(row: dict, boxes: np.ndarray | None, doc_row: int) -> Document:
    """A document as a previous version stored it (with its character boxes)."""
    own: dict[int, Box] = {}
    if boxes is not None and len(boxes):
        for r in boxes[boxes[:, 0] == doc_row]:
            x0, top, x1, bottom = (float(v) / BOX_SCALE for v in r[3:7])
            own[int(r[1])] = (int(r[2]), x0, top, x1, bottom)
    return Document(
        doc_id=row["doc_id"], path=row["path"], title=row["title"], url=row.get("url"), lang=row["lang"],
        text=row["text"], content_hash=row["hash"], kind=row.get("kind", "text"),
        locations=tuple(Location.from_row(x) for x in row.get("locations", [])), boxes=own,
        page_sizes=tuple(tuple(s) for s in row.get("page_sizes", [])), pages=row.get("pages", 0),
        ocr_pages=row.get("ocr_pages", 0), notes=tuple(row.get("notes", [])), file_hash=row.get("file_hash", ""),
        date=row.get("date"))


def _keep_previous(docs: list[Document], skipped: list[Skipped], prev: store.StoredArrays | None
                   ) -> tuple[list[Document], list[Skipped]]:
    if prev is None or not skipped:
        return docs, skipped
    rows = {row["path"]: (i, row) for i, row in enumerate(prev.documents)}
    have = {d.doc_id for d in docs}
    out = []
    for s in skipped:
        found = rows.get(s.path)
        if found is None or found[1]["doc_id"] in have:
            out.append(s)
            continue
        i, row = found
        docs.append(doc_from_row(row, prev.boxes, i))
        have.add(row["doc_id"])
        out.append(Skipped(s.path, s.reason, kept_previous=True))
    return sorted(docs, key=lambda d: d.path), out


def _passage_row(p: Passage) -> dict:
    return {"chunk_id": p.chunk_id, "doc_id": p.doc_id, "ordinal": p.ordinal, "section": p.section,
            "start": p.start, "end": p.end, "sentences": [list(s) for s in p.sentences]}

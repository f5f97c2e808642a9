"""A published index version, loaded into memory for retrieval (read-only once loaded).

Everything is read into memory, nothing is memory-mapped: a mapped file truncated under a running
server kills it with SIGBUS on the next access, with no log line, while reading these files costs
little (FAISS and BM25 hold their own copies anyway). Sizes are checked against the manifest
before anything is read, and a version that cannot be used is refused with IndexCorrupt.
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from bot.errors import IndexCorrupt, IndexMismatch, IndexMissing
from bot.ingest.locations import Location, locate, span_boxes
from bot.ingest.passages import CHUNKER_VERSION, Passage
from bot.store import versions as store
from bot.store.dense import load_dense
from bot.store.lexical import LexicalIndex
from bot.store.termtable import FILE as TERMTABLE_FILE
from bot.store.termtable import TermTable


@dataclass(frozen=True)
class DocInfo:
    doc_id: str
    path: str
    title: str
    url: str | None
    lang: str
    text: str
    kind: str = "text"  # text, pdf, docx, pptx, xlsx
    locations: tuple[Location, ...] = ()
    page_sizes: tuple[tuple[float, float], ...] = ()
    file_hash: str = ""
    boxes: np.ndarray | None = field(default=None, compare=False)  # its rows of boxes.npy
    date: str | None = None  # ISO date (bot.ingest.dates); None in indexes built before dates

    def locate(self, offset: int) -> Location | None:
        return locate(self.locations, offset)

    def span_boxes(self, start: int, end: int) -> list:
        return span_boxes(self.boxes, start, end) if self.boxes is not None else []


@dataclass
class SearchIndex:
    version: str
    manifest: dict
    documents: dict[str, DocInfo]
    passages: list[Passage]
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray
    sentence_rows: list[range]  # per passage: its rows in sentence_vectors
    dense: faiss.Index | None  # over passages; None for an index without passages
    dense_sentences: faiss.Index | None  # over sentences
    sentence_passage: np.ndarray  # passage row of each sentence row
    lexical: LexicalIndex
    terms: TermTable = field(default_factory=TermTable.empty)  # English → Japanese search terms

    @property
    def model(self) -> str:
        return self.manifest["model"]["id"]


log = logging.getLogger(__name__)


def load_index(index_dir: Path, model: str | None = None, check: bool = True) -> SearchIndex:
    """The current version (CURRENT), verified; IndexMissing / IndexCorrupt / IndexMismatch."""
    folder, manifest = store.open_current(index_dir, model=model, chunker=CHUNKER_VERSION, check=check)
    return _read(folder, manifest)


def load_version(folder: Path, model: str | None = None, check: bool = True) -> SearchIndex:
    manifest = store.open_version(folder, model=model, chunker=CHUNKER_VERSION, check=check)
    return _read(folder, manifest)


def load_servable(index_dir: Path, model: str | None = None) -> tuple[SearchIndex, str | None]:
    """The current version, or when it cannot be used (damaged file or manifest, missing folder,
    garbage or missing CURRENT) the newest intact version, with why (None when current).
    IndexMissing when there is no version at all; the current version's error when none is intact."""
    try:
        return load_index(index_dir, model=model), None
    except IndexMissing:
        if not store.versions(index_dir):
            raise
        error: Exception = IndexMissing(f"{index_dir / store.POINTER} is missing")
        public = "no version is marked current (CURRENT is missing)"
    except (IndexCorrupt, IndexMismatch) as exc:
        error = exc
        name = _current_name(index_dir)
        what = f"the current version ({name})" if name else "CURRENT (unreadable)"
        public = f"{what} is {'damaged' if isinstance(exc, IndexCorrupt) else 'incompatible with this server'}"
    current = _current_name(index_dir)
    for name in store.fallback_order(index_dir, exclude={current} if current else set()):
        try:
            index = load_version(index_dir / name, model=model)
        except (IndexCorrupt, IndexMismatch) as exc:
            log.warning("version %s cannot be served either: %s", name, exc)
            continue
        log.error("degraded: %s; serving the last intact version %s", error, name)
        return index, f"{public}; serving the last intact version {name}"
    raise error


def _current_name(index_dir: Path) -> str | None:
    try:
        return store.current_version(index_dir)
    except IndexCorrupt:
        return None


def _doc_info(r: dict, i: int, boxes: np.ndarray | None) -> DocInfo:
    own = None
    if boxes is not None and len(boxes) and r.get("kind") == "pdf":
        own = np.ascontiguousarray(boxes[boxes[:, 0] == i])
    return DocInfo(r["doc_id"], r["path"], r["title"], r.get("url"), r["lang"], r["text"],
                   kind=r.get("kind", "text"),
                   locations=tuple(Location.from_row(x) for x in r.get("locations", [])),
                   page_sizes=tuple(tuple(s) for s in r.get("page_sizes", [])),
                   file_hash=r.get("file_hash", ""), boxes=own, date=r.get("date"))


def _read(folder: Path, manifest: dict) -> SearchIndex:
    try:
        rows = store.read_jsonl(folder / "documents.jsonl")
        boxes = np.load(folder / "boxes.npy", allow_pickle=False) if (folder / "boxes.npy").is_file() else None
        docs = {r["doc_id"]: _doc_info(r, i, boxes) for i, r in enumerate(rows)}
        passages = []
        sentence_rows: list[range] = []
        first = 0
        for r in store.read_jsonl(folder / "passages.jsonl"):
            text = docs[r["doc_id"]].text
            sents = tuple(tuple(s) for s in r["sentences"])
            passages.append(Passage(r["chunk_id"], r["doc_id"], r["ordinal"], r["section"], r["start"],
                                    r["end"], text[r["start"]:r["end"]], sents))
            sentence_rows.append(range(first, first + len(sents)))
            first += len(sents)
        pvec = np.load(folder / "passage_vectors.npy", allow_pickle=False)
        svec = np.load(folder / "sentence_vectors.npy", allow_pickle=False)
        dense = load_dense(folder / "dense.faiss") if passages else None
        dense_sentences = load_dense(folder / "sentences.faiss") if passages else None
        lexical = LexicalIndex.load(folder / "bm25")
        terms = TermTable.load(folder / TERMTABLE_FILE)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"index {folder} cannot be read ({exc.__class__.__name__}: {exc}); "
                           "rebuild with `jaxabot index`") from None
    if len(pvec) != len(passages) or len(svec) != first:
        raise IndexCorrupt(f"index {folder} is inconsistent: {len(passages)} passages, "
                           f"{len(pvec)} passage vectors, {first} sentences, {len(svec)} sentence vectors")
    owner = np.repeat(np.arange(len(sentence_rows), dtype=np.int64), [len(r) for r in sentence_rows])
    return SearchIndex(manifest["version"], manifest, docs, passages, pvec, svec, sentence_rows, dense,
                       dense_sentences, owner, lexical, terms)

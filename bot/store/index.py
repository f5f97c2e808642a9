"""A published index version, loaded into memory for retrieval (read-only once loaded)."""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.store import versions as store
from bot.store.dense import load_dense
from bot.errors import IndexCorrupt
from bot.store.lexical import LexicalIndex
from bot.store.termtable import FILE as TERMTABLE_FILE, TermTable
from bot.ingest.passages import CHUNKER_VERSION, Passage


@dataclass(frozen=True)
class DocInfo:
    doc_id: str
    path: str
    title: str
    url: str | None
    lang: str
    text: str


@dataclass
class SearchIndex:
    version: str
    manifest: dict
    documents: dict[str, DocInfo]
    passages: list[Passage]
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray
    sentence_rows: list[range]  # per passage: its rows in sentence_vectors
    dense: object  # faiss.Index over passages, or None for an index without passages
    dense_sentences: object  # faiss.Index over sentences
    sentence_passage: np.ndarray  # passage row of each sentence row
    lexical: LexicalIndex
    terms: TermTable = field(default_factory=TermTable.empty)  # English → Japanese search terms

    @property
    def model(self) -> str:
        return self.manifest["model"]["id"]


def load_index(index_dir: Path, model: str | None = None, check: bool = True) -> SearchIndex:
    folder, manifest = store.open_current(index_dir, model=model, chunker=CHUNKER_VERSION, check=check)
    try:
        docs = {r["doc_id"]: DocInfo(r["doc_id"], r["path"], r["title"], r.get("url"), r["lang"], r["text"])
                for r in store.read_jsonl(folder / "documents.jsonl")}
        passages = []
        rows, first = [], 0
        for r in store.read_jsonl(folder / "passages.jsonl"):
            text = docs[r["doc_id"]].text
            sents = tuple(tuple(s) for s in r["sentences"])
            passages.append(Passage(r["chunk_id"], r["doc_id"], r["ordinal"], r["section"], r["start"],
                                    r["end"], text[r["start"]:r["end"]], sents))
            rows.append(range(first, first + len(sents)))
            first += len(sents)
        # Memory-mapped: FAISS holds its own copy for search; these are only read row by row
        # (answer scoring), so mapping them keeps a large index from living in RAM twice.
        pvec = np.load(folder / "passage_vectors.npy", allow_pickle=False, mmap_mode="r")
        svec = np.load(folder / "sentence_vectors.npy", allow_pickle=False, mmap_mode="r")
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
    owner = np.repeat(np.arange(len(rows), dtype=np.int64), [len(r) for r in rows])
    return SearchIndex(manifest["version"], manifest, docs, passages, pvec, svec, rows, dense,
                       dense_sentences, owner, lexical, terms)

import json
import threading

import numpy as np
import pytest
from fakes import FakeEmbedder

from bot.errors import BuildError, BuildInProgress, CorpusError, IndexCorrupt, IndexMismatch, IndexMissing
from bot.store import versions as store
from bot.store.build import build_index
from bot.store.index import load_index

MB = 10**6


def build(corpus, index_dir, embedder, tokenizer, **kw):
    kw.setdefault("max_bytes", MB)
    return build_index(corpus, index_dir, embedder, tokenizer, **kw)


def test_build_writes_a_versioned_verified_index(corpus_copy, tmp_path, fake_embedder, tokenizer):
    index_dir = tmp_path / "index"
    summary = build(corpus_copy, index_dir, fake_embedder, tokenizer)
    assert summary.changed and summary.full_rebuild and summary.documents == 1
    assert (index_dir / "CURRENT").read_text().strip() == summary.version
    manifest = json.loads((index_dir / summary.version / "manifest.json").read_text())
    assert manifest["format_version"] == store.FORMAT_VERSION
    assert manifest["model"] == {"id": "fake-bigram", "dim": 64}
    assert manifest["counts"]["passages"] == summary.passages
    assert set(manifest["files"]) >= {"documents.jsonl", "passages.jsonl", "passage_vectors.npy",
                                      "sentence_vectors.npy", "dense.faiss"}
    assert any(f.startswith("bm25/") for f in manifest["files"])
    idx = load_index(index_dir, model="fake-bigram")
    assert len(idx.passages) == summary.passages
    assert idx.passage_vectors.shape == (summary.passages, 64)


def test_save_load_gives_the_same_hits(corpus_copy, tmp_path, fake_embedder, tokenizer, models):
    from bot.retrieve.retrieval import retrieve
    index_dir = tmp_path / "index"
    build(corpus_copy, index_dir, fake_embedder, tokenizer)
    a, b = load_index(index_dir), load_index(index_dir)
    q = "カナダとはどの分野で協力していますか"
    qv = fake_embedder.encode_queries([q])[0]
    fusion = models.fusion.of("ja")
    hits_a = retrieve(a, qv, tokenizer.tokens(q), True, 5, fusion)
    hits_b = retrieve(b, qv, tokenizer.tokens(q), True, 5, fusion)
    assert hits_a == hits_b and len(hits_a) == 5
    assert "カナダ" in a.passages[hits_a[0].row].text


def test_incremental_rebuild_embeds_only_changed_documents(corpus_copy, tmp_path, tokenizer):
    index_dir = tmp_path / "index"
    (corpus_copy / "second.md").write_text("# 二つ目\n\n二つ目の文書です。月探査の協力について述べます。",
                                           encoding="utf-8")
    emb = FakeEmbedder()
    first = build(corpus_copy, index_dir, emb, tokenizer)
    assert first.embedded_documents == 2

    again = build(corpus_copy, index_dir, emb, tokenizer)
    assert not again.changed and again.version == first.version and again.embedded_texts == 0

    (corpus_copy / "second.md").write_text("# 二つ目\n\n書き換えた文書です。火星探査の協力です。", encoding="utf-8")
    emb.calls.clear()
    edited = build(corpus_copy, index_dir, emb, tokenizer)
    assert edited.embedded_documents == 1 and edited.reused_documents == 1
    idx = load_index(index_dir)
    second_texts = [p.embed_text for p in idx.passages if p.doc_id == "second"]
    n_sent = sum(len(p.sentences) for p in idx.passages if p.doc_id == "second")
    assert emb.calls == [len(second_texts) + n_sent]
    # Reused vectors are exactly what a full embedding would give.
    fresh = FakeEmbedder().encode_passages([p.embed_text for p in idx.passages])
    np.testing.assert_allclose(idx.passage_vectors, fresh, atol=1e-6)

    (corpus_copy / "second.md").unlink()
    removed = build(corpus_copy, index_dir, emb, tokenizer)
    assert removed.removed_documents == 1 and removed.embedded_documents == 0
    assert {p.doc_id for p in load_index(index_dir).passages} == {"jaxa-international-cooperation"}


def test_model_change_forces_full_rebuild(corpus_copy, tmp_path, tokenizer):
    index_dir = tmp_path / "index"
    build(corpus_copy, index_dir, FakeEmbedder(name="a"), tokenizer)
    other = build(corpus_copy, index_dir, FakeEmbedder(name="b"), tokenizer)
    assert other.changed and other.full_rebuild and other.reused_documents == 0
    with pytest.raises(IndexMismatch, match="model 'b'"):
        load_index(index_dir, model="a")


def test_previous_version_kept_older_pruned_and_rollback(corpus_copy, tmp_path, tokenizer):
    index_dir = tmp_path / "index"
    names = []
    for i in range(4):
        (corpus_copy / "extra.txt").write_text(f"版{i}の文書です。", encoding="utf-8")
        names.append(build(corpus_copy, index_dir, FakeEmbedder(), tokenizer, keep_previous=1).version)
    assert store.versions(index_dir) == names[-2:]
    assert store.rollback(index_dir) == names[-2]
    assert store.current_version(index_dir) == names[-2]


def test_damaged_index_is_refused_with_the_file_named(corpus_copy, tmp_path, fake_embedder, tokenizer):
    index_dir = tmp_path / "index"
    version = build(corpus_copy, index_dir, fake_embedder, tokenizer).version
    vec = index_dir / version / "passage_vectors.npy"
    data = bytearray(vec.read_bytes())
    data[-1] ^= 0xFF
    vec.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="passage_vectors.npy"):
        load_index(index_dir)
    (index_dir / version / "passages.jsonl").write_text("")
    with pytest.raises(IndexCorrupt, match="passages.jsonl|passage_vectors.npy"):
        load_index(index_dir)
    # A rebuild repairs it: the damaged version is not reused.
    repaired = build(corpus_copy, index_dir, fake_embedder, tokenizer)
    assert repaired.full_rebuild and repaired.version != version
    load_index(index_dir)


def test_missing_and_foreign_indexes(tmp_path, corpus_copy, fake_embedder, tokenizer):
    with pytest.raises(IndexMissing):
        load_index(tmp_path / "nothing")
    index_dir = tmp_path / "index"
    version = build(corpus_copy, index_dir, fake_embedder, tokenizer).version
    manifest_path = index_dir / version / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 999
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="format 999"):
        load_index(index_dir)


def test_empty_corpus_fails_the_build(tmp_path, fake_embedder, tokenizer):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "empty.txt").write_text("")
    with pytest.raises(CorpusError, match="empty.txt: empty file"):
        build(corpus, tmp_path / "index", fake_embedder, tokenizer)
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_second_concurrent_build_is_refused(corpus_copy, tmp_path, tokenizer):
    index_dir = tmp_path / "index"
    started, release = threading.Event(), threading.Event()

    class SlowEmbedder(FakeEmbedder):
        def encode_passages(self, texts, show_progress=False):
            started.set()
            release.wait(10)
            return super().encode_passages(texts)

    t = threading.Thread(target=build, args=(corpus_copy, index_dir, SlowEmbedder(), tokenizer))
    t.start()
    assert started.wait(10)
    try:
        with pytest.raises(BuildInProgress):
            build(corpus_copy, index_dir, FakeEmbedder(), tokenizer)
    finally:
        release.set()
        t.join()
    load_index(index_dir)


def test_disk_full_during_publish_leaves_old_index_untouched(corpus_copy, tmp_path, fake_embedder, tokenizer):
    index_dir = tmp_path / "index"
    version = build(corpus_copy, index_dir, fake_embedder, tokenizer).version

    def fills_the_disk(folder):
        (folder / "passages.jsonl").write_text("partial")
        raise OSError(28, "No space left on device")

    with store.build_lock(index_dir), pytest.raises(BuildError, match="No space left"):
        store.publish(index_dir, fills_the_disk, {}, keep_previous=1)
    assert store.current_version(index_dir) == version
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".tmp-")]
    load_index(index_dir)


def test_unwritable_index_folder_is_a_clear_build_error(corpus_copy, tmp_path, fake_embedder, tokenizer):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the index folder should be")
    with pytest.raises(BuildError, match="cannot write to the index folder"):
        build(corpus_copy, blocker / "index", fake_embedder, tokenizer)


def test_hostile_corpus_builds_with_warnings_and_never_leaks(corpus_copy, tmp_path, fake_embedder, tokenizer):
    """Binary, 50 MB, Shift_JIS, script-stuffed HTML and a symlink to /etc/passwd in corpus/."""
    import os
    (corpus_copy / "blob.txt").write_bytes(bytes(range(256)) * 64)
    with open(corpus_copy / "huge.txt", "wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB without writing 50 MB
    (corpus_copy / "sjis.txt").write_bytes("宇宙航空研究開発機構の文書です。".encode("shift_jis"))
    scripts = "".join(f"<script>alert({i})</script><style>p{{}}</style>" for i in range(500))
    (corpus_copy / "scripts.html").write_text(
        f"<html><head><title>脚本</title>{scripts}</head><body>{scripts}<p>本文はここだけです。</p>"
        f"<img src=x onerror=alert(1)></body></html>", encoding="utf-8")
    os.symlink("/etc/passwd", corpus_copy / "passwd.md")
    summary = build(corpus_copy, tmp_path / "index", fake_embedder, tokenizer, max_bytes=10 * MB)
    reasons = {s.path: s.reason for s in summary.skipped}
    assert "binary" in reasons["blob.txt"]
    assert "too large" in reasons["huge.txt"]
    assert "outside" in reasons["passwd.md"]
    idx = load_index(tmp_path / "index")
    assert idx.documents["sjis"].text == "宇宙航空研究開発機構の文書です。"
    assert idx.documents["scripts"].text == "本文はここだけです。"
    everything = "".join(d.text for d in idx.documents.values())
    assert "root:" not in everything and "alert" not in everything


def test_the_tokenizer_analyses_a_question_once_per_thread():
    """A question is tokenised for BM25, for its coverage terms and for follow-up resolution:
    Sudachi runs once for it on the answering thread, again for another text, and per thread
    (a Sudachi tokenizer is not shared)."""
    from bot.text.analyser import Tokenizer

    tok = Tokenizer()
    calls = []
    real = tok._dict.create

    def counting_create(*args, **kwargs):
        inner = real(*args, **kwargs)

        class Counting:
            def tokenize(self, text):
                calls.append((threading.get_ident(), text))
                return inner.tokenize(text)
        return Counting()

    tok._dict = type("D", (), {"create": staticmethod(counting_create)})()
    q = "JAXAはどの分野で協力していますか？"
    first = tok.tokens(q)
    assert tok.tokens(q) == first and [m.surface() for m in tok.morphemes(q)][:2] == ["JAXA", "は"]
    tok.content_terms(q)
    assert len(calls) == 1
    tok.tokens("国際宇宙ステーション")
    assert tok.tokens(q) == first and len(calls) == 3
    other = threading.Thread(target=tok.tokens, args=(q,))
    other.start()
    other.join()
    assert len(calls) == 4 and calls[-1][0] != calls[0][0]

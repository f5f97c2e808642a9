"""The JSQuAD open-corpus benchmark (../shared/benchmarks/jsquad/README.md), built from the dataset
file in place: nothing of it is copied into the project.

- corpus: one document per article (title, then its paragraphs separated by blank lines), except
  HOLDOUT_COUNT articles left out by a fixed seed, whose questions must be refused;
- cases in the eval's JSONL shape (id, lang, question, history, answerable, gold_spans,
  answer_keys), plus `answers` (the annotators' texts) and `article`;
- follow-ups: a question naming its article's title before a particle, with the title replaced by
  a pronoun and another question about the same article as history.

JSQuAD (JGLUE; Kurihara, Kawahara and Shibata, LREC 2022) is CC BY-SA 4.0.
"""

import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = ROOT.parent / "shared" / "benchmarks" / "jsquad" / "valid-v1.3.json"
HOLDOUT_COUNT = 10
HOLDOUT_SEED = 59
# Characters of the answer's own sentence kept on either side of it in a gold span, so a short
# answer ("2") only counts where the annotator found it, not wherever it occurs by chance.
GOLD_CONTEXT = 4
SENTENCE_END = "。！？!?\n"
PARTICLES = ("は", "が", "の", "を", "に", "で", "と", "も", "へ", "から", "より", "まで")


@dataclass
class Article:
    title: str
    paragraphs: list[dict]  # {"text": str, "qas": [...]}, answer_start relative to text

    @property
    def display_title(self) -> str:
        return self.title.replace("_", " ")

    @property
    def doc_id(self) -> str:
        return "jsquad-" + hashlib.sha1(self.title.encode()).hexdigest()[:10]


def load_articles(path: Path = DEFAULT_PATH) -> list[Article]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    out = []
    for a in data:
        paragraphs = []
        for p in a["paragraphs"]:
            head, sep, text = p["context"].partition(" [SEP] ")
            shift = len(head) + len(sep) if sep else 0
            qas = [{**qa, "answers": [{"text": x["text"], "answer_start": x["answer_start"] - shift}
                                      for x in qa["answers"]]} for qa in p["qas"]]
            paragraphs.append({"text": text if sep else p["context"], "qas": qas})
        out.append(Article(a["title"], paragraphs))
    return out


def holdout_titles(articles: list[Article], count: int = HOLDOUT_COUNT, seed: int = HOLDOUT_SEED) -> set[str]:
    return set(random.Random(seed).sample(sorted(a.title for a in articles), count))


def write_corpus(articles: list[Article], folder: Path, exclude: set[str]) -> int:
    """One `.txt` document per article not in `exclude`; returns how many were written."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for a in articles:
        if a.title in exclude:
            continue
        body = "\n\n".join([a.display_title] + [p["text"] for p in a.paragraphs])
        meta = json.dumps(a.display_title, ensure_ascii=False)  # a JSON string is a YAML string
        (folder / f"{a.doc_id}.txt").write_text(f"---\ntitle: {meta}\nlang: ja\n---\n{body}\n",
                                                 encoding="utf-8")
        n += 1
    return n


def _valid_answers(text: str, qa: dict) -> list[dict]:
    return [x for x in qa["answers"]
            if x["answer_start"] >= 0 and text[x["answer_start"]:x["answer_start"] + len(x["text"])] == x["text"]]


def gold_span(text: str, start: int, end: int, context: int = GOLD_CONTEXT) -> str:
    """The answer with up to `context` characters of its own sentence on either side."""
    lo = start
    while lo > 0 and start - lo < context and text[lo - 1] not in SENTENCE_END:
        lo -= 1
    hi = end
    while hi < len(text) and hi - end < context and text[hi] not in SENTENCE_END:
        hi += 1
    return text[lo:hi]


def answerable_of(articles: list[Article], holdout: set[str]) -> list[dict]:
    """Every question whose annotations point at their text, in the eval's case shape."""
    cases = []
    for a in articles:
        for p in a.paragraphs:
            for qa in p["qas"]:
                answers = _valid_answers(p["text"], qa)
                if not answers:
                    continue
                spans = sorted({gold_span(p["text"], x["answer_start"], x["answer_start"] + len(x["text"]))
                                for x in answers})
                texts = sorted({x["text"] for x in answers})
                cases.append({"id": qa["id"], "lang": "ja", "question": qa["question"], "history": [],
                              "answerable": a.title not in holdout, "gold_spans": spans,
                              "answer_keys": [texts], "answers": texts, "article": a.title})
    return cases


def follow_up_of(case: dict, title: str) -> str | None:
    """The question with its article's title (followed by a particle) replaced by a pronoun."""
    for name in {title, title.replace("_", " "), title.replace("_", "")}:
        m = re.search(re.escape(name) + "(" + "|".join(PARTICLES) + ")", case["question"])
        if m:
            particle = m.group(1)
            pronoun = "その" if particle == "の" else "それ" + particle
            return case["question"][:m.start()] + pronoun + case["question"][m.end():]
    return None


def follow_ups(cases: list[dict], seed: int = HOLDOUT_SEED) -> list[dict]:
    """Follow-up versions of the answerable cases that name their article, each asked after another
    question about the same article (its user turn and the sentence that answers it)."""
    rng = random.Random(seed)
    by_article: dict[str, list[dict]] = {}
    for c in cases:
        by_article.setdefault(c["article"], []).append(c)
    out = []
    for c in cases:
        if not c["answerable"]:
            continue
        q = follow_up_of(c, c["article"])
        others = [o for o in by_article[c["article"]] if o["id"] != c["id"] and o["question"] != c["question"]]
        if q is None or not others:
            continue
        prev = rng.choice(others)
        history = [{"role": "user", "content": prev["question"]},
                   {"role": "assistant", "content": prev["answers"][0]}]
        out.append({**c, "id": c["id"] + "-fu", "question": q, "history": history, "standalone": c["id"]})
    return out


def split_by_article(cases: list[dict], folds: int, seed: int = HOLDOUT_SEED) -> list[int]:
    """A fold number per case, whole articles per fold (for cross-validation)."""
    titles = sorted({c["article"] for c in cases})
    random.Random(seed).shuffle(titles)
    fold_of = {t: i % folds for i, t in enumerate(titles)}
    return [fold_of[c["article"]] for c in cases]


_YEAR = re.compile(r"(?<![0-9])(1[0-9]{3}|20[0-9]{2})年")
_EDITION = re.compile(r"第([0-9]{1,3})(回|代|次|期)")


def near_misses(articles: list[Article], cases: list[dict], seed: int = HOLDOUT_SEED) -> list[dict]:
    """Unanswerable questions whose topic is present: an answerable question whose year (1993年) or
    edition (第3回) is changed to a sibling its article never mentions, so the article still
    covers the topic but not the asked one."""
    rng = random.Random(seed)
    text_of = {a.title: "\n".join(p["text"] for p in a.paragraphs) for a in articles}
    out = []
    for c in cases:
        if not c["answerable"]:
            continue
        text = text_of[c["article"]]
        m = _YEAR.search(c["question"]) or _EDITION.search(c["question"])
        if m is None:
            continue
        n = int(m.group(1))
        shifts = [d for d in (1, -1, 2, -2, 3, -3, 5, -5, 10, -10) if n + d > 0]
        rng.shuffle(shifts)
        for d in shifts:
            sibling = str(n + d)
            if not re.search(rf"(?<![0-9]){sibling}(?![0-9])", text):
                q = c["question"][:m.start(1)] + sibling + c["question"][m.end(1):]
                out.append({**c, "id": c["id"] + "-nm", "question": q, "answerable": False,
                            "gold_spans": [], "answer_keys": [], "answers": []})
                break
    return out


def without_gold(articles: list[Article], holdout: set[str], seed: int = HOLDOUT_SEED,
                 per_article: int = 2) -> tuple[list[Article], list[dict]]:
    """Unanswerable questions whose topic is present: `per_article` paragraphs of each indexed
    article are left out of its text, and the questions on them become unanswerable when none of
    their answers is written anywhere else in the article (the rest of the article still covers
    the topic). Returns the articles as indexed and those questions."""
    rng = random.Random(seed)
    kept, negatives = [], []
    for a in articles:
        if a.title in holdout or len(a.paragraphs) <= per_article:
            kept.append(a)
            continue
        removed = set(rng.sample(range(len(a.paragraphs)), per_article))
        left = [p for i, p in enumerate(a.paragraphs) if i not in removed]
        rest = "\n".join([a.display_title] + [p["text"] for p in left])
        kept.append(Article(a.title, left))
        for i in sorted(removed):
            p = a.paragraphs[i]
            for qa in p["qas"]:
                answers = _valid_answers(p["text"], qa)
                if answers and not any(x["text"] in rest for x in answers):
                    negatives.append({"id": qa["id"] + "-gone", "lang": "ja", "question": qa["question"],
                                      "history": [], "answerable": False, "gold_spans": [], "answer_keys": [],
                                      "answers": [], "article": a.title})
    return kept, negatives

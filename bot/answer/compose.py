"""Writing the answer text: the chosen source sentences with [n] markers, in the question's language.

The corpus is Japanese. An English question gets an English lead-in and the Japanese sentences
quoted as they are: a machine translation here would be an uncited claim.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from bot.answer import lists
from bot.answer.constraints import in_western_years
from bot.answer.lists import Item
from bot.answer.sentences import ScoredSentence
from bot.query.analysis import measured
from bot.results import Citation
from bot.store.index import SearchIndex

NOT_FOUND = {
    "ja": "資料の中に、この質問に答える記述は見つかりませんでした。",
    "en": "The documents do not answer this question.",
}


def location_fields(doc, start: int) -> dict:
    """Citation fields for the sentence starting at `start`: page, slide, sheet, row, OCR confidence."""
    loc = doc.locate(start) if hasattr(doc, "locate") else None
    if loc is None:
        return {}
    out = {k: v for k, v in (("page", loc.page), ("slide", loc.slide), ("sheet", loc.sheet), ("row", loc.row))
           if v is not None}
    if loc.ocr is not None:
        out["ocr_confidence"] = loc.ocr
    return out




def compose_not_found(lang: str, missing: Sequence[str] = ()) -> str:
    """The refusal; when the documents describe something close to what was asked but not the
    identifiers the question names (another edition, year or mission), it says which."""
    if not missing:
        return NOT_FOUND[lang]
    if lang == "ja":
        named = "・".join(f"「{m}」" for m in missing)
        return ("資料の中に、この質問に答える記述は見つかりませんでした。"
                f"近い記述はありますが、{named}についてのものではありません。")
    named = ", ".join(f'"{m}"' for m in missing)
    return f"The documents do not answer this question. Close passages exist, but they are not about {named}."


# What a question of each type asks for, as the partial answer names it.
ASKED = {"time": "日付・時期", "number": "数", "person": "人物", "place": "場所", "name": "名称", "org": "組織"}


def compose_partial(index: SearchIndex, chosen: list[ScoredSentence], lang: str,
                    q_info=None, what: str | None = None) -> tuple[str, list[Citation]]:
    """The documents speak about the question but do not give what it asks for (`what`, else the
    kind the question asks for): say so first, then cite what they do say."""
    if what is None:
        asked = (measured(q_info) if q_info is not None else None) or ASKED.get(getattr(q_info, "qtype", None) or "")
        if asked is None and getattr(q_info, "head", None):
            asked = q_info.head
        what = f"お尋ねの{asked}" if asked else "お尋ねの点"
    text, citations = compose_answer(index, chosen, lang)
    return f"資料には、{what}は書かれていません。関連する記述は次のとおりです。\n{text}", citations


@dataclass(frozen=True)
class Phrase:
    """The answering phrase: document offsets inside the chosen sentence at `vector_row`;
    `as_of`: the date of its source (ISO) when dated sources disagree and the newest one leads;
    `japanese`: the phrase in Japanese form when it is read from an English sentence (a date:
    February 2016 → 2016年2月); `heading`: the offsets are in the section heading above the
    sentence's passage (a length or date only the heading states)."""
    vector_row: int
    start: int
    end: int
    as_of: str | None = None
    japanese: str | None = None
    heading: bool = False


def japanese_date(iso: str) -> str:
    """2019-09-24 → 2019年9月24日 (2019-09 → 2019年9月, 2019 → 2019年)."""
    parts = [int(x) for x in iso.split("-")]
    return "".join(f"{v}{unit}" for v, unit in zip(parts, ("年", "月", "日"), strict=False))


def compose_answer(index: SearchIndex, chosen: list[ScoredSentence], lang: str,
                   phrase: Phrase | None = None, verdict: str | None = None,
                   listed: Sequence[Item] | None = None) -> tuple[str, list[Citation]]:
    """The sentences with [n] markers; a Japanese answer to a question asking for a time, number,
    name or place leads with that phrase (「1993年です。[1]」), and its citation carries its span;
    a yes/no question's `verdict` ("yes" / "no", settled by the first sentence) leads 「はい。[1]」 /
    「いいえ。[1]」. A list question's answer leads with every item (`listed`), each sentence they
    come from cited (「宇宙利用、宇宙技術、宇宙教育です。[1][2]」), its citations spanning their items."""
    citations: list[Citation] = []
    parts: list[str] = []
    lead = ""
    rows = {s.vector_row: n for n, s in enumerate(chosen, 1)}
    if listed:
        names = [i.text for i in listed]
        each = lists.marked(listed, names, rows)
        marks = "".join(f"[{n}]" for n in sorted({rows[i.key] for i in listed}))
        lead = f"{lists.joined_ja(each)}です。" if each else f"{lists.joined_ja(names)}です。{marks}"
    for n, s in enumerate(chosen, 1):
        p = index.passages[s.passage_row]
        d = index.documents[p.doc_id]
        sentence = d.text[s.start:s.end]
        span = section_span = None
        mine = [i for i in listed or () if i.key == s.vector_row and s.start <= i.start]
        if mine:
            span = (min(i.start for i in mine) - p.start, max(i.end for i in mine) - p.start)
        if phrase is not None and phrase.vector_row == s.vector_row:
            if phrase.heading:
                at = d.text.rfind(p.section, 0, p.start)
                section_span = (phrase.start - at, phrase.end - at)
            else:
                span = (phrase.start - p.start, phrase.end - p.start)
            when = f"（{japanese_date(phrase.as_of)}時点）" if phrase.as_of else ""
            stated = d.text[phrase.start:phrase.end]
            # A 和暦 date is stated in both forms: 平成27年9月（2015年9月）.
            also = phrase.japanese or in_western_years(stated)
            lead = f"{stated}{f'（{also}）' if also else ''}です{when}。[{n}]"
        citations.append(Citation(
            n=n, chunk_id=p.chunk_id, doc_id=p.doc_id, title=d.title, url=d.url, section=p.section,
            text=p.text, highlight=(s.start - p.start, s.end - p.start), answer_span=span,
            section_span=section_span, score=round(s.score, 6), date=getattr(d, "date", None),
            **location_fields(d, s.start)))
        parts.append(f"{sentence}[{n}]" if lang == "ja" else f"「{sentence}」[{n}]")
    if verdict and not lead:
        lead = {"yes": "はい。[1]", "no": "いいえ。[1]"}[verdict]
    if lang == "ja":
        return "\n".join([lead] + parts if lead else parts), citations
    return "The documents (in Japanese) say:\n" + "\n".join(parts), citations

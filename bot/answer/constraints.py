"""The identifiers a question names must hold in the evidence that answers it.

Visitors ask about a topic the pages cover for a detail they may not state: the 20th meeting of a
series whose 21st the page describes, a year the page does not mention, a mission the page never
names. Retrieval then finds the sibling, and an answer read off it would be confidently wrong.
So the identifiers of a question are read out of it and checked against a candidate sentence:

- edition numbers (第21回, APRSAF-21, 21st, third round) must appear in the sentence, its section
  heading, its document's title or the document's opening lines (where a page states its subject);
  years (西暦 or 和暦: 平成27年 is 2015) anywhere in the sentence's document;
- codes (BIRDS-3, NG-11) likewise, as written or as their name beside the edition number;
- names (Latin-script words such as LUPEX, and Sudachi's proper nouns written in katakana such as
  アルテミス) must appear somewhere in the sentence's document; so must the series an edition number
  belongs to (第27回宇宙開発戦略本部: a page about the 27th APRSAF does not describe it), which a
  question names as a proper name even when it is written in common kanji words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from bot.query.analysis import morpheme_toks

# Western year = era year + offset.
ERAS = {"明治": 1867, "大正": 1911, "昭和": 1925, "平成": 1988, "令和": 2018}
_ERA_YEAR = re.compile(r"(明治|大正|昭和|平成|令和)\s*(元|[0-9]{1,2})\s*年")
_YEAR = re.compile(r"(?<![0-9])((?:1[89]|20)[0-9]{2})(?![0-9])")
# Edition numbers: 第21回, 第3弾, 21回目, 今次21回, 21st.
_EDITION_JA = re.compile(r"第\s*([0-9]{1,3})\s*(?:回|弾|期|次|号機?)|(?<![0-9])([0-9]{1,3})\s*回目")
_EDITION_CTX = re.compile(r"第\s*([0-9]{1,3})|(?<![0-9.])([0-9]{1,3})\s*回(?:目|会合|大会|会議|総会)")
_ORDINAL_EN = re.compile(r"(?<![0-9])([0-9]{1,3})(?:st|nd|rd|th)\b(?!\s+(?:century|centuries|birthday))", re.I)
_ORDINAL_WORDS = {"second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
                  "ninth": 9, "tenth": 10}
_ORDINAL_NOUNS = r"(?:round|meeting|session|call|conference|selection|edition|forum|workshop)"
_ORDINAL_WORD = re.compile(r"\b(" + "|".join(_ORDINAL_WORDS) + r")\s+" + _ORDINAL_NOUNS, re.I)
# A code: Latin letters joined to a number (APRSAF-21, BIRDS-3, NG-11, H3).
_CODE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,12})[-‐\s]?([0-9]{1,3})(?![0-9])")
_LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[-.&][A-Za-z0-9]+)*")
# How much of a document's beginning states its date and subject (a press release's date line).
HEADER_CHARS = 200
# Latin words of a Japanese question that are grammar or units rather than names.
_LATIN_STOP = {"cm", "km", "kg", "mm", "m", "g", "t", "s", "no", "vs", "etc", "u"}


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def flat(text: str) -> str:
    """Case-folded NFKC text without spaces, hyphens and middle dots: for matching names."""
    return re.sub(r"[\s\-‐・･.]", "", _nfkc(text)).lower()


def years(text: str) -> set[int]:
    """Years a text mentions, 和暦 converted (平成27年 → 2015)."""
    t = _nfkc(text)
    out = {int(m.group(1)) for m in _YEAR.finditer(t)}
    for m in _ERA_YEAR.finditer(t):
        out.add(ERAS[m.group(1)] + (1 if m.group(2) == "元" else int(m.group(2))))
    return out


def in_western_years(text: str) -> str | None:
    """`text` with each 和暦 year written as its 西暦 year (平成27年9月 → 2015年9月); None when it
    has none."""
    t = _nfkc(text)
    out = _ERA_YEAR.sub(lambda m: f"{ERAS[m.group(1)] + (1 if m.group(2) == '元' else int(m.group(2)))}年", t)
    return out if out != t else None


def _context_editions(text: str, codes: bool = True) -> set[int]:
    """Edition numbers a text states (第21回, 21回目, 21st, third round), and with `codes` the
    numbers of its codes too (APRSAF-21 is the 21st APRSAF)."""
    t = _nfkc(text)
    out = {int(a or b) for a, b in _EDITION_CTX.findall(t)}
    out |= {int(n) for n in _ORDINAL_EN.findall(t)}
    out |= {_ORDINAL_WORDS[w.lower()] for w in _ORDINAL_WORD.findall(t)}
    if codes:
        out |= {int(n) for name, n in _CODE.findall(t) if name.isupper()}
    return out


@dataclass
class Identifiers:
    years: set[int] = field(default_factory=set)
    editions: set[int] = field(default_factory=set)
    codes: set[tuple[str, int]] = field(default_factory=set)  # (lower-cased name, number)
    names: set[str] = field(default_factory=set)  # flattened
    shown: dict[str, str] = field(default_factory=dict)  # a name's flattened form → as the question writes it

    def __bool__(self) -> bool:
        return bool(self.years or self.editions or self.codes or self.names)


# A year that frames the question rather than naming what it asks about (2024年の時点で, as of 2004).
_FRAME_YEAR = re.compile(r"(?:[0-9]{4}|(?:明治|大正|昭和|平成|令和)\s*(?:元|[0-9]{1,2}))\s*年?\s*(?:の時点|時点|現在)"
                         r"|\bas of\s+(?:\w+\s+)?[0-9]{4}", re.I)


def identifiers(question: str, lang: str, tokenizer=None) -> Identifiers:
    """The identifiers a question names. `tokenizer` (Sudachi) finds proper nouns in Japanese."""
    q = _nfkc(question)
    ids = Identifiers(years=years(q) - years(" ".join(m.group(0) for m in _FRAME_YEAR.finditer(q))))
    for a, b in _EDITION_JA.findall(q):
        ids.editions.add(int(a or b))
    ids.editions |= {int(n) for n in _ORDINAL_EN.findall(q)}
    ids.editions |= {_ORDINAL_WORDS[w.lower()] for w in _ORDINAL_WORD.findall(q)}
    for name, n in _CODE.findall(q):
        if not name.isupper() or name.lower() in _LATIN_STOP or int(n) in ids.years:
            continue  # "in 2019", "size 3": a word before a number is no code
        ids.codes.add((name.lower(), int(n)))
    coded = {c for c, _ in ids.codes}
    rest = _CODE.sub(lambda m: " " if m.group(1).lower() in coded else m.group(0), q)
    if lang == "ja":
        for w in _LATIN_WORD.findall(rest):
            # (OOOO, XXX: a blank to fill in, not a name)
            if w.lower() not in _LATIN_STOP and w.lower() not in coded and not w.isdigit() and len(w) > 1 \
                    and len(set(w.lower())) > 1:
                ids.names.add(flat(w))
                ids.shown[flat(w)] = w
        if tokenizer is not None:
            for w in _series(q, tokenizer):
                ids.names.add(flat(w))
                ids.shown.setdefault(flat(w), w)
            for m in tokenizer.morphemes(q):
                pos = m.part_of_speech()
                s = m.surface()
                # Places are written many ways (カナダ, 日加, 加): only other proper nouns count.
                # A surname (若田宇宙飛行士) names one person; kanji given names and other kanji
                # proper nouns are too often common words Sudachi reads as names (宇宙).
                if pos[1] == "固有名詞" and pos[2] != "地名" and len(s) > 1 \
                        and (all("\u30a0" <= ch <= "\u30ff" for ch in s)
                             or pos[2:4] == ("人名", "姓") and all("\u4e00" <= ch <= "\u9fff" for ch in s)):
                    ids.names.add(flat(s))
                    ids.shown[flat(s)] = s
    else:
        # English: acronyms are written the same in Japanese pages (JAXA, DLR, LUPEX).
        # (Two-letter ones are mostly country and unit abbreviations that Japanese writes its own way: US.)
        for w in re.findall(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]{2,}(?![A-Za-z0-9])", rest):
            if w.lower() not in coded and not w.isdigit():
                ids.names.add(flat(w))
                ids.shown[flat(w)] = w
    return ids


def _noun_run(toks, step: int) -> str:
    """The nouns next to an edition number, read away from it (`step` -1: before, 1: after), up to
    the first word that is not a noun or is a numeral."""
    run = []
    ordered = toks[::step]
    for k, t in enumerate(ordered):
        if t.pos[0] not in ("名詞", "接尾辞") and not re.fullmatch(r"[A-Za-z][A-Za-z0-9\-]*", t.surface) \
                or t.pos[1] in ("数詞", "代名詞"):
            break
        # a counter belongs to its number (2006年ラオスの第6期: the series is ラオス)
        if step < 0 and k + 1 < len(ordered) and ordered[k + 1].pos[1] == "数詞":
            break
        run.append(t.surface)
    return "".join(run[::step])


def _series(q: str, tokenizer) -> list[str]:
    """The series each edition number of a Japanese question belongs to: the nouns right before it
    (BIRDSプロジェクト第3弾の衛星, KiboCUBEの第4回), else the nouns after it (第27回宇宙開発戦略本部,
    第22回のAPRSAF)."""
    out = []
    for m in _EDITION_JA.finditer(q):
        before = morpheme_toks(q[:m.start()], tokenizer)
        if before and before[-1].surface == "の":
            before = before[:-1]
        after = morpheme_toks(q[m.end():], tokenizer)
        if after and after[0].surface == "の":
            after = after[1:]
        run = next((r for r in (_noun_run(before, -1), _noun_run(after, 1)) if len(r) > 1), None)
        if run:
            out.append(run)
    return out


@dataclass
class Context:
    """What a sentence is read with: its own text, section, document title and opening, and the
    whole document (for names)."""
    near: str
    document: str

    @classmethod
    def of(cls, sentence: str, section: str, title: str, doc_text: str, url: str | None = None) -> Context:
        # A page's address often carries its date (/press/2004/11/…).
        return cls(near="\n".join((sentence, section or "", title or "", doc_text[:HEADER_CHARS])),
                   document="\n".join((title or "", url or "", doc_text)))


@dataclass
class Check:
    ok: bool
    missing: list[str] = field(default_factory=list)


def check(ids: Identifiers, ctx: Context, flat_document: str | None = None, lang: str = "ja",
          common=lambda name: False, forms=lambda name: {name}) -> Check:
    """Whether every identifier of the question holds in a sentence's context; `missing` lists the
    ones that do not, as a reader would write them. `common(name)` is true for a name most of the
    corpus's documents carry (the publisher's own): it says nothing about a particular page.
    `forms(name)`: the name's flattened forms, its Japanese terms included (LDP → 自民党); a page
    must carry one of them. An English question's acronym that neither the corpus nor its term
    table knows (HTV-XG in a corpus without it) names something the documents are not about.

    A year may stand anywhere in the document: questions use years as a frame too (2004年の時点で).
    """
    if not ids:
        return Check(True)
    missing: list[str] = []
    doc_years = years(ctx.document)
    missing += [f"{y}年" if lang == "ja" else str(y) for y in sorted(ids.years - doc_years)]
    editions = _context_editions(ctx.near)
    missing += [f"第{e}回" if lang == "ja" else f"No. {e}" for e in sorted(ids.editions - editions)]
    near_flat = flat(ctx.near)
    ordinal = _context_editions(ctx.near, codes=False)
    doc_flat = flat_document if flat_document is not None else flat(ctx.document)
    for name, n in sorted(ids.codes):
        if f"{name}{n}" in near_flat or (name in near_flat and n in ordinal):
            continue
        # An English question's code may sit in another sentence of a Japanese page that answers it
        # (ISO/TC 176): the document must carry it.
        if lang != "ja" and f"{name}{n}" in doc_flat:
            continue
        missing.append(f"{name.upper()}-{n}")
    missing += [ids.shown.get(w, w) for w in sorted(ids.names)
                if not common(w) and not any(_carries(a, doc_flat, ctx.document if lang != "ja" else None)
                                             for a in forms(w))]
    return Check(not missing, missing)


# An English question's acronym this short is found inside longer words once spaces are gone
# (ASI in Asia, ESA in research): it must stand as a word of its own. (A Japanese question's Latin
# word may be cut short, DP for GDP, and is matched as written.)
MAX_ACRONYM = 5


def _carries(form: str, doc_flat: str, document: str | None) -> bool:
    """Whether a document carries a name's flattened `form`; with `document` (its text), a short
    acronym only as a word."""
    if form not in doc_flat:
        return False
    if document is None or len(form) > MAX_ACRONYM or not re.fullmatch(r"[a-z0-9]+", form):
        return True
    word = re.compile(rf"(?<![A-Za-z0-9]){re.escape(form)}(?![A-Za-z0-9])", re.I)
    return bool(word.search(document) or word.search(_nfkc(document)))

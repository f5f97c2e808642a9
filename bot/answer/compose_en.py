"""The answer to an English question, composed from the cited sentences without pretending to
translate them (no translation model exists offline; a made-up translation would be an uncited
claim):

1. one English sentence per question type (when / how many / who / where / what) stating the
   answer phrase where it can be given in English faithfully — years, dates, numbers with their
   unit, Latin-script names and acronyms, romanised Japanese names, loanwords' English spellings —
   with its citation marker; otherwise what the cited sentence is about, in the glossary's words;
2. the cited sentences as they are, each labelled with its source language;
3. a glossary of the Japanese sentences' key words (dictionary glosses, labelled as such).

Sentences from English documents are quoted as the answer itself.
"""

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lemminflect import getAllLemmas

from bot.answer import kinds, lists
from bot.answer.compose import location_fields
from bot.answer.lists import Item
from bot.answer.phrase import TIME_WORD
from bot.answer.sentences import ScoredSentence
from bot.query.analysis import MONEY
from bot.results import Citation
from bot.store.index import SearchIndex
from bot.store.termtable import romaji, spells_reading
from bot.text.analyser import Tokenizer

GLOSSARY_HEADING = "Glossary (dictionary glosses of words in the quoted Japanese; not a translation):"
MAX_GLOSSARY = 8
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
ERAS = {"明治": "Meiji", "大正": "Taishō", "昭和": "Shōwa", "平成": "Heisei", "令和": "Reiwa"}
ERA_START = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}
# Counters and units → English. Only those whose meaning is unambiguous.
UNITS = {
    "人": "people", "名": "people", "年": "years", "年間": "years", "か月": "months", "ヶ月": "months",
    "カ月": "months", "日": "days", "日間": "days", "時間": "hours", "分": "minutes", "秒": "seconds",
    "回": "times", "か所": "places", "ヶ所": "places", "カ所": "places", "箇所": "places", "種類": "kinds",
    "社": "companies", "校": "schools", "巻": "volumes", "部": "copies", "曲": "pieces", "歳": "years old",
    "才": "years old", "件": "cases", "基": "units", "台": "units", "機": "aircraft", "隻": "ships",
    "か国": "countries", "ヶ国": "countries", "カ国": "countries", "階": "floors", "倍": "times",
    "%": "%", "％": "%", "パーセント": "percent", "℃": "°C", "°C": "°C", "度": "degrees", "km": "km", "m": "m",
    "cm": "cm", "mm": "mm", "kg": "kg", "t": "t", "トン": "tonnes", "円": "yen", "ドル": "dollars",
    "メートル": "metres", "キロメートル": "kilometres", "世紀": "century", "番": "number", "号": "number",
    "条": "article", "位": "place", "文字": "characters", "字": "characters", "語": "words",
}
_SPANS = {"years", "months", "days", "hours", "minutes", "seconds"}
_SCALE = {"万": 10_000, "億": 100_000_000, "千": 1000, "百万": 1_000_000}
_NUM = r"[0-9０-９][0-9０-９,，.．]*"
_DATE = re.compile(r"(?:(明治|大正|昭和|平成|令和)\s*(\d{1,2}|元)年|(\d{3,4})年(代)?)(?:(\d{1,2})月(?:(\d{1,2})日)?)?"
                   r"|(\d{1,2})月(\d{1,2})日|(\d{1,2})世紀")
_QUANTITY = re.compile(r"(約|およそ|最大|最低|少なくとも)?(" + _NUM + r")\s*(百万|万|億|千)?\s*("
                       + "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True)) + r")?"
                       r"(以上|以下|未満|超|余り)?")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9&.\-/]*(?:[ ・][A-Z][A-Za-z0-9&.\-]*)*")
_KATAKANA = re.compile(r"^[\u30a0-\u30ffー・＝]+$")
_RANGE = re.compile(r"((?:明治|大正|昭和|平成|令和)?\d{1,4}年(?:代)?(?:\d{1,2}月(?:\d{1,2}日)?)?)"
                    r"\s*(?:から|-|–|〜|~)\s*"
                    r"((?:明治|大正|昭和|平成|令和)?\d{1,4}年(?:代)?(?:\d{1,2}月(?:\d{1,2}日)?)?)")
_BARE_YEAR = re.compile(r"(?<![0-9.,])(?:1[0-9]{3}|20[0-9]{2})(?![0-9.,年月日%])")
_CLOCK = re.compile(r"(?<![0-9])(\d{1,2})時(?:(\d{1,2})分)?|(?<![0-9])(\d{1,2}):(\d{2})(?![0-9])")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_MEASURES = {"%", "°C", "km", "m", "cm", "mm", "kg", "t", "degrees", "metres", "kilometres", "tonnes", "percent"}
_MEASURE_WORDS = re.compile(r"\b(temperature|percent|percentage|share|rate|far|distance|long|high|height|deep|"
                            r"depth|wide|width|area|size|weigh|weight|cm|km|mm|metres?|meters?|degrees?|"
                            r"literacy|snowfall|rainfall|price|cost|yen|dollars?)\b", re.I)


# Phrases of an English sentence that answer a question of each type.
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|" \
         r"Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sep\.?|Sept\.?|Oct\.?|Nov\.?|Dec\.?)"
_EN_DATES = (re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\s+\d{{4}}\b"),
             re.compile(rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"),
             re.compile(rf"\b{_MONTH}\s+\d{{4}}\b"),
             re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\b|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b"),
             re.compile(r"\b(?:1[89]|20)\d{2}\b"))
_NUMBER_WORDS = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|" \
                r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|" \
                r"hundred|thousand)(?:-(?:one|two|three|four|five|six|seven|eight|nine))?"
# A number with the noun it counts, or a multiple (threefold, 3-fold), which counts nothing.
_EN_QUANTITY = re.compile(r"\b(?:(?:more than|over|about|approximately|around|nearly|almost|close to|at least|"
                          r"up to|some)\s+)?(?:(?:\d+-|" + _NUMBER_WORDS + r"-?)fold\b|"
                          r"(?:\d[\d,.]*\s*(?:%|percent\b)?|" + _NUMBER_WORDS + r"\b)"
                          r"(?:\s+(?:million|billion|thousand|hundred))?(?:\s+[a-z]+)?)", re.I)
_CAPS = r"[A-Z][\w'’&.-]*"
# A name's words are capitalised; the small words joining them (of, de, del, and) only stand
# between two of its words, as whole words ("de" is not the start of "developed").
_EN_NAME = re.compile(rf"(?:(?:Mr|Ms|Mrs|Dr|Prof)\.\s+)?{_CAPS}(?:(?:\s+(?:of|de|del|for|the|and)\b)*\s+{_CAPS})*"
                      rf"(?:\s*\({_CAPS}\))?")
# (a venue with the city it is in: "at JAXA Headquarters in Tokyo")
_EN_PLACE = re.compile(rf"\b(?:in|at|from)\s+((?:the\s+)?{_CAPS}(?:\s+{_CAPS})*(?:,\s*{_CAPS}(?:\s+{_CAPS})*)?"
                       rf"(?:\s+in\s+(?!{_MONTH}){_CAPS}(?:\s+{_CAPS})*)?)")
_PEOPLE = {"people", "persons", "participants", "attendees", "delegates", "members", "experts", "students"}
_PEOPLE_STEMS = {w.rstrip("s")[:5] for w in _PEOPLE}
_EN_STOP = {"the", "a", "an", "on", "in", "at", "this", "that", "these", "it", "its", "they", "we", "he", "she",
            "after", "before", "since", "according", "with", "for", "to", "and", "of", "as", "by", "from"}


@dataclass(frozen=True)
class _Asked:
    """An English question as the phrase extractors read it."""
    qtype: str
    question: str
    words: set[str]  # lower case
    numbers: set[str]
    side: set[str]  # lower case: the party asked about (on behalf of JAXA)

    @classmethod
    def of(cls, question: str, qtype: str, side: str | None = None) -> "_Asked":
        party = side or (asked_side(question) if qtype == "who" else None)
        return cls(qtype, question, {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9\-]*", question)},
                   set(re.findall(r"[0-9]+", question)), set(party.lower().split()) if party else set())


Found = list[tuple[int, int, str]]  # (priority, position, phrase)


def _en_dates(sentence: str, q: _Asked) -> Found:
    """Dates, the most specific first; one inside another is not a candidate of its own."""
    found: Found = []
    taken: list[tuple[int, int]] = []
    for prio, rx in enumerate(_EN_DATES):
        for m in rx.finditer(sentence):
            if any(a <= m.start() < b for a, b in taken) or set(re.findall(r"[0-9]+", m.group(0))) <= q.numbers:
                continue
            taken.append((m.start(), m.end()))
            found.append((prio, m.start(), m.group(0)))
    return found


def _en_quantities(sentence: str, q: _Asked) -> Found:
    """Numbers with what they count, first those counting what the question names."""
    found: Found = []
    dates = [m.span() for rx in _EN_DATES[:4] for m in rx.finditer(sentence)]
    for m in _EN_QUANTITY.finditer(sentence):
        text = m.group(0).strip()
        nums = re.findall(r"[0-9]+", text)
        if nums and (set(nums) <= q.numbers or re.fullmatch(r"(?:1[89]|20)\d{2}", nums[0])) \
                or any(a <= m.start() < b for a, b in dates):
            continue  # a number the question gives, a year, or a day of a date (November 6)
        last = text.split()[-1].lower()
        if last in _EN_STOP:
            text = text.rsplit(" ", 1)[0]
        # The counted noun the question names (years, proposals; "111 member organizations") or,
        # for people, any noun for them.
        nouns = [w.lower().rstrip("s") for w in [text.split()[-1]] + re.findall(r"[A-Za-z]+", sentence[m.end():])[:2]]
        counted = any(n in {w.rstrip("s") for w in q.words} or (
            bool(q.words & _PEOPLE) and n + "s" in _PEOPLE | {"peoples"}) for n in nouns[:1 + (not text[-1].isalpha())])
        # Or the amount of the question's verb, written right after it (increased threefold).
        verb = re.search(r"([A-Za-z]+)\s*$", sentence[:m.start()])
        stems = {w[:5] for w in q.words if len(w) > 4}
        counted = counted or bool(verb and len(verb.group(1)) > 4 and verb.group(1).lower()[:5] in stems)
        found.append((0 if counted else 1, m.start(), text))
    return found


def _en_places(sentence: str, q: _Asked) -> Found:
    """A capitalised name after in / at / from that the question does not name itself; after
    "from" (Mr. Tanigaki from JAXA: where a person is from) only first when the question asks
    "from where"."""
    found: Found = []
    origin = "from" in q.words
    for m in _EN_PLACE.finditer(sentence):
        place = re.sub(r"(?<=[a-z]{2})\.$", "", m.group(1))  # the sentence's full stop, not U.S.
        if place.lower().removeprefix("the ") in q.words or re.match(_MONTH, place):
            continue
        found.append((int(m.group(0).lower().startswith("from") != origin), m.start(1), place))
    return found


# Words that make a capitalised phrase a place or a body rather than a person.
_NOT_PERSON = {"headquarters", "agency", "office", "university", "center", "centre", "administration", "institute",
               "secretariat",
               "ministry", "council", "forum", "committee", "organization", "organisation", "station", "program",
               "programme", "project", "government", "department", "association", "society", "conference",
               "meeting", "workshop", "session", "statement", "arrangement", "agreement", "nations", "states"}
# The role a who-question asks the holder of (who serves as the executive secretariat).
_ROLE = re.compile(r"\bwho\s+(?:\w+\s+)?(?:serves?|served|acts?|acted|works?|worked|functions?|is|was|are|were)"
                   r"\s+as\s+(?:the\s+|an?\s+)?([a-z][a-z\s-]*)", re.I)
# Titles before a person's name: not part of it.
_TITLES = {"president", "administrator", "director", "general", "chairman", "chair", "chairperson", "minister",
           "prime", "ambassador", "executive", "vice", "deputy", "chief", "head", "secretary", "governor",
           "commissioner", "senior", "his", "her", "excellency", "h.e", "h.e.", "astronaut", "professor"}


def person_like(name: str) -> bool:
    """Whether an English name may be a person's: two words or more, none naming a body or a
    place (NASA's Artemis program is not one), and one that is no English word (Pippo, Tanigaki:
    Human Space Technology Initiative is all English words)."""
    words = [re.sub(r"['’]s?$", "", w.lower().strip("().,")) for w in name.split()]
    return len(words) >= 2 and not _NOT_PERSON & set(words) and any(not getAllLemmas(w) for w in words)


def _people(name: str, q: _Asked) -> list[tuple[int, str, set[str]]]:
    """A capitalised phrase as a who-question reads it: names joined by "and" apart, the title and
    the question's own words before a name left out (JAXA President Naoki Okumura → Naoki Okumura),
    with those words (lower case)."""
    out = []
    offset = 0
    for part in re.split(r"(\s+and\s+)", name):
        if part.strip() == "and" or not part.strip():
            offset += len(part)
            continue
        words = part.split()
        i = 0
        while i < len(words) - 1 and (words[i].lower().strip("().,") in _TITLES
                                      or words[i].lower().strip("().,") in q.words):
            i += 1
        kept = " ".join(words[i:])
        if kept[:1].islower():
            offset += len(part)
            continue  # a title with no name (Chair of Executive Board)
        out.append((offset + part.index(words[i]) if words else offset, kept,
                    {w.lower().strip("().,") for w in words[:i]}))
        offset += len(part)
    return out


def _en_names(sentence: str, q: _Asked) -> Found:
    """Capitalised names, first those containing the question's head noun (which X); a person's
    name of two words or more before one word."""
    found: Found = []
    # The head noun: the word after which / what, or the next one (which Indonesian university);
    # a capitalised first word names what the head belongs to (which NASA program), not the head.
    which = re.search(r"\b(?:[Ww]hich|[Ww]hat)\s+([A-Za-z]+)(?:\s+([A-Za-z]+))?", q.question)
    first, second = which.groups() if which else (None, None)
    heads = {w.lower() for w in (first, second) if w and (w[0].islower() or w is second)} - _EN_STOP - _NOT_COUNTED
    acronyms = set(re.findall(r"\b([A-Z]{2,})(?:-?[0-9]+)?\b", q.question))
    # Asked who serves as a body (the secretariat, the host agency), an organisation answers.
    role = _ROLE.search(q.question)
    people = q.qtype == "who" and not (role and set(role.group(1).lower().split()) & _NOT_PERSON)
    # The holder is named before the role the sentence gives it (JAXA … as the executive secretariat).
    held = re.search(r"\b" + r"\s+".join(role.group(1).split()[:2]), sentence, re.I) if role else None
    for m in _EN_NAME.finditer(sentence):
        names = _people(m.group(0).strip(), q) if q.qtype == "who" else [(0, m.group(0).strip(), set())]
        for at, name, before in names:
            name = re.sub(r"['’]s?$", "", name)
            words = [re.sub(r"['’]s?$", "", w.lower().strip("().,")) for w in name.split()]
            if m.start() + at == 0 and words[0] in _EN_STOP or all(w in q.words or w in _EN_STOP for w in words) \
                    or re.fullmatch(_MONTH, name) or _initials(name) in acronyms:
                continue  # the question's own words, or what its acronym stands for
            # The head noun (which program) in the name or right after it (NASA's Artemis program).
            after = re.match(r"\s*([a-z]+)", sentence[m.start() + at + len(name):])
            prio = 0 if heads & (set(words) | {after.group(1) if after else ""}) else 1
            if people and not person_like(name):
                continue  # asked who, a body's or a programme's name is no answer
            if held and m.start() + at > held.start():
                prio += 1
            # Another party's person (NASA Administrator …, Mr. Tan from SSTA).
            end = m.start() + at + len(name)
            party_after = re.match(r"\s*(?:\(|,?\s*(?:from|of)\s+(?:the\s+)?)([A-Z][\w&.\-]*)", sentence[end:])
            if q.side and not (q.side <= before or party_after and party_after.group(1).rstrip(".").lower() in q.side):
                prio += 1
            found.append((prio, m.start() + at, name))
    return found


_QUOTED = re.compile(r"[“\"]([^”\"]{3,160})[”\"]")


def _en_quoted(sentence: str, q: _Asked) -> Found:
    """A quoted title in a sentence that names what the question asks for (The theme is “…”)."""
    named = any(len(w) > 3 and re.search(rf"\b{re.escape(w)}\b", sentence, re.I) for w in q.words - _EN_STOP)
    return [(0, m.start(1), m.group(1).strip()) for m in _QUOTED.finditer(sentence) if named]


def _en_things(sentence: str, q: _Asked) -> Found:
    return _en_quoted(sentence, q) + _en_names(sentence, q)


_EN_EXTRACTORS = {"when": _en_dates, "how many": _en_quantities, "where": _en_places, "who": _en_names,
                  "what": _en_things}


def english_phrases(sentence: str, qtype: str, question: str, side: str | None = None) -> Found:
    """The phrases of an English sentence that answer an English question of type `qtype` (a
    date, a quantity, a place after in/at, a person's or organisation's name, a quoted title), best
    first: by how well they fit what is asked, then nearest to the question's own words. `side`:
    the party asked about when the question is not English (JAXA側), else read from it."""
    extract = _EN_EXTRACTORS.get(qtype)
    q = _Asked.of(question, qtype, side)
    found = extract(sentence, q) if extract is not None else []
    anchors = [m.start() for w in q.words if len(w) > 3 for m in re.finditer(re.escape(w), sentence, re.I)]
    found.sort(key=lambda c: (c[0], min((abs(c[1] - a) for a in anchors), default=c[1])))
    return found


def english_phrase(sentence: str, qtype: str, question: str, side: str | None = None) -> str | None:
    """The best of `english_phrases`; None when the sentence has none of that kind."""
    found = english_phrases(sentence, qtype, question, side)
    return found[0][2] if found else None


# A Japanese question's asked type (bot/query/analysis.py) as the English finder's question type.
ENGLISH_TYPE = {"time": "when", "number": "how many", "place": "where", "person": "who", "org": "what",
                "name": "what"}
_MONTH_NUMBER = {m[:3].lower(): i for i, m in enumerate(MONTHS, 1)}
_DATE_PARTS = (re.compile(rf"^(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\s+(\d{{4}})$"),
               re.compile(rf"^({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})$"),
               re.compile(rf"^({_MONTH})\s+(\d{{4}})$"))


def counted_noun(question: str) -> str | None:
    """The noun "how many X" counts (applications), or None."""
    m = re.search(r"how many\s+([a-z]+)", question.lower())
    return m.group(1) if m is not None and m.group(1) not in _NOT_COUNTED else None


def gives_asked(sentence: str, at: int, phrase: str, question: str) -> bool:
    """Whether `phrase` (at `at` in the English `sentence`) is the quantity an English question
    asks for: an amount of money carries its currency; "how many X" counts X (the noun in the
    phrase or among the three words after it)."""
    kind, counter = japanese_kind(question)
    if kind != "number":
        return True
    if counter == MONEY:
        return bool(_CURRENCY.search(sentence[max(at - 2, 0): at + len(phrase) + 12]))
    noun = counted_noun(question)
    if noun is None:
        return True
    stem = noun.rstrip("s")[:5]
    near = re.findall(r"[A-Za-z]+", phrase) + re.findall(r"[A-Za-z]+", sentence[at + len(phrase):])[:3]
    return any(stem in w.lower() for w in near) or stem in _PEOPLE_STEMS and any(
        w.lower().rstrip("s")[:5] in _PEOPLE_STEMS for w in near)


# Anything a sentence could date an event with: a digit (not a name's: DubaiSat-1), a
# kanji-numeral date, a time word (終戦前, 江戸時代, 当時, 昨年), a month's name.
_DATE_LIKE = re.compile(r"(?<![A-Za-z])(?<![A-Za-z][-‐])[0-9０-９]|[一二三四五六七八九十]\s*[年月日]|元年|前|後|翌|"
                        + TIME_WORD.pattern + r"|本日|昨年|今年|来年|昨日|先日|同日"
                        r"|\b(?:today|yesterday|tomorrow|before|after|since|until|during|century|era|period"
                        r"|Jan(?:uary)?|Feb(?:ruary)?|March|April|May|June|July"
                        r"|Aug(?:ust)?|Sep(?:tember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b")
# A question that asks when (not "what happens when …").
_ASKS_WHEN = re.compile(r"\s*(?:(?:since|until|till)\s+)?when\b|.*\b(?:in|on|by)\s+(?:what|which)\s+"
                        r"(?:year|month|date|day)\b|\s*what\s+(?:year|date|day)\b", re.I)


def undated(sentence: str) -> bool:
    """Whether a sentence states no date or time in any form: it cannot say when."""
    return _DATE_LIKE.search(sentence) is None


def asks_when(question: str) -> bool:
    return _ASKS_WHEN.match(question) is not None


def japanese_date_of(phrase: str) -> str | None:
    """An English date in Japanese form (3rd March 2018 → 2018年3月3日, February 2016 → 2016年2月),
    or None when `phrase` is no full date with its year."""
    for rx in _DATE_PARTS:
        m = rx.match(phrase.strip())
        if m is None:
            continue
        parts = m.groups()
        month = next(_MONTH_NUMBER[p[:3].lower()] for p in parts if p[0].isalpha())
        year = next(p for p in parts if p.isdigit() and len(p) == 4)
        day = next((p for p in parts if p.isdigit() and len(p) < 3), None)
        return f"{int(year)}年{month}月" + (f"{int(day)}日" if day else "")
    return None


@dataclass
class Gloss:
    japanese: str
    english: str


def asked(question: str, resolved: str) -> str:
    """The question whose type the statement answers: a follow-up's own ("Where was it held?"),
    unless it asks nothing by itself ("And with the US?" asks what the previous question did)."""
    if re.search(r"\b(what|which|when|where|who|whom|whose|how|why)\b", question.lower()):
        return question
    return resolved


# "What is APRSAF?", "Tell me about cooperation with Russia": the answer is what the sentences say,
# not one phrase of them.
_DESCRIBE = re.compile(r"^\s*(?:what\s+(?:is|are|was|were)\s+(?:an?\s+|the\s+)?[^,;?]{1,40}\?\s*$"
                       r"|what\s+(?:does|do|did)\s+.{1,40}\s+do\b|tell me about|describe|explain)", re.I)
# "Who is Kawakatsu?" names the person and asks who they are (a role, a description): another
# name from the sentence is not the answer ("Who: MMX" was). "Who was the shogun…?" still asks
# for a name. Case-sensitive: the name is what is capitalised.
_WHO_IS_NAME = re.compile(r"^\s*[Ww]ho\s+(?:is|was|are|were)\s+(?!the\b|an?\b)"
                          r"[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}\s*\?*\s*$")


def question_type(question: str) -> str:
    q = question.lower()
    if re.match(r"^\s*(?:did|does|do|is|are|was|were|has|have|had|can|could|will|would|should)\b", q):
        return "describe"  # a yes/no question: what the sentences say settles it, no phrase does
    if re.match(r"^\s*(?:why\b|how\s+(?:does|do|did|is|are|was|were|can|could|will|would|has|have)\b|"
                r"in what way|for what (?:purpose|reason))", q):
        return "describe"  # a reason or a manner: the sentence that gives it, not one phrase of it
    if re.search(r"\b(when|what year|which year|what date|which date|what day|which day|what century|"
                 r"which century|since when|"
                 r"in what year|how long ago|what time|what period|from when)\b", q):
        return "when"
    if re.search(r"\b(how many|how much|how old|how long|how far|how high|how large|how big|what percentage|"
                 r"what share|what proportion|how often|what number|what temperature|at what temperature|"
                 r"at least how|at most how|about how|more than how|what is the population|"
                 r"average annual|what is the literacy|in cm|in km|what is the rate|how tall)\b", q):
        return "how many"
    # "What is the highest temperature…", "at about what water temperature…": a quantity by name.
    if re.search(r"\bwhat\b(?:\W+[\w'-]+){0,5}?\W+(temperatures?|rainfall|snowfall|population|rates?|share|"
                 r"percentage|proportion|fraction|height|length|depth|area|distance|weight|price|cost|amount|"
                 r"speed|budget|altitude|elevation)\b", q):
        return "how many"
    naming = re.search(r"\b(called|named|name|title|titled|theme|slogan|motto|nickname|abbreviat\w*|stands? for|"
                       r"short)\b", q)
    if _DESCRIBE.search(question) and not naming:
        return "describe"
    # "On what kind of frequencies…", "What is India responsible for?": a kind or a role is
    # described by a sentence, not named by one phrase of it.
    if not naming and (re.search(r"\bwhat\s+(?:kinds?|types?|sorts?)\s+of\b", q) or re.search(
            r"\bwhat\s+(?:is|are|was|were|does|do|did|will|would|can|could|might|may|should)\b.*"
            r"\b(?:for|to|with|about|on|in|of|from)\s*\?*\s*$", q)):
        return "describe"
    if _WHO_IS_NAME.match(question):
        return "describe"
    if re.search(r"\b(who|whom|whose)\b", q):
        return "who"
    if re.search(r"\b(where|which country|what country|which city|what city|which prefecture|which region|"
                 r"which state|what place|which place|which sea|which river|which lake)\b", q):
        return "where"
    # "Which astronaut…", "At which hotel…", "From which US state…": the head noun says the kind.
    return {"person": "who", "place": "where"}.get(_head_type(q) or "", "what")


def _head_type(q: str) -> str | None:
    """The kind a which / what question's head noun names (its first or second word: which
    company, which Indonesian university): "org", "place", "person", or None."""
    m = re.search(r"\b(?:which|what)\s+(\w+)(?:\s+(\w+))?", q)
    for word in (m.groups() if m else ()):
        for pattern, t in _HEAD_TYPES:
            if word and re.fullmatch(pattern, word):
                return t
    return None


# What an English question asks for, as the Japanese phrase finder's types (bot/answer/phrase.py).
_JA_TYPE = {"when": "time", "how many": "number", "who": "person", "where": "place"}
_HEAD_TYPES = (
    (r"compan(?:y|ies)|organi[sz]ations?|agenc(?:y|ies)|institutes?|institutions?|universit(?:y|ies)|"
     r"centers?|centres?|bod(?:y|ies)|ministr(?:y|ies)|committees?|teams?|firms?", "org"),
    (r"countr(?:y|ies)|cit(?:y|ies)|prefectures?|regions?|states?|venues?|places?|islands?|hotels?", "place"),
    (r"persons?|people|leaders?|ministers?|presidents?|astronauts?|officials?|scientists?", "person"),
)
# Counted nouns of "how many X" → the Japanese counters that count them.
_COUNTERS = {"people": "人", "persons": "人", "participants": "人", "employees": "人", "staff": "人",
             "members": "人", "times": "回", "countries": "箇国",
             "satellites": "機", "years": "年", "proposals": "件", "applications": "件", "cases": "件"}


# An asked quantity that is an amount of money (how much did X spend, how large is the budget).
_MONEY_ASKED = re.compile(r"\bhow much\b(?!\s+\w+er\b).*\b(?:money|spen[dt]|cost|pa(?:y|id)|invest\w*|fund\w*)\b|"
                          r"\b(?:how (?:large|big)|what)\s+(?:is|was|are|were)\s+(?:the\s+)?(?:\w+\s+)?"
                          r"(?:budget|cost|price|fee)s?\b")
# How an English sentence writes an amount of money.
_CURRENCY = re.compile(r"[$€¥£]|\b(?:dollars?|euros?|yen|pounds?|USD|EUR|JPY)\b", re.I)
# Words after "how many" that are no counted noun (How many were selected?).
_NOT_COUNTED = {"were", "was", "did", "do", "does", "have", "has", "had", "are", "is", "will", "can", "of", "more"}
_SIDE = re.compile(r"\b(?:on behalf of|for|representing|from)\s+(?:the\s+)?([A-Z][\w&.'’-]*(?:\s+[A-Z][\w&.'’-]*)*)"
                   r"\s*\?*\s*$")


def asked_side(question: str) -> str | None:
    """The party a who-question asks about when the answer's sentence names several ("Who signed
    … on behalf of JAXA?", "… for JAXA?"), or None."""
    if question_type(question) != "who":
        return None
    m = _SIDE.search(question)
    return m.group(1) if m else None


_EVENT = re.compile(r"\b(?:held|took place|take place|takes place|signed|sign|happen(?:ed|s)?|met|meet|"
                    r"organi[sz]ed|conducted|exchanged|ceremony)\b")
_DONE = re.compile(r"\b(?:was|were)\b(?:\s+\w+)*?\s+\w+(?:ed|en|wn|ght|lt)\b")
_STAYING = re.compile(r"\b(?:located|based|situated|headquartered|stay(?:ed|s)?|live[ds]?)\b")
_BEING = re.compile(r"^\s*(?:where|in which \w+|which \w+)\s+(?:is|are|was|were)\b")


def japanese_particle(question: str) -> str | None:
    """The particle a Japanese sentence writes after the place an English where-question asks
    for: から asked where from, で where something happened (held, signed, took place), に where
    something is or stays (located, based); None when the question says neither."""
    if japanese_kind(question)[0] != "place":
        return None
    q = question.lower()
    if re.search(r"\bfrom\b", q):
        return "から"
    if _EVENT.search(q):
        return "で"
    if _STAYING.search(q):
        return "に"
    # Something done to it, in the past (where were they handed over / built / found): an event.
    if _DONE.search(q):
        return "で"
    return "に" if _BEING.search(q) else None


def own_terms(terms: Sequence, question: str) -> list:
    """The terms found for the words of `question` itself, and names: a follow-up is searched
    with the previous question's terms too, whose dictionary words ask for something else
    (university in "Which university built them?") while its names may spell the topic otherwise
    (Bodhgaya for "it" put back as Bodh Gaya). All of them when none is its own."""
    said = {w.lower() for w in re.findall(r"[\w'’-]+", question)}
    return [t for t in terms if t.kind != "dictionary"
            or {w.lower() for w in re.findall(r"[\w'’-]+", t.english)} <= said] or list(terms)


_AUXILIARY = re.compile(r"\b(?:was|were|is|are|did|does|do|has|have|had|will|be|been)\b", re.I)
# "Who is JAXA's project manager for …", "Who was the president of …": the role asked the holder of.
_ROLE_ASKED = re.compile(r"^\s*(?i:who\s+(?:is|was|are|were))\s+(?:the\s+)?(?:[A-Z][\w.&-]*(?:'s|’s)\s+)?"
                         r"([a-z][a-z-]*(?:\s+[a-z][a-z-]*)?)\s*(?:\b(?:of|for|at|in|on|from)\b|\?|$)")


# "Who chaired …": verbs only the holder of a role does; the role's word as sentences write it
# (chair: chairman, co-chaired, 議長 "chairman"; presid: president, presiding).
_ROLE_VERBS = {"chair": "chair", "co-chair": "chair", "preside": "presid", "moderate": "moderator",
               "command": "commander", "direct": "director"}
_ROLE_VERB = re.compile(r"^\s*(?i:who)\s+(?:(?:has|had)\s+)?(" + "|".join(_ROLE_VERBS) + r")(?:s|d|ed)?\b(?!\s+by\b)")


def asked_role(question: str) -> str | None:
    """The role a who-question asks the holder of (project manager, president; chair for "who
    chaired"), or None."""
    m = _ROLE_ASKED.match(question)
    if m and m.group(1).split()[0] not in ("the", "a", "an"):
        return m.group(1)
    verb = _ROLE_VERB.match(question)
    return _ROLE_VERBS[verb.group(1).lower()] if verb else None


def english_predicate(question: str, terms: Sequence, tokenizer: Tokenizer) -> str | None:
    """The Japanese verb (its normalised form) of what an English question asks was done (when was
    it launched → 打ち上げる; where were they handed over → 引き渡す): a term for a word after the
    question's auxiliary that is one verb, or one verbal noun (署名) for a word in -ed; None when
    no term is one."""
    aux = _AUXILIARY.search(question)
    after = {w.lower() for w in re.findall(r"[A-Za-z]+", question[aux.end():])} if aux else set()
    for t in terms:
        words = t.english.lower().split()
        if not words or not set(words) <= after:
            continue
        morphemes = list(tokenizer.morphemes(t.surface))
        if len(morphemes) != 1:
            continue
        pos = morphemes[0].part_of_speech()
        verb = pos[0] == "動詞" and "非自立可能" not in pos
        if verb or "サ変可能" in pos and words[0].endswith("ed"):
            return morphemes[0].normalized_form()
    return None


def japanese_kind(question: str) -> tuple[str | None, str | None]:
    """(type, counter) of the Japanese phrase that answers an English question: a date for when,
    a counted number for how many, an amount of money, a person, place or organisation for who /
    where / which X; (None, None) when the question asks for no phrase of a checkable kind."""
    kind = question_type(question)
    q = question.lower()
    if kind == "how many" and _MONEY_ASKED.search(q):
        return "number", MONEY
    if kind == "how many":
        m = re.search(r"how many\s+(\w+)", q)
        return "number", _COUNTERS.get(m.group(1)) if m else None
    if kind == "when":  # what year / which year: a year is what it asks for
        return "time", "年" if re.search(r"\b(?:what|which|in what) year\b", q) else None
    if kind in _JA_TYPE:
        return _JA_TYPE[kind], None
    return (_head_type(q), None) if kind != "describe" else (None, None)


def _int(s: str) -> str:
    return unicodedata.normalize("NFKC", s).replace(",", "").replace("，", "")


def english_date(iso: str) -> str:
    """2019-09-24 → 24 September 2019 (a year or a month alone as far as it is known)."""
    parts = [int(x) for x in iso.split("-")]
    if len(parts) == 1:
        return str(parts[0])
    month = MONTHS[parts[1] - 1]
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{parts[2]} {month} {parts[0]}"


def date_english(m: re.Match) -> str:
    era, era_year, year, decade, month, day, m2, d2, century = m.groups()
    if century:
        n = int(century)
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"the {n}{suffix} century"
    if m2:
        return f"{int(d2)} {MONTHS[int(m2) - 1]}" if 1 <= int(m2) <= 12 else m.group(0)
    if era:
        n = 1 if era_year == "元" else int(era_year)
        y = f"{ERAS[era]} {n} ({ERA_START[era] + n - 1})"
    else:
        y = f"the {year}s" if decade else year
    if month and 1 <= int(month) <= 12:
        y = f"{MONTHS[int(month) - 1]} {y}" if not day else f"{int(day)} {MONTHS[int(month) - 1]} {y}"
    return y


def quantity_english(m: re.Match) -> str | None:
    approx, num, scale, unit, bound = m.groups()
    value = _int(num)
    if scale:
        try:
            f = float(value) * _SCALE[scale]
        except ValueError:
            return None
        value = f"{int(f):,}" if f == int(f) else f"{f:,.1f}"
    elif value.isdigit() and len(value) > 3:
        value = f"{int(value):,}"
    prefix = {"約": "about ", "およそ": "about ", "最大": "at most ", "最低": "at least ",
              "少なくとも": "at least "}.get(approx or "", "")
    # 30以上 / 30カ国以上: the bound after the number (30 or more), unless a prefix said it.
    if bound and not prefix:
        prefix = {"以下": "up to ", "未満": "under ", "超": "over ", "余り": "over "}.get(bound, "")
    suffix = " or more" if bound == "以上" and not approx else ""
    if not unit:
        return prefix + value + suffix
    u = UNITS[unit]
    if u in ("%", "°C", "km", "m", "cm", "mm", "kg", "t"):
        return f"{prefix}{value}{'' if u in ('%', '°C') else ' '}{u}{suffix}"
    if u == "century":
        return None
    if u in ("number", "article", "place"):
        return f"{u} {value}" if u != "place" else f"{prefix}{value} (rank)"
    if value == "1" and u.endswith("s") and u not in ("times",):
        u = u[:-1]
    return f"{prefix}{value} {u}{suffix}"


_DATE_TAIL = re.compile(r"\s*(?:[~〜～\-–]|から)\s*(?:[0-9]{1,4}年)?(?:[0-9]{1,2}月)?[0-9]{1,2}日")


@dataclass(frozen=True)
class _Reading:
    """A Japanese sentence (or answer phrase) as the extractors of English phrases read it."""
    text: str
    norm: str  # NFKC
    qtype: str
    question: str
    avoid: set[str]  # the question's own Japanese terms
    q_numbers: set[str]
    q_words: set[str]  # lower case
    dates: list[tuple[int, int]]  # spans of dates in `norm`

    @classmethod
    def of(cls, text: str, qtype: str, avoid: set[str], question: str) -> "_Reading":
        norm = unicodedata.normalize("NFKC", text)
        # A range's end is part of its date (12月1日~4日: not "4 days").
        dates = [(m.start(), m.end() + (t.end() - t.start() if (t := _DATE_TAIL.match(norm, m.end())) else 0))
                 for m in _DATE.finditer(norm)]
        return cls(text, norm, qtype, question, avoid, set(re.findall(r"[0-9]+", question)),
                   {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9\-]*", question)}, dates)

    def in_date(self, m: re.Match) -> bool:
        """6月20日 is a date, not "20 days": quantities inside dates are not candidates."""
        return any(a <= m.start(2) < b for a, b in self.dates)

    def ordinal(self, m: re.Match) -> bool:
        """第27回 is the 27th meeting, not 27 times; 第2条 is still "article 2" (an ordinal unit)."""
        return m.start(2) > 0 and self.norm[m.start(2) - 1] == "第" and \
            UNITS.get(m.group(4) or "") not in ("number", "article", "place")


def _dates(s: _Reading) -> Found:
    """Ranges of dates, dates, a time of day when asked, then bare years."""
    out: Found = []
    for m in _RANGE.finditer(s.norm):
        a, b = _DATE.fullmatch(m.group(1)), _DATE.fullmatch(m.group(2))
        if a and b:
            out.append((0, m.start(), f"{date_english(a)} to {date_english(b)}"))
    for m in _DATE.finditer(s.norm):
        if not set(re.findall(r"[0-9]+", m.group(0))) <= s.q_numbers:
            out.append((1, m.start(), date_english(m)))
    if re.search(r"\bwhat time\b", s.question.lower()):  # a time of day: 5時 / 5:00
        for m in _CLOCK.finditer(s.norm):
            hour, minute = m.group(1) or m.group(3), m.group(2) or m.group(4) or "00"
            out.append((0, m.start(), f"{int(hour)}:{int(minute):02d}"))
    for m in _BARE_YEAR.finditer(s.norm):  # "2006 SAFEの設立": a year without 年
        if m.group(0) not in s.q_numbers:
            out.append((2, m.start(), m.group(0)))
    return out


def _quantities(s: _Reading) -> Found:
    """Numbers with their unit; a measure (%, km) only leads when the question asks for one."""
    out: Found = []
    measuring = bool(_MEASURE_WORDS.search(s.question))
    # The counter of what "how many X" counts (times: 回, not the 5年間 beside it), when known.
    counter, noun = japanese_kind(s.question)[1], counted_noun(s.question)
    counts = {u for u in UNITS if u == counter} or {u for u, english in UNITS.items() if english == noun}
    for m in _QUANTITY.finditer(s.norm):
        num = _int(m.group(2))
        if s.in_date(m) or s.ordinal(m) or num in s.q_numbers or \
                (m.group(4) == "年" and re.match(r"\d{3,4}$", num) and not m.group(3)):
            continue  # a number the question gives, or a year rather than a number of years
        unit = UNITS.get(m.group(4) or "", "")
        if noun and unit in _SPANS and unit.rstrip("s") != noun.rstrip("s"):
            continue  # a span of time counts no participants: only "how many days" asks for days
        e = quantity_english(m)
        if e:
            prio = 0 if unit and (measuring or unit not in _MEASURES) else 1
            if counts and m.group(4) not in counts:
                prio += 1
            out.append((prio, m.start(), e))
    return out


def _counted_things(s: _Reading) -> Found:
    """For a "what" question, last: numbers with a unit (a thing may be a count)."""
    out: Found = []
    for m in _QUANTITY.finditer(s.norm):
        if m.group(4) and _int(m.group(2)) not in s.q_numbers and not s.in_date(m) and not s.ordinal(m):
            e = quantity_english(m)
            if e:
                out.append((3, m.start(), e))
    return out


class EnglishComposer:
    """Needs the tokenizer (names and key words of the cited sentences) and the index's term table."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer

    # -- the words of a sentence, in English where faithful --------------------------------------
    def _name_english(self, index: SearchIndex, m) -> str | None:
        surface = m.surface()
        if not _JAPANESE.search(surface):
            return surface  # written in Latin script already
        gloss = index.terms.glosses.get(surface)
        pos = m.part_of_speech()
        # A name's English is capitalised: タイ the country is not "tie".
        if _KATAKANA.match(surface) and gloss and re.fullmatch(r"[A-Za-z][A-Za-z .'\-]*", gloss) \
                and (pos[1] != "固有名詞" or gloss[:1].isupper()):
            return gloss  # a loanword's or foreign name's English spelling (UniDic / JMnedict)
        if pos[1] == "固有名詞":
            r = romaji(m.reading_form())
            # A person's name has no English, only a romanisation: Sudachi's reading (chosen in
            # context) over the name dictionary's, whose first reading may be a rare one (川勝:
            # "Kawakachi" there, カワカツ here). Places and organisations keep their English names.
            if pos[2] == "人名" and r:
                return r.capitalize()
            if gloss and re.fullmatch(r"[A-Z][A-Za-z .'\-]*", gloss):
                return gloss
            return r.capitalize() if r else None
        return None

    def _item_english(self, index: SearchIndex, item: str) -> str:
        """A Japanese list item as the documents write it, with the English of the name it
        begins with when it has one (野口宇宙飛行士 → "Noguchi (野口宇宙飛行士)")."""
        toks = self.tokenizer.morphemes(item)
        english = self._name_english(index, toks[0]) if toks and toks[0].part_of_speech()[1] == "固有名詞" else None
        return f"{english} ({item})" if english and english != item else item

    def glossary(self, index: SearchIndex, sentences: list[str], first: list[str],
                 senses: dict[str, str] | None = None) -> list[Gloss]:
        """Key words of the sentences with their dictionary glosses; the question's words first,
        glossed by the English word they were found for (取り組み asked as "initiative" is not
        JMdict's first sense, "bout")."""
        senses = senses or {}
        uncommon = set(index.terms.uncommon)
        out: dict[str, str] = {}
        for text in sentences:
            morphemes = list(self.tokenizer.morphemes(text))
            for i, m in enumerate(morphemes):
                pos = m.part_of_speech()
                if pos[0] not in ("名詞", "動詞", "形容詞", "形状詞") or pos[1] in ("数詞", "非自立可能"):
                    continue
                surface = m.surface()
                if surface in out or len(surface) < 2 and not _KATAKANA.match(surface) \
                        or not _JAPANESE.search(unicodedata.normalize("NFKC", surface)):
                    continue  # Latin-script words (JAXA) need no gloss
                if surface in uncommon and _inside_katakana_word(morphemes, i):
                    continue  # a rare dictionary word inside a longer loanword is a false split
                english = self._name_english(index, m) if pos[1] == "固有名詞" else None
                english = english or index.terms.glosses.get(surface) or index.terms.glosses.get(m.dictionary_form())
                if english and (english == index.terms.glosses.get(surface) or not spells_reading(surface, english)):
                    # a romanised kana reading is no gloss unless the table kept it (UniDic spells it so)
                    out[surface if pos[0] == "名詞" else m.dictionary_form()] = english
        for k in first:  # the question's own words (compounds too) lead the glossary
            if k not in out and _JAPANESE.search(k) and any(k in t for t in sentences) \
                    and index.terms.glosses.get(k):
                out[k] = index.terms.glosses[k]
        for k, english in senses.items():
            # The sense the question asked in; a name keeps its capital (カナダ "Canada", not the
            # lower-cased "canada" the question's word was matched as).
            if k in out and out[k].lower() != english.lower():
                out[k] = english[:1].upper() + english[1:] if out[k][:1].isupper() else english
        order = list(dict.fromkeys([k for k in first if k in out] + list(out)))
        # One entry per meaning: 豊岡 beside 豊岡市 (both "Toyooka") says nothing new.
        keep = [k for k in order if not any(k != o and k in o and out[o] == out[k] for o in order)]
        return [Gloss(k, out[k]) for k in keep[:MAX_GLOSSARY]]

    def answer_phrase(self, index: SearchIndex, sentence: str, qtype: str, avoid: set[str],
                      span: str | None = None, question: str = "") -> str | None:
        """The answer phrase in English, when it can be given faithfully; `span` is the Japanese
        answer phrase when the Japanese extractor found one (preferred). `avoid`: the question's
        own Japanese terms (the answer is not what was asked about)."""
        if span:
            found = self._candidates(index, span, qtype, avoid, question)
            english = found[0][2] if found else None
            inner = re.search(r"\((.+)\)$", english or "")
            if english and qtype in ("who", "where", "what") and (
                    len(found) > 1 or inner and 2 * len(inner.group(1)) < len(span)
                    or not inner and len(span) > 6
                    and not re.fullmatch(r"[\u30a0-\u30ffー・A-Za-z0-9 .\-]+", span)):
                # A name is given in English only when one name is the whole phrase: a part of
                # it (アラブ首長国連邦アブダビ → "Arab") or a word's dictionary gloss misnames it.
                english = None
            if english and span in english:
                return english
            if english and qtype in ("when", "how many"):
                return english
            # A name, place or organisation as the documents write it, with its English name or
            # reading when it has one.
            return f"{english} ({span})" if english and _JAPANESE.search(span) else span
        found = self._candidates(index, sentence, qtype, avoid, question)
        if not found:
            return None
        # Nearest to where the question's terms are in the sentence: the answer stands beside them.
        anchors = [m.start() for a in avoid if a for m in re.finditer(re.escape(a), sentence)]
        if anchors:
            found.sort(key=lambda c: (c[0], min(abs(c[1] - a) for a in anchors)))
        return found[0][2]

    def _candidates(self, index: SearchIndex, text: str, qtype: str, avoid: set[str],
                    question: str) -> list[tuple[int, int, str]]:
        """(priority, position, English) of each phrase of the sentence that could answer."""
        s = _Reading.of(text, qtype, avoid, question)
        names = functools.partial(self._names, index)
        by_type: dict[str, tuple[Callable[[_Reading], Found], ...]] = {
            "when": (_dates,), "how many": (_quantities,), "who": (names,), "where": (names,),
            "what": (names, _counted_things)}
        extractors = by_type.get(qtype, ())
        out = [c for extract in extractors for c in extract(s)]
        out.sort(key=lambda c: (c[0], c[1]))
        return out

    def _names(self, index: SearchIndex, s: "_Reading") -> Found:
        """Names (who / where) with their English names or readings, loanwords' English spellings
        (what) and Latin-script words."""
        out: Found = []
        # A "what" question asks for a thing: a place or person named beside it is rarely the
        # answer (seen: "Answer: Osaka" for an event's title), so only who/where take names.
        kinds = {"who": ("人名",), "where": ("地名", "一般"), "what": ()}[s.qtype]
        # A title or a name asked for is written as the documents write it, in Japanese:
        # a loanword beside it (ドイツ → "Germany" for an event's title) is not the answer.
        titled = bool(re.search(r"\b(title|titled|called|named|name of)\b", s.question.lower()))
        pos_at = 0
        for m in self.tokenizer.morphemes(s.text):
            pos = m.part_of_speech()
            at = s.text.find(m.surface(), pos_at)
            pos_at = max(pos_at, at)
            if m.surface() in s.avoid or any(m.surface() in a for a in s.avoid if a):
                continue
            if pos[1] == "固有名詞" and pos[2] in kinds:
                e = self._name_english(index, m)
                if e and e.lower() not in s.q_words:
                    gloss = index.terms.glosses.get(m.surface())
                    out.append((0, at, e if e == gloss else f"{e} ({m.surface()})"))
            elif s.qtype == "what" and not titled and _KATAKANA.match(m.surface()) and len(m.surface()) > 2:
                g = index.terms.glosses.get(m.surface())
                if g and re.fullmatch(r"[A-Za-z][A-Za-z .'\-]*", g) and g.lower() not in s.q_words:
                    out.append((2, at, g))
        for m in _LATIN.finditer(s.norm):
            if len(m.group(0)) > 1 and m.group(0).lower() not in s.q_words:
                out.append((1 if s.qtype == "what" else 2, m.start(), m.group(0)))
        return out

    # -- the answer --------------------------------------------------------------------------------
    def english_source_gives(self, index: SearchIndex, chosen: list[ScoredSentence], question: str) -> bool:
        """Whether a quoted sentence from an English document gives the asked-for phrase: of
        the asked quantity, an amount of money written as one, a number of the things asked
        about counting them."""
        qtype = question_type(question)
        for s in chosen:
            sentence = index.documents[index.passages[s.passage_row].doc_id].text[s.start:s.end]
            if _JAPANESE.search(sentence):
                continue
            if any(gives_asked(sentence, at, phrase, question) for _, at, phrase in
                   english_phrases(sentence, qtype, question)[:1]):
                return True
        return False

    def compose(self, index: SearchIndex, chosen: list[ScoredSentence], question: str,
                terms: list, phrase_at=None, partial: bool = False,
                verdict: str | None = None, listed: list[Item] | None = None,
                missing: str | None = None) -> tuple[str, list[Citation]]:
        """`terms`: the Japanese terms the question was searched with (crosslingual.Term; their
        words are not the answer, and the glossary gives them the sense the question asked in).
        `phrase_at`: the Japanese answer phrase of the asked kind (compose.Phrase), when the
        engine found one; with a kind to check and none found, no phrase leads. `verdict`: a
        yes/no question's answer ("yes", "no", settled by the first quoted sentence, or
        "unsettled"). `listed`: the items a list question asks for, which lead the answer with the
        sentences they are from. `missing`: what a partial answer says the documents do not give,
        when not the asked kind ("what SAFE is")."""
        asked = [t.surface for t in terms]
        citations, quotes, ja_sentences = _cite(index, chosen, phrase_at)
        qtype = question_type(question)
        if listed:
            rows = {s.vector_row: n for n, s in enumerate(chosen, 1)}
            marks = "".join(f"[{n}]" for n in sorted({rows[i.key] for i in listed}))
            japanese = [i for i in listed if _JAPANESE.search(i.text)]
            named = [self._item_english(index, i.text) if _JAPANESE.search(i.text) else i.text for i in listed]
            each = lists.marked(listed, named, rows, " ")
            lead = (f"Answer: {lists.joined_en(each)}." if each else f"Answer: {lists.joined_en(named)} {marks}.") + (
                " (From the cited Japanese text; its words are glossed below.)" if japanese else "")
            senses = {t.surface: t.english.lower() for t in terms if t.kind == "dictionary"}
            gloss = self.glossary(index, ja_sentences, asked, senses) if ja_sentences else []
            return _answer_text(lead, quotes, gloss), citations
        if verdict is not None:
            lead = _VERDICT[verdict]
            senses = {t.surface: t.english.lower() for t in terms if t.kind == "dictionary"}
            gloss = self.glossary(index, ja_sentences, asked, senses) if ja_sentences else []
            return _answer_text(lead, quotes, gloss), citations
        acronym = expanded_acronym(question) or ""
        for n in sorted(range(len(chosen)), key=lambda i: -chosen[i].score) if acronym else ():
            c = citations[n]
            words = expansion(c.text[c.highlight[0]:c.highlight[1]], acronym)
            if words:  # the words an acronym stands for are written in Latin script beside it
                senses = {t.surface: t.english.lower() for t in terms if t.kind == "dictionary"}
                gloss = self.glossary(index, ja_sentences, asked, senses) if ja_sentences else []
                return _answer_text(f"Answer: {words} [{c.n}].", quotes, gloss), citations
        if partial:  # the sentences are about the question but do not give what it asks for
            lead = f"The documents do not give {missing or _MISSING.get(qtype, 'what is asked')}; " \
                   "the closest passages say:"
            gloss = self.glossary(index, ja_sentences, asked) if ja_sentences else []
            return _answer_text(lead, quotes, gloss), citations
        as_of = f" (as of {english_date(phrase_at.as_of)})" if phrase_at is not None and phrase_at.as_of else ""
        led = next((c for c in citations
                    if c.answer_span and not _JAPANESE.search(c.text[c.highlight[0]:c.highlight[1]])), None)
        senses = {t.surface: t.english.lower() for t in terms if t.kind == "dictionary"}
        if led is not None:  # the engine's phrase, read from an English sentence
            a, b = led.answer_span or (0, 0)
            lead = f"{_LABELS[qtype]}: {led.text[a:b]}{as_of} [{led.n}]."
            gloss = self.glossary(index, ja_sentences, asked, senses) if ja_sentences else []
            return _answer_text(lead, quotes, gloss), citations
        if not ja_sentences:  # English documents answer directly, led by the asked-for phrase
            phrased = _english_lead(chosen, citations, qtype, question)
            if phrased is None:
                why = bool(re.match(r"\s*(?:why\b|for what (?:purpose|reason))", question, re.I))
                phrased, quotes = _quoted_lead(chosen, quotes, why)
            return _answer_text(phrased, quotes, []), citations
        gloss = self.glossary(index, ja_sentences, asked, senses)
        if qtype == "describe":  # a definition, a reason, a manner: the best sentence is the answer
            why = bool(re.match(r"\s*(?:why\b|for what (?:purpose|reason))", question, re.I))
            lead, quotes = _quoted_lead(chosen, quotes, why)
            return _answer_text(lead, quotes, gloss), citations
        phrase, marker = self._japanese_phrase(index, chosen, citations, qtype, question, set(asked), terms)
        phrase = phrase + as_of if phrase else phrase
        return _answer_text(_japanese_lead(phrase, marker, qtype, gloss), quotes, gloss), citations

    def _japanese_phrase(self, index: SearchIndex, chosen: list[ScoredSentence], citations: list[Citation],
                         qtype: str, question: str, asked: set[str], terms: Sequence = ()) -> tuple[str | None, int]:
        """The answer phrase in English and the citation it is from: the engine's phrase of the
        asked kind, else one found in the best-scored cited sentence. A date or a quantity may come
        from a runner-up; a name or a thing only from the best sentence (names taken from
        runners-up were rarely the answer)."""
        order = sorted(range(len(chosen)), key=lambda i: -chosen[i].score)
        led = [(citations[n], at) for n in order if (at := citations[n].answer_span)]
        labels = {t.surface for t in own_terms(terms, question)}
        if led:  # the engine's phrase of the asked kind
            c, (a, b) = led[0]
            # A year of an era is read with its era (平成 3年 → Heisei 3 (1991), not "3年").
            era = re.search(r"(明治|大正|昭和|平成|令和)\s*$", c.text[max(0, a - 4):a]) if qtype == "when" else None
            return self.answer_phrase(index, c.text[c.highlight[0]:c.highlight[1]], qtype, asked,
                                      (era.group(1) if era else "") + c.text[a:b], question), c.n
        for n in order if qtype == "what" else ():  # a record's line labelled by the question's word
            c = citations[n]
            sentence = c.text[c.highlight[0]:c.highlight[1]]
            value = kinds.labelled_value(sentence, labels) if _JAPANESE.search(sentence) else None
            if value is not None:
                return sentence[value[0]:value[1]], c.n
        dated = qtype in ("when", "how many")
        if dated:
            tried = order
        elif japanese_kind(question)[0] is not None:
            tried = []  # a kind to check and the engine found none: no phrase leads
        else:
            tried = order[:1]
        for n in tried:
            c = citations[n]
            sentence = c.text[c.highlight[0]:c.highlight[1]]
            phrase = (english_phrase(sentence, qtype, question) if not _JAPANESE.search(sentence) else
                      self.answer_phrase(index, sentence, qtype, asked, None, question))
            if phrase:
                return phrase, c.n
        return None, 1


_VERDICT = {"yes": "Yes. [1]", "no": "No. [1]",
            "unsettled": "The documents do not say whether this is so; the closest passages say:"}
_LABELS = {"when": "When", "how many": "How many", "who": "Who", "where": "Where", "what": "Answer"}
_MISSING = {"when": "the date", "how many": "the number", "who": "the person", "where": "the place"}


def _cite(index: SearchIndex, chosen: list[ScoredSentence], phrase_at
          ) -> tuple[list[Citation], list[str], list[str]]:
    """The citations, the quoted sentences labelled with their language, and the Japanese ones."""
    citations: list[Citation] = []
    quotes: list[str] = []
    ja_sentences: list[str] = []
    for n, s in enumerate(chosen, 1):
        p = index.passages[s.passage_row]
        d = index.documents[p.doc_id]
        sentence = d.text[s.start:s.end].strip()
        span = None
        if phrase_at is not None and phrase_at.vector_row == s.vector_row:
            span = (phrase_at.start - p.start, phrase_at.end - p.start)
        citations.append(Citation(
            n=n, chunk_id=p.chunk_id, doc_id=p.doc_id, title=d.title, url=d.url, section=p.section,
            text=p.text, highlight=(s.start - p.start, s.end - p.start), answer_span=span,
            score=round(s.score, 6), date=getattr(d, "date", None), **location_fields(d, s.start)))
        if d.lang == "en" or not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", sentence):
            quotes.append(f"“{sentence}” [{n}] (English source)")
        else:
            quotes.append(f"「{sentence}」[{n}] (Japanese source)")
            ja_sentences.append(sentence)
    return citations, quotes, ja_sentences


# What says a reason or a purpose, in either language (…を目的としています, …させるべく, in order to).
_REASON = re.compile(r"ため|目的|べく|目指|ので|\b(?:because|in order to|so that|aims? to|purpose|due to)\b", re.I)


# A quote of a whole sentence (its full stop before the closing quote), not a heading or a caption.
_SENTENCE_QUOTE = re.compile(r"[。．.!?！？][」』）)]?[」”]\s*\[")


def _quoted_lead(chosen: list[ScoredSentence], quotes: list[str], why: bool = False) -> tuple[str, list[str]]:
    """The best-scored sentence, quoted as it stands, as the lead, and the other quotes after it:
    what answers a question asking for no single phrase (what X is, why, how) is a sentence (a
    heading or a caption leads only when nothing else is quoted). Asked
    why, the best-scored sentence that says a reason or a purpose, when one does."""
    best = max(range(len(chosen)), key=lambda i: (why and bool(_REASON.search(quotes[i])),
                                                  bool(_SENTENCE_QUOTE.search(quotes[i])), chosen[i].score))
    glossed = " Its words are glossed below." if quotes[best].endswith("(Japanese source)") else ""
    return f"The documents say: {quotes[best]}.{glossed}", quotes[:best] + quotes[best + 1:]


_EXPANDED = re.compile(r"\b(?i:what\s+(?:does|do|did)\s+(?:the\s+)?)([A-Z][A-Za-z0-9&]+)\s+stand\s+for\b"
                       r"|\b([A-Z][A-Za-z0-9&]+)\s+(?:is\s+)?short\s+for\b"
                       r"|\b(?i:full\s+(?:name|form)\s+of\s+(?:the\s+)?)([A-Z][A-Za-z0-9&]+)")
_CAPITALISED_RUN = re.compile(r"[A-Z][\w'’.\-]*(?:\s+(?:(?:of|and|for|the|de|&)\s+)?[A-Z][\w'’.\-]*)*")


def _initials(words: str) -> str:
    """The capitals that begin a name's words (Asia-Pacific Regional Space Agency Forum → APRSAF),
    a leading article left out."""
    words = re.sub(r"^(?:The|A|An)\s+", "", words)
    return "".join(w[0] for w in re.split(r"[\s\-]+", words) if w[:1].isupper())


def expanded_acronym(question: str) -> str | None:
    """The acronym an English question asks to expand (What does LSA stand for?), or None."""
    m = _EXPANDED.search(question)
    return next((g for g in m.groups() if g), None) if m else None


def expansion(sentence: str, acronym: str) -> str | None:
    """The words an acronym stands for where the sentence writes them beside it (Luxembourg Space
    Agency Foundation : LSA, GISTDA=Geo-Informatics and Space Technology Development Agency): a run
    of capitalised words next to it whose initials begin with its first letter and hold all its
    letters in order."""
    letters = acronym.upper()
    for at in (m.start() for m in re.finditer(rf"(?<![A-Za-z]){re.escape(acronym)}(?![A-Za-z])", sentence)):
        end = at + len(acronym)
        for run in _CAPITALISED_RUN.finditer(sentence):
            if run.group(0) == acronym or not (0 <= at - run.end() <= 6 or 0 <= run.start() - end <= 3):
                continue
            words = re.sub(r"^(?:The|A|An)\s+", "", run.group(0))  # a sentence's first word is capitalised too
            initials = _initials(words)
            it = iter(initials)
            if initials[:1] == letters[0] and len(initials) <= len(letters) + 2 and all(c in it for c in letters):
                return words
    return None


def _english_lead(chosen: list[ScoredSentence], citations: list[Citation], qtype: str,
                  question: str) -> str | None:
    """The asked-for phrase that best fits the question across the English sentences (the best
    scored first among equals); None when none has one. For who, a name that is no person's
    leads only from the best-scored sentence: from a runner-up it is rarely the answer."""
    if qtype != "describe":
        best = None
        for rank, n in enumerate(sorted(range(len(chosen)), key=lambda i: -chosen[i].score)):
            c = citations[n]
            found = english_phrases(c.text[c.highlight[0]:c.highlight[1]], qtype, question)
            if found and rank and qtype == "who" and not person_like(found[0][2]):
                continue
            if found and (best is None or (found[0][0], rank) < best[0]):
                best = ((found[0][0], rank), found[0][2], c.n)
        if best is not None:
            return f"{_LABELS[qtype]}: {best[1]} [{best[2]}]."
    return None


def _inside_katakana_word(morphemes: list, i: int) -> bool:
    """Whether the i-th morpheme is glued to katakana on either side (キューブ|サット)."""
    before = morphemes[i - 1].surface()[-1:] if i > 0 else ""
    after = morphemes[i + 1].surface()[:1] if i + 1 < len(morphemes) else ""
    return any(c and c != "・" and _KATAKANA.match(c) for c in (before, after))


def _japanese_lead(phrase: str | None, marker: int, qtype: str, gloss: list[Gloss]) -> str:
    if phrase:
        return (f"{_LABELS[qtype]}: {phrase} [{marker}]."
                " (From the cited Japanese text; its words are glossed below.)")
    about = ", ".join(dict.fromkeys(g.english for g in gloss[:5]))
    if gloss:
        return (f"The closest passage [1] does not state this in a form that can be given in English "
                f"faithfully; it is about: {about}.")
    return "The closest passage [1] is quoted below; it cannot be rendered in English faithfully."


def _answer_text(lead: str, quotes: list[str], gloss: list[Gloss]) -> str:
    parts = [lead] + (["\n".join(quotes)] if quotes else [])
    if gloss:
        parts.append(GLOSSARY_HEADING + "\n" + "\n".join(f"- {g.japanese}: {g.english}" for g in gloss))
    return "\n\n".join(parts)

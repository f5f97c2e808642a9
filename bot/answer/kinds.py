"""Kinds of question a phrase does not answer on its own: definitions (〜とは何ですか / What is X?),
yes/no questions (〜しましたか / Did …?), and lists (the lead phrase with the items coordinated
with it: スリランカとネパール).
"""

from __future__ import annotations

import re
import unicodedata

_DEF_JA = re.compile(r"^(?P<x>.+?)(?:とは|って)(?:何|なん|なに|どんな|どういう|どのような|\s*[?？]?\s*$)")
_DEF_EN = re.compile(r"^\s*what\s+(?:is|are|was|were)\s+(?:an?\s+|the\s+)?(?P<x>[^?,;]{1,60}?)\s*\?*\s*$", re.I)
_WH_JA = re.compile(r"何|なに|なん|誰|だれ|どこ|いつ|どの|どれ|どう|どんな|どちら|なぜ|いくつ|いくら|幾|どれ")
# 「赤字か黒字か」「落選したか、当選したか」「できるか否か」: a choice between alternatives, not yes/no.
_ALTERNATIVES_JA = re.compile(r"か[、，,？?]\s*\S.*か[?？。]?$|か[\u4e00-\u9fff\u30a0-\u30ff][^か]{0,10}か[?？。]?$"
                              r"|か否か|いかなる|いかに")
_YES_NO_EN = re.compile(r"^\s*(?:did|does|do|is|are|was|were|has|have|had|can|could|will|would|should)\b", re.I)
# Conjunctions that join items of a list inside a sentence.
# An item may carry its abbreviation or reading in brackets before the conjunction:
# 「文部科学省(MEXT)、宇宙航空研究開発機構(JAXA)」.
_BRACKETED = r"(?:\s*[(（][^()（）]{1,20}[)）])?"
_AND = re.compile(r"^" + _BRACKETED + r"\s*(?:と|、|，|,|及び|および|並びに|ならびに|や|・|and|or)\s*")
_AND_BEFORE = re.compile(r"(?:と|、|，|,|及び|および|並びに|ならびに|や|・|and|or)\s*$")
_BRACKET_BEFORE = re.compile(r"\s*[(（][^()（）]{1,20}[)）]\s*$")


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def definition_subject(question: str, lang: str) -> str | None:
    """X of 「Xとは何ですか」 / "What is X?" (None for other questions)."""
    q = _nfkc(question).strip()
    m = (_DEF_JA if lang == "ja" else _DEF_EN).match(q)
    if not m:
        return None
    x = m.group("x").strip(" 「」『』\"'")
    if lang != "ja" and (re.search(r"\s(?:of|for|in|on|at|to|from|by|with|about)$", x, re.I)
                         or re.match(r"(?:its|their|his|her|our|your|my)\b", x, re.I) or re.search(r"['’]s\b", x)):
        # "What is Tokai Radio Broadcasting the name of?", "What was its predecessor?", "What is
        # JAXA's role?" ask for a thing the documents name, not what a name means.
        return None
    return x or None


def defines(sentence: str, subject: str) -> bool:
    """Whether a sentence defines `subject`: a full sentence (not a heading) in whose first half the
    subject stands as its topic (Xは / Xとは / X(…)は / X is …)."""
    s, x = _nfkc(sentence).strip(), _nfkc(subject)
    if not re.search(r"[。．.!?！？]$", s):
        return False
    for m in re.finditer(re.escape(x), s, re.I):
        if m.start() > len(s) / 2:
            break
        before = s[:m.start()]
        if sum(before.count(o) for o in "(（") > sum(before.count(c) for c in ")）") \
                and not re.match(r"\s*[)）]", s[m.end():]):
            continue  # one of several names glossed in brackets (X(Martian Moons eXploration : MMX)) is no topic
        after = re.sub(r"^\s*[(（][^)）]{0,80}[)）]", "", s[m.end():])
        after = re.sub(r"^[)）」』]", "", after)
        if re.match(r"^\s*(?:は|とは|って|、|:|：|\s+(?:is|are|was|were|refers)\b)", after):
            return True
    return False


_ALIAS = r"\s*[(（]([^()（）]{1,80})[)）]"


def aliases(text: str, subject: str) -> list[str]:
    """Other names a text gives `subject` in brackets right after it (火星衛星探査計画(Martian Moons
    eXploration : MMX) → Martian Moons eXploration, MMX): a defining sentence may use any of them."""
    out: list[str] = []
    for m in re.finditer(re.escape(_nfkc(subject)) + _ALIAS, _nfkc(text)):
        for part in re.split(r"\s*[:：;；、,]\s*|\s*=\s*", m.group(1)):
            part = re.sub(r"^(?:以下|略称|略)[「『]?|[」』]$", "", part.strip())
            # Only a Latin-script name (an acronym, the English name): a Japanese word in brackets
            # is as often a gloss (パルス（アクセント）) as another name.
            if 2 <= len(part) <= 40 and re.fullmatch(r"[A-Za-z][A-Za-z0-9\-\s.&']*", part) \
                    and part not in out and part != subject:
                out.append(part)
    return out


def is_yes_no(question: str, lang: str) -> bool:
    q = _nfkc(question).strip()
    if lang == "ja":
        return (bool(re.search(r"か[?？。]?$", q)) and not _WH_JA.search(q) and not _ALTERNATIVES_JA.search(q)
                and definition_subject(q, lang) is None)
    return bool(_YES_NO_EN.match(q)) and not re.search(r"\bor\b|\bwhether\b", q, re.I)


_DOTTED_RUN = re.compile(r"(?:・[\u4e00-\u9fff\u30a1-\u30fc]+)+")


def official_name_end(sentence: str, end: int, suffixes: tuple[str, ...]) -> int:
    """Where an organisation's name ending at `end` really ends: an official name may join its
    fields with a middle dot (研究技術・高等教育省) up to the word for a body (`suffixes`); items
    joined by the dot with no such word after them (スリランカ・ネパール) are a list."""
    m = _DOTTED_RUN.match(sentence, end)
    return m.end() if m and m.group(0).endswith(suffixes) else end


def coordinated(sentence: str, start: int, end: int, spans: list[tuple[int, int]], same_kind) -> tuple[int, int]:
    """The lead phrase [start, end) widened to the items coordinated with it (「スリランカとネパール」,
    「フォボスとダイモス」): a neighbouring candidate span of the same kind (`same_kind(text)`) joined to
    it by と / 、 / 及び / や / ・."""
    by_start: dict[int, int] = {}
    by_end: dict[int, int] = {}
    for a, b in spans:  # best-ranked first: each position keeps its best candidate
        by_start.setdefault(a, b)
        by_end.setdefault(b, a)
    while True:
        m = _AND.match(sentence[end:])
        nxt = end + m.end() if m else None
        if nxt is None or nxt not in by_start or not same_kind(sentence[nxt:by_start[nxt]]):
            break
        end = by_start[nxt]
    while True:
        m = _AND_BEFORE.search(sentence[:start])
        prv = m.start() if m else None
        bracket = _BRACKET_BEFORE.search(sentence[:prv]) if prv is not None else None
        if bracket is not None and prv not in by_end:
            prv = bracket.start()
        if prv is None or prv not in by_end or not same_kind(sentence[by_end[prv]:prv]):
            break
        start = by_end[prv]
    return start, end


# A question about the past (された, でした, 当時, 初代) or about a dated occasion (a year, an edition)
# asks what was so then; one without asks what is so now.
_PAST_JA = re.compile(r"でした|ました|だった|当時|かつて|初代|歴代|前任"
                      r"|[したれっい]た(?=[のはがをに人時\u4e00-\u9fff\u30a0-\u30ff])"
                      r"|[0-9０-９]{4}|第\s*[0-9０-９]+")


_PAST_EN = re.compile(r"\b(?:was|were|did|had|used\s+to|former|formerly|first|previous|then|"
                      r"\d{4}|\d+(?:st|nd|rd|th))\b|^\W*(?:who|which|what)\s+\w+ed\b", re.I)


def asks_now(question: str, lang: str = "ja") -> bool:
    """Whether a question asks about the present (「JAXAの理事長は誰ですか」, "Who is the president
    of JAXA?"): then, of dated sources that disagree, the newest states what is so now."""
    return not (_PAST_JA if lang == "ja" else _PAST_EN).search(_nfkc(question))


_YEAR_MONTH = re.compile(r"([0-9]{4})\s*年\s*([0-9]{1,2})\s*月")


def stated_months(text: str) -> set[tuple[int, int]]:
    """The (year, month) pairs a text states (2019年2月18日 → (2019, 2)). A date whose month the
    question already states is what the question is about (「2019年2月に引き渡された衛星はいつ放出
    される予定」), not its answer."""
    return {(int(y), int(m)) for y, m in _YEAR_MONTH.findall(_nfkc(text))}


_MONTH_ONLY = re.compile(r"(?<![0-9年])([0-9]{1,2})\s*月")
_DAY_ONLY = re.compile(r"(?<![0-9月])[0-9]{1,2}\s*日")


def restates(sentence: str, a: int, b: int, known: set[tuple[int, int]]) -> bool:
    """Whether the date sentence[a:b] falls in a month the question states, reading a day or a
    month alone (翌19日, 5月) in the year and month the sentence stated last before it."""
    phrase = _nfkc(sentence[a:b])
    months = stated_months(phrase)
    if months:
        return bool(months & known)
    before = _YEAR_MONTH.findall(_nfkc(sentence[:a]))
    if not before:
        return False
    year, month = int(before[-1][0]), int(before[-1][1])
    alone = _MONTH_ONLY.search(phrase)
    if alone:
        return (year, int(alone.group(1))) in known
    return bool(_DAY_ONLY.search(phrase)) and (year, month) in known


# The bracket's first part is the identifier; what follows a colon or = spells it out
# (イタリア航空宇宙研究センター(CIRA:Italian Aerospace Research Center)).
_GLOSSED = re.compile(r"[^、。，,()（）\s]{0,6}\s*[(（]([^)）:：=＝]{2,30})(?:[:：=＝][^)）]*)?[)）]")
_OWNER_END = re.compile(r"[、。，,・:：;；|\n]")


# A date, then the asked verb in a relative clause ending in the noun it describes:
# 「2006年に設立されたムハンマド・ビン・ラシード宇宙センター」 (not 設立された。 / 設立されたのは).
_RELATIVE_TAIL = re.compile(r"(?:され|し)た(?=[^\s。、，,.はがをにでとものへやかよ」』)）)])")


def dates_another(sentence: str, a: int, b: int, predicate: str | None, names: set[str]) -> bool:
    """Whether the date sentence[a:b] dates something else than the question's subject: right
    after it the question's verb describes a following noun (2006年に設立された<MBRSC>) and the
    sentence names none of the question's `names` (Kibo-ABCは何年に設立された)."""
    if not predicate or not names or any(n in sentence for n in names):
        return False
    stem = predicate[:-1] if len(predicate) > 1 and "\u3040" <= predicate[-1] <= "\u309f" else predicate
    if len(stem) < 2:
        return False
    m = re.match(r"\s*(?:に|から|には)?\s*" + re.escape(stem), sentence[b:])
    return bool(m and _RELATIVE_TAIL.match(sentence, b + m.end()))


def names_the_asked(sentence: str, a: int, b: int, question: str) -> bool:
    """Whether sentence[a:b] is (the start of) what the question itself names, glossed in brackets
    after it (アジア太平洋地域宇宙機関会議(APRSAF) for a question about APRSAF): not its answer."""
    m = _GLOSSED.match(sentence[b:])
    gloss = _nfkc(m.group(1)).strip() if m else ""
    # Only an identifier (an acronym, a code) names it: a bracketed description after a name
    # (拍子（周期的なアクセント）) is what a 「何というか」 question asks the name of.
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9\-]{1,15}", gloss) and gloss in _nfkc(question):
        return True
    # An identifier the question names (JAXA in 「JAXAとNASAの会合はどこで」) is what it asks
    # about, unless it asks which of the two (どちら).
    said = _nfkc(sentence[a:b]).strip()
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9\-]{1,15}", said) and not re.search(r"どちら|どっち", question) \
            and re.search(rf"(?<![A-Za-z0-9]){re.escape(said)}(?![A-Za-z0-9])", _nfkc(question)):
        return True
    # Or the phrase is the question's identifier with a common noun after it (MMX探査機).
    own = _OWN_NOUN.fullmatch(_nfkc(sentence[a:b]))
    if own is None:
        return False
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(own.group(1))}(?![A-Za-z0-9])", _nfkc(question)) is not None


_ASKS_TOTAL = re.compile(r"合計|累計|総計|通算")
_STATES_TOTAL = re.compile(r"合計|累計|総計|総数|通算|(?<![設会統推集余])計\s*[0-9０-９]|合わせて|併せて|あわせて"
                           r"|全部で|\b(?:total|in all|altogether|cumulative)\b", re.I)


def asks_total(question: str) -> bool:
    """Whether a question asks a total (合計何機, 累計): one count of a part is not its answer."""
    return _ASKS_TOTAL.search(question) is not None


def states_total(sentence: str) -> bool:
    """Whether a sentence states a total (計200名, 合計, in total): its counts may answer 合計何機."""
    return _STATES_TOTAL.search(sentence) is not None


# How a sentence gives something's nickname: it says 愛称 / 名付け / 呼ばれ, or quotes it.
_CALLS = re.compile(r"愛称|ニックネーム|名付け|命名|呼ば|呼ん|[「『“]")


def calls(sentence: str) -> bool:
    """Whether a sentence may give what something is called (its 愛称): it writes a naming word or
    quotes a name; a sentence that only names bodies beside the thing gives none."""
    return _CALLS.search(sentence) is not None


_OWN_NOUN = re.compile(r"([A-Za-z][A-Za-z0-9\-]{1,15})[\u4e00-\u9fff\u30a1-\u30fc]{1,4}")


def glossed(sentence: str, a: int, b: int, spans: list[tuple[int, int]]) -> tuple[int, int] | None:
    """For a phrase in a bracketed gloss that spells a name out (国立研究会議(CNR:National Research
    Council), 実行委員会(Executive Committee: ExCom)), the name the gloss follows: that name is what
    the sentence says, the gloss only translates it. None when the phrase is no such gloss or no
    candidate span ends at the bracket."""
    opened = max(sentence.rfind("(", 0, a), sentence.rfind("（", 0, a))
    if opened < 0 or re.search(r"[)）]", sentence[opened:b]):
        return None
    close = re.search(r"[)）]", sentence[b:])
    if not _spells_out(sentence[opened + 1:b + close.start()] if close else ""):
        return None
    # The identifier before the colon (CNR, ANFIA) is itself an answer: to 「略称は」.
    if not re.search(r"[:：=＝]", sentence[opened:b]) and re.fullmatch(r"[A-Z][A-Za-z0-9\-]{1,15}", sentence[a:b]):
        return None
    end = len(sentence[:opened].rstrip())
    return next(((x, y) for x, y in spans if y == end and x < y), None)


def _spells_out(inside: str) -> bool:
    """Whether a bracket's text spells a name out in Latin script (CNR:National Research
    Council); a Japanese bracket (主体育館:1964年 設計・丹下健三) says more."""
    latin = len(re.findall(r"[A-Za-z]", inside))
    return bool(re.search(r"[:：=＝]", inside)) and latin >= 0.6 * len(re.sub(r"\s", "", inside))


def spelled_out(sentence: str, end: int) -> bool:
    """Whether the phrase ending at `end` is followed by a bracket spelling it out as a name
    (国立研究会議(CNR:National Research Council)): the phrase is then a name, whatever words it
    is made of."""
    m = re.match(r"\s*[(（]([^()（）]*)[)）]", sentence[end:])
    return m is not None and _spells_out(m.group(1))


def _owner(sentence: str, a: int) -> str | None:
    """The words a bracketed phrase belongs to: those right before its opening bracket
    (古川宇宙飛行士(2011年6月~11月) → 古川宇宙飛行士); None when the phrase is not in brackets."""
    head = sentence[:a].rstrip()
    if not head or head[-1] not in "(（":
        return None
    before = head[:-1]
    cut = max((m.end() for m in _OWNER_END.finditer(before)), default=0)
    return before[max(cut, len(before) - 15):]


def owned_by_question(sentence: str, spans: list[tuple[int, int]], words: set[str]) -> tuple[int, int] | None:
    """Of phrases of the asked kind in one sentence, each in brackets after what it belongs to
    (野口宇宙飛行士(2009年12月~2010年6月)、古川宇宙飛行士(2011年6月~11月)), the one that belongs to
    what the question names and the first-ranked one does not (古川); None when that does not
    single one out."""
    owners = [_owner(sentence, a) for a, _ in spans]
    if not owners[0]:
        return None
    named = [{w for w in words if len(w) > 1 and w in o} if o is not None else set() for o in owners]
    mine = [i for i in range(1, len(spans)) if named[i] - named[0]]
    return spans[mine[0]] if len(mine) == 1 else None


# What separates one party of a sentence from the next (JAXA理事 國中均とDLR理事…、UAESA総裁…).
_PARTY_END = re.compile(r"[、，,。;；\n]|と(?!して)|および|及び|並びに")


_SIDE_JA = re.compile(r"([A-Za-z][A-Za-z0-9\-]+|[\u30a1-\u30fa\u30fc・]{2,}|[\u4e00-\u9fff]{1,4})"
                      r"(?:側(?=[のでにがはと])|を代表(?=し|す))")
_NO_PARTY = {"両", "反対", "相手", "外", "内", "左", "右", "北", "南", "東", "西", "先方", "当方", "片", "裏", "表"}


def japanese_side(question: str) -> str | None:
    """The party a Japanese question asks about (「JAXA側の署名者は」 → JAXA), or None."""
    m = _SIDE_JA.search(_nfkc(question))
    return m.group(1) if m and m.group(1) not in _NO_PARTY else None


def sided(sentence: str, spans: list[tuple[int, int]], side: set[str]) -> tuple[int, int] | None:
    """Of phrases of the asked kind in a sentence naming several parties, the one in the part
    (between separators) that names the party the question is asked for, before or in the phrase:
    JAXA理事 國中均 for "on behalf of JAXA", JAXA山川理事長 for 「JAXA側の署名者」, the last of that
    part (a name comes after its title: 理事長 奥村直樹); None unless exactly one part does."""
    whole = [(a, b) for a, b in spans if not any(x <= a and b <= y and (x, y) != (a, b) for x, y in spans)]
    parts: dict[int, tuple[int, int]] = {}
    for a, b in sorted(whole):
        start = max((m.end() for m in _PARTY_END.finditer(sentence, 0, a)), default=0)
        # A Latin-script party is a whole word (ESA is not the end of UAESA); 駐UAE (stationed in
        # the UAE: 駐UAE日本国大使) names where another party's envoy serves, not the party.
        if any(w and re.search(rf"(?<![A-Za-z駐]){re.escape(w)}(?![A-Za-z])", sentence[start:b]) for w in side):
            parts[start] = (a, b)
    return next(iter(parts.values())) if len(parts) == 1 else None


# A label opens its line (or a bullet, or a table cell): 「男性：89.6%」 inside brackets is a breakdown.
_LABEL_BEFORE = re.compile(r"(?:^|[\n|•]\s*)([^\s:：、。|()（）]{1,12})\s*[:：]\s*\|?\s*$")


def labelled(sentence: str, spans: list[tuple[int, int]], words: set[str]) -> tuple[int, int] | None:
    """The phrase right after a label that names what the question asks about (衛星名:1KUNS-PF
    for 「衛星の名前は」, 日本側主催: 文部科学省 for 「日本側の主催者は」); None when no label does."""
    for a, b in spans:
        m = _LABEL_BEFORE.search(sentence[:a])
        if m and any(len(w) > 1 and w in m.group(1) for w in words):
            return a, b
    return None


_LABELLED_LINE = re.compile(r"(?:^|\n)[ \t]*(?:[•・*\-][ \t]*)?([^\s:：、。|()（）]{1,12})[ \t]*[:：][ \t]*"
                            r"([^\n(（]+?)[ \t]*(?=[(（\n]|$)")


def labelled_value(sentence: str, words: set[str]) -> tuple[int, int] | None:
    """The value of a line whose label names what the question asks about (サイズ:1U(…) → 1U for
    "What size is it?"), without the bracketed note after it; None when no line's label does."""
    for m in _LABELLED_LINE.finditer(sentence):
        if any(len(w) > 1 and w in m.group(1) for w in words):
            return m.start(2), m.end(2)
    return None


_ABBREVIATION_ASKED = re.compile(r"略称|略号|略語|頭字語|abbreviat|acronym|stand for", re.I)
_ABBREVIATED = re.compile(r"([^\s、。，,()（）「」『』]{2,})[(（]([A-Za-z][A-Za-z0-9\-]{1,15})"
                          r"(?:\s*[:：,、=][^)）]*)?[)）]")


_EXPANSION_ASKED = re.compile(r"([A-Z][A-Za-z0-9&\-]+)\s*(?:とは|って|は)?\s*(?:何の略|何を略|の正式名称|の略称の元)")
_ABBREVIATES = re.compile(r"([^、。，,()（）「」『』\n]{2,40}?)\s*[(（]\s*{}\s*(?:[:：,、=][^)）]*)?[)）]")


def expanded(question: str) -> str | None:
    """The acronym a Japanese question asks to spell out (「DPNとは何の略ですか」 → DPN), or None."""
    m = _EXPANSION_ASKED.search(_nfkc(question))
    return m.group(1) if m else None


def written_out(sentence: str, acronym: str) -> tuple[int, int] | None:
    """Where a Japanese sentence spells out `acronym`: the name right before it in brackets
    (小型衛星放出機構(J-SSOD) → 小型衛星放出機構), or None."""
    m = re.search(_ABBREVIATES.pattern.replace("{}", re.escape(acronym)), sentence)
    if m is None:
        return None
    a, b = m.span(1)
    cut = max((x.end() for x in re.finditer(r"[はがをにでとの、]", sentence[a:b]) if x.end() < b - a - 1), default=0)
    return a + cut, b


def abbreviation(sentence: str, question: str) -> tuple[int, int] | None:
    """For a question asking what the documents abbreviate a name to (「小型衛星放出機構の略称は」),
    the identifier bracketed right after that name (小型衛星放出機構(J-SSOD) → J-SSOD); None when
    the question asks no abbreviation or the sentence does not abbreviate a name it names."""
    if not _ABBREVIATION_ASKED.search(question):
        return None
    q = _nfkc(question)
    for m in _ABBREVIATED.finditer(sentence):
        name = _nfkc(m.group(1))
        if any(name[-n:] in q for n in range(min(len(name), 12), 2, -1)):
            return m.start(2), m.end(2)
    return None


# 「Xの名前は何」: the noun run X whose name is asked.
_NAME_ASKED = re.compile(r"([\u4e00-\u9fff\u30a0-\u30ffA-Za-z0-9ー・]{3,})の(?:名前|名称|愛称|正式名称)(?:は|を)")
# A name written right after the noun that says what it is (国際水星探査計画ベピコロンボ, 計画「はやぶさ」).
_APPOSED = re.compile(r"\s*(?:「([^」]{1,40})」"
                      r"|([\u30a0-\u30ffー・]{2,}|[A-Z][A-Za-z0-9\-]{2,}(?:\s[A-Z][A-Za-z0-9\-]+)*))")


def apposed_name(sentence: str, question: str) -> tuple[int, int] | None:
    """For 「Xの名前は何」, the name the sentence writes right after X (国際水星探査計画ベピコロンボ →
    ベピコロンボ); None when the question asks no such name, or the sentence does not write X once
    with a name after it (高速列車タリスが…高速列車ICEが: which one is asked, the words around
    them say)."""
    m = _NAME_ASKED.search(_nfkc(question))
    if m is None or sentence.count(m.group(1)) != 1:
        return None
    name = _APPOSED.match(sentence, sentence.index(m.group(1)) + len(m.group(1)))
    if name is None:
        return None
    g = 1 if name.group(1) else 2
    return name.start(g), name.end(g)


def doer(sentence: str, spans: list[tuple[int, int]], predicate: str | None) -> tuple[int, int] | None:
    """Of phrases in a sentence, the one marked as the subject (は / が right after it) before the
    question's predicate (「文書を受け取ったのはどこ」: Kibo-ABC事務局は、…文書を受け取りました),
    the first such; None when the sentence does not write the predicate after one."""
    if not predicate:
        return None
    stem = predicate[:-1] if len(predicate) > 1 and "\u3040" <= predicate[-1] <= "\u309f" else predicate
    at = sentence.find(stem)
    marked = [(a, b) for a, b in sorted(spans) if 0 <= b < at and sentence[b:b + 1] in ("は", "が")]
    return marked[0] if marked else None


_CLAUSE_END = re.compile(r"[、。，,；;]")


def _clause(sentence: str, a: int) -> str:
    start = max((m.end() for m in _CLAUSE_END.finditer(sentence, 0, a)), default=0)
    m = _CLAUSE_END.search(sentence, a)
    return sentence[start:m.start() if m else len(sentence)]


def clause_of_question(sentence: str, spans: list[tuple[int, int]], names: set[str],
                       is_name) -> tuple[int, int] | None:
    """Of phrases of the asked kind in different clauses of one sentence (1Uサイズ… by 九州工業大学、
    3Uサイズ… by シンガポール国立大学), the one in a clause naming what the question names, when the
    first-ranked one's clause is about something else (names of its own, none of the question's);
    None otherwise. `is_name(text)` tells a proper noun of the clause."""
    if len(spans) < 2 or not names:
        return None
    first = _clause(sentence, spans[0][0])
    if any(n in first for n in names) or not is_name(first):
        return None
    return next(((a, b) for a, b in spans[1:] if _siblings(sentence[spans[0][0]:spans[0][1]], sentence[a:b])
                 and any(n in _clause(sentence, a) and n not in sentence[a:b] and sentence[a:b] not in n
                         for n in names)), None)


def clause_of_predicate(sentence: str, spans: list[tuple[int, int]], predicate: str | None) -> tuple[int, int] | None:
    """Of sibling phrases in different clauses of one sentence (2008年10月12日に有効期間満了,
    1998年及び2003年にそれぞれ5年間延長), the first-ranked one in a clause writing the question's
    verb after it, when the first-ranked phrase's clause does not; None otherwise."""
    if len(spans) < 2 or not predicate:
        return None
    stem = predicate[:-1] if len(predicate) > 1 and "\u3040" <= predicate[-1] <= "\u309f" else predicate
    if len(stem) < 2:  # (座 of 座に就く: one character stands in too many other words)
        return None

    def writes(a: int, b: int) -> bool:
        clause_end = _CLAUSE_END.search(sentence, b)
        return stem in sentence[b:clause_end.start() if clause_end else len(sentence)]

    if writes(*spans[0]):
        return None
    first = sentence[spans[0][0]:spans[0][1]]
    return next(((a, b) for a, b in spans[1:] if _siblings(first, sentence[a:b]) and writes(a, b)), None)


def _siblings(x: str, y: str) -> bool:
    """Two phrases of one form: two dates, two counts of one counter (3機 / 1機), or the same word
    counted or named (1Uサイズ / 3Uサイズ)."""
    date = re.compile(r"[0-9０-９]+\s*[年月日]")
    count = re.compile(r"[0-9０-９][0-9０-９,.，．]*\s*(\D{1,2})")
    cx, cy = count.fullmatch(x), count.fullmatch(y)
    return bool(date.search(x) and date.search(y)) or len(x) > 2 and len(y) > 2 and x[-2:] == y[-2:] \
        or bool(cx and cy and cx.group(1) == cy.group(1))


def counting(sentence: str, spans: list[tuple[int, int]], head: str | None,
             question: str = "") -> tuple[int, int] | None:
    """For 「国際機関はいくつ」 (a count asked without a counter), the number the sentence writes
    right before the asked noun (12の国際機関, 10国際機関), not another count (580名); None when
    no number or more than one counts it."""
    if not head:
        return None
    rx = re.compile(r"\s*の?\s*[^\s、。,，()（）]{0,4}?" + re.escape(head))
    number = re.compile(r"[^0-9０-９]{0,2}[0-9０-９][0-9０-９,.，．]*[^0-9０-９]{0,2}")
    # A date (2013年のGDP) counts nothing; a number the question says (1モーラの音) is not its answer.
    counts = [(a, b) for a, b in spans if number.fullmatch(sentence[a:b]) and rx.match(sentence, b)
              and not re.search(r"[0-9０-９]\s*[年月日]", sentence[a:b + 1])
              and re.sub(r"\D", "", sentence[a:b]) not in re.findall(r"[0-9]+", _nfkc(question))]
    # Several numbers of the noun (1Uサイズ…3Uサイズ): which one is asked is for another rule.
    return counts[0] if counts and all(a == counts[0][0] for a, _ in counts) else None


_DAY = re.compile(r"([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*日")


def year_of_day(phrase: str, page: str) -> str | None:
    """The page's date with its year for the day `phrase` gives without one (12月2日から5日 on a page
    headed 「2014年12月2日~5日 東京」 → 2014年12月2日~5日); None when the phrase has a year, or the
    page no year for that day."""
    day = _DAY.search(_nfkc(phrase))
    if day is None or re.search(r"[0-9]{4}\s*年|元年", _nfkc(phrase)):
        return None
    month, date = int(day.group(1)), int(day.group(2))
    for m in re.finditer(r"([0-9]{4})\s*年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*日[^\s、。]*", _nfkc(page)):
        if (int(m.group(2)), int(m.group(3))) == (month, date):
            return m.group(0)
    return None


_TITLE_RUN = re.compile(r"[^、。，,とでにがはをのへや\s()（）]*")


def titled(sentence: str, spans: list[tuple[int, int]], head: str | None,
           question: str = "", name: bool = False) -> tuple[int, int] | None:
    """Of people or bodies in one sentence, the one holding the office or being the kind the
    question asks about: the office or kind written onto the name (モディ・インド首相 for 「インドの首相
    は誰」, not ジョージ駐日インド大使; ナイロビ大学 for 「大学はどこ」), other than the question's own
    words (最高決議機関 for 「最高決議機関は」); None when no phrase or more than one carries it.
    With `name` (a body asked by its kind: 政党は, 大学はどこ) a phrase describing one of the kind
    (パテト・ラオの政党) does not count: the body's name is asked, not what it is of."""
    if not head or len(head) < 2:
        return None
    def run(b: int) -> str:
        m = _TITLE_RUN.match(sentence, b)
        return m.group(0) if m else ""
    fresh = [(a, b) for a, b in spans if _nfkc(sentence[a:b]) not in _nfkc(question)]
    holding = [(a, b) for a, b in fresh
               if head in sentence[a:b] + run(b) and not (name and sentence[a:b].endswith("の" + head))]
    if not holding and not name and re.fullmatch(r"[\u4e00-\u9fff]{2}", head):
        # A kind written with the title's first character (王族 asked, シリントン王女 written).
        holding = [(a, b) for a, b in fresh
                   if re.search(rf"{re.escape(head[0])}[\u4e00-\u9fff]$", sentence[a:b] + run(b))]
    return holding[0] if len(holding) == 1 or holding and all(x[0] == holding[0][0] for x in holding) else None


_RANGE_ASKED = re.compile(r"(?:いつ|何年|何月|何日)から.*(?:いつ|何年|何月|何日)まで|from\s+when.*until|期間")
_ERA = r"(?:明治|大正|昭和|平成|令和)"
_RANGE_REST = re.compile(r"(?:\s*[(（][^)）]{1,3}[)）])?\s*(?:[~〜～\-–]|から)"
                         rf"\s*(?:(?:{_ERA}\s*(?:元|[0-9]{{1,2}})|[0-9]{{1,4}})\s*年)?"
                         r"\s*(?:[0-9]{1,2}\s*月)?\s*(?:[0-9]{1,2}\s*日)?"
                         r"(?:\s*[(（][^)）]{1,3}[)）])?\s*(?:まで)?")


def asks_range(question: str) -> bool:
    """Whether a question asks for a span of time (いつからいつまで, 期間)."""
    return bool(_RANGE_ASKED.search(_nfkc(question)))


# A clock time written right after a day (12月2日(月)午前9時, 5日 14:00): part of when.
_CLOCK_AFTER = re.compile(r"\s*(?:[(（][月火水木金土日](?:曜日?)?[)）])?\s*(?:午前|午後)?\s*[0-9０-９]{1,2}\s*"
                          r"(?:時(?![間代期])(?:\s*[0-9０-９]{1,2}\s*分|半)?|[:：][0-9０-９]{2})")


def with_clock(sentence: str, b: int) -> int:
    """The end of a date phrase ending at `b` widened to the clock time written right after its
    day (12月2日 → 12月2日(月)午前9時): asked when, the hour is part of the answer."""
    m = _CLOCK_AFTER.match(sentence, b) if sentence[:b].rstrip().endswith("日") else None
    return m.end() if m else b


def with_era(sentence: str, a: int) -> int:
    """The start of a date phrase at `a` widened to the era name written right before its year
    (27年9月10日 → 平成27年9月10日): without it the year is not the year."""
    m = re.search(rf"{_ERA}\s*$", sentence[:a]) if re.match(r"\s*(?:元|[0-9０-９]{1,2})\s*年", sentence[a:]) else None
    return m.start() if m else a


def range_end(question: str, sentence: str, b: int) -> int:
    """Where a date answering 「いつからいつまで」 ends: past the rest of its range (1997年~2015年,
    12月5日~7日) when the question asks for one and the sentence gives it; else `b`."""
    if not asks_range(question):
        return b
    m = _RANGE_REST.match(sentence, b)
    return b + len(m.group(0).rstrip()) if m and re.search(r"[0-9]", m.group(0)) else b


# What follows an event named as the reference point of another: 就任後, 打ち上げ前, 放出に向けて.
_RELATIVE_SUFFIX = ("後", "前")


def asked_event(question_toks, predicate: str | None, after: str | None) -> str | None:
    """The event a question asks about (normalised): the word before 〜のは (就任したのはいつ →
    就任), else its last verb or verbal noun (何月何日に「きぼう」から放出されましたか → 放出)."""
    if predicate and predicate != after:
        return predicate
    for t in reversed(question_toks):
        if t.pos[0] == "動詞" and "非自立可能" not in t.pos or t.pos[0] == "名詞" and "サ変可能" in t.pos:
            return t.norm
    return None


def only_relative(sentence_toks, event: str) -> bool:
    """Whether a sentence names the asked event only as the reference point of another
    (就任後初来日の折に, 放出に向けて搭載作業が): its date or place is then the other event's."""
    seen = False
    for i, t in enumerate(sentence_toks):
        if t.norm in (event + s for s in _RELATIVE_SUFFIX):  # one word in Sudachi: 就任後
            seen = True
        elif t.norm == event:
            nxt = sentence_toks[i + 1:i + 3]
            if not (nxt and (nxt[0].surface in _RELATIVE_SUFFIX
                             or nxt[0].surface == "に" and len(nxt) > 1 and nxt[1].norm == "向ける")):
                return False
            seen = True
    return seen

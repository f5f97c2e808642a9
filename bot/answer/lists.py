"""List questions (「分科会をすべて教えてください」, 「どの分野で協力しますか」, "Which countries …?"):
the answer names every item of the asked kind that the supporting sentences name, in document
order, each with its citation.

A question is read as asking for a list (`asked_ja`, `asked_en`) when it says so (すべて, 挙げて,
主な, どのようなXがありますか, a plural "which Xs", "What are the Xs") or asks for a kind of thing
(どのようなX, どの分野, どこの国や地域), or what a noun is of or for (何の構造, "Who does X offer a
forum to?"). Whether the answer is a list is then decided by the
evidence: a run of coordinated items (、 ・ と 及び や だけでなく; commas and "and"; the cells of a
table row; the numbered or bulleted lines after a sentence) that names the asked kind beside it
(「…等の分野」, 「分科会(…)」, "fields such as …"), whose items are of that kind (島国, a place), or
whose number of items is the number asked ("which four categories"); asked what a noun is of,
only a run the sentence names it of ("structure of clouds, aerosols and radiation",
「雲、エアロゾル及び放射の構造」). A question that asks for
a list in so many words also takes the best run of the quoted sentences. Asked for the countries
that are partners in something (「どの国と協力していますか」, "Which countries does JAXA cooperate
with?"), the list is gathered across the sections of the answering pages (`gathered`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

# The longest item (characters, without its parenthetical) a list takes in.
MAX_ITEM = 25
# The most words of an English item.
MAX_ITEM_WORDS = 6
# Sentences of the same section around a quoted one whose runs are read too (a table row or
# bullet line beside the sentence that introduces it).
NEIGHBOURS = 4

_JA_SEP_WORDS = {"、", "，", ",", "・", "と", "や", "及び", "および", "並びに", "ならびに", "又は", "または"}
_JA_END = {"等", "など", "等々"}
_OPEN, _CLOSE = "(（[［", ")）]］"
# すべて asks for every item when it goes with the asking verb (分科会をすべて教えて), not when it
# says "all of" a subject (RAICのすべてのメンバー).
_JA_EXPLICIT = re.compile(r"(?:すべて|全て|全部)(?:を)?(?:教え|挙げ|答え|書|示|述べ|知り)"
                          r"|挙げて(?:ください|下さい)|挙げよ|列挙|いくつか|"
                          r"(?:どのような|どんな|どういう)[^、。？?]{0,12}?(?:があり|が含まれ|を含|が挙げ)")
_JA_KIND = re.compile(r"(?:どのような|どんな|どういう|どの|どこの)")
_JA_ONE = re.compile(r"(?:一|1|１|ひと)(?:つ|人|か所|ヶ所|箇所)")
_COUNT_JA = re.compile(r"([0-9０-９]+|[二三四五六七八九十])(?:つ|個|か国|カ国|ヶ国|人|名|件|機|種類|分野)")
_KANJI_NUM = {"二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_EN_NUM = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_EN_NOT_PLURAL = {"does", "is", "was", "has", "his", "its", "this", "us", "thus", "yes", "news", "series",
                  "status", "process", "access", "address", "business", "class", "less", "across", "as"}
_EN_LIST = re.compile(r"\bwhat\s+(?:are|were)\s+(?:the\s+)?((?:[\w-]+\s+){0,3}?)([a-z][\w-]*s)\b"
                      r"|\b(?:which|what)\s+((?:[\w-]+\s+){0,3}?)([a-z][\w-]*s)\b"
                      r"|^\s*(?:list|name)\s+(?:all\s+)?(?:the\s+)?((?:[\w-]+\s+){0,3}?)([a-z][\w-]*s)\b", re.I)
_EN_OWNER = re.compile(r"^\s*(?:who|whom|what)\b.*\b(?:an?|the|its|their)\s+(?:[\w-]+\s+)?([a-z][\w-]+)\s+"
                       r"(?:to|for|of)\s*\?*\s*$", re.I)
_EN_STOP = {"the", "a", "an", "for", "to", "in", "on", "at", "by", "with", "from", "of", "into", "through",
            "such", "as", "including", "between", "among", "about", "across", "toward", "towards", "via",
            "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "do", "does", "did",
            "will", "would", "can", "could", "may", "should", "must", "it", "its", "they", "their", "them",
            "this", "these", "those", "that", "which", "who", "whom", "whose", "while", "whereas", "but",
            "also", "both", "each", "all", "other", "not", "we", "our", "he", "she", "his", "her", "than",
            "there", "where", "when", "so", "if", "because", "well"}
_EN_ARTICLES = {"the", "a", "an"}
_BULLET = re.compile(r"^\s*(?:[•・\-\*–●○■□◆◇▪]|\d{1,2}\s*[.．)）]|[(（]\d{1,2}[)）]|[①-⑳])\s*(?P<body>\S.*)$")
NUMBERED = re.compile(r"^\s*\d{1,2}\s*[.．)）]\s*")


@dataclass(frozen=True)
class ListAsk:
    """What a list question asks for: the asked kind's nouns as a page may write them (分野;
    fields, field and their Japanese terms), the number of items it names, and whether it asks
    for a list in so many words."""
    heads: tuple[str, ...] = ()
    count: int | None = None
    explicit: bool = False
    # It asks what its noun is of or for (何の構造, "a forum to whom?"): the items are those the
    # sentence names the noun of (「雲、エアロゾル及び放射の構造」, "structure of clouds, aerosols and
    # radiation"), and only a run so placed answers.
    owner: bool = False


@dataclass(frozen=True)
class Run:
    """Coordinated items of one sentence: (start, end) offsets in it, in order."""
    items: tuple[tuple[int, int], ...]
    before: str  # the sentence's text before the first item
    after: str  # and after the last one


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _count(text: str) -> int | None:
    m = _COUNT_JA.search(_nfkc(text))
    if not m:
        return None
    n = m.group(1)
    return _KANJI_NUM[n] if n in _KANJI_NUM else int(n)


def asked_ja(question: str, qtype: str | None, tokenizer) -> ListAsk | None:
    """A Japanese question read as asking for a list, or None. A time or a number is asked for
    singly; so is one item (一つ挙げよ); a person, place, name or organisation only when the
    question says so (すべて) or names two kinds (どこの国や地域)."""
    q = _nfkc(question)
    if qtype in ("time", "number") or _JA_ONE.search(q):
        return None
    # 主なセンサ asks for the main ones; 主な発着拠点はどこ for one place.
    explicit = bool(_JA_EXPLICIT.search(q)) or "主な" in q and qtype not in ("person", "place", "name", "org")
    toks = tokenizer.morphemes(q)
    heads: list[str] = []
    two_kinds = False
    for i, m in enumerate(toks):
        surface = m.surface()
        owned = _owned(toks, i) if qtype not in ("person", "place") else None
        if owned:
            return ListAsk((owned,), None, False, owner=True)
        # The noun after どのような / どの / 主な, or before を・は・が + すべて / 挙げ.
        nxt = toks[i + 1].surface() if i + 1 < len(toks) else ""
        if _JA_KIND.fullmatch(surface) or surface == "主な" or surface == "どこ" and nxt == "の":
            j = i + (2 if surface == "どこ" else 1)
            while j < len(toks) and toks[j].surface() in ("な", "ような"):
                j += 1
            chunk = _noun_chunk(toks, j)
            if chunk and chunk[-1] in ("もの", "こと"):
                heads += _topic_noun(toks, i)
            elif chunk:
                heads.append(chunk[-1])
                k = j + len(chunk)
                if k + 1 < len(toks) and toks[k].surface() == "や" and _noun_chunk(toks, k + 1):
                    heads.append(_noun_chunk(toks, k + 1)[-1])
                    two_kinds = True
        if explicit and surface in ("すべて", "全て", "全部") and i >= 2 and toks[i - 1].part_of_speech()[0] == "助詞":
            j = i - 2
            while j >= 0 and toks[j].part_of_speech()[0] in ("名詞", "接尾辞"):
                j -= 1
            if j < i - 2:
                heads.append(toks[i - 2].surface())
                # 分科会の分野をすべて: the pages may list them after the owner (分科会(宇宙利用、…)).
                if j >= 1 and toks[j].surface() == "の" and toks[j - 1].part_of_speech()[0] == "名詞":
                    heads.append(toks[j - 1].surface())
    if qtype in ("person", "place", "name", "org") and not (explicit or two_kinds):
        return None
    if not heads and not explicit:
        return None
    heads = [h for h in heads
             if h not in ("もの", "こと") and not re.fullmatch(r"[0-9０-９一二三四五六七八九十]*[つ個]?", h)]
    return ListAsk(tuple(dict.fromkeys(heads)), _count(q),
                   explicit or two_kinds)


def object_verbs(question: str, heads: tuple[str, ...], tokenizer) -> frozenset[str]:
    """The verbs a Japanese question makes its asked noun the object of: 「どんな衛星を打ち上げ」,
    or a clause before the noun that has no object of its own (「打ち上げた衛星」, not 「衛星を打ち
    上げた国」). A run those verbs act on in a sentence (「DubaiSat-1、DubaiSat-2を打ち上げ」) is what
    it asks about; one they act on in another way (「どのロケットで打ち上げ」) is not."""
    toks = tokenizer.morphemes(_nfkc(question))
    out: set[str] = set()
    for i, m in enumerate(toks):
        if m.surface() not in heads:
            continue
        if i + 2 < len(toks) and toks[i + 1].surface() == "を" and toks[i + 2].part_of_speech()[0] == "動詞":
            out.add(toks[i + 2].surface())
        k = i - 1
        while k >= 0 and toks[k].part_of_speech()[0] == "助動詞":
            k -= 1
        if 0 <= k < i - 1 and toks[k].part_of_speech()[0] == "動詞" and not (k > 0 and toks[k - 1].surface() == "を"):
            out.add(toks[k].surface())
    return frozenset(v for v in out if len(v) > 1)


def _owned(toks, i: int) -> str | None:
    """The noun of 「何のX」 at token i (何の構造 → 構造): what the question asks the owner of."""
    if toks[i].surface() in ("何", "なに", "なん") and i + 1 < len(toks) and toks[i + 1].surface() == "の":
        chunk = _noun_chunk(toks, i + 2)
        return chunk[-1] if chunk else None
    return None


def _topic_noun(toks, i: int) -> list[str]:
    """For 「衛星にはどんなものがありますか」 (どんな at token i), the noun before its particles: the
    asked kind; none when no noun stands there."""
    k = i - 1
    while k >= 0 and toks[k].part_of_speech()[0] == "助詞":
        k -= 1
    return [toks[k].surface()] if 0 <= k < i - 1 and toks[k].part_of_speech()[0] == "名詞" else []


def _noun_chunk(toks, j: int) -> list[str]:
    out = []
    while j < len(toks) and toks[j].part_of_speech()[0] in ("名詞", "接尾辞", "接頭辞"):
        out.append(toks[j].surface())
        j += 1
    return out


def asked_en(question: str, head_terms: Callable[[str], list[str]] = lambda w: []) -> ListAsk | None:
    """An English question asking for several things ("Which sensors …", "What are the …s",
    "List the …"), or None; `head_terms(word)` gives the Japanese terms a page may write the
    asked noun as. "What are such people called?" asks for a name, not a list."""
    if re.search(r"\b(?:called|named|known\s+as|termed)\s*\??\s*$", question, re.I):
        return None
    for m in _EN_LIST.finditer(question):
        pre = next(g for g in (m.group(1), m.group(3), m.group(5)) if g is not None)
        head = next(g for g in (m.group(2), m.group(4), m.group(6)) if g is not None)
        words = pre.lower().split()
        # Only numbers and adjectives stand between "which" and its plural noun ("which two
        # leaders", "Which Japanese astronauts"); in "Which country grants" the noun is singular.
        if head.lower() in _EN_NOT_PLURAL or head.lower().endswith(("ss", "us", "is")) or len(head) < 4 \
                or any(not (w in _EN_NUM or w.isdigit() or w in _EN_ARTICLES or w[:1].isupper()
                            or re.search(r"(?:al|ese|an|ic|ary|ous|ive|ish|ern|main|major|other)$", w.lower()))
                       for w in pre.split()):
            continue
        count = next((_EN_NUM.get(w) or int(w) for w in words if w in _EN_NUM or w.isdigit()), None)
        single = re.sub(r"ies$", "y", head.lower()) if head.lower().endswith("ies") else head.lower()[:-1]
        forms = [head.lower(), single] + head_terms(head) + head_terms(single)
        return ListAsk(tuple(dict.fromkeys(forms)), count, True)
    # "Who does APRSAF offer an open forum to?": whom the noun is for
    owner = _EN_OWNER.match(question)
    if owner and owner.group(1).lower() not in _EN_STOP:
        head = owner.group(1).lower()
        return ListAsk(tuple(dict.fromkeys([head] + head_terms(head))), None, False, owner=True)
    return None


# -- runs of coordinated items --------------------------------------------------------------------

def runs_ja(sentence: str, tokenizer, fragment: bool = False) -> list[Run]:
    """The runs of two or more coordinated nouns in a Japanese sentence (and inside each of its
    parentheses: 分科会(宇宙利用、宇宙技術…)). In a line that is no sentence (a table row) a space
    separates items too."""
    toks = [(m.begin(), m.end(), m.surface(), tuple(m.part_of_speech())) for m in tokenizer.morphemes(sentence)]
    runs: list[Run] = []
    items: list[tuple[int, int]] = []
    start = end = None  # the item being read
    sep = False  # a separator was read since the last item

    def close_run():
        nonlocal items
        if len(items) >= 2:
            runs.append(Run(tuple(items), sentence[:items[0][0]], sentence[items[-1][1]:]))
        items = []

    def close_item():
        nonlocal start, end, sep
        if start is not None:
            if not items or sep:
                items.append((start, end))
            else:  # two items with nothing between them: a new run
                close_run()
                items.append((start, end))
        start = end = None
        sep = False

    i = 0
    while i < len(toks):
        a, b, surface, pos = toks[i]
        if surface in _OPEN and pos[1] == "括弧開":
            j, close, inner = _parenthesis(toks, i, sentence)
            runs += [Run(tuple((x + b, y + b) for x, y in r.items), sentence[:r.items[0][0] + b],
                         sentence[r.items[-1][1] + b:]) for r in runs_ja(inner, tokenizer)]
            if start is not None:  # a parenthetical belongs to the item before it
                end = close
            i = j + 1
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if surface in _JA_END or start is None and pos[2] == "副詞可能" and nxt is not None and nxt[2] in "、，,":
            # 「今後、」「現在、」 open a clause; they are no item of what follows
            close_item()
            close_run()
        elif _in_item(toks[i], nxt, start is not None, sentence, fragment):
            if start is None:
                start = a
            end = b
        elif width := _separator(toks, i, fragment):
            if not (pos[0] == "空白" and start is None and not items):  # a row's leading space
                close_item()
                sep = True
            i += width
            continue
        else:
            close_item()
            close_run()
        i += 1
    close_item()
    close_run()
    # An item cut inside a quotation (「ご飯がススム」 read from ススム」) is no item.
    return [r for r in runs if all(_length(sentence[x:y]) <= MAX_ITEM and _balanced(sentence[x:y])
                                   for x, y in r.items)]


def parallel_objects(sentence: str, end: int, tokenizer) -> list[tuple[int, int]]:
    """When a run ending at `end` is the object of a verb (「DubaiSat-1、DubaiSat-2を打ち上げており、」),
    the objects the sentence's later clauses give the same verb (「最新の衛星であるKhalifaSatを…
    打ち上げました」): each the noun right before its を, as (start, end) offsets."""
    toks = tokenizer.morphemes(sentence)
    at = next((i for i, m in enumerate(toks) if m.begin() >= end), None)
    if at is None or at + 1 >= len(toks) or toks[at].surface() != "を" \
            or toks[at + 1].part_of_speech()[0] != "動詞":
        return []
    verb = toks[at + 1].dictionary_form()
    out: list[tuple[int, int]] = []
    for i in range(at + 2, len(toks)):
        if toks[i].surface() in "。．!?！？":
            break
        if toks[i].surface() != "を" or toks[i - 1].part_of_speech()[0] != "名詞":
            continue
        k = i - 1
        while k > 0 and toks[k - 1].part_of_speech()[0] in ("名詞", "接頭辞", "接尾辞"):
            k -= 1
        # the clause's own verb: the first after its を
        said = next((m for m in toks[i + 1:] if m.part_of_speech()[0] == "動詞" or m.surface() in "、。"), None)
        if said is not None and said.part_of_speech()[0] == "動詞" and said.dictionary_form() == verb:
            out.append((toks[k].begin(), toks[i - 1].end()))
    return out


def _balanced(item: str) -> bool:
    return item.count("「") == item.count("」") and item.count("『") == item.count("』")


def _separator(toks, i: int, fragment: bool) -> int:
    """How many tokens from i join two items (、 と 及び や; 「だけでなく、」; a space in a table
    row): 0 when they do not."""
    surface, pos = toks[i][2], toks[i][3]
    if surface in _JA_SEP_WORDS or pos[0] == "空白" and fragment:
        return 1
    if "".join(t[2] for t in toks[i:i + 3]) == "だけでなく":
        return 4 if i + 3 < len(toks) and toks[i + 3][2] in ("、", "，", ",") else 3
    return 0


def _parenthesis(toks, i: int, sentence: str) -> tuple[int, int, str]:
    """The parenthesis opening at token i: its closing token's index, the offset after it and
    the text inside."""
    depth, j = 0, i
    while j < len(toks):
        if toks[j][2] in _OPEN and toks[j][3][1] == "括弧開":
            depth += 1
        elif toks[j][2] in _CLOSE and toks[j][3][1] == "括弧閉":
            depth -= 1
            if depth == 0:
                break
        j += 1
    close = toks[j][1] if j < len(toks) else len(sentence)
    return j, close, sentence[toks[i][1]:close - (1 if j < len(toks) else 0)]


def _in_item(tok, nxt, in_item: bool, sentence: str, fragment: bool) -> bool:
    """Whether a token belongs to an item: a noun or a bracket, の between nouns, a hyphen or
    dot inside a Latin or katakana name (DubaiSat-1), a space inside Latin words."""
    a, _, surface, pos = tok
    next_noun = nxt is not None and _ja_noun(nxt)
    return _ja_noun(tok) or surface in "「」『』" or \
        (surface == "の" and in_item and next_noun) or \
        (surface in "-‐・." and in_item and next_noun and _latin_or_kana(nxt[2])
         and _latin_or_kana(sentence[a - 1:a])) or \
        (pos[0] == "空白" and not fragment and in_item and next_noun and
         bool(re.match(r"[A-Za-z]", nxt[2])) and bool(re.search(r"[A-Za-z]$", sentence[:a])))


def _ja_noun(tok) -> bool:
    # 形状詞 (量的, 質的) are nominal: 「量的・質的な能力」 coordinates them as nouns are.
    return tok[3][0] in ("名詞", "接頭辞", "接尾辞", "形状詞") and tok[2] not in _JA_END


def _latin_or_kana(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9\u30a0-\u30ff]+", text[-1:] if text else ""))


def _length(item: str) -> int:
    return len(re.sub(r"[(（][^)）]*[)）]", "", item))


def runs_en(sentence: str) -> list[Run]:
    """The runs of two or more coordinated noun phrases in an English sentence ("flooding,
    earthquakes, wildfires, high winds and landslides"): short phrases without verbs or
    prepositions, joined by commas, "and" and "or"."""
    words = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"[\w'’&-]+(?:\.[\w'’&-]+)*|[,;:()]", sentence)]
    runs: list[Run] = []
    items: list[tuple[int, int]] = []
    start = end = None
    n = 0
    sep = False

    def close_run():
        nonlocal items
        if len(items) >= 2:
            runs.append(Run(tuple(items), sentence[:items[0][0]], sentence[items[-1][1]:]))
        items = []

    def close_item():
        nonlocal start, end, sep, n
        if start is not None:
            if items and not sep:
                close_run()
            items.append((start, end))
        start = end = None
        sep = False
        n = 0

    for a, b, w in words:
        lw = w.lower().rstrip(".")
        if w in (",", ";") or lw in ("and", "or"):
            if start is None and not sep and items and lw in ("and", "or"):
                sep = True  # the ", and" of a serial list
                continue
            close_item()
            sep = True
        elif lw in _EN_ARTICLES and start is None:
            continue
        elif lw in _EN_STOP or w in ":()" or (len(lw) > 4 and lw.endswith("ed") and start is None
                                              and not w[:1].isupper()) or n >= MAX_ITEM_WORDS:
            close_item()
            close_run()
            sep = False
        else:
            if start is None:
                start = a
            end = b
            n += 1
    close_item()
    close_run()
    return runs


def bullets(text: str, after: int, announced: int | None = None) -> list[tuple[int, int]]:
    """The lines right after offset `after` of a document that list items, each as the (start,
    end) of its item (the words before its colon, else the whole line when it is short): the
    numbered or bulleted lines there, or, when the sentence before them announces how many
    (「4つの分科会」, "four categories"), that many lines, whatever their markers became."""
    out: list[tuple[int, int]] = []
    pos = text.find("\n", after)
    while pos != -1 and (announced is None or len(out) < announced):
        nl = text.find("\n", pos + 1)
        line = text[pos + 1:nl if nl != -1 else len(text)]
        if line.strip():
            m = _BULLET.match(line)
            if not m and announced is None:
                break
            body_start = pos + 1 + (m.start("body") if m else len(line) - len(line.lstrip()))
            body = m.group("body").rstrip() if m else line.strip()
            colon = re.search(r"[:：]", body)
            if colon and 0 < colon.start() <= 40:
                out.append((body_start, body_start + colon.start()))
            elif len(body) <= 60:
                out.append((body_start, body_start + len(body)))
            else:
                break
        pos = nl
    if announced is not None and len(out) != announced:
        return []
    return out if len(out) >= 2 else []


def announced(sentence: str, ask: ListAsk) -> int | None:
    """The number of items a sentence announces, when it is the number the question asks for
    ("divided into four categories" for "which four categories")."""
    if ask.count is None:
        return None
    words = {w.lower() for w in re.findall(r"[A-Za-z]+|[0-9]+", _nfkc(sentence))}
    said = {n for w, n in _EN_NUM.items() if w in words} | {int(w) for w in words if w.isdigit()}
    said |= {n for n in [_count(sentence)] if n is not None}
    return ask.count if ask.count in said else None


# -- which run answers -----------------------------------------------------------------------------

def _after_head(h: str) -> str:
    """The asked kind named right after a run (「等の分野」, 「などの遠洋漁業」, 「な能力」); a short
    modifier may stand before it, a particle may not (「は同一言語」 says something of the run)."""
    return (r"^\s*[)）]?\s*(?:等|など)?\s*(?:の|な|といった|という)?\s*(?:各|主な)?\s*"
            rf"[^\s、。,はがをにでもとへや]{{0,4}}?{re.escape(h)}")


def head_tail(after: str, heads: tuple[str, ...]) -> int:
    """How much of the text after a run names the asked kind (「等の分野」 of 「…人材育成等の分野で」):
    0 when none does."""
    for h in heads:
        m = re.match(_after_head(h), after, re.I) if h else None
        if m and not re.match(r"^\s*[)）]", after):
            return m.end()
    return 0


def names_head(run_text: str, before: str, after: str, items: list[str], heads: tuple[str, ...],
               owner: bool = False) -> bool:
    """Whether a run stands beside a noun of the asked kind (「…等の分野」, 「分科会(…」, "fields such
    as …") or each of its items is one (発展途上国や島国 for 国); asked what the noun is of or for
    (`owner`), whether the run follows it so ("structure of …", "forum for …")."""
    for h in heads:
        if not h:
            continue
        hx = re.escape(h)
        if owner and re.search(rf"\b{hx}\s+(?:of|for|to)\s*$", before, re.I):
            return True
        # A run in parentheses glosses the word before them (CIQ（税関、出入国管理、検疫）に関する設備):
        # only that word can name its kind.
        if re.match(_after_head(h), after, re.I) and not re.match(r"^\s*[)）]", after):
            return True
        if re.search(rf"{hx}\s*(?:[(（:：]|\s+(?:such\s+as|including|like|:))\s*$", before, re.I):
            return True
        if all(re.sub(r"\s*[(（][^()（）]*[)）]$", "", item).endswith(h) for item in items):
            return True
    return False


def trim(item: str, question_words: set[str]) -> str:
    """An item without the noun it shares with the question (日本の観測機器 → 日本 for
    「どこの国の観測機器」)."""
    m = re.match(r"^(.+?)(?:等|など)?の([^の]+)$", item)
    if m and any(w and (w in m.group(2) or m.group(2) in w) for w in question_words if len(w) > 1):
        return m.group(1)
    return item


@dataclass(frozen=True)
class Item:
    text: str
    key: int  # the vector row of the sentence it is cited from
    start: int  # document offsets
    end: int


@dataclass(frozen=True)
class Candidate:
    """A run (or bullet block) of one source: its items, the text around it, and where it is
    from (a quoted sentence or a neighbour, the rank of its sentence)."""
    items: tuple[Item, ...]
    before: str
    after: str
    quoted: bool
    rank: int


def candidates_of(run: Run, sentence: str, key: int, offset: int, quoted: bool, rank: int) -> Candidate:
    return Candidate(tuple(Item(sentence[a:b], key, offset + a, offset + b) for a, b in run.items),
                     run.before, run.after, quoted, rank)


def best(cands: list[Candidate], ask: ListAsk, question: str, same_kind: Callable[[str], bool] | None = None,
         overlaps: Callable[[Candidate], bool] = lambda c: False,
         other_kind: Callable[[str], bool] | None = None, words: frozenset[str] = frozenset(),
         phrase_led: bool = False, verbs: frozenset[str] = frozenset()) -> Candidate | None:
    """The run that answers a list question: one beside a noun of the asked kind, of that kind, or
    with as many items as asked for; else, for a question that asks for a list in so many words,
    the best run of the quoted sentences; the object of one of the question's `verbs` (「…を打ち上げ」
    for 「打ち上げた衛星」) and then the best-scored sentence's runs (and its neighbours') before the
    others'. With a phrase of the asked kind (`phrase_led`), only a run that takes it
    in. Runs naming what the question names (JAXAとUAESA for 「JAXAとUAESAは…」), verbs joined by と or ・, and names of
    another kind than the one asked (`other_kind`: 日本とアメリカ for 「主なセンサ」) are not lists."""
    q = _nfkc(question).lower()

    def strength(c: Candidate) -> tuple | None:
        texts = [i.text for i in c.items]
        if sum(_nfkc(t).lower() in q for t in texts) * 2 >= len(texts):
            return None
        if re.match(r"^\s*(?:を)?(?:し|する|され|させ|でき|行)", c.after):
            return None
        # A list question asks for things; times and numbers are asked for by 何年 / いくつ.
        if all(re.match(r"^\s*[0-9０-９]", t) for t in texts):
            return None
        # 「ISSへの飛行及びISSからの帰還」: the items modify what follows them; they are no list.
        if re.match(r"^\s*(?:から|へ|まで|で|と)の", c.after):
            return None
        headed = names_head("", c.before, c.after, texts, ask.heads, ask.owner)
        if ask.owner and not headed:
            return None
        kind = headed or (same_kind is not None and all(same_kind(t) for t in texts))
        if not kind and ask.heads and other_kind is not None and all(other_kind(t) for t in texts):
            return None
        counted = ask.count is not None and ask.count == len(texts)
        near = overlaps(c)
        # The object of the question's verb (「…を打ち上げ」 for 「打ち上げた衛星」) is what it asks about,
        # in a quoted sentence or beside one.
        acted_on = any(re.match(rf"^\s*[をがも]\s*{re.escape(v)}", c.after) for v in verbs)
        if not (kind or counted or near or acted_on or ask.explicit and c.quoted):
            return None
        # A run in parentheses gives examples of what stands before them (協力…(野口宇宙飛行士,
        # 古川宇宙飛行士)); it answers only when that word names the asked kind (分科会(…)) or it
        # has as many items as asked for.
        if re.search(r"[(（]\s*$", c.before) and not (headed or counted):
            return None
        # Asked for a kind of thing (どのような技術), the best-scored sentence answers, with a list
        # when it has one; a runner-up's list (or a neighbour's) only when it names that kind or
        # the question's verb acts on it.
        if not ask.explicit and (c.rank > 0 or not c.quoted) and not (headed or acted_on):
            return None
        beside = sum(w in c.before[-15:] + c.after[:15] for w in words)
        # A run the sentence names the asked noun of is read before a phrase of the asked type.
        if phrase_led and not near and not ask.owner:
            return None
        return (kind or counted or near, acted_on, -c.rank, c.quoted, beside, len(texts) >= 3, len(texts))

    scored = [(s, c) for c in cands if (s := strength(c)) is not None]
    return max(scored, key=lambda x: x[0])[1] if scored else None


def marked(items: Sequence[Item], names: list[str], rows: Mapping[int, int],
           space: str = "") -> list[str] | None:
    """Items read from several sentences, each run of one sentence's items followed by that
    sentence's citation (ドイツ[1]、アメリカ[2]、ロシア、フランス[5]); None for one sentence's
    items, which share the mark after the whole list."""
    if len({i.key for i in items}) < 2:
        return None
    return [f"{name}{space}[{rows[i.key]}]" if n + 1 == len(items) or items[n + 1].key != i.key else name
            for n, (i, name) in enumerate(zip(items, names, strict=True))]


def joined_ja(items: list[str]) -> str:
    return "、".join(items)


def joined_en(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# -- a list gathered across sections ---------------------------------------------------------------

# The words a country's full name adds to its short one (ドイツ連邦共和国, 中華人民共和国, アラブ首長国連邦).
_STATE_FORM = re.compile(r"(?:人民|民主|社会主義)*(?:首長国連邦|首長国|連邦共和国|合衆国|共和国|王国|公国|連邦|国)")


# 「どの国と協力していますか」, 「JAXAと協力している国は」: a country asked for as the partner of a
# サ変 predicate (協力, 連携).
_PARTNER = re.compile(r"(?:どの|どこの|どんな|どのような|いずれの)国と(?P<a>[^\s、。？?はがをとに]{1,8}?)"
                      r"(?:し|する|され)|と(?P<b>[^\s、。？?はがをとに]{1,8}?)(?:している|していた|する|した)国")


def partner_predicate(question: str) -> str | None:
    """The predicate a Japanese question asks the partner countries of (協力), or None."""
    m = _PARTNER.search(_nfkc(question))
    return (m.group("a") or m.group("b")) if m else None


@dataclass(frozen=True)
class Source:
    """A sentence a gathered list reads: its vector row, document offset, text, and the section
    it stands in (document, heading)."""
    key: int
    start: int
    text: str
    section: tuple[str, str]


def countries(sentence: str, tokenizer) -> list[tuple[int, int, str]]:
    """The countries a sentence names as such (アメリカ, 日本国, ドイツ連邦共和国, アラブ首長国連邦),
    as (start, end, short name), not those inside a longer name (日本人, カナダ宇宙庁,
    フランス国立宇宙研究センター)."""
    toks = tokenizer.morphemes(sentence)
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(toks):
        pos = toks[i].part_of_speech()
        if pos[0] not in ("名詞", "接頭辞", "接尾辞"):
            i += 1
            continue
        j = i
        while j < len(toks) and toks[j].part_of_speech()[0] in ("名詞", "接頭辞", "接尾辞"):
            j += 1
        chunk = toks[i:j]
        while chunk and chunk[-1].surface() in _JA_END:  # 韓国等
            chunk = chunk[:-1]
        # A Latin word in a Latin name (Luxembourg Space Agency) is no country of its own.
        latin = bool(chunk) and bool(re.search(r"[A-Za-z]\s+$", sentence[:chunk[0].begin()])
                                     or re.match(r"\s+[A-Za-z]", sentence[chunk[-1].end():]))
        if chunk and not latin and chunk[0].part_of_speech()[2] == "地名":
            rest = "".join(m.surface() for m in chunk[1:])
            if rest and _STATE_FORM.fullmatch(rest) or not rest and chunk[0].part_of_speech()[3] == "国":
                out.append((chunk[0].begin(), chunk[-1].end(), chunk[0].normalized_form()))
        i = j
    return out


def gathered(sources: list[Source], tokenizer, asked: str = "") -> list[Item]:
    """The countries the supporting sentences of several sections name (「どの国と協力していますか」
    over a page with a section per region), each once, as first written, in the order of
    `sources`, the page naming the most first. A country named in more than one of those sections
    is the side that asks (日本 on a page of Japan's partners), not an answer; so is one the
    question names. None unless the items come from two sections or more: one sentence's own
    list is read as a run."""
    named: dict[str, list[tuple[Source, int, int]]] = {}
    for s in sources:
        for a, b, short in countries(s.text, tokenizer):
            if short not in asked and s.text[a:b] not in asked:
                named.setdefault(short, []).append((s, a, b))
    items: list[tuple[Item, tuple[str, str]]] = []
    for places in named.values():
        if len({s.section for s, _, _ in places}) > 1:
            continue
        s, a, b = places[0]
        items.append((Item(s.text[a:b], s.key, s.start + a, s.start + b), s.section))
    if len(items) < 2 or len({section for _, section in items}) < 2:
        return []
    order = {s.key: n for n, s in enumerate(sources)}
    per_doc: dict[str, int] = {}
    for _, (doc, _) in items:
        per_doc[doc] = per_doc.get(doc, 0) + 1
    # The page that names the most comes first; each page's items in its own order.
    return [i for i, _ in sorted(items, key=lambda x: (-per_doc[x[1][0]], order[x[0].key], x[0].start))]

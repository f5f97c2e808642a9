"""What a Japanese question asks for, read from SudachiPy morphemes (mode B, exact offsets).

`question_type` reads it from the interrogative and the word next to it: いつ / 何+calendar unit →
"time"; 何+counter (Sudachi's 助数詞 categories, or a noun suffix after a numeral), いくつ,
どのくらい → "number"; 誰 / 何者 → "person"; どこ → "place"; 何という / 何と呼ぶ / 名称は /
何+noun (何気団) → "name"; どの+noun or a final topic noun takes the class of that noun (国 →
place, 団体 → "org", 人物 → person, …); a bare 何 or an unclassified final topic (〜の政体は？) →
"thing". Why / how / definition questions (なぜ, どのように, 〜とは何か) get None: no phrase
answers them. `question_info` adds the question's words, its particles and head noun, which the
phrase finder (bot/answer/phrase.py) and the sentence ranker read.
"""

from dataclasses import dataclass, field
from functools import lru_cache

TYPES = ("time", "number", "person", "place", "name", "org", "thing")

# Interrogatives (normalised forms): grammar, not topics.
_TIME_WH = {"何時", "何時頃"}
_TIME_WH_SURFACE = {"いつ", "いつごろ", "いつ頃"}
_PERSON_WH = {"誰", "何者", "どなた", "何方"}
_PLACE_WH = {"何処", "どこ", "何方此方"}
_NUMBER_WH = {"幾つ", "幾ら", "幾等", "幾何"}
_HOW_MUCH = {"幾ら", "幾等"}
_DEGREE = {"くらい", "位", "ぐらい", "程", "ほど"}  # どのくらい / どれほど: how much, how long
_WHICH = {"どの", "何の", "どういう", "どんな", "如何なる"}
_NO_PHRASE = {"何故", "なぜ", "どうして", "如何して", "どう", "如何", "どのよう", "どの様", "如何様"}
# Calendar units: a counter after 何 that asks for a time rather than a quantity.
TIME_UNITS = {"年", "月", "日", "世紀", "年代", "時代", "時", "時期", "曜日", "年度", "元号", "西暦", "年号",
              "頃", "季節"}
# Nouns that ask for a name when they are the topic (〜の名称は？).
_NAME_NOUNS = {"名前", "名称", "略称", "呼称", "通称", "愛称", "正式名称", "略号", "名", "題名", "作品名", "国名",
               "地名", "人名", "社名", "団体名", "組織名", "学名", "和名", "英名", "英語名", "別名", "異名", "旧名"}
# Topic nouns that ask for a quantity (〜の人口は？).
_QUANTITY_NOUNS = {"人口", "面積", "人数", "金額", "額", "量", "率", "割合", "距離", "長さ", "高さ", "重さ", "速度",
                   "温度", "規模", "総数", "順位", "価格", "値段", "費用", "年齢"}
# Nouns whose quantity, asked with いくら, is an amount of money (〜の費用はいくら, 開発費はいくら): the
# answer carries a currency (〜の価格は？ without いくら may be priced in anything: 360クレジット). A
# compound is classed by its last character too (開発費, 総額).
_MONEY_NOUNS = {"費用", "予算", "価格", "値段", "金額", "資金", "賞金", "料金", "代金", "経費", "コスト", "売上",
                "売上高", "収入", "支出", "投資額", "出資", "費", "額"}
MONEY = "金額"  # the counter of an asked amount of money, in whatever currency the answer is written
# Topic nouns that are a span of time (有効期間は何年, 任期は何年, 何年の歴史): 何年 asks how long, not
# which year.
_SPAN_NOUNS = {"期間", "寿命", "任期", "歴史"}
DURATION = "年間"
# Head nouns of どの X / 何という X / 〜の X は that decide the type (a closed set of classifier
# nouns; a compound is classed by its last character too: 出身国 → 国).
_HEAD_CLASS = {
    **{w: "place" for w in ("国", "地域", "場所", "都市", "町", "街", "村", "県", "州", "島", "地方", "大陸",
                           "土地", "都道府県", "首都", "所在地", "出身地", "本社", "本部", "拠点", "位置", "国家",
                           "市", "港", "空港", "駅", "地点", "海", "山", "川")},
    **{w: "person" for w in ("人", "人物", "者", "選手", "作家", "人間", "王", "皇帝", "監督", "首相", "大統領")},
    **{w: "org" for w in ("組織", "団体", "企業", "会社", "機関", "政党", "党", "大学", "学校", "チーム", "クラブ",
                          "省庁", "省")},
    **{w: "time" for w in TIME_UNITS},
}

_PARTICLE_POS = "助詞"


@dataclass(frozen=True)
class Tok:
    start: int
    end: int
    surface: str
    norm: str
    pos: tuple[str, ...]


def morpheme_toks(text: str, tokenizer) -> list[Tok]:
    """`text`'s morphemes with offsets, normalised form and part of speech."""
    return [Tok(m.begin(), m.end(), m.surface(), m.normalized_form(), tuple(m.part_of_speech()))
            for m in tokenizer.morphemes(text)]


@dataclass
class QuestionInfo:
    qtype: str | None
    text: str = ""
    particle: str | None = None  # the particle right after the interrogative phrase (どこで → で)
    counter: str | None = None  # 何年 → 年, 何カ国 → 箇国
    head: str | None = None  # どの国 → 国, 何という川 → 川
    before: str | None = None  # the word right before the interrogative (マーラーの何 → マーラー)
    after: str | None = None  # the first content word after it (何を支持した → 支持)
    predicate: str | None = None  # what was done: the content word before のは (加盟したのはいつ → 加盟), else `after`
    pair: bool = False  # 誰と誰 / どこ と どこ: the interrogative coordinated with itself asks for two or more
    terms: set[str] = field(default_factory=set)  # content words (normalised)
    surfaces: set[str] = field(default_factory=set)
    # The interrogative phrase's nouns (どの部分 → 部分, 何という会議 → 会議): the kind asked for,
    # which the answering sentence names by an instance rather than by this word.
    asked: set[str] = field(default_factory=set)


def is_counter(tok: Tok) -> bool:
    """A counter when it follows a numeral: Sudachi's 助数詞 categories, or any noun-like suffix
    (3人: 人 is 接尾辞,名詞的,一般)."""
    return "助数詞" in tok.pos or "助数詞可能" in tok.pos or tok.pos[0] == "接尾辞"


def _split_counter(norm: str, tokenizer) -> bool:
    """Is `norm` (what follows 何 in a fused word like 何人 / 何回) a counter? Ask Sudachi how it
    reads the same word after a digit."""
    toks = morpheme_toks("3" + norm, tokenizer)
    return len(toks) >= 2 and toks[0].pos[1] == "数詞" and is_counter(toks[1])


def _next_particle(toks: list[Tok], i: int) -> str | None:
    while i < len(toks) and toks[i].pos[0] == _PARTICLE_POS and toks[i].surface in ("か", "も"):
        i += 1  # 誰かが / 何年も: skip the indefinite / additive particle
    if i < len(toks) and toks[i].pos[0] == _PARTICLE_POS:
        return toks[i].surface
    return None


def _same_word_after_and(toks: list[Tok], i: int, word: Tok) -> bool:
    """Whether the particle at `i` (と) is followed by `word` again (誰と誰, どこ と どこ)."""
    k = i + 1
    while k < len(toks) and toks[k].pos[0] == "空白":
        k += 1
    return k < len(toks) and toks[k].norm == word.norm


def _head_type(head: str | None, default: str | None) -> str | None:
    if head is None:
        return default
    for key in (head, head[-1:]):
        if key in _HEAD_CLASS:
            return _HEAD_CLASS[key]
    return default


def analyse_question(question: str, tokenizer) -> QuestionInfo:
    toks = morpheme_toks(question, tokenizer)
    for i in range(len(toks)):
        if _asks_no_phrase(toks, i):
            return _finish(QuestionInfo(None), toks, {i})
        if _indefinite(toks, i):
            continue
        found = _interrogative(toks, i, tokenizer)
        if found is not None:
            info, used = found
            info.particle = _next_particle(toks, max(used) + 1)
            if info.particle == "と" and _same_word_after_and(toks, max(used) + 1, toks[min(used)]):
                # 誰と誰: not "with whom" but two of the asked kind
                info.particle, info.pair = None, True
                used = [*used, *range(max(used) + 1, max(used) + 2 + len(used))]  # 何年と何年: both words
            if info.head is None:
                info.head = _head_near(toks, min(used), max(used))
            if toks[min(used)].norm in _HOW_MUCH and _money(info.head):
                info.counter = MONEY
            if info.qtype == "place" and _asks_which_body(toks, min(used), info.head):
                info.qtype = "org"
            elif info.qtype == "place" and info.particle is None and _asks_agent(toks, min(used)):
                info.qtype, info.particle = "org", "が"  # the doer: the sentence's subject
            info.before, info.after = neighbours(toks, min(used), max(used))
            return _finish(info, toks, set(used))
    if any(t.norm == "何" for t in toks):
        return _finish(_bare_what(toks), toks, set())
    info, used = _topic_head(toks)
    return _finish(info, toks, set(used))


def _asks_which_body(toks: list[Tok], wh: int, head: str | None) -> bool:
    """「主催者はどこ」「担当機関はどこ」: どこ asked of a person or a body as the topic asks which
    organisation, not which place."""
    return wh >= 2 and toks[wh - 1].surface in ("は", "が") and toks[wh - 2].norm == head \
        and _head_type(head, None) in ("person", "org")


# Verbs whose どこ is where it happened or where something is, not who did it (開いたのはどこ).
_WHERE_VERBS = {"開く", "行う", "有る", "居る", "置く", "建てる", "訪れる", "行く", "来る", "着く", "住む", "生まれる",
                "開催", "設置", "滞在", "位置", "所在", "建設", "到着", "訪問", "移転", "実施", "打ち上げる", "発射"}


def _asks_agent(toks: list[Tok], wh: int) -> bool:
    """「文書を受け取ったのはどこ」: どこ asked of who did an act the question names with no doer
    (an active verb, no が before it) asks which organisation; 「開催されたのはどこ」 (passive) and
    「会合を開いたのはどこ」 (a verb of where) ask a place."""
    if wh < 4 or [t.surface for t in toks[wh - 3:wh]] not in (["た", "の", "は"], ["だ", "の", "は"]):
        return False
    verb = toks[wh - 4]
    if verb.pos[0] != "動詞" or any(t.surface == "が" and t.pos[0] == "助詞" for t in toks[:wh - 4]):
        return False
    act = toks[wh - 5].norm if verb.norm in ("為る", "する") and wh >= 5 else verb.norm
    return act not in _WHERE_VERBS


def _next_tok(toks: list[Tok], i: int) -> Tok | None:
    return toks[i + 1] if i + 1 < len(toks) else None


def _asks_no_phrase(toks: list[Tok], i: int) -> bool:
    """なぜ / どのように / どう: why or how, which no phrase answers (どのくらい and 如何なる aside)."""
    t, nxt = toks[i], _next_tok(toks, i)
    if t.norm not in _NO_PHRASE and t.surface not in _NO_PHRASE:
        return False
    return not (nxt is not None and (t.norm == "如何" and nxt.surface == "なる"
                                     or t.surface in ("どう", "どの") and nxt.surface in _DEGREE))


def _indefinite(toks: list[Tok], i: int) -> bool:
    """誰も / いくらでも / 何でも: an indefinite, not a question word."""
    nxt = _next_tok(toks, i)
    return nxt is not None and (nxt.surface == "も" or nxt.surface == "で" and i + 2 < len(toks)
                                and toks[i + 2].surface == "も")


# Interrogatives that are one word: (type, normalised forms, surfaces).
_WH_WORDS: tuple[tuple[str, set[str], set[str]], ...] = (
    ("person", _PERSON_WH, _PERSON_WH), ("time", _TIME_WH, _TIME_WH_SURFACE),
    ("place", _PLACE_WH, _PLACE_WH), ("number", _NUMBER_WH, set()))

Found = tuple[QuestionInfo, list[int]]  # what the question asks for, and the interrogative's tokens


def _wh_word(toks: list[Tok], i: int, tokenizer) -> Found | None:
    """誰 / いつ / どこ / いくつ."""
    t = toks[i]
    for qtype, norms, surfaces in _WH_WORDS:
        if t.norm in norms or t.surface in surfaces:
            return QuestionInfo(qtype), [i]
    return None


def _how_much(toks: list[Tok], i: int, tokenizer) -> Found | None:
    """どのくらい / どれほど: how much, how long."""
    nxt = _next_tok(toks, i)
    if toks[i].surface in ("どの", "どれ", "どん") and nxt is not None and nxt.surface in _DEGREE:
        return QuestionInfo("number"), [i, i + 1]
    return None


def _what_noun(toks: list[Tok], i: int, tokenizer) -> Found | None:
    """何 + a noun or suffix: 何年 (time), 何カ国 (a counter), 何気団 (a kind of thing)."""
    t, nxt = toks[i], _next_tok(toks, i)
    if t.norm != "何" or nxt is None or nxt.pos[0] not in ("名詞", "接尾辞") or nxt.pos[1] == "数詞":
        return None
    if nxt.norm in TIME_UNITS or nxt.surface in TIME_UNITS:
        return QuestionInfo("time", counter=nxt.norm), [i, i + 1]
    if is_counter(nxt) or t.pos[1] == "数詞" or _split_counter(nxt.norm, tokenizer):
        return QuestionInfo("number", counter=nxt.norm), [i, i + 1]
    # what kind of X, answered by a name ending in X
    return QuestionInfo(_head_type(nxt.norm, "name"), head=nxt.norm), [i, i + 1]


def _what_called(toks: list[Tok], i: int, tokenizer) -> Found | None:
    """何と呼ぶ / 何という X: a name (of the kind X)."""
    nxt = _next_tok(toks, i)
    if toks[i].norm != "何" or nxt is None or nxt.surface != "と":
        return None
    used = [i, i + 1]
    head = None
    j = i + 2
    if j < len(toks) and toks[j].norm in ("言う", "云う"):
        used.append(j)
        if j + 1 < len(toks) and toks[j + 1].pos[0] == "名詞":
            head = toks[j + 1].norm
            used.append(j + 1)
    return QuestionInfo(_head_type(head, "name"), head=head), used


def _what_of(toks: list[Tok], i: int, tokenizer) -> Found | None:
    """何の + noun: a thing of that kind."""
    nxt = _next_tok(toks, i)
    if toks[i].norm != "何" or nxt is None or nxt.surface != "の" or i + 2 >= len(toks) \
            or toks[i + 2].pos[0] != "名詞":
        return None
    head = toks[i + 2].norm
    return QuestionInfo(_head_type(head, "name"), head=head), [i, i + 1, i + 2]


def _what_numeral(toks: list[Tok], i: int, tokenizer) -> Found | None:
    """何万人 / 何百: a numeral with 何 in it; the counter (if any) follows."""
    t, nxt = toks[i], _next_tok(toks, i)
    if len(t.norm) < 2 or t.norm[0] != "何" or t.pos[1] != "数詞":
        return None
    if nxt is not None and nxt.pos[0] in ("名詞", "接尾辞") and nxt.pos[1] != "数詞":
        return QuestionInfo("time" if nxt.norm in TIME_UNITS else "number", counter=nxt.norm), [i, i + 1]
    return QuestionInfo("number", counter=None), [i]


def _what_fused(toks: list[Tok], i: int, tokenizer) -> Found | None:
    """何人 / 何回 / 何語, which Sudachi reads as one word: what follows 何 decides."""
    t = toks[i]
    if len(t.norm) < 2 or t.norm[0] != "何" or t.pos[0] != "名詞":
        return None
    rest = t.norm[1:]
    if rest in TIME_UNITS:
        return QuestionInfo("time", counter=rest), [i]
    if _split_counter(rest, tokenizer):
        return QuestionInfo("number", counter=rest), [i]
    return QuestionInfo(_head_type(rest, "name"), head=rest), [i]


def _what_split(toks: list[Tok], i: int, tokenizer) -> Found | None:
    """何か国 / 何か所 / 何か月 that Sudachi splits into 何・か・国 in some contexts: a counter."""
    if toks[i].norm != "何" or i + 2 >= len(toks) or toks[i + 1].surface not in ("か", "カ", "ヶ", "ケ", "ヵ") \
            or toks[i + 2].surface not in ("国", "所", "月"):
        return None
    return QuestionInfo("number", counter="箇" + toks[i + 2].surface), [i, i + 1, i + 2]


def _which(toks: list[Tok], i: int, tokenizer) -> Found | None:
    """どの / どんな + noun (compound nouns to their end): the class of that noun."""
    t, nxt = toks[i], _next_tok(toks, i)
    if t.surface not in _WHICH and t.norm not in _WHICH or nxt is None or nxt.pos[0] != "名詞":
        return None
    j = i + 1
    while j + 1 < len(toks) and toks[j + 1].pos[0] in ("名詞", "接尾辞"):
        j += 1
    head = toks[j].norm
    # どの + a noun outside the classifier set (どの分野, どの部分) asks for a thing of that kind,
    # not a name: read as "name", its phrase was too unreliable on JSQuAD to lead the answer.
    qtype = _head_type(head, None if t.surface in ("どんな", "どういう") else "thing")
    return (QuestionInfo(qtype, head=head), list(range(i, j + 1))) if qtype is not None else None


# Tried in order at each token; the first that matches is the question's interrogative.
_INTERROGATIVES = (_wh_word, _how_much, _what_split, _what_noun, _what_called, _what_of, _what_numeral, _what_fused,
                   _which)


def _interrogative(toks: list[Tok], i: int, tokenizer) -> Found | None:
    for match in _INTERROGATIVES:
        found = match(toks, i, tokenizer)
        if found is not None:
            return found
    return None


def _bare_what(toks: list[Tok]) -> QuestionInfo:
    """A bare 何 (〜は何か): some thing, named by a noun phrase — unless it asks for a definition
    (〜とは何か), which a phrase does not answer."""
    defining = any(t.surface in ("とは", "って") or t.surface == "と" and k + 1 < len(toks)
                   and toks[k + 1].surface == "は" for k, t in enumerate(toks))
    if defining:
        return QuestionInfo(None)
    at = next(k for k, t in enumerate(toks) if t.norm == "何")
    head = _head_near(toks, at, at)
    info = QuestionInfo("name" if head in _NAME_NOUNS else _head_type(head, "thing"), head=head)
    info.particle = _next_particle(toks, at + 1)
    info.before, info.after = neighbours(toks, at, at)
    return info


def _content(t: Tok) -> bool:
    return t.pos[0] in ("名詞", "動詞", "形容詞", "形状詞") and t.pos[1] != "代名詞" and "非自立可能" not in t.pos


def neighbours(toks: list[Tok], first: int, last: int) -> tuple[str | None, str | None]:
    """Content words next to a span, skipping at most one particle on each side."""
    k = first - 1
    if k >= 0 and toks[k].pos[0] == "助詞":
        k -= 1
    before = toks[k].norm if k >= 0 and _content(toks[k]) else None
    k = last + 1
    while k < len(toks) and toks[k].pos[0] in ("助詞", "補助記号") and k <= last + 2:
        k += 1
    after = toks[k].norm if k < len(toks) and _content(toks[k]) else None
    return before, after


def _head_near(toks: list[Tok], first: int, last: int) -> str | None:
    """The noun an interrogative asks about: どこの国 → 国; 首都はどこ / 法律は何 → 首都 / 法律."""
    if last + 2 < len(toks) and toks[last + 1].surface == "の" and toks[last + 2].pos[0] == "名詞":
        return toks[last + 2].norm
    k = first - 1
    if k >= 1 and toks[k].pos[0] == "助詞" and toks[k].surface in ("は", "とは", "が") \
            and toks[k - 1].pos[0] in ("名詞", "接尾辞") and toks[k - 1].pos[1] != "代名詞":
        return toks[k - 1].norm
    return None


def _topic_head(toks: list[Tok]) -> tuple[QuestionInfo, list[int]]:
    """A question without an interrogative that ends on its topic (〜した年は？, 〜の名称は,
    〜を開発した人物は): the type follows from that noun."""
    k = len(toks)
    while k > 0 and toks[k - 1].pos[0] in ("補助記号", "空白"):
        k -= 1
    particles = []
    while k > 0 and toks[k - 1].pos[0] == "助詞" and toks[k - 1].surface in ("は", "とは", "って", "か", "と"):
        k -= 1
        particles.append(toks[k].surface)
    if k == 0 or toks[k - 1].pos[0] not in ("名詞", "接尾辞") or toks[k - 1].pos[1] == "代名詞":
        return QuestionInfo(None), []
    # 〜の政体は？ asks for a thing; 〜とは？ asks for a definition, which no phrase answers.
    default = "thing" if particles == ["は"] else None
    head = toks[k - 1].norm
    if head in _NAME_NOUNS or head[-1:] == "名" and len(head) > 1:
        return QuestionInfo("name", head=head), [k - 1]
    if head[-1:] == "数" or head in _QUANTITY_NOUNS:
        return QuestionInfo("number", head=head), [k - 1]
    return QuestionInfo(_head_type(head, default), head=head), [k - 1]


def _predicate(toks: list[Tok]) -> str | None:
    """The content word before 〜のは / 〜のが (〜に加盟したのはいつ → 加盟), if the question has one."""
    for k in range(len(toks) - 1, 1, -1):
        if toks[k].surface in ("は", "が") and toks[k - 1].surface == "の" and toks[k - 1].pos[0] == "助詞":
            j = k - 2
            while j >= 0 and toks[j].pos[0] in ("助動詞", "助詞") or j >= 0 and "非自立可能" in toks[j].pos:
                j -= 1
            if j >= 0 and _content(toks[j]):
                return toks[j].norm
            return None
    return None


def _money(head: str | None) -> bool:
    return head is not None and (head in _MONEY_NOUNS or head[-1:] in ("費", "額") and len(head) > 1)


def _asked_quantity(info: QuestionInfo) -> None:
    """A span of years when the quantity's noun is one (有効期間は何年; 何年から / 何年に still
    ask for a year)."""
    head = info.head or ""
    if info.qtype == "time" and info.counter == "年" and info.particle not in ("から", "まで", "に", "には") \
            and any(head.endswith(n) for n in _SPAN_NOUNS):
        info.qtype, info.counter = "number", DURATION


def measured(info: QuestionInfo) -> str | None:
    """The noun that names an asked quantity (費用, 有効期間 → 期間, 重さ), or None."""
    head = info.head or ""
    if info.qtype == "number" and head and (head in _QUANTITY_NOUNS or info.counter in (MONEY, DURATION)):
        return head
    return None


def _finish(info: QuestionInfo, toks: list[Tok], skip: set[int]) -> QuestionInfo:
    _asked_quantity(info)
    info.text = "".join(t.surface for t in toks)
    info.predicate = _predicate(toks) or info.after
    for i, t in enumerate(toks):
        if i in skip:
            if t.pos[0] == "名詞" and t.norm != "何":
                info.asked.add(t.norm.lower())
            continue
        if t.pos[0] in ("名詞", "形状詞", "動詞", "形容詞") and t.pos[1] not in ("代名詞",) \
                and "非自立可能" not in t.pos:
            info.terms.add(t.norm)
            info.surfaces.add(t.surface)
    return info


@lru_cache(maxsize=256)
def question_info(question: str, tokenizer) -> QuestionInfo:
    """What a question asks for and its words. Cached (do not mutate): the engine, the sentence
    ranker and `find_phrase` read the same question in turn."""
    return analyse_question(question, tokenizer)


def question_type(question: str, tokenizer) -> str | None:
    """"time", "number", "person", "place", "name", "org", "thing" (a bare 何 that is not a
    definition question), or None when no phrase answers it (why / how / explain)."""
    return question_info(question, tokenizer).qtype

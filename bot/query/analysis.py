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
_DEGREE = {"くらい", "位", "ぐらい", "程", "ほど"}  # どのくらい / どれほど: how much, how long
_WHICH = {"どの", "何の", "どういう", "どんな", "如何なる"}
_NO_PHRASE = {"何故", "なぜ", "どうして", "如何して", "どう", "如何", "どのよう", "どの様", "如何様"}
# Calendar units: a counter after 何 that asks for a time rather than a quantity.
TIME_UNITS = {"年", "月", "日", "世紀", "年代", "時代", "時", "時期", "曜日", "年度", "元号", "西暦", "年号", "頃", "季節"}
# Nouns that ask for a name when they are the topic (〜の名称は？).
_NAME_NOUNS = {"名前", "名称", "略称", "呼称", "通称", "愛称", "正式名称", "略号", "名", "題名", "作品名", "国名",
               "地名", "人名", "社名", "団体名", "組織名", "学名", "和名", "英名", "英語名", "別名", "異名", "旧名"}
# Topic nouns that ask for a quantity (〜の人口は？).
_QUANTITY_NOUNS = {"人口", "面積", "人数", "金額", "額", "量", "率", "割合", "距離", "長さ", "高さ", "重さ", "速度",
                   "温度", "規模", "総数", "順位", "価格", "値段", "費用", "年齢"}
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
    terms: set[str] = field(default_factory=set)  # content words (normalised)
    surfaces: set[str] = field(default_factory=set)


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


def _head_type(head: str | None, default: str | None) -> str | None:
    if head is None:
        return default
    for key in (head, head[-1:]):
        if key in _HEAD_CLASS:
            return _HEAD_CLASS[key]
    return default


def analyse_question(question: str, tokenizer) -> QuestionInfo:
    toks = morpheme_toks(question, tokenizer)
    info = QuestionInfo(None)
    interrogative: set[int] = set()
    found = False
    for i, t in enumerate(toks):
        if found:
            break
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if t.norm in _NO_PHRASE or t.surface in _NO_PHRASE:
            if t.norm == "如何" and nxt is not None and nxt.surface in ("なる",):
                continue
            if t.surface in ("どう", "どの") and nxt is not None and nxt.surface in _DEGREE:
                pass
            else:
                return _finish(QuestionInfo(None), toks, interrogative | {i})
        if nxt is not None and (nxt.surface == "も" or nxt.surface == "で" and i + 2 < len(toks)
                                and toks[i + 2].surface == "も"):
            continue  # 誰も / いくらでも / 何でも: indefinite, not a question word
        if t.norm in _PERSON_WH or t.surface in _PERSON_WH:
            info, found, used = QuestionInfo("person"), True, [i]
        elif t.norm in _TIME_WH or t.surface in _TIME_WH_SURFACE:
            info, found, used = QuestionInfo("time"), True, [i]
        elif t.norm in _PLACE_WH or t.surface in _PLACE_WH:
            info, found, used = QuestionInfo("place"), True, [i]
        elif t.norm in _NUMBER_WH:
            info, found, used = QuestionInfo("number"), True, [i]
        elif t.surface in ("どの", "どれ", "どん") and nxt is not None and nxt.surface in _DEGREE:
            info, found, used = QuestionInfo("number"), True, [i, i + 1]
        elif t.norm == "何" and nxt is not None and (nxt.pos[0] == "名詞" or nxt.pos[0] == "接尾辞") \
                and nxt.pos[1] != "数詞":
            used = [i, i + 1]
            if nxt.norm in TIME_UNITS or nxt.surface in TIME_UNITS:
                info = QuestionInfo("time", counter=nxt.norm)
            elif is_counter(nxt) or t.pos[1] == "数詞" or _split_counter(nxt.norm, tokenizer):
                info = QuestionInfo("number", counter=nxt.norm)
            else:  # 何気団 / 何貿易: what kind of X, answered by a name ending in X
                info = QuestionInfo(_head_type(nxt.norm, "name"), head=nxt.norm)
            found = True
        elif t.norm == "何" and nxt is not None and nxt.surface == "と":
            # 何と呼ぶ / 何という X
            used = [i, i + 1]
            head = None
            j = i + 2
            if j < len(toks) and toks[j].norm in ("言う", "云う"):
                used.append(j)
                if j + 1 < len(toks) and toks[j + 1].pos[0] == "名詞":
                    head = toks[j + 1].norm
                    used.append(j + 1)
            info, found = QuestionInfo(_head_type(head, "name"), head=head), True
        elif t.norm == "何" and nxt is not None and nxt.surface == "の" and i + 2 < len(toks) \
                and toks[i + 2].pos[0] == "名詞":
            head = toks[i + 2].norm
            info, found, used = QuestionInfo(_head_type(head, "name"), head=head), True, [i, i + 1, i + 2]
        elif len(t.norm) > 1 and t.norm[0] == "何" and t.pos[1] == "数詞":
            # 何万人 / 何百: a numeral with 何 in it, the counter (if any) follows
            used = [i]
            counter = None
            if nxt is not None and nxt.pos[0] in ("名詞", "接尾辞") and nxt.pos[1] != "数詞":
                counter = nxt.norm
                used.append(i + 1)
            qt = "time" if counter in TIME_UNITS else "number"
            info, found = QuestionInfo(qt, counter=counter), True
        elif len(t.norm) > 1 and t.norm[0] == "何" and t.pos[0] == "名詞":
            # Sudachi fuses 何人 / 何回 / 何語 into one word: split off what follows 何.
            rest = t.norm[1:]
            used = [i]
            if rest in TIME_UNITS:
                info = QuestionInfo("time", counter=rest)
            elif _split_counter(rest, tokenizer):
                info = QuestionInfo("number", counter=rest)
            else:
                info = QuestionInfo(_head_type(rest, "name"), head=rest)
            found = True
        elif t.surface in _WHICH or t.norm in _WHICH:
            if nxt is not None and nxt.pos[0] == "名詞":
                j = i + 1
                while j + 1 < len(toks) and toks[j + 1].pos[0] in ("名詞", "接尾辞"):
                    j += 1
                head = toks[j].norm
                # どの + a noun outside the classifier set (どの分野, どの部分) asks for a thing of
                # that kind, not a name: read as "name", its phrase scored char F1 0.41 on JSQuAD
                # (15 questions; name questions overall 0.65), too unreliable to lead the answer.
                default = None if t.surface in ("どんな", "どういう") else "thing"
                qt = _head_type(head, default)
                if qt is not None:
                    info, found, used = QuestionInfo(qt, head=head), True, list(range(i, j + 1))
        if found:
            interrogative.update(used)
            info.particle = _next_particle(toks, max(used) + 1)
            if info.head is None:
                info.head = _head_near(toks, min(used), max(used))
            info.before, info.after = neighbours(toks, min(used), max(used))
    if not found and any(t.norm == "何" for t in toks):
        # A bare 何 (〜は何か): some thing, named by a noun phrase — unless it asks for a
        # definition (〜とは何か), which a phrase does not answer.
        defining = any(t.surface in ("とは", "って") or t.surface == "と" and k + 1 < len(toks)
                       and toks[k + 1].surface == "は" for k, t in enumerate(toks))
        if defining:
            return _finish(QuestionInfo(None), toks, interrogative)
        at = next(k for k, t in enumerate(toks) if t.norm == "何")
        head = _head_near(toks, at, at)
        kind = "name" if head in _NAME_NOUNS else _head_type(head, "thing")
        info, found = QuestionInfo(kind, head=head), True
        info.particle = _next_particle(toks, at + 1)
        info.before, info.after = neighbours(toks, at, at)
    if not found:
        info, used = _topic_head(toks)
        interrogative.update(used)
    return _finish(info, toks, interrogative)


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


def _finish(info: QuestionInfo, toks: list[Tok], skip: set[int]) -> QuestionInfo:
    info.text = "".join(t.surface for t in toks)
    info.predicate = _predicate(toks) or info.after
    for i, t in enumerate(toks):
        if i in skip:
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

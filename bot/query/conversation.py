"""Follow-up questions: 「それはどこで開催されましたか？」 or "Where is that station?" only make sense
with the conversation so far.

A question is treated as a follow-up when it points back (a demonstrative or pronoun), or when it
is too short to stand on its own (ellipsis: 「いつ？」, "And Canada?"). It is then resolved to what
the previous turn was about, not glued to the whole previous question, so the current question
keeps its own weight: in Japanese the pronoun is replaced by the previous question's topic (the
phrase it asked about: 「APRSAFは…」 → APRSAF), found by parsing, and previous questions that were
follow-ups themselves are resolved first. The engine also favours the conversation's document: the
one the previous exchange (the previous question with the start of its answer) is found in
(bot/engine.py).
"""

import re
from dataclasses import dataclass

from bot.query.crosslingual import STOPWORDS

# Demonstratives and pronouns that refer to something said earlier (grammar, not topics).
_JA_DEIXIS = re.compile(r"(その|それ|そこ|そちら|この|これ|ここ|あの|あれ|同(?:機関|会議|社|国)|彼|彼女|上記)")
_JA_OPENERS = re.compile(r"^(では|じゃあ|それで|また|さらに|他に|ほかに)")
# What replaces a pronoun: 「それは」→「Xは」, 「その」→「Xの」, 「そこで」→「Xで」.
_JA_PRONOUN = re.compile(r"(?:それら|これら|それ|これ|あれ|そちら|そこ|ここ|あそこ|同(?:機関|会議|社|国)"
                         r"|彼女|彼)(?!ぞれ)|(?P<det>その|この|あの)")
_EN_REFERENCE = re.compile(
    r"\b(it|its|it's|that|this|those|these|they|them|their|there|he|she|him|her|his|the same|"
    r"such|former|latter)\b", re.I)
_EN_OPENERS = re.compile(r"^\s*(and|also|what about|how about|then)\b", re.I)
_EN_WH = re.compile(r"\b(?:who|whom|whose|what(?!\s+about)|which|when|where|why|how(?!\s+about))\b", re.I)
_MIN_STANDALONE_CHARS = 6
_MIN_STANDALONE_WORDS = 3
# Particles that mark what a Japanese question is about: 「Xは」「Xが」「Xについて」「Xとは」「Xって」.
_TOPIC_MARKERS = ("は", "が", "について", "とは", "って", "の")
_NOUNISH = {"名詞", "接頭辞", "接尾辞"}
_INTERROGATIVE = re.compile(r"何|誰|どこ|いつ|どの|どれ|いく")


@dataclass(frozen=True)
class Resolved:
    query: str  # the text to retrieve with
    follow_up: bool
    previous: str | None = None  # the previous user question, itself resolved
    topic: str | None = None  # what the pronoun was taken to mean
    own: str | None = None  # the question's own words, without what refers back (そのとき, それは)


def is_follow_up(question: str, lang: str, tokenizer=None) -> bool:
    q = question.strip()
    if lang == "ja":
        core = re.sub(r"[？?。！!、\s]", "", q)
        return bool(_JA_DEIXIS.search(q) or _JA_OPENERS.match(q)) or len(core) < _MIN_STANDALONE_CHARS \
            or (tokenizer is not None and not names_entity(q, tokenizer))
    words = re.findall(r"[A-Za-z0-9]+", q)
    return bool(_EN_REFERENCE.search(q) or _EN_OPENERS.match(q)) or len(words) < _MIN_STANDALONE_WORDS


def names_entity(question: str, tokenizer) -> bool:
    """Whether a Japanese question names something of its own (a proper noun, a Latin-script name,
    a number): 「事務局はどこですか？」 does not — Japanese drops the subject the conversation is
    about — while 「KiboCUBEの事務局はどこですか？」 does."""
    if re.search(r"[A-Za-z]{2,}|[0-9０-９]", question):
        return True
    return any(m.part_of_speech()[1] == "固有名詞" for m in tokenizer.morphemes(question))


def topic_of(question: str, tokenizer) -> str | None:
    """The phrase a Japanese question is about: the noun phrase before its first topic marker
    (は, が, について, …), else its longest noun phrase; None if it only has interrogatives."""
    morphs = [(m.surface(), m.part_of_speech(), m.begin(), m.end()) for m in tokenizer.morphemes(question)]
    phrases: list[tuple[int, int, str]] = []  # (start, end, following surface)
    i = 0
    while i < len(morphs):
        j = i
        while j < len(morphs) and (morphs[j][1][0] in _NOUNISH
                                   or (j > i and morphs[j][0] in "・-") ):
            j += 1
        if j > i:
            nxt = morphs[j][0] if j < len(morphs) else ""
            if nxt == "に" and j + 1 < len(morphs) and morphs[j + 1][0] == "つい":
                nxt = "について"
            phrases.append((morphs[i][2], morphs[j - 1][3], nxt))
            i = j
        else:
            i += 1
    phrases = [(s, e, n) for s, e, n in phrases if not _INTERROGATIVE.search(question[s:e])]
    if not phrases:
        return None
    for marker in _TOPIC_MARKERS:
        for k, (_, e, nxt) in enumerate(phrases):
            if nxt == marker and marker != "の":
                return question[_subject_start(morphs, phrases, k, question):e]
    for s, e, nxt in phrases:
        if nxt == "の":
            return question[s:e]
    s, e, _ = max(phrases, key=lambda x: x[1] - x[0])
    return question[s:e]


# A subject clause longer than this (characters) is a question's whole premise rather than the thing
# it is about: only its last noun phrase is taken (chosen on the JSQuAD and jaxaweb follow-ups).
MAX_SUBJECT_CHARS = 24


def _subject_start(morphs, phrases, k: int, question: str) -> int:
    """Where the whole subject ending at phrase `k` starts: from the question's beginning when no
    other topic or subject particle comes before it (「KiboCUBEの第1回で選ばれた衛星は」 is about
    that satellite, not about 衛星), else the noun phrases joined to it by の or と."""
    start = phrases[k][0]
    before = [m for m in morphs if m[3] <= start]
    if phrases[k][1] <= MAX_SUBJECT_CHARS and before and before[-1][1][0] not in ("助詞",) and not any(
            m[1][0] == "助詞" and m[0] in ("は", "が", "とは", "って") for m in before) \
            and not _INTERROGATIVE.search(question[:start]):
        return 0
    return _extend_left(phrases, k, question)


def _extend_left(phrases: list[tuple[int, int, str]], k: int, question: str) -> int:
    """Where the topic phrase `k` starts once the noun phrases joined to it by の or と are taken
    in: 「JAXAとアラブ首長国連邦宇宙機関の協定について」 is about the agreement between the two,
    not about 協定 alone."""
    start = phrases[k][0]
    while k > 0 and question[phrases[k - 1][1]:start] in ("の", "と", "・") and phrases[k - 1][2] in ("の", "と", "・"):
        k -= 1
        start = phrases[k][0]
    return start


_EN_NAME = re.compile(r"\b[A-Z][A-Za-z0-9\-]*(?:\s+(?:of\s+|the\s+|and\s+)?[A-Z][A-Za-z0-9\-]*)*")
# The pronouns a name can stand in for ("its"/"their" become the name's possessive).
_EN_PRONOUN = re.compile(r"\b(it|its|they|them|their)\b", re.I)


def english_topic(question: str) -> str | None:
    """The name an English question is about: its longest capitalised phrase (a question's first
    word is capitalised anyway and does not count), or None."""
    names = []
    for m in _EN_NAME.finditer(question):
        words = m.group(0).split()
        if m.start() == 0:
            words = words[1:]
        name = re.sub(r"^(?:of|the|and)\s+", "", " ".join(words))
        # A possessive names its head: "JAXA's aeronautics directorate", not "JAXA".
        head = re.match(r"(?:'s|’s)((?:\s+[a-z][a-z\-]*)+)", question[m.end():])
        if head and name:
            kept = []
            for w in head.group(1).split():
                if w in STOPWORDS:
                    break
                kept.append(w)
            if kept:
                name = f"{name}'s {' '.join(kept)}"
        if len(name) > 1:
            names.append(name)
    return max(names, key=len) if names else None


def previous_user_turn(history: list) -> tuple[str | None, list]:
    """The last user turn's text and the history before it."""
    for i in range(len(history) - 1, -1, -1):
        turn = history[i]
        if turn.role == "user" and turn.content.strip():
            return turn.content.strip(), history[:i]
    return None, []


def previous_answer(history: list) -> str | None:
    """The answer given to the last user turn (the assistant turn after it), if any."""
    for i in range(len(history) - 1, -1, -1):
        if history[i].role == "user" and history[i].content.strip():
            after = [t.content.strip() for t in history[i + 1:] if t.role == "assistant" and t.content.strip()]
            return after[0] if after else None
    return None


# How much of the previous answer joins the previous question to find the conversation's
# document: its lead and first quoted sentence, not a long answer's glossary and related links.
EXCHANGE_ANSWER_CHARS = 300


def answer_start(answer: str | None) -> str | None:
    """The part of an answer that joins its question to find the conversation's document."""
    return answer.strip()[:EXCHANGE_ANSWER_CHARS] if answer and answer.strip() else None


def exchange_text(previous: str, answer: str | None) -> str:
    """The previous exchange as one search text: the (resolved) previous question and the start
    of the answer it got."""
    start = answer_start(answer)
    return f"{previous}\n{start}" if start else previous


def resolve(question: str, history: list, lang: str, tokenizer=None) -> Resolved:
    question = question.strip()
    previous, earlier = previous_user_turn(history)
    if not previous or not is_follow_up(question, lang, tokenizer):
        return Resolved(question, False)
    prev = resolve(previous, earlier, lang, tokenizer)
    if lang == "ja" and tokenizer is not None:
        topic = topic_of(prev.query, tokenizer)
        if topic:
            m = _JA_PRONOUN.search(question)
            if m:
                rest = question[m.end():]
                # そのとき / その際 / その年: the determiner and an adverbial noun of time or
                # occasion together point back; the noun is no word the answer has to contain.
                occasion = m.group("det") and _occasion_noun(rest, tokenizer)
                own = question[:m.start()] + rest[len(occasion or ""):]
                # その声明 after 「…共同声明は…」: the topic already names the thing.
                named = m.group("det") and next((rest[:n] for n in range(len(rest), 0, -1)
                                                 if topic.endswith(rest[:n]) and n >= 2), None)
                if named:
                    query = question[:m.start()] + topic + rest[len(named):]
                else:
                    query = question[:m.start()] + topic + ("の" if m.group("det") else "") + rest
            elif restates(question, topic, tokenizer):
                return Resolved(question, False)
            else:  # ellipsis: 「いつ？」「事務局はどこですか？」「では、予算は？」
                query, own = _with_topic(question, topic, tokenizer), question
            return Resolved(query, True, prev.query, topic, own)
    if lang == "en":
        return _english_answer_reading(question, history, prev.query) or _english_reading(question, prev.query)
    return Resolved(f"{prev.query} {question}", True, prev.query, None)


def _english_reading(question: str, previous: str) -> Resolved:
    """An English follow-up read against the previous question alone: its pronoun stands for the
    name that question was about."""
    topic = english_topic(previous)
    m = _EN_PRONOUN.search(question)
    if topic and m:
        said = topic + ("'s" if m.group(1).lower() in ("its", "their") else "")
        return Resolved(question[:m.start()] + said + question[m.end():], True, previous, topic)
    # Ellipsis naming something new ("And with the US?" after "When did cooperation with
    # Europe start?"): the previous question, asked about it. A question that asks something of
    # its own ("And which NASA program is JAXA going to take part in?") is no ellipsis.
    new = english_topic(question)
    if topic and not m and new and _EN_OPENERS.match(question) and topic in previous \
            and not _EN_WH.search(question):
        return Resolved(previous.replace(topic, new, 1), True, previous, topic)
    return Resolved(f"{previous} {question}", True, previous, None)


def restates(question: str, topic: str, tokenizer) -> bool:
    """Whether a question without a pronoun says the conversation's topic in its own words (at
    least half of the topic's content words: 「現在、日露間の具体的な協力には…」 after 「日露宇宙協力協定は…」):
    it is about what it says, and the topic put back would only repeat it."""
    words = set(tokenizer.content_terms(topic))
    shared = words & set(tokenizer.content_terms(question))
    return bool(shared) and 2 * len(shared) >= len(words)


def _occasion_noun(text: str, tokenizer) -> str | None:
    """The adverbial noun of time or occasion `text` starts with (とき, 際, 年, 頃: Sudachi's
    副詞可能 nouns), if any."""
    first = next(iter(tokenizer.morphemes(text)), None) if text else None
    if first is not None and first.begin() == 0 and first.part_of_speech()[:3] == ("名詞", "普通名詞", "副詞可能"):
        return first.surface()
    return None


def _with_topic(question: str, topic: str, tokenizer) -> str:
    """An elliptical question with the conversation's topic put back: 「事務局はどこですか？」 →
    「センチネルアジアの事務局はどこですか？」; 「いつ始まりましたか？」 → 「センチネルアジアはいつ始まりましたか？」;
    「打ち上げた衛星は？」 → 「Xが打ち上げた衛星は？」."""
    body = _JA_OPENERS.sub("", question).lstrip("、, ")
    first = next(iter(tokenizer.morphemes(body)), None) if body else None
    if first is None:
        return f"{topic} {question}"
    if first.part_of_speech()[0] == "名詞" and not _INTERROGATIVE.search(first.surface()):
        return f"{topic}の{body}"
    if _INTERROGATIVE.match(first.surface()):
        return f"{topic}は{body}"
    return f"{topic}が{body}"  # 打ち上げた衛星は → Xが打ち上げた衛星は


# A question that asks for a thing (Which satellite…? What did the workshop highlight?) is answered
# by naming it; one that asks what something is (What is X?) is answered about X.
_EN_ASKS_THING = re.compile(r"^\s*(?:which\b|what\s+(?!(?:is|are|was|were|'s)\b)\w+)", re.I)
# What points back at one thing: it / its, or that / this before a noun (that experiment).
_EN_ONE_THING = re.compile(r"\b(?:(it|its)|(?:that|this)(?=\s+[a-z]+\b)"
                           r"(?!\s+(?:is|was|are|were|has|have|had|did|does|do|can|will|would|could|should|may)\b))\b",
                           re.I)
# An English answer's lead as the engine writes it: a label (Who:, When:, Answer:) before what was
# found, then a citation marker.
_EN_LABEL = re.compile(r"^\s*(?:[A-Z][a-z]+(?:\s+[a-z]+)?\s*:\s*)")
_EN_LEAD_NAME = re.compile(r"^(?!(?:The|A|An|It|This|That|Yes|No|In|On|At|By|From|Since|With|For)\b)[A-Z0-9][\w\-]*"
                           r"(?:\s+(?:(?:of|the|and|for|de|del|la)\s+)*[A-Z0-9][\w\-]*)*$")


def answer_name(answer: str | None) -> str | None:
    """The name an English answer opens with (1KUNS-PF in "1KUNS-PF, from the University of
    Nairobi", Asian Try Zero-G 2018 in "Asian Try Zero-G 2018, which astronaut …"), or None when it
    opens with something else (a sentence, an article, a Japanese phrase)."""
    if not answer:
        return None
    lead = re.split(r"[,.;:(\[]|\s+-\s+", _EN_LABEL.sub("", answer.strip()), maxsplit=1)[0].strip()
    # A date or a number is no thing to refer back to by "it".
    words = re.sub(r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\b",
                   "", lead)
    return lead if _EN_LEAD_NAME.match(lead) and re.search(r"[A-Za-z]", words) else None


def _english_answer_reading(question: str, history: list, previous: str) -> Resolved | None:
    """After a question that asked for a thing and got a name for it, "it" or "that experiment"
    means the named thing, the last thing said, rather than what the question was about ("Which
    satellite was selected in the first KiboCUBE round?" — "1KUNS-PF, …" — "What size is it?");
    None when the previous exchange was not so."""
    if not _EN_ASKS_THING.match(previous):
        return None
    name = answer_name(previous_answer(history))
    m = _EN_ONE_THING.search(question)
    if name is None or m is None:
        return None
    said = name + ("'s" if m.group(1) and m.group(1).lower() == "its" else "" if m.group(1) else " ")
    end = m.end() if m.group(1) else m.end() + len(question[m.end():]) - len(question[m.end():].lstrip())
    return Resolved(question[:m.start()] + said + question[end:], True, previous, name)


def other_reading(question: str, history: list, lang: str, tokenizer, usual: Resolved) -> Resolved | None:
    """The other way to read a Japanese question asked in a conversation, beside `usual` (what
    `resolve` made of it): alone when it was taken as a follow-up, and when taken as standalone,
    with the conversation's topic put back (「DLR側の署名者は？」 names DLR yet asks about
    the agreement talked about). None without an earlier question. The engine keeps the reading
    its evidence supports best."""
    previous, earlier = previous_user_turn(history)
    # English follow-ups are resolved by their pronouns, which say what they refer to.
    if not previous or lang != "ja" or tokenizer is None:
        return None
    question = question.strip()
    if usual.follow_up:
        return Resolved(question, False)
    prev = resolve(previous, earlier, lang, tokenizer)
    topic = topic_of(prev.query, tokenizer)
    if not topic or topic in question or restates(question, topic, tokenizer):
        return None
    return Resolved(_with_topic(question, topic, tokenizer), True, prev.query, topic)


def resolve_query(question: str, history: list, lang: str, tokenizer=None) -> str:
    """The text to retrieve with: the question alone, or resolved against the conversation."""
    return resolve(question, history, lang, tokenizer).query

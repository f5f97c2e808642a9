"""The Japanese analyser: SudachiPy (mode B, normalised forms) morphemes, index terms (words plus
character bigrams) and content terms. Used by the lexical index, question analysis, answering and
the English term table. Measured on the seed page, Sudachi mode B beat fugashi, janome and
character bigrams."""

import re
import threading
import unicodedata

from sudachipy import Dictionary, SplitMode

# Parts of speech that carry no topic: particles, auxiliaries, punctuation, whitespace.
_FUNCTION_POS = {"助詞", "助動詞", "補助記号", "空白", "記号"}
# Grammar besides function words: pronouns, determiners, conjunctions, interjections, light verbs
# and adjectives (為る, 居る, 成る: 非自立可能), and the stem of auxiliary-like 形状詞 (よう).
_GRAMMAR_POS = {"代名詞", "連体詞", "接続詞", "感動詞"}
_GRAMMAR_SUB = {"非自立可能", "助動詞語幹"}
# Content words for "does this sentence cover the question": nouns, numbers, names.
_CONTENT_POS = {"名詞", "形状詞", "接頭辞"}
_NON_CONTENT_SUB = {"代名詞", "非自立可能", "助数詞可能"}
# Interrogatives and formal nouns (normalised forms): grammar, not content.
_NON_CONTENT_WORDS = {"何", "何人", "何時", "何処", "誰", "幾ら", "幾つ", "如何", "物", "事"}
# Sudachi refuses inputs above 49149 UTF-8 bytes ("Input is too long"); longer text is tokenised
# in pieces well below that, cut where a word cannot continue (line, sentence or space).
MAX_PIECE_BYTES = 16_000
_BREAK = re.compile(r"[\n。！？!?．.、,\s]")


def pieces(text: str, max_bytes: int = MAX_PIECE_BYTES) -> list[str]:
    """`text` cut into consecutive pieces of at most `max_bytes` UTF-8 bytes, at a line,
    sentence, comma or space break when the window has one (a hard cut otherwise)."""
    if len(text.encode("utf-8")) <= max_bytes:
        return [text]
    out, start = [], 0
    # At most 4 bytes a character: a window of max_bytes // 4 characters always fits.
    window = max(1, max_bytes // 4)
    while start < len(text):
        end = min(len(text), start + window)
        if end < len(text):
            cut = None
            for m in _BREAK.finditer(text, start + window // 2, end):
                cut = m.end()
            end = cut or end
        out.append(text[start:end])
        start = end
    return out


_ALNUM_RUN = re.compile(r"[^\W_]+")

# Marks a character-bigram term, so it can never equal a word term.
BIGRAM_MARK = "\u0002"


def char_bigrams(text: str) -> list[str]:
    return [f"{BIGRAM_MARK}{run[i:i + 2]}" for run in _ALNUM_RUN.findall(unicodedata.normalize("NFKC", text).lower())
            for i in range(len(run) - 1)]


_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’\-]*")
_LATIN_PHRASE = re.compile(r"[A-Za-z][A-Za-z0-9'’\-]*(?: [A-Za-z][A-Za-z0-9'’\-]*)+")


def term_of(morpheme) -> str:
    """A morpheme's index term: Sudachi's normalised form, except for a word in Latin script, which
    stays as written (lower case). Sudachi respells English words in katakana (aircraft →
    エアクラフト, SAFE → セーフ), so an English document's words and an English question's would
    not meet."""
    surface = morpheme.surface()
    if _LATIN_WORD.fullmatch(surface):
        return surface.lower()
    return morpheme.normalized_form().lower()


def terms_of(morpheme) -> list[str]:
    """A morpheme's index terms: its `term_of`, and for an English phrase Sudachi reads as one
    common noun (Working Group → ワーキンググループ) its words too, which a Japanese question's
    words meet through their glosses (グループ → group) and which a Japanese page splits the same
    way. A name (Donald Trump) stays one term."""
    term = term_of(morpheme)
    surface = morpheme.surface()
    if _LATIN_PHRASE.fullmatch(surface) and morpheme.part_of_speech()[1] != "固有名詞":
        return [term, *surface.lower().split()]
    return [term]


_local = threading.local()


def stem(word: str) -> str:
    """The Snowball (Porter2) stem of one lower-case English word. A stemmer keeps its word in its
    own state, so each thread has its own (an index build runs beside questions)."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        import snowballstemmer
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer.stemWord(word)


def _ideograph_table() -> dict[int, str]:
    """Kangxi radicals and CJK compatibility ideographs → the ideographs they stand for (⽉⾯ →
    月面: PDF text layers often carry the radicals). One character each way, so offsets hold."""
    ranges = [(0x2F00, 0x2FD5), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]
    table = {}
    for a, b in ranges:
        for cp in range(a, b + 1):
            to = unicodedata.normalize("NFKC", chr(cp))
            if len(to) == 1 and to != chr(cp):
                table[cp] = to
    return table


_IDEOGRAPHS = _ideograph_table()


def _grammar(morphemes) -> list[bool]:
    """Which morphemes are grammar: function words, `_GRAMMAR_POS`/`_GRAMMAR_SUB`, and the verb of
    a compound particle (に + つく + て: について, に対して, によって, において)."""
    pos = [m.part_of_speech() for m in morphemes]
    out = [p[0] in _FUNCTION_POS or p[0] in _GRAMMAR_POS or p[1] in _GRAMMAR_SUB for p in pos]
    for i in range(1, len(pos) - 1):
        if (pos[i][0] == "動詞" and pos[i - 1][1] == "格助詞" and pos[i + 1][1] == "接続助詞"
                and morphemes[i + 1].surface() in ("て", "で")):
            out[i] = True
    return out


class Tokenizer:
    """Thread-safe wrapper: a Sudachi tokenizer must not be shared between threads. Text is read
    with Kangxi radicals and compatibility ideographs as the ideographs they stand for."""

    def __init__(self) -> None:
        self._dict = Dictionary(dict="core")
        self._local = threading.local()

    def _morphemes(self, text: str):
        local = self._local
        # One question is analysed three or four times (follow-up resolution, BM25 terms, coverage
        # terms, question type) on the thread that answers it: the thread's last text is kept so
        # Sudachi runs once per question.
        last = getattr(local, "last", None)
        if last is not None and last[0] == text:
            return last[1]
        tok = getattr(local, "tok", None)
        if tok is None:
            tok = local.tok = self._dict.create(mode=SplitMode.B)
        read = text.translate(_IDEOGRAPHS)
        if len(read) * 4 <= MAX_PIECE_BYTES:
            out = tok.tokenize(read)
        else:
            out = [m for piece in pieces(read) for m in tok.tokenize(piece)]
        local.last = (text, out)
        return out

    def morphemes(self, text: str) -> list:
        """Sudachi morphemes (mode B) with their character offsets, for callers that need readings
        and parts of speech (the answer phrase finder, the English term table). Offsets must index
        `text`, so a text too long for one Sudachi call is cut to its first piece instead of being
        tokenised in pieces."""
        return list(self._morphemes(text[: MAX_PIECE_BYTES // 4]))

    @staticmethod
    def parts(morpheme) -> list:
        """A morpheme's mode-A parts (豊岡市 → 豊岡, 市); empty when it does not split."""
        return list(morpheme.split(SplitMode.A))

    def tokens(self, text: str) -> list[str]:
        """Index terms for BM25: Sudachi's words plus the character bigrams of each run of letters
        and digits. Bigrams match where word boundaries differ between question and text
        (compounds, kanji variants of a name); both together rank better than words alone
        (docs/design/retrieval.md, "BM25 terms")."""
        words = [t for m in self._morphemes(text) if m.part_of_speech()[0] not in _FUNCTION_POS for t in terms_of(m)]
        return words + char_bigrams(text)

    def query_tokens(self, text: str) -> list[str]:
        """A question's BM25 terms: `tokens` without grammar words and without the bigrams that lie
        within grammar (`_grammar`: していますか). A small corpus gives grammar a high idf: a
        passage that says について would outrank the one on the asked topic for any question asked
        with について. Bigrams that join grammar to a word stay (法に, 国と): questions that copy a
        sentence's wording are found by them."""
        morphemes = self._morphemes(text)
        grammar = _grammar(morphemes)
        words = [t for m, g in zip(morphemes, grammar, strict=True) if not g for t in terms_of(m)]
        pieces_ = [unicodedata.normalize("NFKC", m.surface()).lower() for m in morphemes]
        chars = "".join(pieces_)
        in_grammar = [g for p, g in zip(pieces_, grammar, strict=True) for _ in p]
        bigrams = [f"{BIGRAM_MARK}{chars[i:i + 2]}" for run in _ALNUM_RUN.finditer(chars)
                   for i in range(run.start(), run.end() - 1) if not (in_grammar[i] and in_grammar[i + 1])]
        return words + bigrams

    def content_terms(self, text: str) -> list[str]:
        """Terms a supporting sentence should contain: nouns, names, numbers."""
        out: list[str] = []
        for m in self._morphemes(text):
            pos = m.part_of_speech()
            if pos[0] not in _CONTENT_POS or pos[1] in _NON_CONTENT_SUB or pos[2] in _NON_CONTENT_SUB:
                continue
            out.extend(t for t in terms_of(m) if t not in _NON_CONTENT_WORDS)
        return out

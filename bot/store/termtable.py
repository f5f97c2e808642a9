"""English → Japanese search terms, built at index time from the corpus's own words.

An English question matches almost nothing in Japanese text. This table gives the English words
under which each corpus word can be asked for, from three sources:

- **JMdict** (the EDRDG's Japanese-English dictionary, CC BY-SA 4.0, read from the `jamdict-data`
  package's SQLite file): the English glosses of every corpus word and of every run of two or three
  adjacent content words (職業 + 紹介 → 職業紹介 → "employment agency"); names from JMnedict;
- **UniDic** (`unidic-lite` through `fugashi`): a katakana loanword's lemma carries its English
  spelling (センチネル-sentinel, マーラー-Mahler);
- **readings**: Sudachi's reading of a proper noun, romanised (田淵 → tabuchi, 豊岡市 → toyooka).

Only corpus words are looked up, so every term the table gives occurs in the index. The reverse
direction (corpus word → a short English gloss) feeds the English answer's glossary, and, when the
corpus has English pages, each Japanese word's English words on those pages (its glosses matched
by Snowball stem: 選ぶ "select" ↔ selected, 議長 "chair" ↔ co-chaired) let a Japanese question
meet an English page. A word's gloss keeps the dictionary's sense ranking: it is one of its first
sense's glosses, the one the English pages use in the most passages (宇宙, "universe; cosmos;
space", in a space agency's pages is "space"); without English pages it is the dictionary's first
gloss. A katakana word whose only gloss spells its own kana reading gets none unless UniDic spells
the word the same way (ローバ → "Lohba", a name dictionary's romanisation of a word UniDic cannot
spell, is no gloss; ペルー → "Peru" is). The table is a plain JSON file in the versioned index
folder (`termtable.json`, listed in the manifest's checksums like every other file).

A Japanese question may also use a kanji word where the pages use a katakana loanword of the same
meaning, or the reverse (顧客 ↔ クライアント, 任務 ↔ ミッション). The table maps such a word, one the
corpus never uses, to the corpus's words it shares a one-word gloss with in both entries' first
senses, one side katakana and the other not, both common words (JMdict's priority tags): the
question then meets the page's word (`synonyms`).
"""

import json
import logging
import re
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lemminflect import getAllLemmas

from bot.text.analyser import Tokenizer, stem, term_of
from bot.text.language import has_japanese

log = logging.getLogger(__name__)

FILE = "termtable.json"
VERSION = 12
# Senses of a JMdict entry whose glosses are used: later senses are rare uses that mostly add noise.
MAX_SENSES = 3
# Senses whose glosses may name a Japanese word on an English page: deeper than the English keys'
# (機関 is "agency" in its fifth), since only words the English pages use are kept.
REVERSE_SENSES = 5
# English words kept per Japanese term (its best senses first).
MAX_ENGLISH_PER_TERM = 6
# Glosses longer than this are explanations ("occurring naturally (without human influence)"),
# not words an English page would use for the term.
MAX_GLOSS_WORDS = 3
# Japanese terms kept per English key (the most frequent in the corpus first).
MAX_TERMS_PER_KEY = 4
# Katakana words shorter than this are too often a word piece to be read as a name (ビン, サット).
MIN_NAME_KANA = 4
MAX_KEY_WORDS = 4
# A run of adjacent content words looked up as one dictionary word.
MAX_RUN = 3
# Corpus words kept per question word of the same meaning (the most frequent first).
MAX_SYNONYMS = 2

_CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞", "副詞"}
_RUN_POS = _CONTENT_POS | {"接頭辞", "接尾辞"}
_KATAKANA_WORD = re.compile(r"^[\u30a0-\u30ffー・]+$")
_HIRAGANA = re.compile(r"^[\u3040-\u309fー]+$")
_PAREN = re.compile(r"\s*\([^)]*\)")
_LATIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .&'\-]*")
_KEY_CLEAN = re.compile(r"[^a-z0-9\- ']+")
_ENGLISH_TOKEN = re.compile(r"[a-z]{2,}")
_GLOSS_WORD = re.compile(r"[a-z]+")

# Words that carry an English sentence's grammar, not its topic: never a term of their own.
STOPWORDS = frozenset("""
a an the of in on at to for from by with about as into onto over under than then and or but nor not no
is are was were be been being am do does did done doing have has had having will would shall should can
could may might must what when where who whom whose which why how many much long old far often
this that these those it its it's they them their there here he him his she her i me my we us our you
your one ones some any each every other another such also too very just only even still yet ever
please tell give name list say said called call known mean means meant stand stands kind type sort
if so up out around after before since until while during between among through against
""".split())

# --- kana → romaji (Hepburn), for matching romanised names ------------------------------------
_KANA = {
    "ア": "a", "イ": "i", "ウ": "u", "エ": "e", "オ": "o", "カ": "ka", "キ": "ki", "ク": "ku", "ケ": "ke",
    "コ": "ko", "サ": "sa", "シ": "shi", "ス": "su", "セ": "se", "ソ": "so", "タ": "ta", "チ": "chi",
    "ツ": "tsu", "テ": "te", "ト": "to", "ナ": "na", "ニ": "ni", "ヌ": "nu", "ネ": "ne", "ノ": "no",
    "ハ": "ha", "ヒ": "hi", "フ": "fu", "ヘ": "he", "ホ": "ho", "マ": "ma", "ミ": "mi", "ム": "mu",
    "メ": "me", "モ": "mo", "ヤ": "ya", "ユ": "yu", "ヨ": "yo", "ラ": "ra", "リ": "ri", "ル": "ru",
    "レ": "re", "ロ": "ro", "ワ": "wa", "ヰ": "i", "ヱ": "e", "ヲ": "o", "ン": "n", "ガ": "ga", "ギ": "gi",
    "グ": "gu", "ゲ": "ge", "ゴ": "go", "ザ": "za", "ジ": "ji", "ズ": "zu", "ゼ": "ze", "ゾ": "zo",
    "ダ": "da", "ヂ": "ji", "ヅ": "zu", "デ": "de", "ド": "do", "バ": "ba", "ビ": "bi", "ブ": "bu",
    "ベ": "be", "ボ": "bo", "パ": "pa", "ピ": "pi", "プ": "pu", "ペ": "pe", "ポ": "po", "ヴ": "vu",
    "ァ": "a", "ィ": "i", "ゥ": "u", "ェ": "e", "ォ": "o", "ャ": "ya", "ュ": "yu", "ョ": "yo", "ヮ": "wa",
}
_SMALL_Y = {"ャ": "a", "ュ": "u", "ョ": "o"}
_SMALL_V = {"ァ": "a", "ィ": "i", "ゥ": "u", "ェ": "e", "ォ": "o"}


def romaji(kana: str) -> str:
    """Katakana (or hiragana) → Hepburn romaji: シミズ → shimizu, キョウト → kyouto."""
    s = "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in kana)
    out: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        nxt = s[i + 1] if i + 1 < len(s) else ""
        if c == "ッ":
            base = _KANA.get(nxt, "")
            out.append("t" if base.startswith("ch") else base[:1])
        elif c == "ー":
            out.append(out[-1][-1] if out and out[-1] else "")
        elif nxt in _SMALL_Y and c in _KANA and _KANA[c].endswith("i") and len(_KANA[c]) > 1:
            base = _KANA[c][:-1]
            out.append((base if base in ("sh", "ch", "j") else base + "y") + _SMALL_Y[nxt])
            i += 1
        elif nxt in _SMALL_V and c in _KANA and c not in _SMALL_V:
            out.append(_KANA[c].rstrip("aiueo") + _SMALL_V[nxt] if _KANA[c] != "fu" else "f" + _SMALL_V[nxt])
            i += 1
        else:
            out.append(_KANA.get(c, ""))
        i += 1
    return "".join(out)


# Hepburn and Kunrei spellings of the same kana, folded to one (Tsuchiya / Tutiya, Fuji / Huzi).
_KUNREI = (("tsu", "tu"), ("shi", "si"), ("sha", "sya"), ("shu", "syu"), ("sho", "syo"), ("chi", "ti"),
           ("cha", "tya"), ("chu", "tyu"), ("cho", "tyo"), ("fu", "hu"), ("ji", "zi"), ("ja", "zya"),
           ("ju", "zyu"), ("jo", "zyo"), ("di", "zi"), ("du", "zu"))


def fold(word: str) -> str:
    """A romanisation key that forgives the usual spelling variants: long vowels written or not
    (Tōkyō, Toukyou, Tokyo, Ōnishi, Ohnishi, Onishi), m or n before b/p (Shimbun, Shinbun), Hepburn
    or Kunrei (Kawakatsu, Kawakatu), l or r and c or k in a foreign name (Colombo, コロンボ)."""
    w = re.sub(r"[^a-z]", "", word.lower().translate(str.maketrans("āēīōūâêîôû", "aeiouaeiou")))
    w = re.sub(r"oh(?=[^aeiouy]|$)", "o", w)
    for hepburn, kunrei in _KUNREI:
        w = w.replace(hepburn, kunrei)
    w = w.replace("ou", "o").replace("mb", "nb").replace("mp", "np")
    # A foreign name's Latin spelling against its katakana reading (BepiColombo / ベピコロンボ):
    # romaji has no l, and no c outside ch.
    w = re.sub(r"c(?!h)", "k", w.replace("ck", "k")).replace("l", "r")
    return re.sub(r"([aeiou])\1+", r"\1", w)


def key_of(english: str) -> str:
    """An English word or phrase as a table key: lower case, no parentheses, no leading "to"."""
    k = _PAREN.sub("", english.lower()).strip()
    k = re.sub(r"^(to|a|an|the) ", "", k)
    return " ".join(_KEY_CLEAN.sub(" ", k).split())


@dataclass
class TermTable:
    # English key → Japanese terms, each [surface, [BM25 tokens]]
    english: dict[str, list[list]]
    # romanised (folded) reading → Japanese terms, same shape
    readings: dict[str, list[list]]
    # Japanese surface → a short English gloss (for the answer's glossary)
    glosses: dict[str, str]
    # Snowball stem of a one-word English key → Japanese terms: a question's "established" or
    # "cooperate" finds the glosses "establishment" (設立) and "cooperation" (協力)
    stems: dict[str, list[list]] = field(default_factory=dict)
    # Japanese BM25 token → the English pages' BM25 tokens that translate it (its best senses
    # first); empty for a corpus without English pages
    english_words: dict[str, list[str]] = field(default_factory=dict)
    # Glossed katakana words that JMdict does not mark as common (no priority tag). Inside a longer
    # katakana word such an entry is more often a false split than the word (ドバイサット →
    # サット, "Special Assault Team"); a common word there is a real part (リモート|センシング).
    uncommon: list[str] = field(default_factory=list)
    # BM25 token of a word the corpus never uses → the corpus's words of the same meaning in the
    # other script (katakana loanword ↔ not), each [surface, [BM25 tokens]]: 顧客 → クライアント
    synonyms: dict[str, list[list]] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> "TermTable":
        return cls({}, {}, {})

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"version": VERSION, "english": self.english, "readings": self.readings,
                                    "glosses": self.glosses, "stems": self.stems,
                                    "english_words": self.english_words, "uncommon": self.uncommon,
                                    "synonyms": self.synonyms},
                                   ensure_ascii=False, separators=(",", ":")),
                        encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "TermTable":
        if not path.exists():  # an index built before the table existed: no English terms
            return cls.empty()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["english"], data["readings"], data["glosses"], data.get("stems", {}),
                   data.get("english_words", {}), data.get("uncommon", []), data.get("synonyms", {}))


def spells_reading(surface: str, gloss: str) -> bool:
    """Whether an English gloss of a katakana word only spells the word's kana (ローバ → "Lohba"):
    a romanisation, which says nothing of the meaning and misleads when the word is a common noun.
    A loanword's or a foreign name's English spelling differs from it (センチネル → "sentinel")."""
    if not _KATAKANA_WORD.match(surface):
        return False

    def key(w: str) -> str:
        return fold(w).replace("l", "r")
    return key(_PAREN.sub("", gloss)) == key(romaji(surface))


def _jmdict_path() -> Path | None:
    try:
        import jamdict_data
    except ImportError:
        return None
    path = Path(jamdict_data.JAMDICT_DB_PATH)
    return path if path.exists() else None


def _rows(con: sqlite3.Connection, forms: list[str], query: str):
    """The query's rows for the forms (`{marks}` in it), in chunks SQLite accepts."""
    for i in range(0, len(forms), 900):
        chunk = forms[i:i + 900]
        yield from con.execute(query.format(marks=",".join("?" * len(chunk))), chunk)


def _jmdict_common(forms: list[str]) -> dict[str, bool]:
    """Of the forms JMdict's general dictionary (not JMnedict) spells, whether it marks each as
    common (a priority tag on the spelling)."""
    path = _jmdict_path()
    if path is None:
        return {}
    out: dict[str, bool] = {}
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for table, priority in (("Kanji", "KJP"), ("Kana", "KNP")):
            for form, common in _rows(con, forms, f"SELECT f.text, EXISTS(SELECT 1 FROM {priority} p "
                                      f"WHERE p.kid = f.ID) FROM {table} f WHERE f.text IN ({{marks}})"):
                out[form] = out.get(form, False) or bool(common)
    finally:
        con.close()
    return out


def _jmdict_glosses(forms: list[str], max_senses: int = MAX_SENSES) -> dict[str, list[tuple[int, str]]]:
    """Japanese written form → [(sense rank, English gloss)] for the forms JMdict knows."""
    path = _jmdict_path()
    if path is None:
        log.warning("jamdict-data is not installed: English questions get no dictionary terms")
        return {}
    out: dict[str, list[tuple[int, str]]] = {}
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def rows(query: str):
        """(form, sense or translation ID, gloss) for the forms."""
        return _rows(con, forms, query)
    try:
        for table in ("Kanji", "Kana"):
            for form, sid, gloss in rows(
                    f"SELECT f.text, s.ID, g.text FROM {table} f JOIN Sense s ON s.idseq = f.idseq "
                    "JOIN SenseGloss g ON g.sid = s.ID WHERE f.text IN ({marks}) ORDER BY f.text, s.ID"):
                out.setdefault(form, []).append((sid, gloss))
        for table in ("NEKanji", "NEKana"):
            for form, tid, gloss in rows(
                    f"SELECT f.text, t.ID, g.text FROM {table} f JOIN NETranslation t ON t.idseq = f.idseq "
                    "JOIN NETransGloss g ON g.tid = t.ID WHERE f.text IN ({marks})"):
                if form not in out:  # names only where the general dictionary has nothing
                    out.setdefault("\0" + form, []).append((tid, gloss))
    finally:
        con.close()
    for k in [k for k in out if k.startswith("\0")]:
        out.setdefault(k[1:], out.pop(k))
    # Rank senses 0, 1, 2 within each form (IDs are global).
    ranked = {}
    for form, pairs in out.items():
        sense_ids = list(dict.fromkeys(sid for sid, _ in pairs))
        ranked[form] = [(sense_ids.index(sid), g) for sid, g in pairs if sense_ids.index(sid) < max_senses]
    return ranked


def _jmdict_first_words() -> dict[str, set[str]]:
    """Common written form (a priority tag on the spelling) → the one-word glosses of its entry's
    first sense (a bracketed note dropped: スペース "space (room, area, outer space)"); of a
    katakana loanword only the first, the word it is borrowed from (サービス "service", not its
    "help; assistance; care"). A capitalised gloss is a name (トルコ "Turkey" is no turkey)."""
    path = _jmdict_path()
    if path is None:
        return {}
    out: dict[str, set[str]] = {}
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        # (from the priority tags, and without the kana readings of kanji words, which are
        # skipped anyway: half the time of scanning every spelling)
        for table, priority, kana in (("Kanji", "KJP", ""), ("Kana", "KNP", "WHERE f.text NOT GLOB '*[ぁ-ゖ]*'")):
            for form, gloss in con.execute(
                    f"SELECT f.text, g.text FROM (SELECT DISTINCT kid FROM {priority}) p JOIN {table} f "
                    "ON f.ID = p.kid JOIN SenseGloss g ON g.sid = (SELECT MIN(s.ID) FROM Sense s "
                    f"WHERE s.idseq = f.idseq) {kana} ORDER BY f.ID, g.rowid"):
                if _HIRAGANA.match(form) or _KATAKANA_WORD.match(form) and form in out:
                    continue
                have = out.setdefault(form, set())
                word = _PAREN.sub("", gloss).strip()
                if _GLOSS_WORD.fullmatch(word) and word not in STOPWORDS:
                    have.add(word)
    finally:
        con.close()
    return {form: glosses for form, glosses in out.items() if glosses}


def _synonyms(words: "_CorpusWords", tokenizer: Tokenizer, vocabulary: set[str]) -> dict[str, list[list]]:
    """Question word the corpus never uses → the corpus's words of the same meaning in the other
    script (`TermTable.synonyms`). Only a word the corpus lacks gets any: one it uses meets its own
    pages, and a second reading of a word the pages do use (宇宙 → スペース "space") mostly adds
    noise. The question word must be one Sudachi word, since its BM25 token is the key."""
    first = _jmdict_first_words()
    by_gloss: dict[tuple[bool, str], list[str]] = {}  # (katakana, gloss) → corpus forms
    for form in words.forms:
        for g in first.get(form, ()):
            by_gloss.setdefault((bool(_KATAKANA_WORD.match(form)), g), []).append(form)
    out: dict[str, list[list]] = {}
    for form, glosses in first.items():
        katakana = bool(_KATAKANA_WORD.match(form))
        found = {y for g in glosses for y in by_gloss.get((not katakana, g), ())}
        if not found:
            continue
        morphemes = tokenizer.morphemes(form)
        if len(morphemes) != 1 or morphemes[0].part_of_speech()[0] not in _CONTENT_POS:
            continue
        token = term_of(morphemes[0])
        if token in vocabulary or token in out:
            continue
        best = sorted(found, key=lambda y: (-words.freq[y], y))[:MAX_SYNONYMS]
        out[token] = [[y, words.forms[y]] for y in best]
    return dict(sorted(out.items()))


def _loanwords(texts: list[str]) -> dict[str, str]:
    """Katakana word → its English spelling, from UniDic lemmas."""
    try:
        import fugashi
    except ImportError:
        log.warning("fugashi/unidic-lite are not installed: no loanword table")
        return {}
    tagger = fugashi.Tagger()
    out: dict[str, str] = {}
    for text in texts:
        for w in tagger(text):
            lemma = getattr(w.feature, "lemma", None) or ""
            if "-" in lemma and _KATAKANA_WORD.match(w.surface):
                english = lemma.split("-", 1)[1]
                if re.fullmatch(r"[A-Za-z][A-Za-z .'\-]*", english):
                    out.setdefault(w.surface, english)
    return out


def build_term_table(texts: list[str], tokenizer: Tokenizer, vocabulary: set[str],
                     english_texts: Sequence[str] = ()) -> TermTable:
    """The table for a corpus (`texts`: its passages; `english_texts`: its English pages'
    passages); `vocabulary`: the BM25 index's terms."""
    words = _CorpusWords()
    for text in texts:
        words.add_text(text, tokenizer, vocabulary)
    senses = _Senses()
    # Hiragana-only forms are grammar or verb endings far more often than the noun they spell.
    senses.add_dictionary(words.forms, sorted(f for f in words.forms if not _HIRAGANA.match(f)))
    senses.add_loanwords(texts, tokenizer, vocabulary)
    words.add_katakana_names(senses.options)
    for key, by_surface in words.readings.items():
        for surface in by_surface:
            if surface not in senses.options:  # a romanised name where no dictionary has one
                senses.add_gloss(surface, key.capitalize())
    table = _table(words, senses)
    english = english_frequency(english_texts, tokenizer, vocabulary)
    table.english_words = _english_words(words, senses, set(english))
    table.glosses = _in_corpus(table.glosses, senses.options, senses.spelled, english)
    common = _jmdict_common(sorted(s for s in table.glosses if _KATAKANA_WORD.match(s)))
    table.uncommon = sorted(s for s, is_common in common.items() if not is_common)
    table.synonyms = _synonyms(words, tokenizer, vocabulary)
    return table


def english_vocabulary(texts: list[str], tokenizer: Tokenizer, vocabulary: set[str]) -> set[str]:
    """The English words of English pages (their lines with no Japanese: a signature block may
    be in Japanese), as BM25 tokens."""
    return set(english_frequency(texts, tokenizer, vocabulary))


def english_frequency(texts: Sequence[str], tokenizer: Tokenizer, vocabulary: set[str]) -> Counter:
    """The English words of English pages' passages (`english_vocabulary`), each with the number of
    passages that use it."""
    return Counter(t for text in texts for t in {
        t for line in text.splitlines() if not has_japanese(line) for t in tokenizer.tokens(line)
        if _ENGLISH_TOKEN.fullmatch(t) and t not in STOPWORDS and t in vocabulary})


def _in_corpus(glosses: dict[str, str], options: dict[str, list[str]], spelled: set[str],
               english: Counter) -> dict[str, str]:
    """Each word's gloss: of its candidate glosses (its first sense's, in the dictionary's order),
    the dictionary's first while the English pages use it, else the one they use most (`english`:
    word → passages; a gloss counts as its rarest word does, a word as all its inflections do: use,
    used, uses). A corpus without English keeps the dictionary's first, and one page's wording
    never overrules the dictionary's where both are found. A gloss that only spells a katakana
    word's reading is a candidate only when UniDic (`spelled`) has an English spelling for the
    word too."""
    by_base: Counter = Counter()
    for w, n in english.items():
        for b in _bases(w):
            by_base[b] += n

    def uses(gloss: str) -> int:
        words = [w for w in _GLOSS_WORD.findall(_PAREN.sub("", gloss.lower())) if w not in STOPWORDS]
        return min((by_base[w] for w in words), default=0)

    out: dict[str, str] = {}
    for surface, default in glosses.items():
        cands = [g for g in options.get(surface, [default]) if surface in spelled or not spells_reading(surface, g)]
        if cands:
            counts = [uses(g) for g in cands]
            out[surface] = cands[0] if counts[0] else cands[counts.index(max(counts))]
    return out


def _bases(word: str) -> set[str]:
    """A word and what its regular inflections come from (signed → sign, studies → study)."""
    out = {word}
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            out.add(word[: -len(suffix)] + repl)
    return out


def _lemmas(word: str) -> set[str]:
    """The dictionary forms of an English word's irregular inflections (held → hold, children →
    child), which `_bases`'s suffix rules cannot reach."""
    return {lemma for lemmas in getAllLemmas(word).values() for lemma in lemmas}


def _english_words(words: "_CorpusWords", senses: "_Senses", english: set[str]) -> dict[str, list[str]]:
    """Japanese word → the English pages' words that translate it, best sense first: JMdict's
    glosses of every Japanese word (a question may use one the Japanese pages never do: 人口
    "population"), the corpus's loanwords' spellings, and its names' romanised readings
    (谷垣 → tanigaki)."""
    if not english:
        return {}
    found: dict[str, dict[str, int]] = {}  # Japanese word → English word → best sense rank

    def add(japanese: str, w: str, rank: int) -> None:
        have = found.setdefault(japanese, {})
        if w not in have or have[w] > rank:
            have[w] = rank

    for japanese, rank, w in _jmdict_english(english):
        add(japanese, w, rank)
    for key, by_surface in senses.english.items():  # loanwords (UniDic's spelling)
        for rank, tokens in by_surface.values():
            if len(tokens) == 1 and key in english:
                add(tokens[0], key, rank)
    for w in english:  # a Japanese name written in romaji on an English page
        for tokens in words.readings.get(fold(w), {}).values():
            add(tokens[0], w, 0)
    return {t: sorted(ws, key=lambda w: (ws[w], w))[:MAX_ENGLISH_PER_TERM] for t, ws in sorted(found.items())}


def _jmdict_english(english: set[str]):
    """(Japanese written form, sense rank, English word) for each JMdict gloss of at most
    `MAX_GLOSS_WORDS` words, in the first `REVERSE_SENSES` senses of its entry, with a word whose
    Snowball stem an English word of `english` shares. A stem shared by unrelated words
    (universe, university) is only followed for an inflection of the gloss word (select,
    selected) or to a word that is no gloss of its own."""
    path = _jmdict_path()
    if path is None:
        return
    by_stem: dict[str, list[str]] = {}
    lemmas: dict[str, set[str]] = {}
    for w in sorted(english):
        lemmas[w] = _lemmas(w) - {w}
        for key in {stem(w)} | {stem(b) for b in lemmas[w]}:
            by_stem.setdefault(key, []).append(w)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        first = dict(con.execute("SELECT idseq, MIN(ID) FROM Sense GROUP BY idseq"))
        glosses: dict[str, list[str]] = {}  # gloss → the English words it matches
        rows = []
        for table in ("Kanji", "Kana"):
            for form, idseq, sid, gloss in con.execute(
                    f"SELECT f.text, s.idseq, s.ID, g.text FROM {table} f JOIN Sense s ON s.idseq = f.idseq "
                    "JOIN SenseGloss g ON g.sid = s.ID"):
                rank = sid - first[idseq]
                if rank < REVERSE_SENSES and not _HIRAGANA.match(form):
                    rows.append((form, rank, gloss))
    finally:
        con.close()
    # One-word glosses ("university", "to select"): a word that is one is some entry's own.
    own = {g.lower().removeprefix("to ") for _, _, g in rows if g.count(" ") <= 1}
    stems: dict[str, list[str]] = {}  # gloss word → the English words it matches

    def matches(g: str) -> list[str]:
        found = stems.get(g)
        if found is None:
            found = stems[g] = [w for w in by_stem.get(stem(g), ())
                                if g in _bases(w) or w in _bases(g) or lemmas[w] & _bases(g)
                                or not any(b in own for b in _bases(w))]
        return found

    for form, rank, gloss in rows:
        found = glosses.get(gloss)
        if found is None:
            words = _GLOSS_WORD.findall(_PAREN.sub("", gloss.lower()))
            found = glosses[gloss] = [w for p in words if p not in STOPWORDS for w in matches(p)] \
                if len(words) <= MAX_GLOSS_WORDS + (words[:1] == ["to"]) else []
        for w in found:
            yield form, rank, w

@dataclass
class _CorpusWords:
    """The corpus's words and compounds: how often each occurs, its BM25 tokens, and the
    romanised readings of its proper nouns."""
    freq: Counter = field(default_factory=Counter)
    forms: dict[str, list[str]] = field(default_factory=dict)  # Japanese form → BM25 tokens
    # folded reading → Japanese surface → BM25 tokens
    readings: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def add_text(self, text: str, tokenizer: Tokenizer, vocabulary: set[str]) -> None:
        run: list = []  # adjacent indexed content words and affixes
        for m in tokenizer.morphemes(text):
            pos = m.part_of_speech()
            token = term_of(m)
            if pos[0] not in _RUN_POS or token not in vocabulary:
                run = []
                continue
            run.append(m)
            self._add_compounds(run)
            if pos[0] in _CONTENT_POS:  # affixes only inside runs (市 + 長 → 市長 "mayor")
                self._add_word(m, pos, token, tokenizer)

    def add_katakana_names(self, glossed: Collection[str]) -> None:
        """The romanised readings of katakana words no dictionary glosses (ベピコロンボ,
        シリントン): Sudachi tags an unknown foreign name as a common noun, so it is known a name
        only by having no entry."""
        for surface, tokens in list(self.forms.items()):
            if len(surface) >= MIN_NAME_KANA and _KATAKANA_WORD.match(surface) and "・" not in surface \
                    and surface not in glossed and len(tokens) == 1:
                self.readings.setdefault(fold(romaji(surface)), {}).setdefault(surface, tokens)

    def _add_compounds(self, run: list) -> None:
        """The runs of two or three words ending at the run's last word (職業 + 紹介 → 職業紹介)."""
        for n in range(2, min(MAX_RUN, len(run)) + 1):
            part = run[-n:]
            compound = "".join(x.surface() for x in part)
            self.freq[compound] += 1
            self.forms.setdefault(compound, [term_of(x) for x in part])

    def _add_word(self, m, pos, token: str, tokenizer: Tokenizer) -> None:
        surface = m.surface()
        self.freq[surface] += 1
        self.forms.setdefault(surface, [token])
        if m.dictionary_form() != surface:
            self.forms.setdefault(m.dictionary_form(), [token])
        parts = tokenizer.parts(m) if len(surface) > 2 else []
        for x in parts:  # 降雪量 → 降雪 ("snowfall"), 豊岡市 → 豊岡
            self.forms.setdefault(x.surface(), [token])
        if pos[1] == "固有名詞" and not _LATIN.fullmatch(unicodedata.normalize("NFKC", surface)):
            # (a Latin-script name is matched as written; its katakana reading, romanised,
            # would only be noise: ISS → "aiesuesu")
            for s in {m.reading_form(), *(x.reading_form() for x in parts)}:
                key = fold(romaji(s))
                if len(key) >= 3:
                    self.readings.setdefault(key, {})[surface] = [token]


class _Senses:
    """English keys for the corpus's words (key → surface → (sense rank, BM25 tokens)) and a
    short English gloss of each word."""

    def __init__(self) -> None:
        self.english: dict[str, dict[str, tuple[int, list[str]]]] = {}
        self.glosses: dict[str, str] = {}
        # surface → its candidate glosses (its first sense's), in the dictionary's order
        self.options: dict[str, list[str]] = {}
        self.spelled: set[str] = set()  # katakana words UniDic gives an English spelling

    def add_gloss(self, surface: str, gloss: str) -> None:
        """A candidate gloss of `surface`; its first candidate is the default gloss."""
        shown = _PAREN.sub("", gloss).strip()
        if shown:
            self.glosses.setdefault(surface, shown)
            have = self.options.setdefault(surface, [])
            if shown not in have:
                have.append(shown)

    def add(self, key: str, surface: str, tokens: list[str], rank: int) -> None:
        if key and len(key.split()) <= MAX_KEY_WORDS:
            have = self.english.setdefault(key, {})
            if surface not in have or have[surface][0] > rank:
                have[surface] = (rank, tokens)

    def add_dictionary(self, forms: dict[str, list[str]], lookup: list[str]) -> None:
        """JMdict's glosses (JMnedict's for names) of the forms in `lookup`."""
        for surface, pairs in _jmdict_glosses(lookup).items():
            for rank, gloss in pairs:
                self.add(key_of(gloss), surface, forms[surface], rank)
                if rank == 0:  # the dictionary's first sense; the corpus picks among its glosses
                    self.add_gloss(surface, gloss)

    def add_loanwords(self, texts: list[str], tokenizer: Tokenizer, vocabulary: set[str]) -> None:
        """Katakana loanwords under their English spelling (UniDic's lemma)."""
        for surface, spelled in _loanwords(texts).items():
            tokens = [t for t in tokenizer.tokens(surface) if t in vocabulary]
            if tokens:
                self.spelled.add(surface)
                self.add(key_of(spelled), surface, tokens, 0)
                # JMdict's gloss first: UniDic spells some loanwords in their source language
                # (ドイツ → Duits, イギリス → Inglez), JMdict in English (Germany, United Kingdom).
                if surface not in self.options:
                    self.add_gloss(surface, spelled)


def _by_stem(english: dict[str, dict[str, tuple[int, list[str]]]]) -> dict[str, dict[str, tuple[int, list[str]]]]:
    """One-word keys merged under their stem, each surface at its best rank."""
    by_stem: dict[str, dict[str, tuple[int, list[str]]]] = {}
    for key, by_surface in english.items():
        if " " not in key:
            merged = by_stem.setdefault(stem(key), {})
            for surface, (rank, tokens) in by_surface.items():
                if surface not in merged or merged[surface][0] > rank:
                    merged[surface] = (rank, tokens)
    return by_stem


def _table(words: _CorpusWords, senses: _Senses) -> TermTable:
    """The most frequent few terms per key (best sense first), and the glosses of the terms kept."""
    freq = words.freq

    def best(by_surface: dict) -> list[list]:
        order = sorted(by_surface, key=lambda s: (by_surface[s][0], -freq[s], s))[:MAX_TERMS_PER_KEY]
        return [[s, by_surface[s][1]] for s in order]

    table_en = {k: best(v) for k, v in senses.english.items()}
    table_stems = {k: best(v) for k, v in _by_stem(senses.english).items()}
    table_readings = {k: [[s, t] for s, t in sorted(v.items(), key=lambda x: -freq[x[0]])[:MAX_TERMS_PER_KEY]]
                      for k, v in words.readings.items()}
    used = {s for v in (*table_en.values(), *table_stems.values(), *table_readings.values()) for s, _ in v}
    return TermTable(table_en, table_readings, {s: g for s, g in senses.glosses.items() if s in used}, table_stems)

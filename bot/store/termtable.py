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
direction (corpus word → a short English gloss) feeds the English answer's glossary. A word's gloss
is the one of its first dictionary sense's glosses whose embedding is nearest the corpus's
sentences that use the word (宇宙 in a space agency's pages is "space", not "universe"), chosen
relative to its other glosses, so no threshold is involved; a katakana word whose only gloss spells
its own kana reading gets none unless UniDic spells the word the same way (ローバ → "Lohba", a name
dictionary's romanisation of a word UniDic cannot spell, is no gloss; ペルー → "Peru" is). The table is
a plain JSON file in the versioned index folder (`termtable.json`, listed in the manifest's
checksums like every other file).
"""

import json
import logging
import re
import sqlite3
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.text.analyser import Tokenizer, term_of

log = logging.getLogger(__name__)

FILE = "termtable.json"
VERSION = 6
# Senses of a JMdict entry whose glosses are used: later senses are rare uses that mostly add noise.
MAX_SENSES = 3
# Japanese terms kept per English key (the most frequent in the corpus first).
MAX_TERMS_PER_KEY = 4
MAX_KEY_WORDS = 4
# A run of adjacent content words looked up as one dictionary word.
MAX_RUN = 3
# Passages per word whose sentences choose its gloss: a sample bounds the build's cost on big
# corpora; a word's sense in one corpus shows in its first few uses.
MAX_CONTEXTS = 20
# Candidate glosses per word, in the dictionary's order: embedding every gloss of a long sense
# would cost a build more than its passages do.
MAX_CANDIDATES = 4

_CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞", "副詞"}
_RUN_POS = _CONTENT_POS | {"接頭辞", "接尾辞"}
_KATAKANA_WORD = re.compile(r"^[\u30a0-\u30ffー・]+$")
_HIRAGANA = re.compile(r"^[\u3040-\u309fー]+$")
_PAREN = re.compile(r"\s*\([^)]*\)")
_LATIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .&'\-]*")
_KEY_CLEAN = re.compile(r"[^a-z0-9\- ']+")

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
    or Kunrei (Kawakatsu, Kawakatu)."""
    w = re.sub(r"[^a-z]", "", word.lower().translate(str.maketrans("āēīōūâêîôû", "aeiouaeiou")))
    w = re.sub(r"oh(?=[^aeiouy]|$)", "o", w)
    for hepburn, kunrei in _KUNREI:
        w = w.replace(hepburn, kunrei)
    w = w.replace("ou", "o").replace("mb", "nb").replace("mp", "np")
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
    # Glossed katakana words that JMdict does not mark as common (no priority tag). Inside a longer
    # katakana word such an entry is more often a false split than the word (ドバイサット →
    # サット, "Special Assault Team"); a common word there is a real part (リモート|センシング).
    uncommon: list[str] = field(default_factory=list)

    @classmethod
    def empty(cls) -> "TermTable":
        return cls({}, {}, {})

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"version": VERSION, "english": self.english, "readings": self.readings,
                                    "glosses": self.glosses, "stems": self.stems, "uncommon": self.uncommon},
                                   ensure_ascii=False, separators=(",", ":")),
                        encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "TermTable":
        if not path.exists():  # an index built before the table existed: no English terms
            return cls.empty()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["english"], data["readings"], data["glosses"], data.get("stems", {}),
                   data.get("uncommon", []))


@dataclass
class SenseContexts:
    """What chooses a word's gloss at build time: the corpus's sentences, per passage (in the
    order of the texts given to `build_term_table`) as (sentence text, row of `vectors`), their
    normalised embeddings, and the embedder's query side, which puts a gloss in the same space."""
    sentences: list[list[tuple[str, int]]]
    vectors: np.ndarray
    embed: Callable[[list[str]], np.ndarray]


def spells_reading(surface: str, gloss: str) -> bool:
    """Whether an English gloss of a katakana word only spells the word's kana (ローバ → "Lohba"):
    a romanisation, which says nothing of the meaning and misleads when the word is a common noun.
    A loanword's or a foreign name's English spelling differs from it (センチネル → "sentinel")."""
    if not _KATAKANA_WORD.match(surface):
        return False
    def key(w: str) -> str:
        return fold(w).replace("l", "r")
    return key(_PAREN.sub("", gloss)) == key(romaji(surface))


_local = threading.local()


def stem(word: str) -> str:
    """The Snowball (Porter2) stem of one lower-case English word. A stemmer keeps its word in its
    own state, so each thread has its own (an index build runs beside questions)."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        import snowballstemmer
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer.stemWord(word)


def _jmdict_path() -> Path | None:
    try:
        import jamdict_data
    except ImportError:
        return None
    path = Path(jamdict_data.JAMDICT_DB_PATH)
    return path if path.exists() else None


def _jmdict_glosses(forms: list[str], common: set[str] | None = None,
                    names: set[str] | None = None) -> dict[str, list[tuple[int, str]]]:
    """Japanese written form → [(sense rank, English gloss)] for the forms JMdict knows; the forms
    it marks as common (a priority tag on the spelling) are added to `common`, those glossed from
    the name dictionary (JMnedict) to `names`."""
    path = _jmdict_path()
    if path is None:
        log.warning("jamdict-data is not installed: English questions get no dictionary terms")
        return {}
    out: dict[str, list[tuple[int, str]]] = {}
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def rows(query: str):
        """(form, sense or translation ID, gloss) for the forms, in chunks SQLite accepts."""
        for i in range(0, len(forms), 900):
            chunk = forms[i:i + 900]
            yield from con.execute(query.format(marks=",".join("?" * len(chunk))), chunk)
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
        if common is not None:
            for table, priority, key in (("Kanji", "KJP", "kid"), ("Kana", "KNP", "kid")):
                common.update(form for (form,) in rows(
                    f"SELECT DISTINCT f.text FROM {table} f JOIN {priority} p ON p.{key} = f.ID "
                    "WHERE f.text IN ({marks})"))
    finally:
        con.close()
    for k in [k for k in out if k.startswith("\0")]:
        out.setdefault(k[1:], out.pop(k))
        if names is not None:
            names.add(k[1:])
    # Rank senses 0, 1, 2 within each form (IDs are global).
    ranked = {}
    for form, pairs in out.items():
        sense_ids = list(dict.fromkeys(sid for sid, _ in pairs))
        ranked[form] = [(sense_ids.index(sid), g) for sid, g in pairs if sense_ids.index(sid) < MAX_SENSES]
    return ranked


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
                     contexts: SenseContexts | None = None) -> TermTable:
    """The table for a corpus (`texts`: its passages); `vocabulary`: the BM25 index's terms;
    `contexts`: the passages' sentences and their embeddings, which choose each word's gloss
    (without them, a word's gloss is the dictionary's first)."""
    words = _CorpusWords()
    for at, text in enumerate(texts):
        words.add_text(text, tokenizer, vocabulary, at)
    senses = _Senses()
    # Hiragana-only forms are grammar or verb endings far more often than the noun they spell.
    senses.add_dictionary(words.forms, sorted(f for f in words.forms if not _HIRAGANA.match(f)))
    senses.add_loanwords(texts, tokenizer, vocabulary)
    for key, by_surface in words.readings.items():
        for surface in by_surface:
            if surface not in senses.options:  # a romanised name where no dictionary has one
                senses.add_gloss(surface, key.capitalize())
    table = _table(words, senses)
    table.glosses = _in_context(table.glosses, senses.options, senses.spelled, words.where, contexts)
    table.uncommon = sorted(s for s in table.glosses if _KATAKANA_WORD.match(s)
                            and s in senses.dictionary and s not in senses.common)
    return table


def _in_context(glosses: dict[str, str], options: dict[str, list[tuple[str, str]]], spelled: set[str],
                where: dict[str, list[int]], contexts: SenseContexts | None) -> dict[str, str]:
    """Each word's gloss: of its candidate glosses, the one whose embedding has the highest mean
    cosine with the sentences that use the word; a word with one candidate, or not found in any
    sentence, keeps the dictionary's first. A gloss that only spells a katakana word's reading is a
    candidate only when UniDic (`spelled`) has an English spelling for the word too."""
    out: dict[str, str] = {}
    pick: dict[str, tuple[list[tuple[str, str]], list[int]]] = {}
    for surface in glosses:
        cands = [(shown, full) for shown, full in options.get(surface, [(glosses[surface], glosses[surface])])
                 if surface in spelled or not spells_reading(surface, shown)][:MAX_CANDIDATES]
        if not cands:
            continue
        out[surface] = cands[0][0]
        if contexts is None or len(cands) < 2:
            continue
        rows = [row for p in where.get(surface, []) for text, row in contexts.sentences[p] if surface in text]
        if rows:
            pick[surface] = (cands, rows)
    if pick:
        texts = sorted({full for cands, _ in pick.values() for _, full in cands})
        vectors = dict(zip(texts, contexts.embed(texts), strict=True))
        for surface, (cands, rows) in pick.items():
            centre = contexts.vectors[rows].mean(axis=0)
            fit = [float(vectors[full] @ centre) for _, full in cands]
            out[surface] = cands[max(range(len(cands)), key=fit.__getitem__)][0]  # first on ties
    return out


@dataclass
class _CorpusWords:
    """The corpus's words and compounds: how often each occurs, its BM25 tokens, and the
    romanised readings of its proper nouns."""
    freq: Counter = field(default_factory=Counter)
    forms: dict[str, list[str]] = field(default_factory=dict)  # Japanese form → BM25 tokens
    # folded reading → Japanese surface → BM25 tokens
    readings: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # Japanese form → the first few passages (their positions) that use it
    where: dict[str, list[int]] = field(default_factory=dict)

    def add_text(self, text: str, tokenizer: Tokenizer, vocabulary: set[str], at: int = 0) -> None:
        self._at = at
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

    def _add_compounds(self, run: list) -> None:
        """The runs of two or three words ending at the run's last word (職業 + 紹介 → 職業紹介)."""
        for n in range(2, min(MAX_RUN, len(run)) + 1):
            part = run[-n:]
            compound = "".join(x.surface() for x in part)
            self.freq[compound] += 1
            self.forms.setdefault(compound, [term_of(x) for x in part])
            self._seen(compound)

    def _add_word(self, m, pos, token: str, tokenizer: Tokenizer) -> None:
        surface = m.surface()
        self.freq[surface] += 1
        self.forms.setdefault(surface, [token])
        self._seen(surface)
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

    def _seen(self, form: str) -> None:
        at = self.where.setdefault(form, [])
        if len(at) < MAX_CONTEXTS and (not at or at[-1] != self._at):
            at.append(self._at)


class _Senses:
    """English keys for the corpus's words (key → surface → (sense rank, BM25 tokens)) and a
    short English gloss of each word."""

    def __init__(self) -> None:
        self.english: dict[str, dict[str, tuple[int, list[str]]]] = {}
        self.glosses: dict[str, str] = {}
        # surface → its candidate glosses, in the dictionary's order: (as shown, as written)
        self.options: dict[str, list[tuple[str, str]]] = {}
        self.dictionary: set[str] = set()  # forms JMdict glosses (not names, not loanword spellings)
        self.spelled: set[str] = set()  # katakana words UniDic gives an English spelling
        self.common: set[str] = set()  # forms JMdict marks as common

    def add_gloss(self, surface: str, gloss: str) -> None:
        """A candidate gloss of `surface`; its first candidate is the default gloss."""
        shown = _PAREN.sub("", gloss).strip()
        if not shown:
            return
        self.glosses.setdefault(surface, shown)
        have = self.options.setdefault(surface, [])
        if all(s != shown for s, _ in have):
            have.append((shown, gloss))

    def add(self, key: str, surface: str, tokens: list[str], rank: int) -> None:
        if key and len(key.split()) <= MAX_KEY_WORDS:
            have = self.english.setdefault(key, {})
            if surface not in have or have[surface][0] > rank:
                have[surface] = (rank, tokens)

    def add_dictionary(self, forms: dict[str, list[str]], lookup: list[str]) -> None:
        """JMdict's glosses (JMnedict's for names) of the forms in `lookup`."""
        names: set[str] = set()
        found = _jmdict_glosses(lookup, self.common, names)
        for surface, pairs in found.items():
            for rank, gloss in pairs:
                self.add(key_of(gloss), surface, forms[surface], rank)
                if rank == 0:  # the dictionary's first sense; its context picks among its glosses
                    self.add_gloss(surface, gloss)
            if surface not in names:
                self.dictionary.add(surface)

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

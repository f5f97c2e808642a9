"""An English question → Japanese search terms, through the index's term table
(bot/store/termtable.py): multiword dictionary entries first (longest match), then single words,
loanwords and romanised names; acronyms, Latin-script names and numbers as written when the index
has them. Every term returned occurs in the index.
"""

import re
from collections.abc import Collection
from dataclasses import dataclass

from bot.store.lexical import idf
from bot.store.termtable import STOPWORDS, TermTable, fold, key_of, romaji
from bot.text.analyser import stem

# STOPWORDS: words that carry the question's grammar, not its topic. They never start or end a
# looked-up phrase and are never looked up alone.
_DEMACRON = str.maketrans("ĀāĒēĪīŌōŪūÂâÊêÎîÔôÛû", "AaEeIiOoUuAaEeIiOoUu")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-\.]*[A-Za-z0-9]|[A-Za-z0-9]")
_KATAKANA = re.compile(r"[\u30a0-\u30ffー・]+")
MAX_PHRASE = 4
# A romanised name shorter than this (ito, abe's kin: oe) is too often an English word's key.
MIN_NAME_KEY = 3
# Fewer consonants than this match too many words to tell a katakana name by them.
MIN_NAME_CONSONANTS = 4
# The particles of phrasal verbs: a stopword that still ends a two-word phrase (hand over, set up).
_VERB_PARTICLES = frozenset({"over", "up", "out"})


@dataclass(frozen=True)
class Term:
    english: str  # the question's words it stands for
    surface: str  # the Japanese word as written in the corpus
    tokens: tuple[str, ...]  # its BM25 tokens
    kind: str  # "dictionary", "reading" (romanised name) or "verbatim"


def _variants(word: str) -> list[str]:
    """Simple English inflections back to the dictionary's headword form."""
    w = word.lower()
    out = [w]
    if len(w) > 4 and w.endswith("ies"):
        out.append(w[:-3] + "y")
    if len(w) > 3 and w.endswith("es"):
        out.append(w[:-2])
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        out.append(w[:-1])
    if len(w) > 4 and w.endswith("ed"):
        out += [w[:-2], w[:-1]]
    if len(w) > 5 and w.endswith("ing"):
        out += [w[:-3], w[:-3] + "e"]
    if w.endswith("'s") or w.endswith("’s"):
        out.append(w[:-2])
    return list(dict.fromkeys(out))


def _as_written(word: str, vocabulary) -> list[str]:
    """The BM25 token of a Latin-script word or number as the index holds it (Latin words are
    index terms as written, lower case: bot/text/analyser.term_of), or []."""
    plain = re.sub(r"'s$", "", word.lower().replace(",", "").replace("’", "'"))  # JAXA's → jaxa
    if plain in vocabulary:
        return [plain]
    # APRSAF-26, ISO/TS-16949: the index has the parts (the tokenizer splits at the hyphen).
    parts = [x for x in re.split(r"[-/.]", plain) if x]
    return parts if len(parts) > 1 and all(x in vocabulary for x in parts) else []


def _dictionary(word: str, table: TermTable, capitalised: bool) -> list | None:
    """Dictionary terms for one lower-case word: its inflections first, then words sharing its
    stem ("cooperate" → the gloss "cooperation"), then, for a capitalised word, the place a
    demonym is formed from (Asian → Asia, Canadian → Canada, European → Europe)."""
    for v in _variants(word):
        found = table.english.get(key_of(v))
        if found:
            return found
    found = table.stems.get(stem(word))
    if found:
        return found
    if capitalised:
        for suffix, repl in (("ian", "ia"), ("ian", "a"), ("an", "a"), ("ean", "e"), ("ese", ""), ("ese", "a")):
            if word.endswith(suffix) and len(word) > len(suffix) + 2:
                found = table.english.get(word[: -len(suffix)] + repl)
                if found:
                    return found
    return None


def english_terms(question: str, table: TermTable, vocabulary) -> list[Term]:
    """Japanese terms for an English question, in question order. `vocabulary` answers
    `token in vocabulary` for the BM25 index's terms."""
    # Macrons (Ōnishi) are spelling, not letters the tokeniser knows.
    found = _Found(_WORD.findall(question.translate(_DEMACRON)))
    _take_phrases(found, table)
    for i in range(len(found.words)):
        if not found.used[i] and found.lower[i] not in STOPWORDS:
            _take_word(found, i, table, vocabulary)
    return found.terms


class _Found:
    """The question's words, which of them terms were found for, and the terms."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.lower = [w.lower().replace("’", "'") for w in words]
        self.used = [False] * len(words)
        self.terms: list[Term] = []

    def take(self, i: int, n: int, found: list, kind: str) -> None:
        for j in range(i, i + n):
            self.used[j] = True
        english = " ".join(self.words[i:i + n])
        for surface, tokens in found:
            self.terms.append(Term(english, surface, tuple(tokens), kind))


def _take_phrases(found: _Found, table: TermTable) -> None:
    """Multiword dictionary entries, longest first."""
    lower = found.lower
    for n in range(MAX_PHRASE, 1, -1):
        for i in range(len(lower) - n + 1):
            verb_particle = n == 2 and lower[i + 1] in _VERB_PARTICLES  # handed over, carried out
            if any(found.used[i:i + n]) or lower[i] in STOPWORDS or lower[i + n - 1] in STOPWORDS \
                    and not verb_particle:
                continue
            head = lower[i:i + n - 1]
            # The last word inflected (joint committees), or the first (handed over: a verb
            # with its particle).
            keys = [head + [last] for last in _variants(lower[i + n - 1])] + \
                [[first] + lower[i + 1:i + n] for first in _variants(lower[i])[1:]] + \
                [[lower[i], "and", lower[i + 1]]] * (n == 2)  # a pair of parties (Japan–Canada: 日加)
            for words in keys:
                terms = table.english.get(key_of(" ".join(words)))
                if terms:
                    found.take(i, n, terms, "dictionary")
                    break


def _take_word(found: _Found, i: int, table: TermTable, vocabulary) -> None:
    """One word: as written, its dictionary terms, and a romanised name's."""
    w = found.words[i]
    # Acronyms, Latin-script names, numbers and English documents' words, as written.
    written = _as_written(w, vocabulary)
    if written:
        found.take(i, 1, [[w, written]], "verbatim")
    # Numbers and acronyms are what they are; a name written in Latin script somewhere in the
    # corpus is still looked up, since the Japanese text mostly spells it in katakana
    # (Dominica → ドミニカ).
    if written and (w[0].isdigit() or len(w) == 1 or w.isupper()):
        return
    terms = _dictionary(found.lower[i], table, capitalised=w[0].isupper())
    if terms and len(w) > 1:
        found.take(i, 1, terms, "dictionary")
    if w[0].isupper() or not terms:
        # A capitalised word may be a Japanese name written in romaji (Tabuchi, Toyooka).
        have = {t.surface for t in found.terms}
        # A word the dictionary has is not also read as a katakana name (Dominica: ドミニカ, not
        # ドミニーカ); one only written in Latin script elsewhere is (BepiColombo: ベピコロンボ).
        spelled = bool(terms)
        for v in _variants(w):
            named = [x for x in table.readings.get(fold(v), [])
                     if x[0] not in have and not (spelled and _KATAKANA.fullmatch(x[0]))]
            if named:
                found.take(i, 1, named, "reading")
                break


def lexical_tokens(terms: list[Term]) -> list[str]:
    return [t for term in terms for t in term.tokens]


def dense_query(question: str, terms: list[Term] | list[str]) -> str:
    """The question followed by its terms in the other language (an English question's Japanese
    terms, a Japanese question's English words): the multilingual model matches words to text
    of their own language better than across."""
    surfaces = list(dict.fromkeys(t if isinstance(t, str) else t.surface for t in terms
                                  if isinstance(t, str) or t.kind != "verbatim"))
    return question if not surfaces else question + " " + " ".join(surfaces)


def term_weights(terms: list[Term], lexical) -> dict[str, float]:
    """BM25 tokens with IDF weights, for sentence scoring (the Japanese path's `question_terms`)."""
    return {t: idf(lexical, t) for term in terms for t in term.tokens}


def content_words(question: str) -> list[str]:
    """The question's words that carry its topic (lower case)."""
    return [w for w in (x.lower().replace("’", "'") for x in _WORD.findall(question))
            if w not in STOPWORDS and len(w) > 1]


def coverage(terms: list[Term], lexical, text_terms: set[str], question: str = "") -> float:
    """IDF-weighted share of the question's English words that the text covers: a word counts
    when any of its Japanese terms is there (one of 雇用/仕事/職 for "employment" is enough). A
    content word of `question` with no term at all counts as not covered, with the mean weight
    of the others: "employees" in "How many employees does JAXA have?" is what the question is
    about, and a corpus with no word for it cannot answer it."""
    groups: dict[str, list[tuple[str, ...]]] = {}
    for t in terms:
        groups.setdefault(t.english.lower(), []).append(t.tokens)
    total = got = 0.0
    for alternatives in groups.values():
        w = max(idf(lexical, tok) for toks in alternatives for tok in toks)
        total += w
        if any(all(tok in text_terms for tok in toks) for toks in alternatives):
            got += w
    termed = {w for key in groups for w in key.replace("’", "'").split()}
    missing = [w for w in content_words(question) if w not in termed]
    if missing:
        total += len(missing) * (total / len(groups) if groups else 1.0)
    return got / total if total else 0.0


# Coverage is the best over this many top-scored sentences.
COVERAGE_SENTENCES = 3


class EnglishBridge:
    """A Japanese question meeting English pages, through the table's `english_words` (each
    Japanese word's English words on the corpus's English pages): the question's terms in
    English for BM25, and an English sentence's words as the Japanese terms they translate, for
    coverage. Built once per index; empty (and a no-op) for a corpus without English pages."""

    def __init__(self, table: TermTable, vocabulary: Collection[str] = ()) -> None:
        self.english = table.english_words
        self.japanese: dict[str, set[str]] = {}
        for token, words in self.english.items():
            for w in words:
                self.japanese.setdefault(w, set()).add(token)
        # The index's Latin-script words by their romanisation key: a Japanese question's name
        # (安倍) meets an English page's (Abe) through its reading.
        self.romanised: dict[str, str] = {}
        self.consonants: dict[str, str] = {}
        if self.english:
            for w in vocabulary:  # (a name the tokenizer knows is one term: "donald trump")
                for part in w.split() if w.isascii() else ():
                    if len(part) >= MIN_NAME_KEY and part.isalpha():
                        self.romanised.setdefault(fold(part), w)
                        self.consonants.setdefault(_consonants(part), w)

    def aliases(self, names: list[tuple[str, str, str]]) -> dict[str, str]:
        """The index's Latin-script words for proper nouns (surface, katakana reading, token → the
        word): a Japanese name by its romanisation (安倍 → abe), a foreign one written in katakana
        by its consonants, since katakana adds vowels and changes others (トランプ → donald trump,
        ブライデンスタイン → bridenstine)."""
        out = {}
        for surface, reading, token in names:
            key = fold(romaji(reading))
            if len(key) >= MIN_NAME_KEY and key in self.romanised:
                out[token] = self.romanised[key]
            elif _KATAKANA.fullmatch(surface) and len(_consonants(key)) >= MIN_NAME_CONSONANTS \
                    and _consonants(key) in self.consonants:
                out[token] = self.consonants[_consonants(key)]
        return out


    def __bool__(self) -> bool:
        return bool(self.english)

    def expand(self, terms: list[str]) -> list[str]:
        """English words of the index for a Japanese question's content terms (the question's own
        Latin words are already there)."""
        own = set(terms)
        return list(dict.fromkeys(w for t in terms for w in self.english.get(t, ()) if w not in own))

    def with_japanese(self, terms: set[str]) -> set[str]:
        """An English sentence's terms with the Japanese ones its words translate, an ordinal
        with its number (third, 3rd → 3: 第3回)."""
        ordinals = {str(_ORDINALS[w]) for w in terms if w in _ORDINALS}
        ordinals |= {m.group(1) for w in terms if (m := _ORDINAL_NUMBER.fullmatch(w))}
        return terms | ordinals | {t for w in terms for t in self.japanese.get(w, ())}


_ORDINALS = {w: n for n, w in enumerate(("first", "second", "third", "fourth", "fifth", "sixth", "seventh",
                                         "eighth", "ninth", "tenth"), 1)}
_ORDINAL_NUMBER = re.compile(r"([0-9]{1,3})(?:st|nd|rd|th)")


def _consonants(word: str) -> str:
    return re.sub(r"[aeiouy]", "", fold(word))

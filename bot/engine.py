"""The engine: model + current index + fitted models, loaded once; answers questions and serves
retrieval.

The index can be swapped while requests run (after a rebuild): each request reads the current
state once, so it finishes on the index it started with. The fitted models (`Models`) are loaded
once at the edge (server start, CLI, benchmark, fitting script) and passed in.
"""

import functools
import math
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from types import MappingProxyType

import numpy as np

from bot.answer import asker_language, choice, constraints, kinds, lists, yesno
from bot.answer.asker_language import AskerLanguage
from bot.answer.choice import ChoiceModel
from bot.answer.compose import Phrase, compose_answer, compose_not_found, compose_partial
from bot.answer.compose_en import (
    ENGLISH_TYPE,
    UNITS,
    EnglishComposer,
    asked_role,
    asked_side,
    asks_when,
    counted_noun,
    english_phrase,
    english_phrases,
    english_predicate,
    expansion,
    japanese_date_of,
    japanese_kind,
    japanese_particle,
    own_terms,
    person_like,
    question_type,
    undated,
)
from bot.answer.compose_en import asked as english_asked
from bot.answer.evidence import Evidence, RefusalModel, decide_found, question_terms, worth_relating
from bot.answer.phrase import (
    NICKNAME,
    ORG_SUFFIX,
    PhraseModel,
    counter_forms,
    fits_type,
    named_in_sentence,
    rank_phrases,
    whole_name,
)
from bot.answer.sentences import (
    MAX_SENTENCES,
    CrossLanguage,
    ScoredSentence,
    candidate_rows,
    demote_repeats,
    phrase_givers,
    pick_sentences,
    score_sentences,
)
from bot.answer.yesno import YesNoModel
from bot.embed.base import Embedder
from bot.embed.recent import RecentQueries
from bot.errors import DocumentNotFound, IndexMissing, InvalidQuestion
from bot.ingest.dates import date_line
from bot.query import conversation, crosslingual
from bot.query.analysis import DURATION, MONEY, QuestionInfo, morpheme_toks, question_info
from bot.query.conversation import Resolved, other_reading, resolve
from bot.results import (
    MAX_HISTORY_CHARS,
    MAX_HISTORY_TURNS,
    MAX_QUESTION_CHARS,
    MAX_TOP_K,
    Answer,
    Citation,
    DocumentView,
    IndexStats,
    PassageSpan,
    Related,
    SearchHit,
    SearchResults,
    Timings,
    Turn,
)
from bot.retrieve.retrieval import Fusions, Hit, retrieve
from bot.store.index import DocInfo, SearchIndex, load_index
from bot.text.analyser import Tokenizer, term_of
from bot.text.language import detect_language, has_japanese

# Question types whose phrase leads the answer. "thing" (a bare 何) is found less reliably than
# these (docs/design/answers.md, "The answer phrase"), and a wrong lead is worse than none.
LEAD_TYPES = ("time", "number", "person", "place", "name", "org")
# Types whose lead takes in the items coordinated with it (スリランカとネパール); a time, a number
# or a person is asked for singly.
# Kinds whose answer can change over time (who holds a post, how many members there are).
NOW_TYPES = {"person", "org", "name", "number"}
LIST_TYPES = ("place", "name", "org")
# Phrases of the asked type read from one sentence when choosing whose the answer is.
PHRASE_ALTERNATIVES = 4
# The longest item (characters) a lead takes in as part of a list.
MAX_LIST_ITEM = 20
# A phrase's lead score: its ranker logit plus this times the log of its sentence's chosen
# probability relative to the best sentence's. Swept over 0.5, 1, 1.5, 2, 3 with `python -m
# bench.qa --sets ja,follow-up,dev,jaxaweb,own`: 1.0 leads best on JSQuAD ja and own fit ja;
# 0.5 loses jaxaweb leads, 1.5–3 JSQuAD and own ones.
LEAD_SENTENCE_WEIGHT = 1.0
# How many of the best candidate sentences, besides the quoted ones, may settle a yes/no question.
SETTLE_DEPTH = 5
# How many of the best candidate sentences are checked against the question's identifiers.
CONSTRAINT_DEPTH = 12
# A name more than this share of the documents carry is the corpus's own subject (JAXA on JAXA's
# pages), not what distinguishes one page from another.
COMMON_NAME_SHARE = 0.5
# Retrieved passages whose sentences form the background the best sentence must stand out from.
BACKGROUND_PASSAGES = 20


@dataclass(frozen=True)
class Models:
    """The fitted parameters the engine answers with: the retrieval fusion of each language, the
    refusal model of each language, the sentence choice, the answer phrase ranker, what settles
    a yes/no question, when the asker's language goes first and how other-language sentences'
    cosines are put on the question's own language's scale."""
    fusion: Fusions
    refusal: dict[str, RefusalModel]
    choice: ChoiceModel
    phrase: PhraseModel
    yesno: YesNoModel
    language: AskerLanguage
    cross: CrossLanguage

    @classmethod
    def load(cls) -> "Models":
        """The files shipped beside the code; FittedFileError naming the first that does not fit it
        (bot/fitted.py)."""
        return cls(Fusions.load(), RefusalModel.load_all(), ChoiceModel.load(), PhraseModel.load(),
                   YesNoModel.load(), AskerLanguage.load(), CrossLanguage.load())


@dataclass
class Candidates:
    """A question's retrieval and its scored candidate sentences (the fixed mix's order): what
    `Engine.retrieve` finds, and what the answer, the search and the fitting scripts read."""
    state: "_State"  # the index and its caches as they were when the retrieval began
    lang: str  # the question's language (its own, not its resolved text's)
    query: str  # the question resolved against the conversation
    dense_text: str  # what was embedded: the query, with Japanese search terms for an English one
    lexical_tokens: list[str]  # the BM25 tokens
    use_lexical: bool  # whether BM25 was fused
    qvec: np.ndarray
    hits: list[Hit]
    q_terms: dict[str, float]
    scored: list[ScoredSentence]
    q_info: QuestionInfo | None  # for a Japanese question
    en: list[crosslingual.Term] | None  # an English question's Japanese search terms
    t_start: float
    t_embedded: float
    t_searched: float
    # A Japanese question's names as the English pages write them (安倍 → abe)
    aliases: dict[str, str] = field(default_factory=dict)
    # A Japanese question's words the corpus never uses → its words of the same meaning, as BM25
    # tokens (顧客 → クライアント: bot/store/termtable.py)
    synonyms: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)

    @property
    def index(self) -> SearchIndex:
        return self.state.index

    @property
    def terms_of(self):
        """A sentence's content terms as the question's terms are matched against them."""
        state = self.state
        if self.en is not None:
            return state.sentence_terms
        own = state.bilingual_terms if state.bridge else state.sentence_terms
        aliases, synonyms = self.aliases, self.synonyms
        if not aliases and not synonyms:
            return own
        return lambda key, text: (terms := own(key, text)) | {ja for ja, en in aliases.items() if en in terms} | {
            t for t, words in synonyms.items() if any(all(x in terms for x in tokens) for tokens in words)}


class _State:
    """An index plus caches derived from it; replaced as a whole on swap."""

    def __init__(self, index: SearchIndex, tokenizer: Tokenizer) -> None:
        self.index = index
        self._tokenizer = tokenizer
        self._terms: dict[int, set[str]] = {}
        self._profiles: dict[int, choice.Profile] = {}
        self._flat: dict[str, str] = {}
        self._share: dict[str, float] = {}
        self._bilingual: dict[int, set[str]] = {}
        self._bridge: crosslingual.EnglishBridge | None = None
        self._english_of: dict[str, list[str]] | None = None
        self._doc_rows: dict[str, list[int]] | None = None
        self._lock = threading.Lock()

    def doc_rows(self, doc_id: str) -> list[int]:
        """The passage rows of one document."""
        if self._doc_rows is None:
            rows: dict[str, list[int]] = {}
            for r, p in enumerate(self.index.passages):
                rows.setdefault(p.doc_id, []).append(r)
            with self._lock:
                self._doc_rows = self._doc_rows or rows
        return self._doc_rows.get(doc_id, [])

    @property
    def bridge(self) -> crosslingual.EnglishBridge:
        if self._bridge is None:
            bridge = crosslingual.EnglishBridge(self.index.terms, self.index.lexical.vocabulary)
            with self._lock:
                self._bridge = self._bridge or bridge
        return self._bridge

    def english_of(self, term: str) -> list[str]:
        """The one-word English keys of the term table that give `term` (構造 → structure), and
        the English pages' words for it: how an English sentence may write a Japanese word."""
        if self._english_of is None:
            found: dict[str, list[str]] = {}
            for key, entries in self.index.terms.english.items():
                if re.fullmatch(r"[a-z][a-z-]+", key):
                    for written, _ in entries:
                        found.setdefault(written, []).append(key)
            with self._lock:
                self._english_of = self._english_of or found
        return list(dict.fromkeys(self._english_of.get(term, []) + list(self.bridge.english.get(term, ()))))

    def common_name(self, name: str) -> bool:
        """Whether more than half of the documents carry `name` (flattened): the corpus's own subject."""
        return self.name_share(name) > COMMON_NAME_SHARE

    def name_share(self, name: str) -> float:
        """The share of the documents that carry `name` (flattened)."""
        found = self._share.get(name)
        if found is None:
            docs = self.index.documents
            found = sum(name in self.flat_document(k, d) for k, d in docs.items()) / max(len(docs), 1)
            with self._lock:
                self._share[name] = found
        return found

    def flat_document(self, doc_id: str, doc) -> str:
        found = self._flat.get(doc_id)
        if found is None:
            found = constraints.flat(f"{doc.title}\n{doc.text}")
            with self._lock:
                self._flat[doc_id] = found
        return found

    def sentence_terms(self, key: int, text: str) -> set[str]:
        terms = self._terms.get(key)
        if terms is None:
            terms = set(self._tokenizer.content_terms(text))
            with self._lock:
                self._terms[key] = terms
        return terms

    def bilingual_terms(self, key: int, text: str) -> set[str]:
        """A sentence's terms for a Japanese question: an English sentence's also in Japanese."""
        terms = self._bilingual.get(key)
        if terms is None:
            terms = self.sentence_terms(key, text)
            if self.bridge and not has_japanese(text):
                terms = self.bridge.with_japanese(terms)
            with self._lock:
                self._bilingual[key] = terms
        return terms

    def sentence_profile(self, key: int, text: str) -> choice.Profile:
        found = self._profiles.get(key)
        if found is None:
            found = choice.profile(morpheme_toks(text, self._tokenizer))
            with self._lock:
                self._profiles[key] = found
        return found


def _headed(sentence: str, spans: list[tuple[int, int]], q_info) -> list[tuple[int, int]]:
    """An organisation asked by its kind (どの省): the phrases that are one (a name through its
    middle dot, 研究技術・高等教育省), when any is; all of them otherwise."""
    if q_info.qtype != "org" or not q_info.head:
        return spans
    whole = [(a, kinds.official_name_end(sentence, b, ORG_SUFFIX)) for a, b in spans]
    return [(a, b) for a, b in whole if sentence[a:b].endswith(q_info.head)] or spans


class Engine:
    def __init__(self, embedder: Embedder, tokenizer: Tokenizer, index: SearchIndex | None = None, *,
                 models: Models) -> None:
        self.embedder = embedder
        self.tokenizer = tokenizer
        self.models = models
        # Vectors of the questions just asked, for the follow-ups that refer to them (bot/embed/recent.py).
        self.recent = RecentQueries()
        self._english = EnglishComposer(tokenizer)
        self._state = _State(index, tokenizer) if index is not None else None

    @classmethod
    def load(cls, index_dir: Path, embedder: Embedder, tokenizer: Tokenizer | None = None, *,
             models: Models) -> "Engine":
        tokenizer = tokenizer or Tokenizer()
        return cls(embedder, tokenizer, load_index(index_dir, model=embedder.name), models=models)

    # -- index lifecycle -------------------------------------------------------------------
    @property
    def index(self) -> SearchIndex | None:
        state = self._state
        return state.index if state else None

    def swap(self, index: SearchIndex) -> None:
        self._state = _State(index, self.tokenizer)

    def reload(self, index_dir: Path) -> SearchIndex:
        index = load_index(index_dir, model=self.embedder.name)
        self.swap(index)
        return index

    def _require(self) -> _State:
        state = self._state
        if state is None:
            raise IndexMissing("no index is loaded; build one with `jaxabot index`")
        return state

    def stats(self) -> IndexStats | None:
        index = self.index
        if index is None:
            return None
        return IndexStats(version=index.version, documents=len(index.documents),
                          passages=len(index.passages), model=index.model)

    # -- questions -------------------------------------------------------------------------
    def ask(self, question: str, history: Sequence[Turn | dict] = (), top_k: int = 3) -> Answer:
        return self.ask_with_evidence(question, history, top_k)[0]

    def ask_with_evidence(self, question: str, history: Sequence[Turn | dict] = (),
                          top_k: int = 3) -> tuple[Answer, Evidence]:
        """`ask`, plus the evidence the found/not-found decision was made on (for calibration)."""
        t0 = time.perf_counter()
        question, history = validate(question, history, top_k)
        c, evidence, found, _ = self._best_reading(question, history)
        index, lang, query, hits, en = c.index, c.lang, c.query, c.hits, c.en
        asks_for = c.q_info.qtype if c.q_info is not None else None
        missing: list[str] = []
        if found:
            c.scored, missing = self._holding(c)
            found = not missing
        if found:
            chosen = self._choose(c, top_k, self._asker_first(c))
            # The answer is composed in the language its evidence was searched in: Japanese
            # sentences for a Japanese question, English statements over them for an English one.
            compose = self._compose_japanese if en is None else self._compose_english
            text, citations, state_name = compose(c, chosen, question, top_k)
            found = state_name == "answered"
            related: list[Related] = []
        else:
            state_name = "not_found"
            text, citations = compose_not_found(lang, missing), []
            # An English reader gets no unrelated Japanese passages with a refusal.
            related = ([_related(index, h.row, h.score) for h in hits[: min(top_k, 3)]]
                       if en is None and worth_relating(evidence, lang) else [])
        t4 = time.perf_counter()
        ms = lambda a, b: round((b - a) * 1000, 2)  # noqa: E731
        answer = Answer(answer=text, found=found, state=state_name, language=lang, query=query, citations=citations,
                        related=related, asks_for=asks_for,
                        timings_ms=Timings(embed=ms(c.t_start, c.t_embedded), search=ms(c.t_embedded, c.t_searched),
                                           answer=ms(c.t_searched, t4), total=ms(t0, t4)),
                        index_version=index.version)
        return answer, evidence

    def retrieve(self, question: str, history: Sequence[Turn | dict] = (), k: int = BACKGROUND_PASSAGES, *,
                 sentences: bool = True, reading: Resolved | None = None) -> Candidates:
        """The one retrieval path: the question resolved against the conversation (or read as
        `reading` says), embedded, searched and fused into `k` passages, then (with `sentences`)
        its candidate sentences scored. The answer, the search and the fitting scripts all start
        here."""
        question, history = validate(question, history, 1)
        state = self._require()
        index = state.index
        lang = detect_language(question)
        resolved = reading or resolve(question, history, lang, self.tokenizer)
        query = resolved.query
        # An English question searches with Japanese terms from the index's term table.
        t1 = time.perf_counter()
        aliases = state.bridge.aliases(self._name_readings(query)) if lang == "ja" and state.bridge else {}
        dense_text, q_tokens, use_lexical, en = self._query_side(state, resolved, list(aliases.values()))
        qvec, topic_doc = self._encode(resolved, state, dense_text, conversation.previous_answer(history))
        t2 = time.perf_counter()
        hits = retrieve(index, qvec, q_tokens, use_lexical, k, self.models.fusion.of(lang), topic_doc=topic_doc)
        t3 = time.perf_counter()
        c = Candidates(state, lang, query, dense_text, q_tokens, use_lexical, qvec, hits, {}, [], None, en,
                       t1, t2, t3, aliases, self._synonyms(index, query) if en is None else {})
        if sentences:
            self._score_candidates(c, question, resolved, history)
        return c

    def _score_candidates(self, c: Candidates, question: str, resolved: Resolved, history: list[Turn]) -> None:
        index, lang, query = c.index, c.lang, c.query
        if c.en is not None:
            c.q_terms = crosslingual.term_weights(c.en, index.lexical)
        else:
            # A follow-up's own words decide coverage: the topic put in for its pronoun may be the
            # previous question's subject rather than what the documents call it.
            c.q_terms = question_terms(self.tokenizer, index.lexical,
                                       (resolved.own or question) if resolved.topic else query, lang) or \
                question_terms(self.tokenizer, index.lexical, query, lang)
        c.q_info = question_info(query, self.tokenizer) if lang == "ja" else None
        if c.q_info is not None and c.q_info.asked:
            c.q_terms = {t: w for t, w in c.q_terms.items() if t not in c.q_info.asked} or c.q_terms
        rows = candidate_rows(index, c.hits, lang=lang)
        c.scored = score_sentences(index, rows, c.qvec, c.q_terms, c.terms_of, lang, self.models.cross.of(lang))
        if resolved.follow_up:
            c.scored = demote_repeats(index, c.scored, [t.content for t in history if t.role == "assistant"])

    def _compose_japanese(self, c: Candidates, chosen: list[ScoredSentence], question: str,
                          top_k: int) -> tuple[str, list[Citation], str]:
        """A Japanese answer: the asked-for phrase first when there is one, the defining sentence
        first for 〜とは, はい / いいえ before the sentence that settles a yes/no question; `partial`
        when the sentences lack the asked kind or do not settle the yes/no question."""
        index, query, q_info = c.index, c.query, c.q_info
        if kinds.is_yes_no(query, c.lang):
            verdict, chosen = self._settle(c, chosen, query, top_k)
            if verdict is None:
                text, citations = compose_partial(index, chosen, c.lang, what="そうかどうか")
                return text, citations, "partial"
            text, citations = compose_answer(index, chosen, c.lang, verdict=verdict)
            return text, citations, "answered"
        party = kinds.japanese_side(query) if c.lang == "ja" else None
        phrase = self._phrase(index, chosen, query, q_info, self._english_words(c),
                              side=frozenset({party}) if party else frozenset(), aliases=c.aliases)
        if phrase is None and q_info is not None and q_info.qtype == "person" and q_info.particle == "と":
            # 誰と連携: the partners may be organisations
            phrase = self._phrase(index, chosen, query, replace(q_info, qtype="org"), self._english_words(c))
        if phrase is None and q_info is not None and q_info.qtype == "time" and q_info.counter == "年":
            phrase = self._year_from_heading(index, chosen, query, q_info)
        if phrase is None and q_info is not None and checkable(q_info.qtype, q_info.counter):
            chosen, phrase = self._giving_neighbour_ja(c, chosen, query, q_info, party)
        if phrase is None and q_info is not None and q_info.qtype in choice.HEADED_TYPES:
            phrase = self._heading_phrase(index, chosen, query, q_info)
        subject = kinds.definition_subject(query, c.lang)
        if subject:
            chosen = self._defining_first(index, chosen, c.scored, subject, top_k)
            if phrase is None and all(_fragment(self._text(index, s)) for s in chosen):
                # Only headings, timeline entries or captions name it (「2006 SAFEの設立」): the
                # documents do not say what it is.
                text, citations = compose_partial(index, chosen, c.lang, what=f"{subject}が何であるか")
                return text, citations, "partial"
        listed = None
        ask = None if subject else lists.asked_ja(query, q_info.qtype if q_info is not None else None,
                                                  self.tokenizer)
        if ask is not None:
            # English sentences name the asked noun in English (structure of …)
            ask = replace(ask, heads=ask.heads + tuple(w for h in ask.heads for w in c.state.english_of(h)))
            kind = q_info.qtype if q_info is not None and q_info.qtype in LIST_TYPES else None
            listed, chosen = self._listing(c, chosen, ask, query, phrase,
                                           partial(self._named, kind=kind) if kind else None,
                                           None if kind == "place" else self._place)
            if listed:
                phrase = None
                listed = self._as_written(index, listed, ask) + self._parallel(c, listed, query)
        partnered = lists.partner_predicate(query) if not listed and not subject and q_info is not None else None
        if partnered and q_info is not None and len(q_info.terms - {partnered, "国"}) <= 1:
            # 「JAXAはどの国と協力していますか」 (no narrower topic): the partners each section names
            listed, chosen = self._gathered(c, chosen, [{partnered}], query)
            if listed:
                phrase = None
        if not listed and (not self._gives_asked_kind(index, chosen, q_info, phrase, c.state.english_of)
                           or phrase is None and bool(self._relative_rows(index, chosen, q_info))):
            # The sentences are about the question but do not give what it asks for (a date,
            # a number, a name of the asked kind): say so, and cite what they do say.
            text, citations = compose_partial(index, chosen, c.lang, q_info)
            return text, citations, "partial"
        names = self._names_asked_noun(q_info, c.state.english_of) if phrase is None and not listed else None
        if names is not None:  # the sentence naming the asked kind leads
            chosen = sorted(chosen, key=lambda s: not names(self._text(index, s)))
        chosen = choice.lead_first(index, chosen, {i.key for i in listed or ()}
                                   | ({phrase.vector_row} if phrase is not None else set()))
        text, citations = compose_answer(index, chosen, c.lang, phrase, listed=listed)
        return text, citations, "answered"

    def _compose_english(self, c: Candidates, chosen: list[ScoredSentence], question: str,
                         top_k: int) -> tuple[str, list[Citation], str]:
        """An English answer over the quoted sentences: a statement led by what was asked, the
        quotes and their glossary; `partial` when a checkable kind is given by none of them."""
        index, en = c.index, c.en or []
        asked_en = english_asked(question, c.query)
        if kinds.is_yes_no(asked_en, "en"):
            verdict, chosen = self._settle(c, chosen, asked_en, top_k)
            text, citations = self._english.compose(index, chosen, asked_en, en, verdict=verdict or "unsettled")
            return text, citations, "answered" if verdict else "partial"
        subject = kinds.definition_subject(asked_en, "en")
        if subject:
            chosen = self._defining_first(index, chosen, c.scored, subject, top_k)
        if subject and chosen and all(_fragment(self._text(index, s)) for s in chosen):
            # Only headings or timeline entries name it: the documents do not say what it is.
            text, citations = self._english.compose(index, chosen, asked_en, en, partial=True,
                                                    missing=f"what {subject} is")
            return text, citations, "partial"
        phrase_en = self._phrase_en(index, chosen, asked_en, en, c.query)
        if question_type(asked_en) == "what" and japanese_kind(asked_en)[0] is None:
            chosen = self._labelled_line(c, chosen, {t.surface for t in own_terms(en, c.query)})
        ask = lists.asked_en(asked_en, lambda word: [t.surface for t in en
                                                     if word.lower() in t.english.lower().split()])
        listed = None
        if ask is not None and "国" in ask.heads and re.search(r"\bwith\b", asked_en, re.I):
            # "Which countries does JAXA cooperate with?": the partners each section names
            groups: dict[str, set[str]] = {}
            for t in en:
                if t.kind != "verbatim" and t.surface not in ask.heads:
                    groups.setdefault(t.english.lower(), set()).add(t.surface)
            if len(groups) == 1:  # no narrower topic ("in Asia")
                listed, chosen = self._gathered(c, chosen, list(groups.values()), c.query)
        if ask is not None and not listed:
            listed, chosen = self._listing(c, chosen, ask, asked_en, phrase_en)
        if listed:
            chosen = choice.lead_first(index, chosen, {i.key for i in listed})
            text, citations = self._english.compose(index, chosen, asked_en, en, None, listed=listed)
            return text, citations, "answered"
        state_name = "answered"
        # A count of named things ("how many experiments") is checked in quoted English sentences too.
        english_quoted = any(not has_japanese(self._text(index, s)) for s in chosen)
        if phrase_en is None and (checkable(*japanese_kind(asked_en)) or counted_noun(asked_en) and english_quoted) \
                and not self._english.english_source_gives(index, chosen, asked_en):
            chosen = self._giving_neighbour(c, chosen, asked_en)
            if not self._english.english_source_gives(index, chosen, asked_en):
                state_name = "partial"
        if phrase_en is None and asks_when(asked_en) and all(undated(self._text(index, s)) for s in chosen) \
                or self._role_unheld(c, chosen, asked_en):
            state_name = "partial"  # no quoted sentence dates anything, or names the asked role
        # Quantities are read into English by the composer's own extractors (ordinals, units);
        # the Japanese phrase leads a date (read into English from it), a name, place or
        # organisation.
        lead_phrase = None if japanese_kind(asked_en)[0] == "number" else phrase_en
        compose = partial(self._english.compose, index, question=asked_en, terms=en, phrase_at=lead_phrase,
                          partial=state_name == "partial")
        text, citations = compose(chosen)
        # The composer reads the lead from the sentence it finds it in: that sentence is cited
        # first, as in Japanese answers.
        lead = _lead_citation(text)
        if lead is not None and lead > 1:
            text, citations = compose(choice.lead_first(index, chosen, {chosen[lead - 1].vector_row}))
        return text, citations, state_name

    def _role_unheld(self, c: Candidates, chosen, question: str) -> bool:
        """Whether a who-question asks the holder of a role (JAXA's project manager) that no quoted
        sentence names, in English or by a Japanese word whose English says it (プロジェクトマネージャ
        "project manager", 天皇 "Emperor of Japan"): a person they name holds another."""
        role = asked_role(question)
        if role is None:
            return False
        word = re.compile(rf"\b{re.escape(role.split()[-1])}", re.I)
        glosses = c.index.terms.glosses
        for s in chosen:
            text = self._text(c.index, s)
            surfaces = [m.surface() for m in self.tokenizer.morphemes(text)]
            # words and the compounds of two or three (市 + 長 → 市長 "mayor")
            words = {"".join(surfaces[i:i + n]) for n in (1, 2, 3) for i in range(len(surfaces) - n + 1)}
            if word.search(text) or any(word.search(e) for w in words
                                        for e in (glosses.get(w, ""), *c.state.english_of(w))):
                return False
        return True

    def _giving_neighbour(self, c: Candidates, chosen: list[ScoredSentence], question: str) -> list[ScoredSentence]:
        """When no quoted sentence gives what an English question asks for, the quoted sentences
        with the least-scored one replaced by the best-scored English neighbour (same section) of
        one of them that gives it, counting what is asked ("Thirty-five participants … attended"
        after the sentence naming the workshop); as they were when none does."""
        qtype = question_type(question)
        quoted = {s.vector_row for s in chosen}
        near = {n.vector_row: n for s in chosen for n in self._neighbours(c, s) if n.vector_row not in quoted}
        for n in sorted(near.values(), key=lambda x: -x.score):
            text = self._text(c.index, n)
            found = [] if has_japanese(text) else english_phrases(text, qtype, question)
            if found and found[0][0] == 0:
                worst = min(chosen, key=lambda x: x.score)
                kept = [s for s in chosen if s is not worst] + [n]
                return sorted(kept, key=lambda x: (x.passage_row, x.start))
        return chosen

    def _giving_neighbour_ja(self, c: Candidates, chosen: list[ScoredSentence], query: str, q_info,
                             party: str | None) -> tuple[list[ScoredSentence], Phrase | None]:
        """When no quoted sentence gives the checkable phrase a Japanese question asks for, the
        quoted sentences with the least-scored one replaced by the best-scored neighbour (same
        section) of one of them that gives it ("Thirty-five participants … in fourteen countries
        attended." after the sentence naming the workshop), and the phrase; as they were and None
        when no neighbour gives it."""
        if not q_info.predicate:
            return chosen, None
        # The neighbour must say what the question asks about (参加者 / participants), not merely
        # give a number of the asked kind for another event of the page.
        said = {q_info.predicate, *(w.lower() for w in c.state.english_of(q_info.predicate))}
        quoted = {s.vector_row for s in chosen}
        near = {n.vector_row: n for s in chosen for n in self._neighbours(c, s) if n.vector_row not in quoted}
        side = frozenset({party}) if party else frozenset()
        for n in sorted(near.values(), key=lambda x: -x.score):
            text = self._text(c.index, n)
            if not (said & set(self.tokenizer.content_terms(text)) or
                    said & set(re.findall(r"[a-z]+", text.lower()))):
                continue
            if self._phrase(c.index, [n], query, q_info, self._english_words(c), side=side) is None:
                continue
            worst = min(chosen, key=lambda x: x.score)
            kept = sorted([s for s in chosen if s is not worst] + [n], key=lambda x: (x.passage_row, x.start))
            return kept, self._phrase(c.index, kept, query, q_info, self._english_words(c), side=side)
        return chosen, None

    def _labelled_line(self, c: Candidates, chosen: list[ScoredSentence], words: set[str]) -> list[ScoredSentence]:
        """When no quoted sentence is a line labelled by a word of the question ("What size is
        it?": サイズ:1U) and a neighbour of one (same section: the record's other lines) is, the
        least-scored quoted sentence replaced by that line; as they were otherwise."""
        if any(kinds.labelled_value(self._text(c.index, s), words) for s in chosen):
            return chosen
        quoted = {s.vector_row for s in chosen}
        for s in sorted(chosen, key=lambda x: -x.score):
            for n in self._neighbours(c, s):
                if n.vector_row not in quoted and kinds.labelled_value(self._text(c.index, n), words):
                    worst = min(chosen, key=lambda x: x.score)
                    kept = [x for x in chosen if x is not worst] + [n]
                    return sorted(kept, key=lambda x: (x.passage_row, x.start))
        return chosen

    def _best_reading(self, question: str, history: list[Turn]
                      ) -> tuple[Candidates, Evidence, bool, Resolved | None]:
        """In a conversation a question can be read two ways (as a follow-up or alone; with the
        topic put back or as it stands): each is retrieved, and the one whose evidence the fitted
        decision finds likelier to answer is kept (the usual reading on a tie). Also returns the
        other reading when it was kept."""
        c = self.retrieve(question, history)
        evidence = self.evidence(c)
        found = self.decide(evidence, c.lang)
        usual = resolve(question, history, c.lang, self.tokenizer) if history else None
        other = other_reading(question, history, c.lang, self.tokenizer, usual) if usual else None
        if other is None or other.query == c.query:
            return c, evidence, found, None
        c2 = self.retrieve(question, history, reading=other)
        evidence2 = self.evidence(c2)
        found2 = self.decide(evidence2, c2.lang)
        if (evidence2.p_answer or 0.0) > (evidence.p_answer or 0.0):
            return c2, evidence2, found2, other
        return c, evidence, found, None

    def evidence(self, c: Candidates) -> Evidence:
        """What the found / not-found decision reads from a question's candidates."""
        state, index = c.state, c.index
        evidence = Evidence.collect(index, c.scored, c.hits, c.qvec, len(c.q_terms),
                                    choice.type_support(index, c.scored, c.q_info, state.sentence_profile))
        if c.en is not None:  # coverage of the English words, through their Japanese terms
            evidence.coverage = max((crosslingual.coverage(c.en, index.lexical, t, c.query) for t in
                                     _best_terms(state, index, c.scored, crosslingual.COVERAGE_SENTENCES)),
                                    default=0.0)
        return evidence

    def decide(self, evidence: Evidence, lang: str) -> bool:
        """Whether the documents answer, by the fitted refusal model of `lang`."""
        return decide_found(evidence, lang, self.models.refusal)

    def sentence_features(self, c: Candidates) -> np.ndarray:
        """The sentence ranker's features of each candidate sentence (bot/answer/choice.py)."""
        state = c.state
        return choice.features(c.index, c.scored, c.hits, c.qvec, c.q_terms, c.terms_of, c.q_info,
                               state.sentence_profile)

    def yes_no_features(self, c: Candidates, question: str, sentences: Sequence[ScoredSentence]) -> np.ndarray:
        """The inputs of the yes/no model (bot/answer/yesno.py) for each of `sentences` as the
        answer to the yes/no `question` (the asked question; `c` its candidates)."""
        index, state = c.index, c.state
        if c.en is None:
            q = yesno.asked(question, "ja", self.tokenizer, glosses=index.terms.glosses)
        else:
            q = yesno.asked(question, "en", self.tokenizer, [t.surface for t in c.en])
        best = c.scored[0].score if c.scored else 0.0
        # A quoted sentence's score is what it was chosen on (the ranker's probability for a
        # Japanese question): its place among the candidates is read from the fixed mix's scores.
        mixed = {s.vector_row: s for s in c.scored}
        rows = []
        for s in sentences:
            s = mixed.get(s.vector_row, s)
            text = self._text(index, s)
            if c.en is None:  # a Japanese question: in an English sentence, its words' glosses count
                cov = s.coverage if has_japanese(text) else max(s.coverage, yesno.english_coverage(q, text))
            else:  # the English words' coverage through their Japanese terms, as the evidence reads it
                cov = crosslingual.coverage(c.en, index.lexical, _best_terms(state, index, [s])[0], question)
            cross = has_japanese(text) != (c.en is None)
            rows.append(yesno.features(q, text, cov, s.sim, s.score - best, cross, _fragment(text), self.tokenizer))
        return np.array(rows).reshape(len(rows), len(yesno.FEATURES))

    def _settle(self, c: Candidates, chosen: list[ScoredSentence], question: str,
                top_k: int) -> tuple[str | None, list[ScoredSentence]]:
        """A yes/no question's answer ("yes", "no", or None when no candidate settles it) and the
        sentences to quote, the settling one first. A candidate in whose context the question's
        identifiers (a year, an edition, a name) do not hold settles nothing: the documents then
        speak of something else."""
        quoted = {s.vector_row for s in chosen}
        pool = list(chosen) + [s for s in c.scored[:SETTLE_DEPTH] if s.vector_row not in quoted]
        if not pool:
            return None, chosen
        probs = self.models.yesno.probabilities(self.yes_no_features(c, question, pool))
        ids = constraints.identifiers(c.query, c.lang, self.tokenizer)
        order = np.argsort(-(1.0 - probs[:, yesno.CLASSES.index("unsettled")]), kind="stable")
        for k in order:
            said = yesno.verdict(probs[k])
            if said == "unsettled":
                break
            if ids and not self._check_all(ids, [pool[k]], c)[0]:
                continue
            settling = pool[k]
            rest = [s for s in chosen if s.vector_row != settling.vector_row]
            return said, [settling] + rest[: top_k - 1]
        return None, chosen

    def _holding(self, c: Candidates) -> tuple[list[ScoredSentence], list[str]]:
        """The candidate sentences in whose context the question's identifiers hold (years,
        editions, codes, names: bot/answer/constraints.py), and what the best candidate lacks when
        none holds them (the documents describe a sibling). When none of the first
        `CONSTRAINT_DEPTH` candidates holds them, the sentences of the other retrieved passages
        whose documents name them are scored and checked too (a Japanese question answered by an
        English page ranks it below same-language siblings)."""
        ids = constraints.identifiers(c.query, c.lang, self.tokenizer)
        # An English question's romanised name the corpus writes in katakana (BepiColombo →
        # ベピコロンボ) is a name the documents must hold, as an acronym is.
        worded = {t.english for t in c.en or [] if t.kind == "dictionary"}
        for t in c.en or []:
            if t.kind == "reading" and t.english not in worded:
                ids.names.add(constraints.flat(t.english))
                ids.shown.setdefault(constraints.flat(t.english), t.english)
        if not ids or not c.scored:
            return c.scored, []
        keep, first = self._check_all(ids, c.scored[:CONSTRAINT_DEPTH], c)
        if keep:
            return keep + [s for s in c.scored[CONSTRAINT_DEPTH:] if s not in keep], []
        seen = {s.passage_row for s in c.scored}
        rows = [h.row for h in c.hits if h.row not in seen]
        if rows:
            more = score_sentences(c.index, rows, c.qvec, c.q_terms, c.terms_of, c.lang,
                                   self.models.cross.of(c.lang))
            keep, _ = self._check_all(ids, more[:CONSTRAINT_DEPTH], c)
            if keep:
                return keep, []
        return c.scored, first.missing

    def _check_all(self, ids, scored, c: Candidates):
        keep, first = [], None
        index = c.index
        # An English question's acronym may be written in Japanese (LDP → 自民党): its terms count.
        terms = [(t.english.lower(), constraints.flat(t.surface)) for t in (c.en or [])]
        # A Japanese question's name as an English page writes it (トランプ → Donald Trump).
        terms += [(ja, constraints.flat(en)) for ja, en in c.aliases.items()]
        forms = lambda name: {name} | {s for e, s in terms if constraints.flat(e) == name}  # noqa: E731
        for s in scored:
            p = index.passages[s.passage_row]
            d = index.documents[p.doc_id]
            ctx = constraints.Context.of(d.text[s.start:s.end], p.section, d.title, d.text, d.url)
            result = constraints.check(ids, ctx, c.state.flat_document(p.doc_id, d), c.lang, c.state.common_name,
                                       forms)
            if result.ok:
                keep.append(s)
            elif first is None:
                first = result
        return keep, first

    def _asker_first(self, c: Candidates) -> set[int]:
        """The candidate sentences (vector rows) in the asker's language when they answer as well
        as all the candidates, by the fitted refusal model and margin (bot/answer/asker_language.py);
        else none."""
        model = self.models.refusal[c.lang]
        probability = lambda scored: model.probability(self.evidence(replace(c, scored=list(scored))))  # noqa: E731
        own = asker_language.leading(c.scored, c.lang, partial(self._text, c.index), probability,
                                     self.models.language)
        return {s.vector_row for s in own}

    def _choose(self, c: Candidates, top_k: int, first: Collection[int] = frozenset()) -> list[ScoredSentence]:
        """The sentences to quote, in the order they are shown; each one's score is what it was
        chosen on (the fitted ranker's probability for Japanese questions, bot/answer/choice.py;
        the fixed mix otherwise). The sentences of `first` (the asker's language, when they answer
        as well) lead: an English question's best and runners-up are counted from the first of
        them."""
        model = self.models.choice
        lead = partial(asker_language.first, leads=lambda s: s.vector_row in first)
        if c.lang != "ja":
            return lead(pick_sentences(c.index, lead(c.scored), c.lang, top_k))  # in document order
        X = self.sentence_features(c)
        chosen = choice.choose(c.index, c.scored, choice.probabilities(X, model), min(top_k, MAX_SENTENCES),
                               model.confidence)
        # A list's numbering on a line of its own (「1.」) says nothing: it is never quoted.
        chosen = [s for s in chosen if not _says_nothing(self._text(c.index, s))] or chosen
        chosen = _distinct([self._with_value(c.index, s) for s in chosen])
        ordered = lead(choice.reading_order(c.index, chosen))
        # A title line, caption or table cell (no sentence end) supports an answer but never
        # opens it: the first quoted line is a sentence when there is one.
        if ordered and _fragment(self._text(c.index, ordered[0])):
            opener = next((s for s in ordered if not _fragment(self._text(c.index, s))), None)
            if opener is not None:
                ordered = [opener] + [s for s in ordered if s is not opener]
        return ordered

    @staticmethod
    def _with_value(index: SearchIndex, s: ScoredSentence) -> ScoredSentence:
        """A table's or a form's label line (「日本側主催: |」) quoted with the value on the line after
        it, and a table cell with the rest of its row: the label or the cell alone says what is
        asked about, the value or the row's other cells are the answer."""
        p = index.passages[s.passage_row]
        if s.sentence_index + 1 < len(p.sentences) and _LABEL.match(Engine._text(index, s)):
            return replace(s, end=p.sentences[s.sentence_index + 1][1])
        lines = [index.documents[p.doc_id].text[a:b].strip() for a, b in p.sentences]
        row = table_row(lines, s.sentence_index)
        if row is not None:
            return replace(s, start=p.sentences[row[0]][0], end=p.sentences[row[1]][1])
        return s

    @staticmethod
    def _english_terms(index: SearchIndex, resolved: Resolved) -> list:
        """An English question's Japanese terms; a follow-up whose pronoun was replaced by the
        previous question's topic also keeps that question's other terms, after its own (more
        English follow-ups then cite the passage that answers them)."""
        en = crosslingual.english_terms(resolved.query, index.terms, index.lexical)
        if resolved.topic and resolved.previous:
            have = {t.surface for t in en}
            en += [t for t in crosslingual.english_terms(resolved.previous, index.terms, index.lexical)
                   if t.surface not in have]
        return en

    def _english_words(self, c: Candidates) -> str:
        """A Japanese question's words as an English sentence would write them: its Latin-script
        words and the English pages' words for its terms (bot/store/termtable.py)."""
        latin = re.findall(r"[A-Za-z][A-Za-z0-9\-]*", c.query)
        bridge = c.state.bridge
        return " ".join(latin + (bridge.expand(self.tokenizer.content_terms(c.query)) + list(c.aliases.values())
                                 if bridge else []))

    def _name_readings(self, text: str) -> list[tuple[str, str, str]]:
        """A Japanese text's proper nouns written in Japanese: surface, katakana reading and BM25
        token (安倍, アベ, 安倍)."""
        return [(m.surface(), m.reading_form(), term_of(m)) for m in self.tokenizer.morphemes(text)
                if m.part_of_speech()[1] == "固有名詞" and has_japanese(m.surface())]

    def _phrase(self, index: SearchIndex, chosen, query: str, q_info, english_words: str | None = "",
                now: bool | None = None, side: frozenset[str] = frozenset(),
                aliases: Mapping[str, str] = MappingProxyType({})) -> Phrase | None:
        """The asked-for phrase (a date, number, name, place): the best-scored candidate of the
        asked type across the quoted sentences, widened to the items coordinated with it (a list),
        or None when none of them has one. The page's own date line is quoted for context but
        gives no phrase: it dates the page, not what was asked. When the best quoted sentence is
        English (a Japanese question answered by an English page), the phrase is read by the
        English finder from the English sentences (`english_words`: the question's words in
        English), and the Japanese ranker reads only the Japanese ones. `english_words` is None
        for an English question read through its Japanese search terms. `side`: the words of the
        party the question asks about, when a sentence may name several (on behalf of JAXA).
        `aliases`: the question's names as English pages write them (トランプ → donald trump): an
        English sentence naming them gives the phrase when no Japanese one names them."""
        asks_for = q_info.qtype if q_info is not None else None
        if asks_for not in LEAD_TYPES:
            return None
        # A photo's caption («… (Credit: JAXA)») is context: it names what the photo shows.
        chosen = [s for s in chosen if not _caption(self._text(index, s))] or chosen
        top = max(x.score for x in chosen)
        english = [s for s in chosen if not has_japanese(self._text(index, s))]
        spelled = self._written_out(index, chosen, query)
        latin_side = next((p for p in side if re.fullmatch(r"[A-Za-z][\w&.\-]*", p)), None)
        named = self._naming(index, chosen, english, aliases)
        read_english = partial(self._english_phrase, index, named or english, asks_for, english_words or "",
                               latin_side, q_info.counter if checkable(asks_for, q_info.counter) else None,
                               country=q_info.head == "国" and asks_for == "place", question=q_info.text)
        from_english = read_english() if english and (named or max(s.score for s in english) >= top) else None
        chosen = [s for s in chosen if s not in english and not self._page_date_line(index, s)]
        early = spelled or from_english or self._abbreviation(index, chosen, query)
        if early is not None:
            return early
        best: tuple[float, ScoredSentence, str, list, tuple[int, int]] | None = None
        fits = lambda text, after="": fits_type(text, asks_for, self.tokenizer, q_info.head,  # noqa: E731
                                                q_info.counter, after)
        # An English question's names are search terms out of their clauses: no clause to match.
        names = self._clause_names(q_info.text, query) if english_words is not None else set()
        # A sentence that names the asked event only as another's reference point dates that other.
        relative = self._relative_rows(index, chosen, q_info)
        usable = self._answers(query, q_info, names)
        # About the present, every quoted sentence's phrase is kept: dated sources may disagree.
        if now is None:
            now = has_japanese(q_info.text) and kinds.asks_now(q_info.text)
        now = now and asks_for in NOW_TYPES
        # 「いつからいつまで」: a date that opens a range the sentence gives beats a better-scored
        # single date, so every quoted sentence is read.
        ranged = asks_for == "time" and kinds.asks_range(query)
        found: list[tuple[float, ScoredSentence, str, list, tuple[int, int]]] = []
        sided_rows: set[int] = set()
        for s in sorted((x for x in phrase_givers(chosen) if x.vector_row not in relative), key=lambda x: -x.score):
            text = index.documents[index.passages[s.passage_row].doc_id].text
            sentence = text[s.start:s.end]
            prior = LEAD_SENTENCE_WEIGHT * math.log(max(s.score, 1e-6) / max(top, 1e-6))
            ranked = rank_phrases(sentence, query, asks_for, self.tokenizer, self.models.phrase, info=q_info)
            fitting: list[tuple[int, int]] = []
            lead_score = 0.0
            for n, (score, (a, b)) in enumerate(ranked):
                if not fitting and not now and not ranged and best is not None and score + prior <= best[0] \
                        or fitting and (len(fitting) >= PHRASE_ALTERNATIVES or n >= 3 * PHRASE_ALTERNATIVES):
                    break
                if usable(sentence, a, b):
                    lead_score = lead_score if fitting else score + prior
                    span = kinds.glossed(sentence, a, b, [span for _, span in ranked]) or (a, b)
                    fitting += [span] if span not in fitting else []
            if fitting:
                words = q_info.surfaces
                # The asked party's phrase may rank below the others' (they stand nearer the
                # question's words): every fitting phrase of the sentence is read for it.
                counted = asks_for == "number" and not q_info.counter and q_info.head
                every = [(a, b) for _, (a, b) in ranked if usable(sentence, a, b)] if side or counted else []
                agent = asks_for == "org" and q_info.particle == "が"
                on_side = kinds.sided(sentence, _headed(sentence, every, q_info), set(side)) if side else None
                sided_rows.update([s.vector_row] * bool(on_side and asks_for in ("person", "org")))
                a, b = (agent and kinds.doer(sentence, fitting, q_info.predicate)
                        or kinds.owned_by_question(sentence, fitting, words) or kinds.labelled(sentence, fitting, words)
                        or on_side
                        or counted and kinds.counting(sentence, every, q_info.head, query)
                        or asks_for in ("person", "org") and kinds.titled(sentence, fitting, q_info.head, query,
                                                                         name=asks_for == "org")
                        or kinds.clause_of_question(sentence, fitting, names, self._has_name)
                        or asks_for == "time" and kinds.clause_of_predicate(sentence, fitting, q_info.predicate)
                        or fitting[0])
                found.append((lead_score, s, sentence, ranked, (a, b)))
                if best is None or lead_score > best[0]:
                    best = found[-1]
        if best is None:
            # No Japanese sentence gives it: a quoted English one may (「…会合はどこで」 answered by
            # "meeting at JAXA Headquarters in Tokyo").
            return read_english() if english and from_english is None else None
        # The asked party's person or body (JAXA 理事長 奥村 直樹) over another party's on their own lines.
        best = max((e for e in found if e[1].vector_row in sided_rows), key=lambda e: e[0], default=best)
        spanning = [e for e in found if kinds.range_end(query, e[2], e[4][1]) > e[4][1]] if ranged else []
        if spanning:
            best = max(spanning, key=lambda e: e[0])
        as_of = None
        newest = self._newest(index, found, best) if now else None
        if newest is not None:
            best, as_of = newest
        _, s, sentence, ranked, (a, b) = best
        if asks_for == "time":
            a, b = kinds.with_era(sentence, a), kinds.with_clock(sentence, kinds.range_end(query, sentence, b))
        if asks_for == "person":
            a, b = whole_name(sentence, a, b, self.tokenizer)
        b = kinds.official_name_end(sentence, b, ORG_SUFFIX) if asks_for == "org" else b
        a, b = self._widened(sentence, a, b, [span for _, span in ranked], q_info, fits, side)
        return Phrase(s.vector_row, s.start + a, s.start + b, as_of)

    def _answers(self, query: str, q_info, names: set[str]) -> Callable[[str, int, int], bool]:
        """Whether sentence[a:b] can answer the question: of the asked type, not a date in a month
        the question states, not the asked thing's own name, a nickname only where the sentence
        calls it one, a total only where it states one, not a date the asked verb gives another
        of the question's `names`."""
        asks_for = q_info.qtype
        known = kinds.stated_months(query) if asks_for == "time" and q_info.counter != "日" else set()
        total = asks_for == "number" and kinds.asks_total(query)
        toks = functools.lru_cache(maxsize=64)(lambda sentence: morpheme_toks(sentence, self.tokenizer))
        return lambda sentence, a, b: fits_type(sentence[a:b], asks_for, self.tokenizer, q_info.head,  \
                                                 q_info.counter, sentence[b:]) and not (
            known and kinds.restates(sentence, a, b, known)) and not kinds.names_the_asked(sentence, a, b, query) \
            and (q_info.head not in NICKNAME or kinds.calls(sentence)) and (not total or kinds.states_total(sentence)) \
            and not (asks_for == "time" and kinds.dates_another(sentence, a, b, q_info.predicate, names)) \
            and (asks_for != "person" or named_in_sentence(sentence, a, b, toks))

    def _widened(self, sentence: str, a: int, b: int, spans: list[tuple[int, int]], q_info,
                 fits, side: frozenset[str] = frozenset()) -> tuple[int, int]:
        """The lead phrase [a, b) widened to the items coordinated with it: names of the lead's
        kind (スリランカとネパール, フォボスとダイモス, ASI及び国立研究会議(CNR:…): a phrase the sentence
        spells out as a name is one; not any noun the sentence joins with と or 、, 石破総理大臣と…
        for a place), or for 誰と誰 any phrases of the asked kind. Asked for one party's
        (インドネシア側で共催した省) in a sentence naming it among others, only items naming it (a
        sentence under the party's label, 日本側主催:, need not name it)."""
        named = partial(self._named, kind=q_info.qtype)
        parties = [w for w in side if re.search(re.escape(w) + "(?!側)", sentence)]
        item = (lambda text: named(text) and any(w in text for w in parties)) if parties else named
        if q_info.qtype in LIST_TYPES and (item(sentence[a:b]) or kinds.spelled_out(sentence, b)):
            return kinds.coordinated(sentence, a, b, spans, item)
        if q_info.pair:
            return kinds.coordinated(sentence, a, b, spans, fits)
        return a, b

    def _year_from_heading(self, index: SearchIndex, chosen, query: str, q_info) -> Phrase | None:
        """何年 asked, and the quoted sentence gives the day without its year (12月2日から5日まで):
        the year its page writes for that same day elsewhere (「2014年12月2日~5日 東京」 under the
        title) completes it; None when the page does not."""
        day = self._phrase(index, chosen, query, replace(q_info, counter=None), None)
        if day is None:
            return None
        p = index.passages[next(s.passage_row for s in chosen if s.vector_row == day.vector_row)]
        doc = index.documents[p.doc_id]
        dated = kinds.year_of_day(doc.text[day.start:day.end], f"{doc.title}\n{doc.text}")
        return replace(day, japanese=dated) if dated else None

    def _heading_phrase(self, index: SearchIndex, chosen, query: str, q_info) -> Phrase | None:
        """A number or date asked that no quoted sentence gives but the heading above one of
        them does (「50水星磁気圏探査機「みお」(88秒)」 over the guide's text): that phrase, kept on
        the first such sentence, in the heading's document offsets; None when no heading gives it.
        A heading's phrase is written in figures: a word (ヘクトメートル) only names its topic."""
        usable = self._answers(query, q_info, self._clause_names(q_info.text, query))
        for s in chosen:
            p = index.passages[s.passage_row]
            text = index.documents[p.doc_id].text
            at = text.rfind(p.section, 0, p.start) if p.section else -1
            if at < 0:
                continue
            for _, (a, b) in rank_phrases(p.section, query, q_info.qtype, self.tokenizer, self.models.phrase,
                                          info=q_info):
                if re.search(r"[0-9]", unicodedata.normalize("NFKC", p.section[a:b])) and usable(p.section, a, b):
                    return Phrase(s.vector_row, at + a, at + b, heading=True)
        return None

    def _written_out(self, index: SearchIndex, chosen, query: str) -> Phrase | None:
        """For 「XとはSの略」, the words a quoted sentence spells the acronym out with."""
        acronym = kinds.expanded(query)
        if acronym is None:
            return None
        for s in sorted(chosen, key=lambda x: -x.score):
            text = self._text(index, s)
            words = expansion(text, acronym) if not has_japanese(text) else None
            span = (text.index(words), text.index(words) + len(words)) if words else kinds.written_out(text, acronym)
            if span is not None:
                return Phrase(s.vector_row, s.start + span[0], s.start + span[1])
        return None

    def _abbreviation(self, index: SearchIndex, chosen, query: str) -> Phrase | None:
        """The abbreviation a quoted sentence gives the name the question asks it of, or the name
        it writes right after the noun whose name is asked (国際水星探査計画ベピコロンボ)."""
        for s in sorted(chosen, key=lambda x: -x.score):
            text = self._text(index, s)
            span = kinds.abbreviation(text, query) or kinds.apposed_name(text, query)
            if span is not None:
                return Phrase(s.vector_row, s.start + span[0], s.start + span[1])
        return None

    def _naming(self, index: SearchIndex, chosen, english, aliases: Mapping[str, str]) -> list:
        """The English sentences that name the question's names (`aliases`) when no Japanese one
        names them; none otherwise."""
        if not aliases or any(ja in self._text(index, s) for s in chosen if s not in english for ja in aliases):
            return []
        return [s for s in english if any(en in self._text(index, s).lower() for en in aliases.values())]

    def _english_phrase(self, index: SearchIndex, english, asks_for: str, words: str,
                        side: str | None = None, counter: str | None = None, *, country: bool = False,
                        question: str = "") -> Phrase | None:
        """The asked-for phrase of the best-scored English sentence that has one, with a date
        also in Japanese form; `side`: the party asked about (JAXA側), in Latin script; `counter`:
        the asked count's counter (か国), whose English noun (countries) the count is written with
        ("Figure 1" counts no countries); `country`: どの国 asks for a country's name (Mauritius),
        not one of the question's `words` or its `question`'s."""
        # (People are counted under many nouns: participants, researchers.)
        nouns = {UNITS[f].rstrip("s") for f in counter_forms(counter) if f in UNITS} - {"people"} if counter else set()
        # (the question's own countries, also as the glossary writes them: インドネシア, Indonesia)
        known = " ".join([words, question] + [index.terms.glosses.get(m.surface(), "") for m in
                                               self.tokenizer.morphemes(question) if m.part_of_speech()[3] == "国"]
                         ).lower() if country else ""
        for s in sorted(english, key=lambda x: -x.score):
            sentence = self._text(index, s)
            if country:
                phrase = next((m.surface() for m in self.tokenizer.morphemes(sentence)
                               if m.part_of_speech()[3] == "国" and re.fullmatch(r"[A-Z][A-Za-z]+", m.surface())
                               and m.surface().lower() not in known), None)
            else:
                phrase = english_phrase(sentence, ENGLISH_TYPE[asks_for], words, side)
            at = sentence.find(phrase) if phrase else -1
            if phrase and nouns and at >= 0 and not any(n in sentence[at:at + len(phrase) + 20].lower() for n in nouns):
                continue
            if phrase and at >= 0:
                japanese = japanese_date_of(phrase) if asks_for == "time" else None
                return Phrase(s.vector_row, s.start + at, s.start + at + len(phrase), japanese=japanese)
        return None

    @staticmethod
    def _newest(index: SearchIndex, found, best):
        """Of the quoted sentences' phrases, the one from the newest dated document when it names
        something else than the best-scored phrase and its document is newer (「JAXAの理事長は」:
        the 2019 page's 山川, not the 2017 page's 奥村), with that date; else None."""
        def date(entry) -> str:
            return index.documents[index.passages[entry[1].passage_row].doc_id].date or ""

        def said(entry) -> str:
            sentence, (a, b) = entry[2], entry[4]
            return sentence[a:b]

        dated = [e for e in found if date(e)]
        if not dated:
            return None
        newest = max(dated, key=lambda e: (date(e), e[0]))
        if date(newest) <= date(best) or said(newest) == said(best):
            return None
        return newest, date(newest)

    @staticmethod
    def _page_date_line(index: SearchIndex, s) -> bool:
        doc = index.documents[index.passages[s.passage_row].doc_id]
        return doc.date is not None and date_line(doc.text[s.start:s.end]) == doc.date

    @staticmethod
    def _text(index: SearchIndex, s) -> str:
        return index.documents[index.passages[s.passage_row].doc_id].text[s.start:s.end]

    def _defines(self, index: SearchIndex, s, subject: str) -> bool:
        return kinds.defines(self._text(index, s), subject)

    def _defining_first(self, index: SearchIndex, chosen, scored, subject: str, top_k: int):
        """For 「Xとは何ですか」: the sentence that defines X first (from the quoted ones, else from the
        best candidates), headings and other fragments out."""
        pool = list(chosen) + [s for s in scored[:CONSTRAINT_DEPTH] if s not in chosen]
        # The documents may define X by another name they give it (火星衛星探査計画(… : MMX) → MMXは…).
        passages = {index.passages[s.passage_row].text for s in pool}
        names = [subject] + [a for text in passages for a in kinds.aliases(text, subject)]
        defining = next((s for s in pool if any(self._defines(index, s, x) for x in names)), None)
        rest = [s for s in chosen if s is not defining and not _fragment(self._text(index, s))]
        if defining is None:
            # No sentence defines it: the one that says most about it (the best retrieved) leads
            # the few that name it in passing (「…(APRSAF-26)を名古屋で開催。」).
            defining = next((s for s in scored[:CONSTRAINT_DEPTH] if not _fragment(self._text(index, s))
                             and self._names(index, s, names)), None)
            rest = [s for s in rest if defining is None or s.vector_row != defining.vector_row]
        return ([defining] if defining else []) + rest[: top_k - (1 if defining else 0)] or list(chosen)

    def _names(self, index: SearchIndex, s, names: list[str]) -> bool:
        text = unicodedata.normalize("NFKC", self._text(index, s)).lower()
        return any(unicodedata.normalize("NFKC", x).lower() in text for x in names)

    @staticmethod
    def _gives_asked_kind(index: SearchIndex, chosen, q_info, phrase: Phrase | None,
                          english_of: Callable[[str], list[str]] = lambda term: []) -> bool:
        """Whether the quoted sentences give what the question asks for: a phrase of the asked
        type (when it asks for one), or the noun it asks about (どのロケット: a rocket; in an
        English sentence, `english_of` its words: グループ → group)."""
        if q_info is None or q_info.qtype is None:
            return True
        head = q_info.head or ""
        # A country (どの国) has a name of its own that the sentences would give; so has a
        # nickname (愛称), which they would write as one.
        if checkable(q_info.qtype, q_info.counter) or q_info.qtype == "place" and head == "国" \
                or head in NICKNAME:
            return phrase is not None
        names = Engine._names_asked_noun(q_info, english_of)
        if names is not None:
            return any(names(index.documents[index.passages[s.passage_row].doc_id].text[s.start:s.end])
                       for s in chosen)
        return True

    @staticmethod
    def _names_asked_noun(q_info, english_of: Callable[[str], list[str]]) -> Callable[[str], bool] | None:
        """For どのロケット (a pick of a concrete kind named in katakana, which the sentences would
        name), whether a sentence names the kind (in an English one, `english_of` its words:
        グループ → group); None for other questions. A kanji classifier (どの部分, どの文書) is
        answered without being repeated, and 〜のタイトルは何 by a title in 『』."""
        head = q_info.head or "" if q_info is not None else ""
        if not (q_info is not None and q_info.qtype == "thing" and len(head) > 1
                and all("\u30a0" <= ch <= "\u30ff" for ch in head) and "どの" in q_info.text):
            return None
        english = [re.compile(rf"\b{re.escape(w)}\b", re.I) for w in english_of(head)]
        return lambda t: head.rstrip("ー") in t or not has_japanese(t) and any(e.search(t) for e in english)

    def _relative_rows(self, index: SearchIndex, chosen, q_info) -> set[int]:
        """The quoted sentences (vector rows) that name the asked event (就任) only as the reference
        point of another (就任後初来日の折に): they do not say when or where it was."""
        if q_info is None or q_info.qtype not in LEAD_TYPES:
            return set()
        event = kinds.asked_event(morpheme_toks(q_info.text, self.tokenizer), q_info.predicate, q_info.after)
        return set() if event is None else {
            s.vector_row for s in chosen
            if kinds.only_relative(morpheme_toks(self._text(index, s), self.tokenizer), event)}

    def _clause_names(self, text: str, query: str) -> set[str]:
        """The names a clause about the question's subject writes: its proper nouns, and its
        Latin-script names and codes (BIRDS, 1Uサイズ's 1U)."""
        return self._proper_nouns(text) | {w for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9\-]+", query)
                                           if re.search("[A-Za-z]", w)}

    def _proper_nouns(self, text: str) -> set[str]:
        return {t.surface for t in morpheme_toks(text, self.tokenizer) if t.pos[1] == "固有名詞" and len(t.surface) > 1}

    def _has_name(self, text: str) -> bool:
        return bool(re.search(r"[A-Z]{2,}|[A-Z][a-z]+", text)) or bool(self._proper_nouns(text))

    def _named(self, text: str, kind: str = "name") -> bool:
        """A name of the asked kind, at most a short phrase: a katakana or Latin-script word, or a
        proper noun (for a place, one Sudachi knows as a place; for a name or an organisation,
        not a person's); for an organisation also an official name of common nouns ending in an
        organisation's word (文部科学省, 宇宙航空研究開発機構)."""
        if len(text) > MAX_LIST_ITEM or not text.strip():
            return False
        if re.fullmatch(r"[\u30a0-\u30ffー・A-Za-z0-9 .\-]+", text):
            return True
        if kind == "org" and text.endswith(ORG_SUFFIX) and fits_type(text, "org", self.tokenizer):
            return True
        pos = [m.part_of_speech() for m in self.tokenizer.morphemes(text)]
        if kind == "place":
            return any(p[2] == "地名" for p in pos)
        return any(p[1] == "固有名詞" for p in pos) and not any(p[2] == "人名" for p in pos)

    def _place(self, text: str) -> bool:
        """Only a place's name (日本, アメリカ): every word of it one Sudachi knows as a place."""
        pos = [m.part_of_speech() for m in self.tokenizer.morphemes(text)]
        return bool(pos) and all(p[2] == "地名" for p in pos)

    def _phrase_en(self, index: SearchIndex, chosen, question: str, en, resolved: str = "") -> Phrase | None:
        """For an English question, the Japanese phrase of the asked kind (a date, a counted number,
        a person, place or organisation) in the quoted Japanese sentences, found with the question's
        Japanese search terms as its words and the Japanese verb of its own verb as the predicate
        (when was it launched: the date before 打ち上げ). A follow-up's words are those of the question
        as resolved (its topic put back), not the previous question's others, which were searched
        with but ask for something else."""
        kind, counter = japanese_kind(question)
        if kind is None:
            return None
        own = own_terms(en, resolved or question)
        terms = {t.surface for t in own}
        norms = {m.normalized_form() for t in terms for m in self.tokenizer.morphemes(t)}
        info = QuestionInfo(kind, text=" ".join(sorted(terms)), counter=counter, terms=norms | terms,
                            surfaces=terms, particle=japanese_particle(question),
                            predicate=english_predicate(question, own, self.tokenizer))
        japanese = [s for s in chosen if has_japanese(self._text(index, s))]
        now = kinds.asks_now(question, "en")
        party = asked_side(question)
        side = frozenset({party} | {t.surface for t in en
                                    if party.lower() in (t.english.lower(), *t.english.lower().split())}
                         if party else ())
        phrase = self._phrase(index, japanese, info.text, info, None, now=now, side=side) if japanese else None
        # The present holder of a role (who is the president now), not the members of a list
        # (which astronauts fly on Soyuz): sources may disagree only about one holder.
        holder = question_type(question) == "who" and lists.asked_en(question) is None
        return self._newest_english(index, chosen, question, phrase) if now and holder else phrase

    def _newest_english(self, index: SearchIndex, chosen, question: str, phrase: Phrase | None) -> Phrase | None:
        """About the present, an English source newer than the Japanese phrase's leads with its own
        phrase of the asked kind, and its date (dated sources disagree only when both say one)."""
        def date(s) -> str:
            return index.documents[index.passages[s.passage_row].doc_id].date or ""

        have = next((date(s) for s in chosen if phrase is not None and s.vector_row == phrase.vector_row), "")
        if phrase is None or not have:  # nothing dated to compare with
            return phrase
        qtype = question_type(question)
        newer = []
        for s in chosen:
            sentence = self._text(index, s)
            if date(s) > have and not has_japanese(sentence):
                said = english_phrase(sentence, qtype, question)
                if said and said in sentence and person_like(said):
                    newer.append((date(s), s, sentence.index(said), said))
        if not newer:
            return phrase
        when, s, a, said = max(newer, key=lambda x: (x[0], x[1].score))
        dated = [date(x) for x in chosen if date(x)]
        return Phrase(s.vector_row, s.start + a, s.start + a + len(said), when if len(dated) > 1 else None)

    def _listing(self, c: Candidates, chosen: list[ScoredSentence], ask: lists.ListAsk, question: str,
                 phrase: Phrase | None = None, same_kind=None, other_kind=None
                 ) -> tuple[list[lists.Item] | None, list[ScoredSentence]]:
        """The items a list question asks for (bot/answer/lists.py) from the quoted sentences and
        their neighbours in the same section (a table row, the bulleted lines after a sentence),
        with the quoted sentences and those the items are cited from (added after them); no items
        and the quoted sentences as they were when no run answers."""
        index = c.index
        by_score = sorted(chosen, key=lambda x: -x.score)
        sources: list[tuple[ScoredSentence, bool, int]] = [(s, True, r) for r, s in enumerate(by_score)]
        seen = {s.vector_row for s in chosen}
        for r, s in enumerate(by_score):
            for n in self._neighbours(c, s):
                if n.vector_row not in seen:
                    seen.add(n.vector_row)
                    sources.append((n, False, r))
        cands: list[lists.Candidate] = []
        for s, quoted, rank in sources:
            text = self._text(index, s)
            fragment = _fragment(text)
            runs = lists.runs_ja(text, self.tokenizer, fragment) if has_japanese(text) else lists.runs_en(text)
            cands += [lists.candidates_of(run, text, s.vector_row, s.start, quoted, rank) for run in runs]
            block = self._bullets(c, s, lists.announced(text, ask))
            if block:
                cands.append(lists.Candidate(tuple(block), text, "", quoted, rank))

        def overlaps(cand: lists.Candidate) -> bool:
            return phrase is not None and any(i.key == phrase.vector_row and i.start < phrase.end
                                              and phrase.start < i.end for i in cand.items)

        content = [m for m in self.tokenizer.morphemes(question) if m.part_of_speech()[0] in ("名詞", "動詞")]
        found = lists.best(cands, ask, question, same_kind, overlaps, other_kind,
                           frozenset(m.surface() for m in content if len(m.surface()) > 1), phrase is not None,
                           lists.object_verbs(question, ask.heads, self.tokenizer))
        if found is None:
            return None, chosen
        words = {m.surface() for m in content if m.part_of_speech()[0] == "名詞"} if has_japanese(question) else set()
        items = [replace(i, text=lists.trim(i.text, words)) for i in found.items]
        by_row = {s.vector_row: s for s in c.scored}
        extra = [by_row[k] for k in dict.fromkeys(i.key for i in items) if k not in {s.vector_row for s in chosen}]
        return items, list(chosen) + extra

    def _gathered(self, c: Candidates, chosen: list[ScoredSentence], predicates: list[set[str]], asked: str
                  ) -> tuple[list[lists.Item] | None, list[ScoredSentence]]:
        """The countries a partner question asks for, read across the sections of the quoted
        sentences' documents (lists.gathered) from the sentences that state its predicate (one
        term of each group in `predicates`); with the sentences they are cited from, in document
        order, and the best quoted sentence after them. No items and the quoted sentences as they
        were when the sentences of one section or none name them."""
        index = c.index
        docs = list(dict.fromkeys(index.passages[s.passage_row].doc_id for s in chosen))
        # Beyond the passages scored for the quoted sentences: the rest of those documents' that
        # state the predicate, where the other sections are.
        scored_rows = {s.passage_row for s in c.scored}
        more = [r for d in docs for r in c.state.doc_rows(d) if r not in scored_rows
                and predicates and any(t in index.passages[r].text for t in predicates[0])]
        pool = c.scored + score_sentences(index, more, c.qvec, c.q_terms, c.terms_of, c.lang,
                                          self.models.cross.of(c.lang))
        support = []
        for s in pool:
            p = index.passages[s.passage_row]
            text = self._text(index, s)
            if p.doc_id in docs and not _fragment(text) and predicates \
                    and all(any(t in text for t in group) for group in predicates):
                support.append((docs.index(p.doc_id), s.start, s, p))
        support.sort(key=lambda x: x[:2])
        items = lists.gathered([lists.Source(s.vector_row, s.start, self._text(index, s), (p.doc_id, p.section or ""))
                                for _, _, s, p in support], self.tokenizer, asked)
        if not items:
            return None, chosen
        by_row = {s.vector_row: s for s in pool}
        cited = [by_row[k] for k in dict.fromkeys(i.key for i in items)]
        return items, cited + [s for s in chosen[:1] if s.vector_row not in {x.vector_row for x in cited}]

    @staticmethod
    def _as_written(index: SearchIndex, items: list[lists.Item], ask: lists.ListAsk) -> list[lists.Item]:
        """Items of one sentence that are read as they stand (「定期点検や日常点検」) are given as the
        sentence writes them, with the asked kind it names after them (「…人材育成等の分野」); items
        from several lines, or shortened, are joined with 、."""
        first, last = items[0], items[-1]
        if len({i.key for i in items}) > 1:
            return items
        p = index.passages[int(index.sentence_passage[first.key])]
        text = index.documents[p.doc_id].text
        if any(text[i.start:i.end] != i.text for i in items):
            return items
        end = last.end + lists.head_tail(text[last.end:last.end + 40], ask.heads)
        return [lists.Item(text[first.start:end], first.key, first.start, end)]

    def _parallel(self, c: Candidates, items: list[lists.Item], question: str) -> list[lists.Item]:
        """Names the sentence of a run of names gives the same verb in a later clause
        (lists.parallel_objects) but the question does not; none for items from several sentences
        or not all names."""
        if len({i.key for i in items}) > 1 or not all(self._named(i.text) for i in items):
            return []
        s = next((x for x in c.scored if x.vector_row == items[0].key), None)
        if s is None:
            return []
        sentence = self._text(c.index, s)
        return [lists.Item(sentence[a:b], s.vector_row, s.start + a, s.start + b)
                for a, b in lists.parallel_objects(sentence, items[-1].end - s.start, self.tokenizer)
                if self._named(sentence[a:b]) and sentence[a:b] not in question]

    def _neighbours(self, c: Candidates, s: ScoredSentence) -> list[ScoredSentence]:
        """The scored sentences of the same document and section within `lists.NEIGHBOURS`
        sentences of `s`, nearest first."""
        index = c.index
        p = index.passages[s.passage_row]
        same = sorted((x for x in c.scored if index.passages[x.passage_row].doc_id == p.doc_id
                       and (index.passages[x.passage_row].section or "") == (p.section or "")),
                      key=lambda x: x.start)
        at = next((i for i, x in enumerate(same) if x.vector_row == s.vector_row), None)
        if at is None:
            return []
        near = same[max(0, at - lists.NEIGHBOURS):at] + same[at + 1:at + 1 + lists.NEIGHBOURS]
        return sorted(near, key=lambda x: abs(x.start - s.start))

    def _bullets(self, c: Candidates, s: ScoredSentence, announced: int | None) -> list[lists.Item]:
        """The numbered or bulleted lines after `s` as items, each cited from the scored sentence
        that holds it (or the next one, for a line read as a section title); none when one of
        them is not among the scored sentences."""
        index = c.index
        doc_id = index.passages[s.passage_row].doc_id
        text = index.documents[doc_id].text
        same = sorted((x for x in c.scored if index.passages[x.passage_row].doc_id == doc_id), key=lambda x: x.start)
        out = []
        for a, b in lists.bullets(text, s.end, announced):
            holder = next((x for x in same if x.start <= a < x.end), None) or \
                next((x for x in same if a <= x.start <= a + 200), None)
            if holder is None:
                return []
            out.append(lists.Item(lists.NUMBERED.sub("", text[a:b]), holder.vector_row, a, b))
        return out

    def _query_side(self, state: "_State", resolved: Resolved,
                    names: Sequence[str] = ()) -> tuple[str, list[str], bool, list | None]:
        """What a (resolved) question searches with: the text to embed, the BM25 tokens, whether
        BM25 is fused, and an English question's Japanese search terms (None for Japanese)."""
        index, query = state.index, resolved.query
        # An English question searches with Japanese terms from the index's term table.
        en = None if has_japanese(query) else self._english_terms(index, resolved)
        if en is None:
            dense_text, q_tokens = query, self.tokenizer.query_tokens(query)
            q_tokens += [t for words in self._synonyms(index, query).values() for tokens in words for t in tokens]
            if state.bridge:  # English pages answer Japanese questions too: their words for its terms
                english = state.bridge.expand(self.tokenizer.content_terms(query)) + list(names)
                q_tokens += english
                dense_text = crosslingual.dense_query(query, english)
            return dense_text, q_tokens, True, None
        return crosslingual.dense_query(query, en), crosslingual.lexical_tokens(en), bool(en), en

    def _synonyms(self, index: SearchIndex, query: str) -> dict[str, list[tuple[str, ...]]]:
        """The Japanese question's content terms the corpus never uses that the term table gives
        words of the same meaning in the other script, with their BM25 tokens."""
        table = index.terms.synonyms
        return {t: [tuple(tokens) for _, tokens in table[t]] for t in self.tokenizer.content_terms(query)
                if t in table}

    def _encode(self, resolved: Resolved, state: "_State", dense_text: str,
                previous_answer: str | None = None) -> tuple[np.ndarray, str | None]:
        """The query vector (of `dense_text`: the resolved query, with Japanese search terms for an
        English question) and, for a follow-up, the conversation's document: the one the previous
        exchange (the previous question, resolved, and the answer given to it) is found in. The
        answer names what the question led to (a satellite, a signing, a date), which the question
        alone often shares with sibling pages."""
        index = state.index
        previous = resolved.previous if resolved.follow_up else None
        if previous is None:
            return self.embedder.encode_queries([dense_text])[0], None
        exchange = conversation.exchange_text(previous, previous_answer)
        if has_japanese(exchange) == has_japanese(previous):
            t_dense, t_tokens, t_lexical, _ = self._query_side(state, Resolved(exchange, False))
        else:  # an English question answered in Japanese: the question through its Japanese terms
            t_dense, t_tokens, t_lexical, _ = self._query_side(state, Resolved(previous, False))
            answer = conversation.answer_start(previous_answer) or ""
            t_dense = conversation.exchange_text(t_dense, answer)
            t_tokens, t_lexical = t_tokens + self.tokenizer.query_tokens(answer), True
        # A question's readings and its search share the exchange's vector (bot/embed/recent.py).
        tvec = self.recent.get(t_dense)
        if tvec is None:
            qvec, tvec = self.embedder.encode_queries([dense_text, t_dense])
            self.recent.put(t_dense, tvec)
        else:
            qvec = self.embedder.encode_queries([dense_text])[0]
        hits = retrieve(index, tvec, t_tokens, t_lexical, 1, self.models.fusion.of(detect_language(previous)))
        return qvec, index.passages[hits[0].row].doc_id if hits else None

    def search(self, q: str, k: int = 5, history: Sequence[Turn | dict] = ()) -> SearchResults:
        """Passages ranked as the answer's retrieval ranks them (in a conversation the question is
        read as the answer reads it: resolved with the history, or the other way when that reading's
        evidence is likelier to answer)."""
        q, history = validate(q, history, min(max(k, 1), MAX_TOP_K))
        reading = self._best_reading(q, history)[3] if history else None
        c = self.retrieve(q, history, k, reading=reading)
        index = c.index
        out = []
        # (a Japanese question's, by the sentence ranker the answer chooses its quotes with)
        other = lambda h: not has_japanese(index.passages[h.row].text)  # noqa: E731
        hits = c.hits
        if c.lang == "ja" and c.scored and any(other(h) for h in hits):
            probs = choice.probabilities(self.sentence_features(c), self.models.choice)
            hits = sentence_order(hits, [replace(s, score=float(p)) for s, p in zip(c.scored, probs, strict=True)],
                                  other)
        for rank, h in enumerate(hits, 1):
            p = index.passages[h.row]
            d = index.documents[p.doc_id]
            out.append(SearchHit(rank=rank, chunk_id=p.chunk_id, doc_id=p.doc_id, title=d.title, url=d.url,
                                 section=p.section, text=p.text, score=round(h.score, 6),
                                 dense_score=None if h.dense is None else round(h.dense, 6),
                                 lexical_score=None if h.lexical is None else round(h.lexical, 6)))
        return SearchResults(query=c.query, index_version=index.version, hits=out)

    def document_info(self, doc_id: str) -> DocInfo:
        """The indexed document with its locations and character boxes (for the page view)."""
        index = self._require().index
        d = index.documents.get(doc_id)
        if d is None:
            raise DocumentNotFound(f"no document {doc_id!r} in index {index.version}")
        return d

    def document(self, doc_id: str) -> DocumentView:
        index = self._require().index
        d = index.documents.get(doc_id)
        if d is None:
            raise DocumentNotFound(f"no document {doc_id!r} in index {index.version}")
        spans = [PassageSpan(chunk_id=p.chunk_id, section=p.section, start=p.start, end=p.end,
                             sentences=[tuple(s) for s in p.sentences])
                 for p in index.passages if p.doc_id == doc_id]
        return DocumentView(doc_id=d.doc_id, title=d.title, url=d.url, lang=d.lang, path=d.path,
                            text=d.text, passages=spans, kind=d.kind, date=d.date,
                            locations=[tuple(loc.to_row()) for loc in d.locations])


def sentence_order(hits: list[Hit], scored: list[ScoredSentence], other: Callable[[Hit], bool]) -> list[Hit]:
    """The fused ranking, with each passage in another language than the question's (`other`)
    moved up before the first same-language passage whose best sentence scores below its own
    (`scored`: the sentences with the answer's ranker's probabilities). BM25 meets such a page
    only through the question's translated words, so the fused score underrates it; the
    sentence ranker reads both languages alike. Never moved down."""
    best: dict[int, float] = {}
    for s in scored:
        best[s.passage_row] = max(best.get(s.passage_row, -math.inf), s.score)
    moved = [h for h in hits if other(h) and h.row in best]
    order = [h for h in hits if h not in moved]
    for h in moved:
        at = next((i for i, x in enumerate(order) if best.get(x.row, -math.inf) < best[h.row]), len(order))
        order.insert(min(at, hits.index(h)), h)
    return order


# The asked kinds whose absence the sentences can be checked for: a count of things with a counter
# of its own (何人, 何か国, 何件, 何回, 何機), a quantity in a unit of its own (an amount of money, a
# span of years, 何キログラム) and a calendar date or year (何年に, 何月何日). Other kinds are answered
# in too many forms to tell (いつ → 夜間, どこ → 北部の熱帯雨林, 何社 → フィリップス社).
CHECKABLE_COUNTERS = {"number": {"人", "名", "箇国", "件", "回", "機", "基", "台", "個", "倍", "校", "隻",
                                 MONEY, DURATION, "秒", "分", "時間", "キログラム", "トン", "キロメートル",
                                 "メートル"},
                      "time": {"年", "月", "日", "年度", "世紀", "年代"}}


def checkable(qtype: str | None, counter: str | None) -> bool:
    return counter is not None and counter in CHECKABLE_COUNTERS.get(qtype or "", ())


def _distinct(chosen: list[ScoredSentence]) -> list[ScoredSentence]:
    """The quoted spans without one that another before it covers (a table's cells each widened
    to the same row are quoted once)."""
    kept: list[ScoredSentence] = []
    for s in chosen:
        if not any(k.passage_row == s.passage_row and k.start <= s.start and s.end <= k.end for k in kept):
            kept.append(s)
    return kept


def table_row(lines: list[str], i: int) -> tuple[int, int] | None:
    """The first and last line of the table row that line `i` is a cell of, when the lines are a
    table written a cell per line (「1997年~2015年 |」) under a header line with one 「|」 per column
    (「衛星名 | 主なセンサ | 観測期間 |」); else None."""
    def cell(j: int) -> bool:
        return lines[j].endswith("|") and lines[j].count("|") == 1
    if not cell(i):
        return None
    first = i
    while first > 0 and cell(first - 1):
        first -= 1
    header = lines[first - 1] if first > 0 else ""
    width = header.count("|") if header.endswith("|") else 0
    if width < 2:
        return None
    start = first + (i - first) // width * width
    end = start + width - 1
    if end >= len(lines) or not all(cell(j) for j in range(start, end + 1)):
        return None
    return start, end


_LABEL = re.compile(r"^\s*[^。．.!?！？|]{1,30}[:：]\s*\|?\s*$")


def _says_nothing(text: str) -> bool:
    """Fewer than four letters: a list's numbering (「2.」), a table's rule (「|」)."""
    return len(re.findall(r"[^\W\d_]", text)) < 4


def _lead_citation(answer: str) -> int | None:
    """The one citation an answer's first line gives (「When: 2004 [3].」 → 3); None when it gives
    none or several."""
    marks = set(re.findall(r"\[(\d+)\]", answer.split("\n", 1)[0]))
    return int(marks.pop()) if len(marks) == 1 else None


_CAPTION = re.compile(r"[(（]\s*(?:Credit|Photo|Image|Courtesy|写真|提供|画像|出典|クレジット)\s*[:：]|©", re.I)


def _caption(text: str) -> bool:
    """A photo's caption: a line crediting its source (Credit: JAXA, 写真提供:, ©)."""
    return _fragment(text) and bool(_CAPTION.search(text))


def _fragment(text: str) -> bool:
    """A line that is no sentence: a title, a caption, a table cell (no full stop at its end)."""
    t = text.strip()
    return _says_nothing(t) or not re.search(r"[。．.!?！？]\s*[」』）)]?\s*$", t)


def _best_terms(state: _State, index: SearchIndex, scored, n: int = 1) -> list[set[str]]:
    """Content terms of the best `n` sentences, each with its section title's."""
    out = []
    for s in scored[:n]:
        p = index.passages[s.passage_row]
        terms = state.sentence_terms(s.vector_row, index.documents[p.doc_id].text[s.start:s.end])
        out.append(terms | (state.sentence_terms(-1 - s.passage_row, p.section) if p.section else set()))
    return out


def _related(index: SearchIndex, row: int, score: float) -> Related:
    p = index.passages[row]
    d = index.documents[p.doc_id]
    return Related(chunk_id=p.chunk_id, doc_id=p.doc_id, title=d.title, url=d.url, section=p.section,
                   text=p.text, score=round(score, 6))


def visible_text(text: str) -> str:
    """Text without control and format characters (zero-width spaces, direction marks, BOM):
    invisible to a reader, they only disturb tokenisers."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"))


def _encodable(text: str, what: str) -> None:
    """Text the tokenizers and the model can take: valid Unicode, so UTF-8 can encode it. A lone
    surrogate (a JSON "\\ud800" escape, or bytes on a command line that are not UTF-8) cannot be."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidQuestion(f"{what} contains characters that are not valid Unicode text "
                              "(a lone surrogate)") from None


def validate(question, history, top_k: int) -> tuple[str, list[Turn]]:
    """The one check of a question and its history, whatever the entry point (HTTP API, chat
    form, OpenAI API, MCP, CLI): InvalidQuestion says what is wrong."""
    if not isinstance(question, str):
        raise InvalidQuestion("the question must be text")
    _encodable(question, "the question")
    q = visible_text(question).strip()
    if not q:
        raise InvalidQuestion("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"the question is longer than {MAX_QUESTION_CHARS} characters")
    if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise InvalidQuestion(f"top_k must be between 1 and {MAX_TOP_K}")
    history = list(history or [])
    if len(history) > MAX_HISTORY_TURNS:
        raise InvalidQuestion(f"the history has more than {MAX_HISTORY_TURNS} turns")
    for t in history:
        content = t.content if isinstance(t, Turn) else t.get("content") if isinstance(t, dict) else None
        if isinstance(content, str):
            _encodable(content, "the history")
    try:
        turns = [t if isinstance(t, Turn) else Turn.model_validate(t) for t in history]
    except ValueError as exc:
        detail = exc.errors()[0]["msg"] if hasattr(exc, "errors") else exc
        raise InvalidQuestion(f"the history is malformed: {detail}") from None
    if sum(len(t.content) for t in turns) > MAX_HISTORY_CHARS:
        raise InvalidQuestion(f"the history is longer than {MAX_HISTORY_CHARS} characters")
    return q, turns

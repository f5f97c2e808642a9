"""English askers (issue 9): the index-time term table, English question → Japanese search terms,
and the English answer (statement, quotes, glossary) — with the fake embedder and a tiny corpus."""

import json
import re
from dataclasses import replace

import pytest
from fakes import FakeEmbedder, refusal_on_coverage
from paths import ROOT

from bot.answer.compose_en import GLOSSARY_HEADING, question_type
from bot.engine import Engine
from bot.query import crosslingual
from bot.query.crosslingual import english_terms
from bot.store.build import build_index
from bot.store.index import load_index
from bot.store.termtable import FILE, TermTable, fold, key_of, romaji
from bot.text.analyser import stem

DOC = """---
title: 豊岡市
lang: ja
---
豊岡市

豊岡市は兵庫県の北部にある市で、田淵氏が市長を務めた。過去最深積雪は1936年2月3日に記録された。

市内にはセンチネルという名の研究所があり、GPSの電子基準点が約1,300ヶ所に設置されている。

伝染病の研究では国際空港の検疫が重要である。
"""

EN_DOC = """---
title: Hangar notes
lang: en
---
Hangar notes

The hangar at the airfield was completed in 1987 and holds twelve aircraft.
"""


def _engine(root, tokenizer, models, docs: dict[str, str]) -> Engine:
    (root / "corpus").mkdir()
    for name, text in docs.items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    emb = FakeEmbedder()
    build_index(root / "corpus", root / "index", emb, tokenizer, max_bytes=2**20)
    # The fake embedder's cosines mean nothing: decide on the question's words found alone
    # (coverage of the English words through their Japanese terms).
    return Engine(emb, tokenizer, load_index(root / "index"), models=replace(models, refusal=refusal_on_coverage(0.3)))


@pytest.fixture(scope="module")
def engine(tmp_path_factory, tokenizer, models):
    return _engine(tmp_path_factory.mktemp("en"), tokenizer, models, {"toyooka.md": DOC})


@pytest.fixture(scope="module")
def mixed_engine(tmp_path_factory, tokenizer, models):
    return _engine(tmp_path_factory.mktemp("mixed"), tokenizer, models, {"toyooka.md": DOC, "hangar.md": EN_DOC})


def test_romaji_and_folding():
    assert romaji("シミズ") == "shimizu"
    assert romaji("キョウト") == "kyouto"
    assert romaji("ハッケン") == "hakken"
    assert romaji("マッチャ") == "matcha"
    assert romaji("ティー") == "tii"
    # Long vowels written or not, m or n before b/p: one key.
    assert fold("Tōkyō") == fold("Toukyou") == fold("Tokyo")
    assert fold("Shimbun") == fold("shinbun")
    # Hepburn variants of long vowels and Kunrei spellings fold to the corpus's reading
    assert fold("Ōnishi") == fold("Ohnishi") == fold("Onishi") == fold(romaji("オオニシ"))
    assert fold("Kawakatu") == fold("Kawakatsu") == fold(romaji("カワカツ"))
    assert fold("Ohno") == fold(romaji("オオノ")) and fold("Tutiya") == fold(romaji("ツチヤ"))
    assert key_of("to discover (something)") == "discover"


def test_term_table_is_part_of_the_versioned_index(engine):
    index = engine.index
    # The table is a file of the version folder, covered by the manifest's checksums.
    assert FILE in index.manifest["files"]
    assert index.manifest["termtable"]["english_keys"] == len(index.terms.english) > 0
    # A Latin-script name is matched as written, never by its romanised katakana reading.
    assert not any(re.fullmatch(r"[A-Za-z0-9]+", surface)
                   for found in index.terms.readings.values() for surface, _ in found)
    # Built from the corpus's own words: every term occurs in the index.
    for found in index.terms.english.values():
        for _, tokens in found:
            assert all(t in index.lexical for t in tokens)


def test_english_question_to_japanese_terms(engine):
    index = engine.index
    terms = english_terms("On what date was Toyooka's record deepest snow recorded?", index.terms, index.lexical)
    surfaces = {t.surface for t in terms}
    assert {"豊岡市", "積雪"} & surfaces, surfaces  # a romanised name and a dictionary word
    assert "Toyooka's" in {t.english for t in terms}
    # Multiword entries first: "infectious disease" is one term, not "infectious" + "disease".
    terms = english_terms("What is an infectious disease?", index.terms, index.lexical)
    assert [t.surface for t in terms if t.english.lower() == "infectious disease"] == ["伝染病"]
    # Loanwords through their English spelling, acronyms as written.
    terms = english_terms("Where is the Sentinel lab with GPS stations?", index.terms, index.lexical)
    by_english = {t.english: t.surface for t in terms}
    assert by_english.get("Sentinel") == "センチネル"
    assert by_english.get("GPS") == "GPS"
    # Words the corpus does not have give nothing.
    assert english_terms("What about pizza toppings?", index.terms, index.lexical) == []


def _table(english: dict, stems: dict | None = None) -> TermTable:
    return TermTable({k: [[s, [s]] for s in v] for k, v in english.items()}, {}, {},
                     {k: [[s, [s]] for s in v] for k, v in (stems or {}).items()})


def test_stems_demonyms_and_acronyms_find_the_corpus_words():
    # A question's verb finds the dictionary's noun gloss through their shared stem.
    table = _table({"establishment": ["設立"], "asia": ["アジア"], "canada": ["カナダ"]},
                   stems={stem("establishment"): ["設立"]})
    terms = english_terms("When was it established?", table, set())
    assert [(t.english, t.surface) for t in terms] == [("established", "設立")]
    # A demonym finds its place: Asian → Asia, Canadian → Canada.
    surfaces = {t.surface for t in english_terms("Which Asian and Canadian agencies?", table, set())}
    assert {"アジア", "カナダ"} <= surfaces
    # Acronyms and names are index terms as written (lower case), as the corpus's Latin words are.
    assert [t.tokens for t in english_terms("When was SAFE founded?", _table({}), {"safe"})] == [("safe",)]
    # A hyphenated name is found by its parts, as the tokenizer indexed them.
    assert [t.tokens for t in english_terms("Where was APRSAF-26 held?", _table({}), {"aprsaf", "26"})] \
        == [("aprsaf", "26")]


def test_two_parties_joined_by_a_dash_find_the_dictionary_pair():
    # JMdict glosses a pair of countries as "X and Y" (日加 "Japan and Canada"); askers write Japan–Canada.
    table = _table({"japan and canada": ["日加"], "canada": ["カナダ"]})
    terms = english_terms("How often has the Japan–Canada Space Panel met?", table, set())
    assert ("Japan Canada", "日加") in [(t.english, t.surface) for t in terms]


def test_coverage_counts_the_question_words_the_corpus_has_no_term_for():
    class Lexical:  # every term equally rare
        num_docs = 10

        def document_frequency(self, term):
            return 1

    table = _table({"agency": ["機関"]})
    q = "Which agency is JAXA with?"
    covered = crosslingual.coverage(english_terms(q, table, {"jaxa", "機関"}), Lexical(), {"jaxa", "機関"}, q)
    # "employees" has no Japanese term in this corpus: the question is about something it lacks.
    q = "How many employees does JAXA have?"
    missing = crosslingual.coverage(english_terms(q, table, {"jaxa"}), Lexical(), {"jaxa"}, q)
    assert covered == 1.0 and missing == 0.5


def test_the_english_statement_measure_accepts_faithful_renderings():
    from bot.evaluate import states
    assert states("14.9万人", "How many: 149,000 people [1].")
    assert states("3月", "When: March 2001 [1].")
    assert states("FM放送", "Answer: FM [2].")
    assert not states("1888年", "When: 2431 [2].")
    assert not states("2万", "How many: 20,001 [1].")


def test_question_types():
    assert question_type("When was it founded?") == "when"
    assert question_type("In what year did he die?") == "when"
    assert question_type("How many stations are there?") == "how many"
    assert question_type("Who was the mayor?") == "who"
    assert question_type("Who was Tokugawa Yoshimune?") == "describe"  # a named person: who they are
    assert question_type("Who is Kawakatsu?") == "describe"
    assert question_type("Who is the president of JAXA?") == "who"
    assert question_type("Who was the \"eternal zenza\" called \"Kobusho\"?") == "who"
    assert question_type("Where is Bodh Gaya?") == "where"
    assert question_type("What is a hectometre called in short?") == "what"
    # a description asked for: the sentences answer it, not one phrase of them
    assert question_type("What is APRSAF?") == "describe"
    assert question_type("Tell me about cooperation with Russia") == "describe"
    assert question_type("Who is the president of JAXA?") == "who"
    # a quantity asked for by its name
    assert question_type("What is the highest temperature ever recorded in Toyooka?") == "how many"
    assert question_type("At about what water temperature do salmon spawn?") == "how many"
    # a reason or a manner asks for a sentence; the head noun of which / what names the kind
    assert question_type("Why is JAXA sending MMX to the moons of Mars?") == "describe"
    assert question_type("How does JAXA work with Russia?") == "describe"
    assert question_type("On what day was the event held?") == "when"
    assert question_type("Which astronaut performed the experiment?") == "who"
    assert question_type("At which hotel in Singapore was the workshop held?") == "where"
    assert question_type("From which US state was it launched?") == "where"
    assert question_type("Which company signed the letter?") == "what"
    assert question_type("On what kind of frequencies does the reporting system work?") == "describe"
    assert question_type("In the mission, what is India responsible for?") == "describe"
    assert question_type("What is the name of the map?") == "what"  # a name is still a phrase


def test_english_answer_states_the_date_with_quote_and_glossary(engine):
    a = engine.ask("On what date was Toyooka's record deepest snow recorded?")
    assert a.found and a.language == "en"
    statement, quotes, glossary = a.answer.split("\n\n")[:3]
    assert re.search(r"3 February 1936 \[\d\]", statement)
    assert "1936年2月3日" in quotes and "(Japanese source)" in quotes
    assert glossary.startswith(GLOSSARY_HEADING)
    assert "not a translation" in GLOSSARY_HEADING
    assert "- 最深積雪: deepest snow" in glossary and glossary.count("- 記録:") == 1


def test_english_answer_states_numbers_and_names(engine):
    a = engine.ask("About how many electronic reference points with GPS are there?")
    assert a.found
    assert "1,300 places" in a.answer.split("\n\n")[0]
    a = engine.ask("Who was the mayor of Toyooka?")
    assert a.found
    assert "Tabuchi" in a.answer.split("\n\n")[0]


def test_a_name_is_stated_from_the_best_sentence_only_a_date_from_any(engine, tokenizer):
    from bot.answer.compose_en import EnglishComposer
    from bot.answer.sentences import ScoredSentence

    index = engine.index
    text = index.documents[index.passages[0].doc_id].text

    def cited(needle: str, score: float) -> ScoredSentence:
        for row, p in enumerate(index.passages):
            for k, (a, b) in enumerate(p.sentences):
                if needle in text[a:b]:
                    return ScoredSentence(row, k, 0, a, b, 0.9, 0.9, 1.0, score)
        raise AssertionError(needle)

    # The best sentence names no person and gives no date; the runner-up has both.
    best, runner_up = cited("国際空港", 0.9), cited("田淵", 0.5)
    composer = EnglishComposer(tokenizer)
    who, _ = composer.compose(index, [runner_up, best], "Who was the mayor?", [])
    assert not who.startswith("Who:")  # a name from a runner-up is too often not the answer
    best, runner_up = cited("国際空港", 0.9), cited("1936年", 0.5)
    when, _ = composer.compose(index, [runner_up, best], "When was the record set?", [])
    assert when.startswith("When: 3 February 1936 [1]")
    # a reason is no phrase: the best sentence, quoted, is the lead; the others follow it
    why, _ = composer.compose(index, [runner_up, best], "Why is the airport quarantine important?", [])
    lead, quotes = why.split("\n\n")[:2]
    assert lead.startswith("The documents say: 「伝染病の研究では国際空港の検疫が重要である。」[2]")
    assert "1936年" in quotes and "国際空港" not in quotes


def test_english_documents_answer_english_questions_directly(mixed_engine):
    a = mixed_engine.ask("When was the hangar at the airfield completed?")
    assert a.found
    assert "(English source)" in a.answer and "1987" in a.answer
    assert "Japanese source" not in a.answer and GLOSSARY_HEADING not in a.answer


def test_english_documents_words_meet_the_questions_words(mixed_engine, tokenizer):
    # Latin-script words are index terms as written (Sudachi would respell them: エアクラフト).
    assert {"aircraft", "hangar", "safe"} <= set(tokenizer.tokens("The hangar holds aircraft. SAFEの設立"))
    hits = mixed_engine.search("How many aircraft does the hangar hold?", k=2).hits
    assert hits[0].title == "Hangar notes" and hits[0].lexical_score and hits[0].lexical_score > 0


def test_english_refusal_lists_no_japanese_passages(engine):
    a = engine.ask("What is the recipe for chocolate cake with strawberries?")
    assert not a.found
    assert a.answer == "The documents do not answer this question."
    assert a.related == [] and a.citations == []


def test_benchmark_file_shape():
    rows = [json.loads(x) for x in (ROOT / "bench/data/jsquad_en.jsonl")
            .read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 400 and all(set(r) == {"id", "question"} for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)


def test_stems_are_right_when_threads_stem_at_once():
    # An index build (term table) runs beside English questions: a shared Snowball stemmer mixes
    # their words up (wrong stems, IndexError).
    import random
    import string
    import sys
    import threading
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        rng = random.Random(5)
        words = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 14)))
                 for _ in range(4000)]
        expected = {w: stem(w) for w in words}
        wrong: list = []

        def run():
            for w in words:
                try:
                    if stem(w) != expected[w]:
                        wrong.append(w)
                except Exception as exc:  # noqa: BLE001 - what the race raised
                    wrong.append(repr(exc))
        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert wrong == []


def test_statement_candidates_are_not_date_parts_or_words_beside_a_title(engine, tokenizer):
    from bot.answer.compose_en import EnglishComposer
    composer = EnglishComposer(tokenizer)
    text = "2025年6月20日、ドイツのイベント「地球、その先へ」が開催され、3日間続いた。"
    found = [c[2] for c in composer._candidates(engine.index, text, "how many", set(), "How many days did it last?")]
    assert "3 days" in found and "20 days" not in found  # 6月20日 is a date
    text = "第27回の会合には、30以上の国・地域が参加した。"
    found = [c[2] for c in composer._candidates(engine.index, text, "how many", set(),
                                                "How many countries take part?")]
    assert found and not any("27" in f for f in found)  # 第27回: the 27th meeting, not a count
    assert found[0] == "30 or more"  # 30以上: the bound is part of the figure
    found = [c[2] for c in composer._candidates(engine.index, text, "what", set(),
                                                "What was the title of the event?")]
    assert not any("Germany" in f or "20 days" in f for f in found)


def test_an_english_follow_up_searches_with_the_previous_topic(engine):
    from bot.query.conversation import resolve
    from bot.results import Turn
    resolved = resolve("Who was its mayor?", [Turn(role="user", content="Where is Toyooka?")], "en")
    assert resolved.query == "Who was Toyooka's mayor?"
    surfaces = {t.surface for t in engine._english_terms(engine.index, resolved)}
    assert {"豊岡市", "市長"} <= surfaces or {"豊岡", "市長"} <= surfaces, surfaces


def test_the_glossary_gives_a_question_word_the_sense_it_was_asked_in(engine, tokenizer):
    from bot.answer.compose_en import EnglishComposer
    composer = EnglishComposer(tokenizer)
    text = "豊岡市は兵庫県の北部にある市で、田淵氏が市長を務めた。"
    plain = {g.japanese: g.english for g in composer.glossary(engine.index, [text], ["市長"])}
    asked = {g.japanese: g.english for g in composer.glossary(engine.index, [text], ["市長"], {"市長": "city head"})}
    assert plain.get("市長") and plain["市長"] != "city head"
    assert asked["市長"] == "city head" and list(asked)[0] == "市長"


def test_names_keep_their_capitals_and_a_persons_reading_in_context(engine, tokenizer):
    from bot.answer.compose_en import EnglishComposer
    composer = EnglishComposer(tokenizer)
    text = "豊岡市は兵庫県の北部にある市で、田淵氏が市長を務めた。"
    # A place asked for as "toyooka" (the question's word, lower-cased) keeps its capital.
    def gloss(sense: str) -> str:
        return {g.japanese: g.english for g in composer.glossary(engine.index, [text], ["豊岡市"],
                                                                  {"豊岡市": sense})}["豊岡市"]

    assert gloss("toyooka") == "Toyooka"
    assert gloss("toyooka city") == "Toyooka city"  # the sense asked in, with the name's capital
    # A person's name is romanised from Sudachi's reading in the sentence, not the name
    # dictionary's first reading (川勝: カワカツ, where the dictionary lists "Kawakachi" first).
    person = next(m for m in tokenizer.morphemes("川勝プロジェクトマネージャが登壇した。") if m.surface() == "川勝")
    assert composer._name_english(engine.index, person) == "Kawakatsu"


@pytest.mark.parametrize("sentence, qtype, question, expected", [
    ("The cube satellite was successfully launched from the ISS on 11 May 2018.", "when",
     "When was Kenya's KiboCUBE satellite released from the ISS?", "11 May 2018"),
    ("A team from the Surya University in Indonesia were selected by UNOOSA and JAXA.", "what",
     "Which Indonesian university was selected in the third round of KiboCUBE?", "Surya University"),
    ("Thirty-five participants from twenty countries attended the workshop.", "how many",
     "How many people attended the workshop?", "Thirty-five participants"),
    ("The session was held in Bremen, Germany on 30 September 2018.", "where",
     "Where was the Kibo session held?", "Bremen, Germany"),
    ("The programme was launched jointly by JAXA and UNOOSA.", "when", "When was it launched?", None),
    ("The workshop was held on November 6 at the hotel.", "how many", "How many people attended the workshop?",
     None),  # the day of a date counts nothing
    # where the workshop was held, not where a co-chair is from
    ("The workshop, co-chaired by Mr. Cheng Hai Tan from SSTA and Mr. Fumiaki Tanigaki from JAXA, was held on "
     "November 6 at the Sheraton Towers Singapore.", "where", "At which hotel in Singapore was the workshop held?",
     "the Sheraton Towers Singapore"),
    ("The satellite will be launched from Virginia in April.", "where", "From which state will it be launched?",
     "Virginia"),
    # a venue with the city it is in
    ("During their September 24, 2019, meeting at JAXA Headquarters in Tokyo, the two heads met.", "where",
     "Where did the two heads meet?", "JAXA Headquarters in Tokyo"),
    # a person, not the place the meeting was at, and without the title or the other party
    ("During their meeting at JAXA Headquarters in Tokyo, NASA Administrator James Bridenstine and JAXA "
     "President Hiroshi Yamakawa signed a statement.", "who", "Who is the president of JAXA?", "Hiroshi Yamakawa"),
    ("On 15 May 2017, JAXA President Naoki Okumura and ESA Director General Johann-Dietrich Woerner held a "
     "meeting.", "who", "Who was the president of JAXA in 2017?", "Naoki Okumura"),
    ("The theme is “Collaborating to Build a Sustainable and Responsible Regional Space Sector”.", "what",
     "What was the theme of APRSAF-30?", "Collaborating to Build a Sustainable and Responsible Regional Space Sector"),
    # the party asked about is written after its person
    ("The workshop, co-chaired by Mr. Cheng Hai Tan from SSTA and Mr. Fumiaki Tanigaki from JAXA, was held in "
     "Singapore.", "who", "Who co-chaired the workshop for JAXA?", "Mr. Fumiaki Tanigaki"),
])
def test_english_sources_lead_with_the_asked_phrase(sentence, qtype, question, expected):
    from bot.answer.compose_en import english_phrase
    assert english_phrase(sentence, qtype, question) == expected


@pytest.mark.parametrize("question, expected", [
    ("When was the agreement signed?", ("time", None)),
    ("How many people attended the workshop?", ("number", "人")),
    ("Where was the meeting held?", ("place", None)),
    ("Which company signed a letter of intent with JAXA?", ("org", None)),
    ("For which countries were they the first satellites?", ("place", None)),
    ("What is India responsible for?", (None, None)),
    ("How much did the university spend on its CubeSat?", ("number", "金額")),  # an amount of money
    ("How large is the budget of the plan?", ("number", "金額")),
    ("How much stronger is the sunlight on Mercury?", ("number", None)),
    ("At what fraction of the planned price was the contract won?", ("number", None)),  # no amount
])
def test_english_questions_map_to_the_japanese_kind_they_ask_for(question, expected):
    from bot.answer.compose_en import japanese_kind
    assert japanese_kind(question) == expected


@pytest.mark.parametrize("sentence, question, ok", [
    ("The 1st round of KiboCUBE enabled a team to develop a cube satellite.",
     "How many applications were received in the second round?", False),  # counts no applications
    ("The agency received 13 applications in the second round.",
     "How many applications were received in the second round?", True),
    ("Thirty-five participants from twenty countries attended.", "How many people attended?", True),
    ("The workshop was held on November 6 in Singapore.", "How many people attended?", False),
    ("One highlight activity was Asian Try Zero-G 2018.", "How many experiments were selected?", False),
    ("The programme was launched in September 2015 with 1 satellite.",
     "How much did the University of Nairobi spend on its CubeSat?", False),  # no amount of money
    ("The CubeSat cost $50,000 to build.", "How much did the university spend on its CubeSat?", True),
])
def test_an_english_source_gives_the_asked_quantity_only_in_its_kind(sentence, question, ok):
    from bot.answer.compose_en import english_phrases, gives_asked, question_type
    found = english_phrases(sentence, question_type(question), question)
    assert any(gives_asked(sentence, at, phrase, question) for _, at, phrase in found[:1]) is ok


@pytest.mark.slow
def test_an_english_question_whose_asked_kind_is_missing_gets_a_partial_answer(engine):
    # the documents speak about Toyooka, but count places, not people
    a = engine.ask("How many people live in Toyooka?")
    assert not a.found and a.state == "partial", a.answer
    assert a.answer.startswith("The documents do not give the number") and a.citations


@pytest.mark.parametrize("name", ["Tabuchi", "Tabuti", "TABUCHI"])
def test_romanised_names_in_any_spelling_reach_the_corpus_name(engine, name):
    from bot.query import crosslingual
    index = engine.index
    terms = crosslingual.english_terms(f"Who is {name}?", index.terms, index.lexical)
    assert "田淵" in {t.surface for t in terms}


def test_the_english_lead_is_the_phrase_that_counts_what_was_asked_across_the_sentences():
    from types import SimpleNamespace

    from bot.answer.compose_en import _english_lead
    sentences = ["The organizations participating in Sentinel Asia are divided into four categories.",
                 "Currently, there are 111 member organizations (as of April 2021)."]
    chosen = [SimpleNamespace(score=0.9), SimpleNamespace(score=0.8)]  # the first is the better-scored
    citations = [SimpleNamespace(n=i + 1, text=t, highlight=(0, len(t))) for i, t in enumerate(sentences)]
    lead = _english_lead(chosen, citations, "how many", "How many member organizations does Sentinel Asia have?")
    assert lead == "How many: 111 [2]."


def test_a_who_question_asked_for_one_party_leads_with_that_partys_person():
    from types import SimpleNamespace

    from bot.answer.compose_en import _english_lead
    sentences = ["Prime Minister Shinzo Abe signed the lunar exploration statement.",
                 "NASA Administrator James Bridenstine and JAXA President Hiroshi Yamakawa attended."]
    chosen = [SimpleNamespace(score=0.9), SimpleNamespace(score=0.8)]
    citations = [SimpleNamespace(n=i + 1, text=t, highlight=(0, len(t))) for i, t in enumerate(sentences)]
    question = "Who signed the lunar exploration statement for JAXA?"
    assert _english_lead(chosen, citations, "who", question) == "Who: Hiroshi Yamakawa [2]."
    assert _english_lead(chosen, citations, "who", "Who signed the lunar exploration statement?") \
        == "Who: Shinzo Abe [1]."


@pytest.mark.parametrize("sentence, acronym, expected", [
    ("ルクセンブルク宇宙機関(Luxembourg Space Agency Foundation : LSA)セレスCEOは署名した。", "LSA",
     "Luxembourg Space Agency Foundation"),
    ("タイ地理情報・宇宙技術開発機構(GISTDA=Geo-Informatics and Space Technology Development Agency)と", "GISTDA",
     "Geo-Informatics and Space Technology Development Agency"),
    ("The European Space Agency (ESA) and JAXA met.", "ESA", "European Space Agency"),
    ("ESA and the Japan Aerospace Exploration Agency met.", "ESA", None),  # not its words
    ("JAXA President Naoki Okumura (JAXA) spoke.", "JAXA", None),
])
def test_an_acronym_is_expanded_by_the_words_beside_it(sentence, acronym, expected):
    from bot.answer.compose_en import expanded_acronym, expansion
    assert expanded_acronym(f"What does {acronym} stand for?") == acronym
    assert expansion(sentence, acronym) == expected


WORKSHOP_DOC = """---
title: Workshop report
lang: en
---
Workshop report

The Kibo workshop was held on November 6 at the Sheraton Hotel in Singapore. It was organised under the working \
group of the forum. Thirty-five participants from twenty organizations attended.
"""


def test_the_number_asked_for_is_read_from_the_next_sentence_when_the_quoted_ones_lack_it(tmp_path, tokenizer, models):
    engine = _engine(tmp_path, tokenizer, models, {"workshop.md": WORKSHOP_DOC})
    a = engine.ask("How many people attended the Kibo workshop at the Sheraton Hotel?", top_k=1)
    assert a.found, a.answer
    assert a.answer.startswith("How many: Thirty-five participants"), a.answer


ERA_DOC = """---
title: 覚書の経緯
lang: ja
---
覚書の経緯

昭和61年 海洋観測衛星の受信に関する覚書を締結。

平成 3年 覚書に観測衛星の二号機を追加。
"""


def test_a_year_of_an_era_is_stated_with_its_era(tmp_path, tokenizer, models):
    engine = _engine(tmp_path, tokenizer, models, {"era.md": ERA_DOC})
    a = engine.ask("In which year was the second observation satellite added to the memorandum?")
    assert a.found, a.answer
    assert a.answer.startswith("When: Heisei 3 (1991)"), a.answer


def test_a_who_lead_is_neither_what_the_questions_acronym_stands_for_nor_a_runner_ups_body():
    from types import SimpleNamespace

    from bot.answer.compose_en import _english_lead
    sentences = ["APRSAF provides an open forum for governments, space agencies, and industry.",
                 "The Asia-Pacific Regional Space Agency Forum followed the Asia-Pacific International Space Year "
                 "Conference (APIC)."]
    chosen = [SimpleNamespace(score=0.9), SimpleNamespace(score=0.8)]
    citations = [SimpleNamespace(n=i + 1, text=t, highlight=(0, len(t))) for i, t in enumerate(sentences)]
    assert _english_lead(chosen, citations, "who", "Who does APRSAF offer an open forum to?") is None


def test_asked_why_the_sentence_saying_a_purpose_leads():
    from types import SimpleNamespace

    from bot.answer.compose_en import _quoted_lead
    chosen = [SimpleNamespace(score=0.9), SimpleNamespace(score=0.5)]
    quotes = ["「JAXAはDLRとの協力に合意した。」[1] (Japanese source)",
              "「MMXは衛星の起源を明らかにすることを目的としています。」[2] (Japanese source)"]
    lead, rest = _quoted_lead(chosen, quotes, why=True)
    assert "[2]" in lead and rest == quotes[:1]
    assert "[1]" in _quoted_lead(chosen, quotes)[0]  # not asked why: the best-scored


def test_a_heading_leads_a_quoted_answer_only_when_no_sentence_is_quoted():
    from types import SimpleNamespace

    from bot.answer.compose_en import _quoted_lead
    chosen = [SimpleNamespace(score=0.6), SimpleNamespace(score=0.3)]
    quotes = ["「APRSAF25年間の歴史」[1] (Japanese source)",
              "“APRSAF was established in 1993 to enhance space activities.” [2] (English source)"]
    assert "[2]" in _quoted_lead(chosen, quotes)[0]
    assert "[1]" in _quoted_lead(chosen[:1], quotes[:1])[0]


@pytest.mark.parametrize("question, particle", [
    ("Where did the document exchange ceremony take place?", "で"),
    ("Where was the agreement signed?", "で"),
    ("From which US state was the flight launched?", "から"),
    ("Where is the space centre located?", "に"),
    ("In which prefecture is Toyooka?", "に"),
    ("Where did the royal family stay?", "に"),
    ("What is the stress in the body where stress is defined?", None),
    ("If the balance holds in the body where stress is defined, what is the stress?", None),
    ("When was it signed?", None),
    ("Where were they handed over to JAXA?", "で"),
    ("Where was the satellite built?", "で"),
])
def test_an_english_where_question_reads_the_japanese_particle_after_its_place(question, particle):
    from bot.answer.compose_en import japanese_particle
    assert japanese_particle(question) == particle


@pytest.mark.parametrize("sentence, qtype, question, expected", [
    # a name's joining words only between its capitalised words, and as whole words
    ("In the 2nd round, a team from the Universidad del Valle de Guatemala developed a CubeSat.", "what",
     "Which team was selected in the second round?", "Universidad del Valle de Guatemala"),
    # the head noun asked for right after the name (which program: NASA's Artemis program)
    ("During their meeting at JAXA Headquarters in Tokyo, they welcomed JAXA's participation in NASA's Artemis "
     "program.", "what",
     "Which NASA program is JAXA going to take part in?", "NASA's Artemis"),
    # a title without a name is no person
    ("The meeting was opened by the Chair of Executive Board.", "who", "Who opened the meeting?", None),
    # asked who serves as a body: the organisation named before the role
    ("In Sentinel Asia, JAXA plays a central role as the executive secretariat, together with the Asian Disaster "
     "Reduction Center (ADRC), which serves as the contact point.", "who", "Who serves as the executive secretariat?",
     "JAXA"),
    # a multiple, read after the question's verb
    ("One highlight was the flight. The number of applications increased threefold compared to the previous call.",
     "how many", "How much did the applications increase?", "threefold"),
])
def test_english_leads_read_names_roles_and_multiples(sentence, qtype, question, expected):
    from bot.answer.compose_en import english_phrase
    assert english_phrase(sentence, qtype, question) == expected


def test_a_japanese_count_is_read_in_the_counter_the_question_asks_for(tokenizer):
    from bot.answer.compose_en import EnglishComposer
    sentence = "協定は1998年及び2003年にそれぞれ5年間延長され、合同委員会を過去4回開催しました。"
    composer = EnglishComposer(tokenizer)
    # "times" counts 回, not the span of years beside it
    assert composer.answer_phrase(None, sentence, "how many", set(), None,
                                  "How many times was the joint committee held?") == "4 times"
    assert composer.answer_phrase(None, sentence, "how many", set(), None,
                                  "How many years was it extended by?") == "5 years"


def test_a_span_of_time_answers_only_how_many_of_its_unit(tokenizer):
    from bot.answer.compose_en import EnglishComposer
    composer = EnglishComposer(tokenizer)
    held = "2015年12月1日~4日、会議を開催し、前半2日間で約480名が議論した。"
    ask = lambda q: composer.answer_phrase(None, held, "how many", set(), None, q)  # noqa: E731
    # 4日 ends the date range (not "4 days"); 2日間 is no number of participants.
    assert ask("How many participants attended?") == "about 480 people"
    assert ask("How many days did the first part last?") == "2 days"


def test_the_predicate_of_an_english_question_is_its_verbs_japanese_verb(tokenizer):
    from bot.answer.compose_en import english_predicate
    from bot.query.crosslingual import Term
    terms = [Term("BepiColombo", "BepiColombo", ("bepicolombo",), "verbatim"),
             Term("launched", "打ち上げ", ("打ち上げる",), "dictionary")]
    assert english_predicate("When was BepiColombo launched?", terms, tokenizer) == "打ち上げる"
    assert english_predicate("When was the launch of BepiColombo?", terms[:1], tokenizer) is None


def test_a_phrasal_verb_is_looked_up_in_its_dictionary_form():
    from bot.store.termtable import TermTable, key_of
    table = TermTable({key_of("hand over"): [["引き渡す", ["引き渡す"]]]}, {}, {})
    terms = english_terms("Where were the satellites handed over to JAXA?", table, set())
    assert "引き渡す" in {t.surface for t in terms}


RECORD_DOC = """---
title: 選定結果
lang: ja
---
選定結果

以下の提案を選定しましたのでお知らせします。

衛星名:ABC-1(試験衛星)

  • 機関・国名:ナイロビ大学/ケニア共和国
  • ミッション概要:太陽電池セルの技術実証
  • サイズ:1U(国連との連携協力に基づくサイズ)

選定提案は、ケニア初の衛星として開発・運用を行うものとなります。
"""


def test_a_what_question_is_led_by_the_value_of_the_record_line_its_word_labels(tmp_path, tokenizer, models):
    engine = _engine(tmp_path, tokenizer, models, {"record.md": RECORD_DOC})
    a = engine.ask("What size is ABC-1?", top_k=2)
    assert a.found, a.answer
    assert a.answer.startswith("Answer: 1U "), a.answer


def test_a_follow_ups_own_terms_keep_names_and_drop_the_previous_questions_words():
    from bot.answer.compose_en import own_terms
    from bot.query.crosslingual import Term
    terms = [Term("handed over", "引き渡す", ("引き渡す",), "dictionary"),
             Term("university", "大学", ("大学",), "dictionary"),  # from "Which university built them?"
             Term("Bodhgaya", "ボードガヤー", ("ボードガヤー",), "reading")]  # the topic, spelled otherwise
    kept = {t.surface for t in own_terms(terms, "Where were BIRDS-3 CubeSats handed over to JAXA?")}
    assert kept == {"引き渡す", "ボードガヤー"}


def test_a_foreign_name_in_katakana_is_reached_from_its_latin_spelling(tmp_path, tokenizer, models):
    assert fold("BepiColombo") == fold(romaji("ベピコロンボ")) and fold("Jackson") != fold("Jakarta")
    engine = _engine(tmp_path, tokenizer, models, {"mercury.md": MERCURY_DOC, "expo.md": EXPO_DOC})
    from bot.query import crosslingual
    terms = crosslingual.english_terms("When will BepiColombo reach Mercury?", engine.index.terms,
                                       engine.index.lexical)
    assert "ベピコロンボ" in {t.surface for t in terms}
    # The name is one the documents must hold: the project manager of another page is not its.
    a = engine.ask("Who is the project manager of BepiColombo?")
    assert "Kawakatsu" not in a.answer.split("\n")[0] and "川勝" not in a.answer.split("\n")[0], a.answer


def test_an_english_when_question_over_sentences_that_date_nothing_is_partial(tmp_path, tokenizer, models):
    engine = _engine(tmp_path, tokenizer, models, {"centre.md": CENTRE_DOC})
    a = engine.ask("When was the latest satellite of the space centre launched from Tanegashima?")
    assert a.state == "partial" and a.answer.startswith("The documents do not give the date"), a.answer


MERCURY_DOC = """---
title: 水星探査
lang: ja
---
水星探査

国際水星探査計画ベピコロンボは、ヨーロッパと日本の協力で進めている水星探査計画です。
"""

EXPO_DOC = """---
title: 万博
lang: ja
---
万博

万博では、プロジェクトマネージャの川勝が登壇し、探査計画について説明しました。
"""

CENTRE_DOC = """---
title: 宇宙センター
lang: ja
---
宇宙センター

ドバイの宇宙センターは地球観測衛星を打ち上げており、最新の衛星を種子島宇宙センターから打ち上げました。
"""


@pytest.mark.parametrize("question, when", [
    ("When was X launched?", True), ("Since when has it existed?", True), ("On what date was it deployed?", True),
    ("In what year was Sentinel Asia launched?", True),
    ("What happens when the object is released?", False), ("What is it called when a pulse ends?", False)])
def test_what_asks_when(question, when):
    from bot.answer.compose_en import asks_when
    assert asks_when(question) is when


def test_a_sentence_dated_by_a_time_word_is_not_undated():
    from bot.answer.compose_en import undated
    assert not undated("第二次世界大戦終戦前の憲法の下においては、権利は存在しなかった。")
    assert not undated("It was launched in May.") and undated("DubaiSat-1 was launched from Tanegashima.")


@pytest.mark.parametrize("question, role", [
    ("Who is JAXA's project manager for BepiColombo?", "project manager"),
    ("Who was the president of JAXA in 2017?", "president"), ("Who chaired the committee?", "chair"),
    ("Who co-chaired the workshop?", "chair"), ("Who presided over the meeting?", "presid"),
    ("Who directs the office?", "director"), ("Who is Tanigaki?", None), ("Who organized the forum?", None)])
def test_the_role_a_who_question_asks_the_holder_of(question, role):
    from bot.answer.compose_en import asked_role
    assert asked_role(question) == role


LAUNCH_DOC = """---
title: 打ち上げ
lang: ja
---
打ち上げ

ベピコロンボの打ち上げでは、ESAのヴァーナー長官が挨拶しました。
"""


def test_a_who_question_asking_a_role_no_sentence_names_is_partial(tmp_path, tokenizer, models):
    engine = _engine(tmp_path, tokenizer, models, {"launch.md": LAUNCH_DOC, "mercury.md": MERCURY_DOC})
    a = engine.ask("Who is the project manager of BepiColombo?")
    assert a.state == "partial" and a.answer.startswith("The documents do not give the person"), a.answer
    b = engine.ask("Who gave a speech at the launch of BepiColombo?")
    assert b.found and "ヴァーナー" in b.answer.split("\n")[0], b.answer


def test_a_persons_name_has_a_word_that_is_no_english_word():
    from bot.answer.compose_en import english_phrases, person_like
    assert person_like("Fumiaki Tanigaki") and person_like("Cheng Hai Tan") and person_like("Donald Trump")
    assert not person_like("Human Space Technology Initiative") and not person_like("Tanigaki")
    assert not person_like("Mohammed Bin Rashid Space Centre")  # a body's name
    sentence = "KiboCUBE is also part of UNOOSA's broader Human Space Technology Initiative."
    assert english_phrases(sentence, "who", "Who is the Director of UNOOSA?") == []

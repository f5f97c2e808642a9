import pytest

from bot.query.conversation import is_follow_up, resolve, resolve_query, topic_of
from bot.results import Turn

H = [Turn(role="user", content="APRSAFについて教えて"), Turn(role="assistant", content="…")]


@pytest.mark.parametrize("q,lang,expected", [
    ("それはいつ設立されましたか？", "ja", True),
    ("その会議の目標は何年間のものですか？", "ja", True),
    ("いつ？", "ja", True),
    ("SAFEは何年に設立されましたか？", "ja", False),
    ("Where is that station?", "en", True),
    ("Who does it partner with?", "en", True),
    ("And Canada?", "en", True),
    ("When was the SAFE initiative established?", "en", False),
])
def test_follow_up_detection(q, lang, expected):
    assert is_follow_up(q, lang) is expected


def test_follow_up_without_a_parser_joins_the_previous_user_turn():
    assert resolve_query("それはいつ設立されましたか？", H, "ja") == "APRSAFについて教えて それはいつ設立されましたか？"
    assert resolve_query("SAFEは何年に設立されましたか？", H, "ja") == "SAFEは何年に設立されましたか？"
    assert resolve_query("それはいつ？", [], "ja") == "それはいつ？"


@pytest.mark.parametrize("q,topic", [
    ("APRSAFはいつ設立されましたか？", "APRSAF"),
    ("国際宇宙ステーションについて教えて", "国際宇宙ステーション"),
    ("日本で梅雨がないのは北海道とどこか", "梅雨"),
    ("何がありますか？", None),
])
def test_topic_is_the_phrase_the_question_is_about(tokenizer, q, topic):
    assert topic_of(q, tokenizer) == topic


@pytest.mark.parametrize("q,query", [
    ("それはどこで開催されましたか？", "APRSAFはどこで開催されましたか？"),
    ("その目標は？", "APRSAFの目標は？"),
    ("いつ？", "APRSAFはいつ？"),
    ("SAFEは何年に設立されましたか？", "SAFEは何年に設立されましたか？"),
])
def test_follow_up_pronoun_is_replaced_by_the_previous_topic(tokenizer, q, query):
    history = [Turn(role="user", content="APRSAFはいつ設立されましたか？"), Turn(role="assistant", content="1993年")]
    assert resolve(q, history, "ja", tokenizer).query == query


def test_a_chain_of_follow_ups_keeps_the_first_topic(tokenizer):
    history = [Turn(role="user", content="APRSAFはいつ設立されましたか？"), Turn(role="assistant", content="…"),
               Turn(role="user", content="それはどこで開催されましたか？"), Turn(role="assistant", content="…")]
    r = resolve("その参加国は？", history, "ja", tokenizer)
    assert r.query == "APRSAFの参加国は？" and r.topic == "APRSAF"


def test_english_topics():
    from bot.query.conversation import english_topic
    assert english_topic("When was APRSAF founded?") == "APRSAF"
    assert english_topic("Who attended the German National Day event?") == "German National Day"
    # a possessive names its head; a question's first word is capitalised anyway
    assert english_topic("What does JAXA's aeronautics directorate do internationally?") == \
        "JAXA's aeronautics directorate"
    assert english_topic("What does it do?") is None


@pytest.mark.parametrize("question,previous,expected", [
    ("Where was it held?", "When was APRSAF founded?", "Where was APRSAF held?"),
    ("What is its budget?", "When was APRSAF founded?", "What is APRSAF's budget?"),
    ("And with Canada?", "When did cooperation with Europe start?", "When did cooperation with Canada start?"),
    # opens like a continuation but asks something of its own: no name is swapped into the previous
    ("And which NASA program is JAXA going to join?", "When did JAXA and NASA sign their statement?",
     "When did JAXA and NASA sign their statement? And which NASA program is JAXA going to join?"),
    # nothing to put in: the previous question comes along whole
    ("Where is that station?", "Does JAXA have a tracking station in Sweden?",
     "Does JAXA have a tracking station in Sweden? Where is that station?"),
])
def test_english_follow_ups_are_resolved_to_the_previous_topic(question, previous, expected):
    r = resolve(question, [Turn(role="user", content=previous)], "en")
    assert r.follow_up and r.query == expected


@pytest.mark.parametrize("previous, q, query", [
    # ellipsis: the question names nothing of its own, so it is about the conversation's topic
    ("センチネルアジアとは何ですか？", "事務局はどこですか？", "センチネルアジアの事務局はどこですか？"),
    ("センチネルアジアとは何ですか？", "いつ始まりましたか？", "センチネルアジアはいつ始まりましたか？"),
    ("ムハンマド・ビン・ラシード宇宙センターとは何ですか？", "打ち上げた衛星にはどんなものがありますか？",
     "ムハンマド・ビン・ラシード宇宙センターが打ち上げた衛星にはどんなものがありますか？"),
    # the whole subject, not its last noun; その+noun the topic already names
    ("KiboCUBEの第1回で選ばれた衛星は何ですか？", "それはどこの国にとって初めての衛星になりますか？",
     "KiboCUBEの第1回で選ばれた衛星はどこの国にとって初めての衛星になりますか？"),
    ("JAXAとNASAの月探査協力に関する共同声明はいつ署名されましたか？", "その声明では何を見据えていますか？",
     "JAXAとNASAの月探査協力に関する共同声明では何を見据えていますか？"),
    ("JAXAとアラブ首長国連邦宇宙機関の協定について教えてください。", "その署名式には誰が臨席しましたか？",
     "JAXAとアラブ首長国連邦宇宙機関の協定の署名式には誰が臨席しましたか？"),
    ("2019年2月に引き渡された超小型衛星について教えてください。", "それらはいつ放出されましたか？",
     "2019年2月に引き渡された超小型衛星はいつ放出されましたか？"),
    # a question that names its own subject stands alone
    ("センチネルアジアとは何ですか？", "KiboCUBEの事務局はどこですか？", "KiboCUBEの事務局はどこですか？"),
    # and so does one that says the topic in its own words
    ("日露宇宙協力協定はいつ結ばれましたか？", "現在、日露間の具体的な協力にはどんなものがありますか？",
     "現在、日露間の具体的な協力にはどんなものがありますか？"),
])
def test_follow_ups_keep_the_topic_without_a_pronoun(tokenizer, previous, q, query):
    history = [Turn(role="user", content=previous), Turn(role="assistant", content="…")]
    assert resolve(q, history, "ja", tokenizer).query == query


def test_a_question_in_a_conversation_has_one_other_reading(tokenizer):
    from bot.query.conversation import other_reading
    history = [Turn(role="user", content="MMXの実施取決めはどこで取り交わされましたか？"),
               Turn(role="assistant", content="パリエアショーの会場です。")]
    # Names DLR, so it reads as standalone; the other reading puts the conversation's topic back.
    usual = resolve("DLR側の署名者は？", history, "ja", tokenizer)
    assert not usual.follow_up
    other = other_reading("DLR側の署名者は？", history, "ja", tokenizer, usual)
    assert other is not None and other.follow_up and other.query.startswith("MMXの実施取決め")
    assert other.query.endswith("DLR側の署名者は？")
    # Read as a follow-up, the other reading is the question alone.
    usual = resolve("それはいつですか？", history, "ja", tokenizer)
    assert usual.follow_up
    assert other_reading("それはいつですか？", history, "ja", tokenizer, usual).query == "それはいつですか？"
    # A question that says the topic in its own words has no other reading.
    history = [Turn(role="user", content="日露宇宙協力協定はいつ結ばれましたか？"), Turn(role="assistant", content="…")]
    q = "現在、日露間の具体的な協力にはどんなものがありますか？"
    assert other_reading(q, history, "ja", tokenizer, resolve(q, history, "ja", tokenizer)) is None
    # Without an earlier question there is no other reading.
    alone = resolve("DLR側の署名者は？", [], "ja", tokenizer)
    assert other_reading("DLR側の署名者は？", [], "ja", tokenizer, alone) is None


def test_a_follow_ups_own_words_leave_out_what_points_back(tokenizer):
    history = [Turn(role="user", content="LUPEXの実施取決めはいつ署名されましたか？"),
               Turn(role="assistant", content="2025年8月29日です。")]
    # そのとき points back as a whole: とき is no word the answer has to contain.
    r = resolve("そのとき文書を交換したのは誰ですか？", history, "ja", tokenizer)
    assert r.follow_up and r.query.startswith("LUPEXの実施取決め")
    assert r.own == "文書を交換したのは誰ですか？"
    own = resolve("その署名式には誰が臨席しましたか？", history, "ja", tokenizer).own
    assert own == "署名式には誰が臨席しましたか？"


@pytest.mark.parametrize("answer,name", [
    ("1KUNS-PF, from the University of Nairobi in Kenya.", "1KUNS-PF"),
    ("Who: University of Nairobi [1]. (From the cited Japanese text.)", "University of Nairobi"),
    ("Asian Try Zero-G 2018, which astronaut Norishige Kanai performed aboard Kibo.", "Asian Try Zero-G 2018"),
    ("The Kyushu Institute of Technology (Kyutech).", None),  # opens with an article
    ("In October 1993.", None),
    ("24 September 2019", None),  # a date is no thing to refer back to
    ("2016年3月22日です。", None),
])
def test_the_name_an_english_answer_opens_with(answer, name):
    from bot.query.conversation import answer_name
    assert answer_name(answer) == name


@pytest.mark.parametrize("previous,answer,question,expected", [
    # asked for a thing and got its name: "it" / "that experiment" is the thing named
    ("Which satellite was selected in the first KiboCUBE round?", "1KUNS-PF, from the University of Nairobi.",
     "What size is it?", "What size is 1KUNS-PF?"),
    ("What did the workshop at APRSAF-25 highlight?", "Asian Try Zero-G 2018, which astronauts performed.",
     "When was that experiment carried out?", "When was Asian Try Zero-G 2018 experiment carried out?"),
    ("Which Thai agency received the antenna?", "GISTDA, the Geo-Informatics Agency.",
     "What was its predecessor?", "What was GISTDA's predecessor?"),
    # asked what something is: "it" is still that thing
    ("What is BepiColombo?", "An international Mercury exploration mission.", "When was it launched?",
     "When was BepiColombo launched?"),
    # "they" is not the one name the answer gave
    ("Which university built the three BIRDS-3 CubeSats?", "Kyutech.", "Where were they handed over?",
     "Where were BIRDS-3 CubeSats handed over?"),
])
def test_an_english_follow_up_may_mean_what_the_previous_answer_named(previous, answer, question, expected):
    history = [Turn(role="user", content=previous), Turn(role="assistant", content=answer)]
    assert resolve(question, history, "en").query == expected

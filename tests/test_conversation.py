import pytest

from bot.answer.conversation import is_follow_up, resolve_query
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


def test_follow_up_joins_the_previous_user_turn():
    assert resolve_query("それはいつ設立されましたか？", H, "ja") == "APRSAFについて教えて それはいつ設立されましたか？"
    assert resolve_query("SAFEは何年に設立されましたか？", H, "ja") == "SAFEは何年に設立されましたか？"
    assert resolve_query("それはいつ？", [], "ja") == "それはいつ？"

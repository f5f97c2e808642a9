"""What the HTML tests share: a hostile string, the conversation a page carries in hidden fields,
the check that nothing the CSP would block is in a page, and a made-up answer to render."""

import re
from html.parser import HTMLParser

from bot.results import Answer, Citation, Related, Timings

DOC_ID = "jaxa-international-cooperation"
XSS = "<img src=x onerror=alert(1)></script><script>alert(2)</script>"


def hidden_history(html: str) -> list[tuple[str, str]]:
    import html as html_lib
    roles = re.findall(r'name="history_role" value="([^"]*)"', html)
    contents = re.findall(r'name="history_content" value="([^"]*)"', html)
    # chat.html writes the two fields as a pair per turn.
    return list(zip(roles, [html_lib.unescape(c) for c in contents], strict=True))


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def assert_no_inline_code(html: str) -> None:
    """What the CSP would block must not be in the page: inline scripts, style elements or
    attributes, inline event handlers."""
    parser = _TagCollector()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag != "style", attrs
        assert "style" not in attrs and not any(a.startswith("on") for a in attrs), (tag, attrs)
        if tag == "script":
            assert "src" in attrs or attrs.get("type") == "application/json", attrs


def fake_answer(text: str, found: bool = True, url: str | None = "https://www.jaxa.jp/") -> Answer:
    passage = f"前の文。{text}後の文。"
    start = len("前の文。")
    citations = [Citation(n=1, chunk_id=f"{DOC_ID}#p1", doc_id=DOC_ID, title=f"題{text}", url=url,
                          section=f"節{text}", text=passage, highlight=(start, start + len(text)),
                          score=0.9)] if found else []
    related = [] if found else [Related(chunk_id=f"{DOC_ID}#p2", doc_id=DOC_ID, title=f"題{text}", url=url,
                                        section="節", text=passage, score=0.5)]
    return Answer(answer=f"{text}[1]" if found else "資料の中に、この質問に答える記述は見つかりませんでした。",
                  found=found, language="ja", query="q", citations=citations, related=related,
                  timings_ms=Timings(embed=1, search=1, answer=1, total=3), index_version="v1")

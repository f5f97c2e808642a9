"""Turning a source into clean, block-structured text: paragraphs separated by one blank line,
headings on lines of their own, site chrome (menus, footers) removed.

Boilerplate is recognised by shape and repetition, not by wording, so the rule works for the next
page a user adds: a run of many short lines without sentence punctuation at the top or bottom of a
page is a navigation menu, and a short line without any sentence punctuation after the last
paragraph is a footer ("PAGE TOP", "converted by ..."). What the corpus shows to be chrome
(`bot.ingest.chrome`: short lines repeated at the edges of several documents, link labels
repeated at line ends) goes too. Inside the page nothing else is dropped, and a document is never
trimmed to nothing: its last block stays, however short ("It lasts ten years.").
"""

import re
import unicodedata

from bs4 import BeautifulSoup, Comment

from bot.ingest.chrome import Chrome

# Sentence-final punctuation, Japanese and Western.
TERMINATORS = "。！？!?．."
MENU_MIN_LINES = 4
MENU_LINE_MAX = 30
FOOTER_BLOCK_MAX_LINES = 1
FOOTER_LINE_MAX = 60

_DROP_TAGS = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside",
              "iframe", "svg", "form", "button", "select", "object", "embed", "canvas")
_DROP_ROLES = ("navigation", "banner", "contentinfo", "search", "complementary")
_BLOCK_TAGS = ("p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6",
               "ul", "ol", "dl", "table", "pre", "blockquote", "figure", "figcaption",
               "address", "hr")
_LINE_TAGS = ("li", "dt", "dd", "tr", "br", "caption")
# Control characters other than newline and tab say nothing and break JSON/HTML consumers.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def prepare_text(text: str) -> str:
    """Newlines unified, control characters out: the text `learn_chrome` and `clean_text` see."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clean_text(text: str, chrome: Chrome | None = None, by_shape: bool = True) -> str:
    """`by_shape=False` (a structured file: its table rows, slides and sheets are known) keeps
    menu- and footer-shaped blocks and lines other documents share at their edges; repeated link
    labels still go."""
    text = prepare_text(text)
    if chrome is not None:
        text = chrome.strip_labels(text)
    lines = [re.sub(r"[ \t\u3000]+$", "", line) for line in text.split("\n")]
    if chrome is not None and chrome.edge_lines and by_shape:
        lines = _trim_repeated_edges(lines, chrome.edge_lines)
    blocks = _blocks(lines)
    if by_shape:
        blocks = _trim_chrome(blocks)
    return "\n\n".join("\n".join(b) for b in blocks)


def _trim_repeated_edges(lines: list[str], edge_lines: set[str]) -> list[str]:
    # Lines other documents share at their edges, from the top and from the bottom, stopping at
    # the first line of this document's own (which is always kept).
    content = [i for i, line in enumerate(lines) if line.strip() and line.strip() not in edge_lines]
    if not content:
        return lines
    return lines[content[0]:content[-1] + 1]


def _blocks(lines: list[str]) -> list[list[str]]:
    blocks, current = [], []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def has_terminator(line: str) -> bool:
    s = line.rstrip()
    return any(ch in "。！？!?" for ch in s) or bool(re.search(r"[.．](\s|$)", s))


def _is_menu(block: list[str]) -> bool:
    return (len(block) >= MENU_MIN_LINES
            and all(len(l.strip()) <= MENU_LINE_MAX and not _ends_sentence(l) for l in block))


def _ends_sentence(line: str) -> bool:
    # Menus contain brand names like "Fan!Fun!", so only a full stop marks prose here.
    s = line.rstrip()
    return "。" in s or s.endswith((".", "．"))


def _is_footer(block: list[str]) -> bool:
    # Any sentence punctuation, Japanese or Western, makes it prose ("It lasts ten years.").
    return (len(block) <= FOOTER_BLOCK_MAX_LINES
            and all(len(l.strip()) <= FOOTER_LINE_MAX and not has_terminator(l) for l in block))


def _trim_chrome(blocks: list[list[str]]) -> list[list[str]]:
    # The last remaining block is the document's content, whatever its shape.
    while len(blocks) > 1 and _is_menu(blocks[0]):
        blocks = blocks[1:]
    while len(blocks) > 1 and (_is_menu(blocks[-1]) or _is_footer(blocks[-1])):
        blocks = blocks[:-1]
    return blocks


def html_to_text(source: str) -> tuple[str, dict]:
    soup = BeautifulSoup(source, "lxml")
    meta: dict = {}
    if soup.title and soup.title.string:
        meta["title"] = soup.title.string.strip()
    canonical = soup.find("link", rel="canonical")
    if canonical and canonical.get("href"):
        meta["url"] = canonical["href"]
    html = soup.find("html")
    if html and html.get("lang"):
        meta["lang"] = html["lang"].split("-")[0].lower()
    for node in soup.find_all(string=lambda s: isinstance(s, Comment)):
        node.extract()
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(attrs={"role": _DROP_ROLES}):
        tag.decompose()
    root = soup.find("main") or soup.find(attrs={"role": "main"}) or soup.body or soup
    if "title" not in meta:
        h1 = root.find("h1")
        if h1:
            meta["title"] = h1.get_text(" ", strip=True)
    for tag in root.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    for tag in root.find_all(_LINE_TAGS):
        # One newline after each item keeps a list together as one multi-line block.
        tag.insert_after("\n")
    for link in root.find_all("a"):
        # A link's trailing icon or label (<a>資料<span>別ウィンドウで開く</span></a>) is set off by a
        # space, as it reads on screen, so `bot.ingest.chrome` can learn it as a repeated label.
        children = [c for c in link.children if not (isinstance(c, str) and not c.strip())]
        if len(children) > 1 and getattr(children[-1], "name", None) in ("span", "img", "i", "small", "em"):
            children[-1].insert_before(" ")
    for tag in root.find_all(["td", "th"]):
        tag.insert_after(" ")
    text = root.get_text()
    # Source whitespace inside a line is layout, not content.
    lines = [re.sub(r"[ \t\u00a0]+", " ", l).strip() for l in text.split("\n")]
    return "\n".join(lines), meta


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|`)(.+?)\1")


def markdown_to_text(source: str) -> str:
    out = []
    for line in source.replace("\r\n", "\n").split("\n"):
        m = _MD_HEADING.match(line)
        if m:
            # A heading is its own block so the passage splitter sees it as a section title.
            out.extend(["", m.group(1), ""])
            continue
        line = _MD_LINK.sub(r"\1", line)
        line = _MD_EMPHASIS.sub(r"\2", line)
        line = re.sub(r"^\s*([-*+]|\d+\.)\s+", "", line)
        out.append(line)
    return "\n".join(out)


def normalize_for_match(text: str) -> str:
    """NFKC without whitespace: how gold spans and answer keys are compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))

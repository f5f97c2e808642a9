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
from bot.ingest.dates import date_line

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


def clean_text(text: str, chrome: Chrome | None = None, by_shape: bool = True, title: str = "") -> str:
    """`by_shape=False` (a structured file: its table rows, slides and sheets are known) keeps
    menu- and footer-shaped blocks and lines other documents share at their edges; repeated link
    labels still go. `title` (the document's) finds the title repeated in the page: a breadcrumb
    trail ending in it, the title broken over two lines, the title as a block's first line."""
    text = prepare_text(text)
    if chrome is not None:
        text = chrome.strip_labels(text)
    lines = [re.sub(r"[ \t\u3000]+$", "", line) for line in text.split("\n")]
    if chrome is not None and chrome.edge_lines and by_shape:
        lines = _trim_repeated_edges(lines, chrome.edge_lines)
    if by_shape:
        lines = _drop_furniture(lines, chrome.edge_lines if chrome is not None else set(), title)
    blocks = _blocks(lines)
    if by_shape:
        blocks = _trim_chrome(blocks)
        blocks = [part for block in blocks for part in _split_headings(block, title)]
    return "\n\n".join("\n".join(b) for b in blocks)


# -- page furniture by shape and repetition ---------------------------------------------------
# A breadcrumb trail: short crumbs separated (or ended) by ">", "›", "»" (「ホーム > 会議 > 第21回」,
# 「• TOP> • プレスリリース>」). Bullets before a crumb are the list it was rendered from.
_CRUMB_SEP = re.compile(r"\s*[>＞›»〉]\s*")
_BULLET = re.compile(r"^[\s•・●■◆▶►*\-]+")
CRUMB_MAX = 30
LONE_WORD = re.compile(r"[A-Z][a-z]{1,11}")  # a button label: "Share", "Tweet", "Print"


def _norm(line: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", line))


def is_breadcrumb(line: str) -> bool:
    s = line.strip()
    if not _CRUMB_SEP.search(s) or "。" in s or len(s) > 200:
        return False
    crumbs = [_BULLET.sub("", c).strip() for c in _CRUMB_SEP.split(s)]
    trailing = not crumbs[-1]
    crumbs = [c for c in crumbs if c]
    if not crumbs or (len(crumbs) < 2 and not trailing):
        return False
    # Every crumb a short name with a letter in it ("1 > 0" is arithmetic, not a trail).
    return all(len(c) <= CRUMB_MAX and not has_terminator(c) and re.search(r"[^\W\d_]", c) for c in crumbs)


def _is_prose(line: str) -> bool:
    s = line.strip()
    return "。" in s or (s.endswith((".", "．")) and len(s) > 20)


def _japanese(lines: list[str]) -> bool:
    sample = "".join(lines)[:4000]
    ja = sum(1 for ch in sample if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff")
    return ja > len(sample) * 0.1


def _drop_furniture(lines: list[str], shared: set[str], title: str) -> list[str]:
    """Breadcrumbs, share and bookmark buttons, doubled lines and a title broken over two lines.

    - a breadcrumb line (by shape), or the list a trail was rendered from: the short lines of the
      first block that end in the page's own title;
    - in a Japanese page, a line that is one capitalised Latin word used nowhere else in the page
      ("Share", "Tweet": a button's label);
    - a line standing alone that other documents share (bookmark buttons, the site's section
      name) in the first half of the page, unless it titles prose below it;
    - a line repeating the line before it, or, before the running text starts, one repeating a
      line just above (the title, again after the date).
    """
    title_n = _norm(title) if title else ""
    out = _join_broken_title(lines, title_n) if title_n else list(lines)
    nonblank = [i for i, line in enumerate(out) if line.strip()]
    if not nonblank:
        return out
    half = nonblank[len(nonblank) // 2]
    first_prose = next((i for i in nonblank if _is_prose(out[i])), len(out))
    ja = _japanese(out)
    body = "\n".join(out)
    drop = _listed_trail(out, nonblank[0], title_n) if title_n else set()
    kept: list[int] = []
    for n, i in enumerate(nonblank):
        s = out[i].strip()
        following = next((out[j] for j in nonblank[n + 1:] if j not in drop), "")
        alone = (i == 0 or not out[i - 1].strip()) and (i + 1 == len(out) or not out[i + 1].strip())
        if i in drop:
            continue
        if is_breadcrumb(s):
            drop.add(i)
        elif ja and LONE_WORD.fullmatch(s) and body.count(s) == 1:
            drop.add(i)
        elif (s in shared and "|" not in s and not _is_prose(s) and not _is_title(s, title_n)
              and (i < first_prose or (alone and i <= half and not _is_prose(following)))):
            drop.add(i)
        elif kept and _norm(out[kept[-1]]) == _norm(s) and not _is_prose(s):
            drop.add(i)
        elif (i < first_prose and not _is_prose(s)
              and any(_norm(out[k]) == _norm(s) for k in kept[-4:])):
            drop.add(i)
        else:
            kept.append(i)
    return [line for i, line in enumerate(out) if i not in drop]


def _join_broken_title(lines: list[str], title_n: str) -> list[str]:
    """The title broken over two lines is one line."""
    out: list[str | None] = list(lines)
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        if a is None or b is None:
            continue
        a, b = a.strip(), b.strip()
        if a and b and _norm(a + b) == title_n and _norm(a) != title_n:
            out[i], out[i + 1] = a + b, None
    return [line for line in out if line is not None]


def _listed_trail(out: list[str], first: int, title_n: str) -> set[int]:
    """A trail rendered as a list: the first block's short lines up to the page's title."""
    end = first
    while end + 1 < len(out) and out[end + 1].strip():
        end += 1
    at = next((i for i in range(first + 1, end + 1) if _norm(out[i]) == title_n), None)
    if at is not None and all(len(out[i].strip()) <= CRUMB_MAX for i in range(first, at)):
        return set(range(first, at))
    return set()


HEADING_LINE_MAX = 40
TITLE_SHARE = 0.6  # a line that begins the title and is most of it is the title ("…(2017年5月)" aside)


def _is_title(line: str, title_n: str) -> bool:
    n = _norm(line)
    return bool(title_n) and bool(n) and title_n.startswith(n) and len(n) >= TITLE_SHARE * len(title_n)


def _titles_what_follows(line: str, title_n: str) -> bool:
    """A line shaped like a heading: short, no full stop, not a list item, table row, date or
    salutation ("Ladies and gentlemen,")."""
    s = line.strip()
    if _is_title(s, title_n):
        return True
    return (0 < len(s) <= HEADING_LINE_MAX and not has_terminator(s) and "|" not in s
            and not s.endswith((",", "、", ":", "：", "，")) and not _BULLET.match(s)
            and re.search(r"[^\W\d_]", s) is not None and date_line(s) is None)


def _split_headings(block: list[str], title: str) -> list[list[str]]:
    """A heading inside a block — a short line without a full stop right before a sentence, or the
    page's title as a line — becomes a block of its own, so it names the section of what follows
    and is never read as one of its sentences."""
    if len(block) < 2:
        return [block]
    title_n = _norm(title) if title else ""
    parts: list[list[str]] = []
    current: list[str] = []
    for j, line in enumerate(block):
        nxt = block[j + 1] if j + 1 < len(block) else None
        is_title = _is_title(line, title_n)
        if nxt is not None and (is_title or (_titles_what_follows(line, "") and _is_prose(nxt))):
            if current:
                parts.append(current)
            parts.append([line])
            current = []
        else:
            current.append(line)
    if current:
        parts.append(current)
    return parts


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
            and all(len(line.strip()) <= MENU_LINE_MAX and not _ends_sentence(line) for line in block))


def _ends_sentence(line: str) -> bool:
    # Menus contain brand names like "Fan!Fun!", so only a full stop marks prose here.
    s = line.rstrip()
    return "。" in s or s.endswith((".", "．"))


def _is_footer(block: list[str]) -> bool:
    # Any sentence punctuation, Japanese or Western, makes it prose ("It lasts ten years.").
    return (len(block) <= FOOTER_BLOCK_MAX_LINES
            and all(len(line.strip()) <= FOOTER_LINE_MAX and not has_terminator(line) for line in block))


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
        meta["lang"] = str(html["lang"]).split("-")[0].lower()
    date = _html_date(soup)
    if date:
        meta["date"] = date
    for node in soup.find_all(string=lambda s: isinstance(s, Comment)):
        node.extract()
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(role=_DROP_ROLES):
        tag.decompose()
    root = soup.find("main") or soup.find(role="main") or soup.body or soup
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
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(lines), meta


# Meta elements that carry a page's publication (or, failing that, modification) date.
_DATE_META = ("article:published_time", "og:published_time", "datepublished", "date", "dc.date",
              "dcterms.date", "dc.date.issued", "dcterms.issued", "pubdate", "publishdate",
              "article:modified_time", "dcterms.modified", "last-modified")


def _html_date(soup) -> str | None:
    """The page's date as written in its head (meta) or body (<time datetime>), unparsed."""
    metas = {}
    for tag in soup.find_all("meta"):
        key = (tag.get("property") or tag.get("name") or tag.get("itemprop") or "").strip().lower()
        if key in _DATE_META and tag.get("content") and key not in metas:
            metas[key] = tag["content"].strip()
    for key in _DATE_META:
        if key in metas:
            return metas[key]
    time = soup.find("time", attrs={"datetime": True})
    if time is not None:
        return time["datetime"].strip()
    return None


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

"""A document's date, as an ISO string ("2016-03-22", or "2017-09" / "2017" when the source gives
no more): from front matter `date`, from an HTML page's meta or <time> (read by `cleaning`), or
from a date the page states near its top.

A date "near the top" is a line that is a date and little else — 「平成28年3月22日」,
「2023.02.15(水)」, 「最終更新日:2020年6月30日」, "Last Updated: December 12, 2018",
"30 September 2018" — among the first lines, before the page's running text starts (an update
label may follow a short notice). A date inside a sentence is what the sentence is about, not when
the page was written, so it is never taken; the title's own date 「宇宙開発戦略本部(令和5年6月13日)」
is the last resort.
"""

import datetime as _dt
import re
import unicodedata

# First year of each era (元年 = 1).
ERAS = {"令和": 2019, "平成": 1989, "昭和": 1926, "大正": 1912, "明治": 1868}
MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], 1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
TOP_LINES = 25  # how far down a page a stated date is looked for
DATE_LINE_MAX = 40  # characters of a line that is "a date and little else"
PROSE_BEFORE_MAX = 3  # notice lines an update label may follow

_NUM = r"(\d{1,4}|元)"
_ERA = re.compile(r"(令和|平成|昭和|大正|明治)\s*" + _NUM + r"\s*年(?:\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?)?")
_KANJI = re.compile(r"(\d{4})\s*年(?:\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?)?")
_DOTTED = re.compile(r"(?<!\d)(\d{4})[./\-](\d{1,2})(?:[./\-](\d{1,2}))?(?![\d./])")
_MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December|" \
         r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
_DMY = re.compile(r"(?<!\d)(\d{1,2})\s+" + _MONTH + r",?\s+(\d{4})", re.I)
_MDY = re.compile(_MONTH + r"\s+(\d{1,2})(?:\s*[-–]\s*\d{1,2})?,?\s+(\d{4})", re.I)
_MY = re.compile(_MONTH + r",?\s+(\d{4})", re.I)
# What may stand beside a date on a date line: weekdays, times, an update label, brackets.
_LABEL = re.compile(r"最終更新日|更新日|更新|公開日|掲載日|発表日|作成日|発行日|日付|"
                    r"\b(?:last\s+updated?|updated|published|posted|date|released?)\b", re.I)


_TODAY = re.compile(r"(?:本日|今日|\bToday,?)\s*[、,]?\s*(.{6,24})", re.I)


def _iso(year: int, month: int | None = None, day: int | None = None) -> str | None:
    if not 1900 <= year <= 2200:
        return None
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        return _dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _int(s: str | None) -> int | None:
    return None if s is None else int(s)


def find_date(text: str) -> tuple[str, int, int] | None:
    """The first date in `text` as (ISO string, start, end), or None. Era dates (和暦) included."""
    text = unicodedata.normalize("NFKC", text)
    found: list[tuple[int, int, str]] = []
    for m in _ERA.finditer(text):
        n = 1 if m.group(2) == "元" else int(m.group(2))
        iso = _iso(ERAS[m.group(1)] + n - 1, _int(m.group(3)), _int(m.group(4)))
        if iso:
            found.append((m.start(), m.end(), iso))
    for m in _KANJI.finditer(text):
        if m.start() and text[m.start() - 1].isdigit():
            continue
        iso = _iso(int(m.group(1)), _int(m.group(2)), _int(m.group(3)))
        if iso:
            found.append((m.start(), m.end(), iso))
    for m in _DOTTED.finditer(text):
        iso = _iso(int(m.group(1)), int(m.group(2)), _int(m.group(3)))
        if iso:
            found.append((m.start(), m.end(), iso))
    for m in _DMY.finditer(text):
        iso = _iso(int(m.group(3)), MONTHS[m.group(2).lower()[:3]], int(m.group(1)))
        if iso:
            found.append((m.start(), m.end(), iso))
    for m in _MDY.finditer(text):
        iso = _iso(int(m.group(3)), MONTHS[m.group(1).lower()[:3]], int(m.group(2)))
        if iso:
            found.append((m.start(), m.end(), iso))
    for m in _MY.finditer(text):
        iso = _iso(int(m.group(2)), MONTHS[m.group(1).lower()[:3]])
        if iso:
            found.append((m.start(), m.end(), iso))
    if not found:
        return None
    # The earliest match; at one start the longest (most precise) one.
    start, end, iso = min(found, key=lambda f: (f[0], -(f[1] - f[0])))
    return iso, start, end


def parse_date(value) -> str | None:
    """A front matter or meta value (text, date or datetime) → ISO date string, or None."""
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return _iso(value)
    if not isinstance(value, str) or len(value) > 200:
        return None
    m = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})(?:[T ]|$)", value)
    if m:
        return _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    found = find_date(value)
    return found[0] if found else None


def date_line(line: str) -> str | None:
    """The date of a line that is a date and little else (「2023.02.15(水)」, 「平成28年3月22日」,
    「2024年6月14日更新」, "Last Updated: December 12, 2018"), else None."""
    s = unicodedata.normalize("NFKC", line).strip()
    if not s or len(s) > DATE_LINE_MAX or "。" in s:
        return None
    found = find_date(s)
    if found is None:
        return None
    iso, start, end = found
    rest = s[:start] + " " + s[end:]
    rest = _LABEL.sub(" ", rest)
    # Weekdays 「(水)」 "(Wed)", ranges 「〜7日(木)」 "-29", times, separators.
    rest = re.sub(r"[(（][^()（）]{1,4}[)）]", " ", rest)
    rest = re.sub(r"[~〜～\-–]\s*(\d{1,2}\s*月\s*)?\d{1,2}\s*日?", " ", rest)
    rest = re.sub(r"\d{1,2}:\d{2}", " ", rest)
    rest = re.sub(r"(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?", " ", rest, flags=re.I)
    rest = re.sub(r"[\s:：|/・,、.\-–~〜()（）\[\]【】<>＜＞•*]+", "", rest)
    return iso if not rest else None


def _is_prose(line: str) -> bool:
    s = line.strip()
    return "。" in s or (len(s) > DATE_LINE_MAX and s.endswith((".", "!", "?")))


def stated_date(text: str, title: str = "") -> str | None:
    """The date a page states near its top: the first date line among its first lines, before
    its running text (a labelled update date may follow a short notice); else a date its opening
    sentences give as today's (本日…, "Today, …"); else the title's date."""
    lines = [line for line in text.split("\n") if line.strip()][:TOP_LINES]
    prose = 0
    for line in lines:
        iso = date_line(line)
        if iso is not None and (prose == 0 or (prose <= PROSE_BEFORE_MAX and _LABEL.search(line))):
            return iso
        if _is_prose(line):
            prose += 1
            if prose > PROSE_BEFORE_MAX:
                break
    # A press release opens with what happened "today": 「本日2019年9月24日に会合を持ち」.
    for line in lines[:PROSE_BEFORE_MAX]:
        m = _TODAY.search(unicodedata.normalize("NFKC", line))
        if m:
            found = find_date(m.group(1))
            if found is not None and found[1] == 0 and len(found[0]) == 10:  # a whole date, not 2030年まで
                return found[0]
    found = find_date(title) if title else None
    return found[0] if found else None

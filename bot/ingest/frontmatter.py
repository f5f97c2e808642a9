"""Front matter is data from users' files: parsed as plain YAML scalars and mappings only.

YAML's anchors and aliases let a few hundred bytes stand for gigabytes once a value is turned
into text (the "billion laughs" shape), and tags can ask for arbitrary types. Neither has a use in
`title: …` lines, so both are refused while parsing, before any object is built; the block and
every value are size-capped, and the three fields the index keeps must be strings. A URL that is
not an absolute http(s) one (`javascript:`, `data:`, relative) is dropped with a warning: it ends
up as a link in the chat and the API.
"""

import logging
import re
from urllib.parse import urlsplit

import yaml

from bot.ingest.dates import parse_date

log = logging.getLogger(__name__)

MAX_FRONT_MATTER_BYTES = 8192
MAX_VALUE_CHARS = 2048
MAX_TITLE_CHARS = 300
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


class FrontMatterError(ValueError):
    """Why a file's front matter cannot be used (becomes the file's skip reason)."""


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader without aliases, anchors or explicit tags."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise FrontMatterError("front matter may not use YAML aliases (*name)")
        if getattr(event, "anchor", None) is not None:
            raise FrontMatterError("front matter may not use YAML anchors (&name)")
        if getattr(event, "tag", None) not in (None, "!"):
            raise FrontMatterError(f"front matter may not use YAML tags ({event.tag})")
        return super().compose_node(parent, index)


def parse_front_matter(block: str) -> dict:
    """The mapping in a front matter block, or FrontMatterError with the reason."""
    if len(block.encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
        raise FrontMatterError(f"front matter is larger than {MAX_FRONT_MATTER_BYTES} bytes")
    try:
        meta = yaml.load(block, Loader=_PlainLoader)  # _PlainLoader is a restricted SafeLoader
    except FrontMatterError:
        raise
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"front matter is not valid YAML ({exc.__class__.__name__})") from None
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise FrontMatterError("front matter must be a mapping of key: value lines")
    for key, value in meta.items():
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            raise FrontMatterError(f"front matter value {str(key)[:40]!r} is longer than "
                                   f"{MAX_VALUE_CHARS} characters")
    return validate_metadata(meta)


def validate_metadata(meta: dict) -> dict:
    """title / url / lang as the index keeps them: strings, bounded, http(s) URLs only."""
    out: dict = {}
    for key in ("title", "url", "source", "lang"):
        value = meta.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise FrontMatterError(f"front matter {key!r} must be text (quote it), "
                                   f"not {type(value).__name__}")
        value = value.strip()
        if value:
            out[key] = value
    if len(out.get("title", "")) > MAX_TITLE_CHARS:
        raise FrontMatterError(f"front matter 'title' is longer than {MAX_TITLE_CHARS} characters")
    if "lang" in out and not _LANG.match(out["lang"]):
        raise FrontMatterError(f"front matter 'lang' must be a language code such as ja or en, "
                               f"not {out['lang'][:20]!r}")
    if meta.get("date") is not None:
        # A date YAML read as a date, or text such as 2023.02.15 or 平成28年3月22日; one that
        # cannot be read is dropped (the page's own date, if it states one, is used instead).
        date = parse_date(meta["date"])
        if date:
            out["date"] = date
        else:
            log.warning("front matter date %r ignored: not a date", str(meta["date"])[:40])
    url = out.pop("url", None) or out.pop("source", None)
    out.pop("source", None)
    if url is not None:
        if is_web_url(url):
            out["url"] = url
        else:
            # The document is still worth answering from; only the link is refused.
            log.warning("front matter url %r ignored: only absolute http(s) URLs are kept", url[:80])
    return out


def is_web_url(url: str) -> bool:
    """An absolute http(s) URL with a host and no whitespace or control characters."""
    if len(url) > MAX_VALUE_CHARS or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def html_metadata(meta: dict) -> dict:
    """A page's <title>, canonical link and lang, kept only where they are what they claim:
    a relative or javascript: canonical link is dropped, not served as the document's URL."""
    out = {}
    title = str(meta.get("title") or "").strip()
    if title:
        out["title"] = title[:MAX_TITLE_CHARS]
    url = str(meta.get("url") or "").strip()
    if url and is_web_url(url):
        out["url"] = url
    lang = str(meta.get("lang") or "").strip()
    if lang and _LANG.match(lang):
        out["lang"] = lang
    date = parse_date(meta.get("date"))
    if date:
        out["date"] = date
    return out

"""What the browser tests share: Debian's Chromium and its arguments, a watch on each page for
dialogs and console errors, waits that the page's CSP allows, the contrast measurement, and the
app on the fake embedder that the UI tests drive. The `browser` fixture is in
tests/system/browser/conftest.py."""

import os
from pathlib import Path

from fakes import FakeEmbedder
from web_helpers import ADMIN_TOKEN, SEED_CORPUS, make_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
TIMEOUT_MS = 60_000


class Watch:
    """Everything the page must never do: open a dialog, log an error, break the CSP."""

    def __init__(self, page) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def check(self) -> None:
        assert self.dialogs == [], f"a dialog fired: {self.dialogs}"
        assert self.errors == [], f"console errors: {self.errors}"


class Pages:
    """The browser contexts a test opens and a Watch on each of their pages; `close` closes them
    and fails on any dialog or console error seen."""

    def __init__(self) -> None:
        self.contexts: list = []
        self.watches: list[Watch] = []

    def new(self, context):
        page = context.new_page()
        watch = Watch(page)
        self.watches.append(watch)
        return page, watch

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        for watch in self.watches:
            watch.check()


def ask(page, question: str, nth: int):
    """Type a question, press Enter, wait for the nth bot turn (1-based) and return it."""
    box = page.locator("#question")
    box.fill(question)
    box.press("Enter")
    turn = page.locator("article.turn-bot").nth(nth - 1)
    turn.wait_for()
    return turn


def shots_dir(tmp_path) -> Path:
    folder = Path(os.environ.get("SHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wait_until(page, expression, timeout_ms=10_000):
    """page.wait_for_function evaluates a string, which the page's CSP (rightly) forbids."""
    for _ in range(timeout_ms // 50):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"still false after {timeout_ms} ms: {expression}")


_CONTRAST_SETUP = """([textSelectors, borderSelectors]) => {
  const parse = c => {
    const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const bgOf = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const out = {};
  for (const sel of textSelectors) {
    const el = document.querySelector(sel); if (!el) { out[sel] = 'missing'; continue; }
    out[sel] = ratio(parse(getComputedStyle(el).color), bgOf(el));
  }
  for (const sel of borderSelectors) {
    const el = document.querySelector(sel); if (!el) { out[sel] = 'missing'; continue; }
    out['border ' + sel] = ratio(parse(getComputedStyle(el).borderTopColor), bgOf(el.parentElement));
  }
"""
_CONTRAST_PLACEHOLDER = """  const q = document.getElementById('question');
  out['placeholder'] = ratio(parse(getComputedStyle(q, '::placeholder').color), bgOf(q));
"""
_CONTRAST_END = """  return out;
}"""
CONTRAST_JS = _CONTRAST_SETUP + _CONTRAST_PLACEHOLDER + _CONTRAST_END
# Pages without the composer (the document page) have no placeholder to measure.
CONTRAST_JS_NO_COMPOSER = _CONTRAST_SETUP + _CONTRAST_END


def fake_app(index_dir, data_dir, tokenizer, **overrides):
    from types import SimpleNamespace

    from web.app import create_app
    settings = make_settings(SEED_CORPUS, index_dir, model="fake-bigram", admin_token=ADMIN_TOKEN,
                             data_dir=data_dir, **overrides)
    # The fake embedder's cosines mean nothing to the refusal model: the page is under test here,
    # so every suggestion counts as answered (tests/unit/ingest/test_page_noise.py checks the real check).
    return create_app(settings, embedder=FakeEmbedder(), tokenizer=tokenizer,
                      suggestion_ask=lambda engine, question: SimpleNamespace(state="answered"))

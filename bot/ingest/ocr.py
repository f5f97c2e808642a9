"""OCR of a page image with Tesseract 5 (Debian's `tesseract-ocr`, `tesseract-ocr-jpn`,
`tesseract-ocr-jpn-vert`, through pytesseract). Horizontal Japanese first; a page read poorly
that way is read again as vertical text (jpn_vert) and the better reading is kept.

`OcrEngine` is what `bot.ingest.pdf` needs; tests pass their own.
"""

import shutil
import subprocess
from dataclasses import dataclass
from typing import Protocol

INSTALL_HINT = "apt-get install tesseract-ocr tesseract-ocr-jpn tesseract-ocr-jpn-vert"
# Below this mean word confidence the horizontal reading is tried as vertical text too.
RETRY_VERTICAL_BELOW = 75.0


@dataclass
class OcrWord:
    text: str
    conf: float  # 0–100
    box: tuple[float, float, float, float]  # left, top, right, bottom in image pixels


@dataclass
class OcrPage:
    paragraphs: list[list[list[OcrWord]]]  # paragraph → line → words, in reading order
    vertical: bool
    confidence: float  # mean word confidence, 0–100


class OcrEngine(Protocol):
    def unavailable(self) -> str | None:
        """None when pages can be read, else why not (with the install command)."""

    def read(self, image) -> OcrPage: ...


class Tesseract:
    def __init__(self, timeout: float = 60.0, command: str = "tesseract") -> None:
        self.timeout = timeout
        self.command = command
        self._checked: tuple[str | None] | None = None  # `unavailable`'s answer, once asked

    def unavailable(self) -> str | None:
        if self._checked is None:
            self._checked = (self._check(),)
        return self._checked[0]

    def _check(self) -> str | None:
        if shutil.which(self.command) is None:
            return f"Tesseract is not installed (install with: {INSTALL_HINT})"
        try:
            out = subprocess.run([self.command, "--list-langs"], capture_output=True, text=True,
                                 timeout=20).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            return f"Tesseract does not run ({exc}); install with: {INSTALL_HINT}"
        missing = [lang for lang in ("jpn", "jpn_vert") if lang not in out.split()]
        if missing:
            return f"Tesseract lacks the {', '.join(missing)} data (install with: {INSTALL_HINT})"
        return None

    def read(self, image) -> OcrPage:
        page = self._read(image, "jpn", "--psm 3", vertical=False)
        if page.confidence < RETRY_VERTICAL_BELOW:
            vertical = self._read(image, "jpn_vert", "--psm 5", vertical=True)
            if vertical.confidence > page.confidence:
                return vertical
        return page

    def _read(self, image, lang: str, config: str, vertical: bool) -> OcrPage:
        import pytesseract
        data = pytesseract.image_to_data(image, lang=lang, config=config, timeout=self.timeout,
                                         output_type=pytesseract.Output.DICT)
        paragraphs: dict[tuple, dict[tuple, list[OcrWord]]] = {}
        confs = []
        for i, text in enumerate(data["text"]):
            text = (text or "").strip()
            conf = float(data["conf"][i])
            if not text or conf < 0:
                continue
            key = (data["block_num"][i], data["par_num"][i])
            line = key + (data["line_num"][i],)
            left, top = data["left"][i], data["top"][i]
            box = (left, top, left + data["width"][i], top + data["height"][i])
            paragraphs.setdefault(key, {}).setdefault(line, []).append(OcrWord(text, conf, box))
            confs.append(conf)
        ordered = [list(lines.values()) for lines in paragraphs.values()]
        return OcrPage(ordered, vertical, sum(confs) / len(confs) if confs else 0.0)

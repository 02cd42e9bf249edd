"""Fonts for printed documents, and the one place where report text meets a font.

Text is printed in reportlab's built-in Helvetica (nothing to embed, fast, the house look).
Helvetica's WinAnsi encoding (Windows code page 1252) covers Western European letters only,
so a name such as "Łukasz", "Ştefan", "Jiří Dvořák" or any Greek or Cyrillic text would print
as black boxes. Every run of characters Helvetica cannot encode is printed instead in DejaVu
Sans (DejaVu Sans Bold where the text is bold), shipped in ``resources/fonts/`` and embedded
in the PDF as a subset of the glyphs used. The fonts are registered the first time such a run
is met, so a document in Latin-1 text never loads or embeds them.

A character DejaVu Sans has no glyph for either (Chinese, most pictographs) prints as "?";
a zero-width mark it has no glyph for (an emoji variation selector or skin tone, a joiner)
is dropped. Text is put in Unicode normal form C first, so a letter typed as a base letter
plus a combining accent prints as the single accented letter.

Use :func:`markup` for Paragraph text, :func:`plain` to ask whether a string can be handed
to reportlab as it is (a table cell), :func:`text_width` / :func:`fit_text` to measure, and
:func:`draw_string` to draw on a canvas.
"""

from __future__ import annotations

import threading
import unicodedata
from typing import Any, Literal
from xml.sax.saxutils import escape

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase.pdfmetrics import registerFont, stringWidth
from reportlab.pdfbase.ttfonts import TTFont

from app.core.resources import resource_path

# reportlab's built-in Type 1 fonts: nothing to embed, nothing to ship.
FONT = "Helvetica"
FONT_BOLD = "Helvetica-Bold"
FONT_ITALIC = "Helvetica-Oblique"
FONT_BOLD_ITALIC = "Helvetica-BoldOblique"

# The embedded fallback for what Helvetica cannot print (there is no italic: italic text
# falls back to the upright face).
UNICODE_FONT = "CareCoordDejaVuSans"
UNICODE_FONT_BOLD = "CareCoordDejaVuSans-Bold"
UNICODE_FONT_FILES = {UNICODE_FONT: "DejaVuSans.ttf", UNICODE_FONT_BOLD: "DejaVuSans-Bold.ttf"}

_BOLD_FONTS = frozenset({FONT_BOLD, FONT_BOLD_ITALIC, UNICODE_FONT_BOLD})
# Helvetica's encoding in reportlab (WinAnsiEncoding) is code page 1252.
_ENCODING = "cp1252"
MISSING = "?"

Align = Literal["left", "right", "centre"]

_lock = threading.Lock()
_glyphs: frozenset[int] | None = None


def ensure_unicode_fonts() -> frozenset[int]:
    """Register DejaVu Sans and DejaVu Sans Bold with reportlab (once per process); returns
    the code points the regular face has glyphs for. StorageError if the files are missing."""
    global _glyphs
    if _glyphs is not None:
        return _glyphs
    with _lock:
        if _glyphs is None:
            fonts = {
                name: TTFont(name, str(resource_path("fonts", file)))
                for name, file in UNICODE_FONT_FILES.items()
            }
            for font in fonts.values():
                registerFont(font)
            # one family, so a <b> inside the regular face (or a bold style) picks the bold
            family = UNICODE_FONT.lower()
            addMapping(family, 0, 0, UNICODE_FONT)
            addMapping(family, 0, 1, UNICODE_FONT)
            addMapping(family, 1, 0, UNICODE_FONT_BOLD)
            addMapping(family, 1, 1, UNICODE_FONT_BOLD)
            regular = set(fonts[UNICODE_FONT].face.charToGlyph)
            bold = set(fonts[UNICODE_FONT_BOLD].face.charToGlyph)
            _glyphs = frozenset(regular & bold)
    return _glyphs


def _helvetica_can(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode(_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def plain(text: str) -> str | None:
    """``text`` ready to draw in Helvetica as it is, or None when it needs the fallback font.

    ASCII comes back unchanged (the fast path every ordinary report takes); other text comes
    back in normal form C when Helvetica can print all of it."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFC", text)
    return text if _helvetica_can(text) else None


def _dropped(ch: str) -> bool:
    """A zero-width mark that is better left out than printed as '?' when there is no glyph."""
    return unicodedata.category(ch) in ("Mn", "Me", "Cf") or 0x1F3FB <= ord(ch) <= 0x1F3FF


def runs(text: str) -> list[tuple[str, bool]]:
    """``text`` split into (run, in_fallback) pieces: Helvetica runs and DejaVu Sans runs.

    Characters neither font can print become '?' (zero-width marks are dropped)."""
    ready = plain(text)
    if ready is not None:
        return [(ready, False)] if ready else []
    glyphs = ensure_unicode_fonts()
    text = unicodedata.normalize("NFC", text)
    pieces: list[tuple[str, bool]] = []
    current: list[str] = []
    current_fallback = False
    for ch in text:
        if _helvetica_can(ch):
            fallback = False
        elif ord(ch) in glyphs and ord(ch) <= 0xFFFF:
            fallback = True
        elif _dropped(ch):
            continue
        else:
            ch, fallback = MISSING, False
        if fallback != current_fallback and current:
            pieces.append(("".join(current), current_fallback))
            current = []
        current_fallback = fallback
        current.append(ch)
    if current:
        pieces.append(("".join(current), current_fallback))
    return pieces


def fallback_font(font: str) -> str:
    """The embedded font that stands in for ``font``: bold for a bold face."""
    return UNICODE_FONT_BOLD if font in _BOLD_FONTS else UNICODE_FONT


def _escape_line(line: str, font: str) -> str:
    if _helvetica_can(line):  # already in normal form C (done once per text by markup)
        return escape(line)
    name = fallback_font(font)
    return "".join(
        f'<font name="{name}">{escape(run)}</font>' if fallback else escape(run)
        for run, fallback in runs(line)
    )


def markup(text: str, font: str = FONT) -> str:
    """User text made safe for a Paragraph whose style uses ``font``: XML escaped, line breaks
    kept, and runs Helvetica cannot print wrapped in ``<font name="…">`` for DejaVu Sans
    (bold when ``font`` is bold)."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br/>".join(_escape_line(line, font) for line in lines)


def text_width(text: str, font: str, size: float) -> float:
    """Width in points of ``text`` as :func:`draw_string` prints it."""
    ready = plain(text)
    if ready is not None:
        return float(stringWidth(ready, font, size))
    alt = fallback_font(font)
    return float(sum(stringWidth(run, alt if fb else font, size) for run, fb in runs(text)))


def fit_text(text: str, font: str, size: float, width: float) -> str:
    """Shorten ``text`` with an ellipsis so it fits in ``width`` points on one line."""
    if text_width(text, font, size) <= width:
        return text
    while text and text_width(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def draw_string(
    canvas: Any, x: float, y: float, text: str, font: str, size: float, align: Align = "left"
) -> None:
    """Draw one line of text on a canvas in ``font`` at ``size``, anchored at ``x`` on its
    left, right or centre; runs Helvetica cannot print are drawn in DejaVu Sans. Leaves the
    canvas's font set to ``font``."""
    canvas.setFont(font, size)
    ready = plain(text)
    if ready is not None:
        if align == "right":
            canvas.drawRightString(x, y, ready)
        elif align == "centre":
            canvas.drawCentredString(x, y, ready)
        else:
            canvas.drawString(x, y, ready)
        return
    alt = fallback_font(font)
    pieces = [(run, alt if fb else font) for run, fb in runs(text)]
    total = sum(stringWidth(run, name, size) for run, name in pieces)
    if align == "right":
        x -= total
    elif align == "centre":
        x -= total / 2
    # one text object, so the runs are one string to a reader (and to copy and paste)
    text_object = canvas.beginText(x, y)
    for run, name in pieces:
        text_object.setFont(name, size)
        text_object.textOut(run)
    canvas.drawText(text_object)
    canvas.setFont(font, size)

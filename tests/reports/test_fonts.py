"""Text Helvetica cannot print goes to the embedded DejaVu Sans, and only that text."""

from __future__ import annotations

import io

from reportlab.pdfgen.canvas import Canvas

from app.core.resources import resource_path
from app.reports.fonts import (
    FONT,
    FONT_BOLD,
    FONT_ITALIC,
    UNICODE_FONT,
    UNICODE_FONT_BOLD,
    UNICODE_FONT_FILES,
    Align,
    draw_string,
    ensure_unicode_fonts,
    fit_text,
    markup,
    plain,
    runs,
    text_width,
)
from tests.reports.factories import page_texts

NAMES = ("Łukasz Wójcik", "Ştefan", "Jiří Dvořák", "Zoë Ó'Brien-Ćirić", "Αλέξης", "Дмитрий")


def test_the_fonts_and_their_licence_are_shipped_in_resources() -> None:
    for file in UNICODE_FONT_FILES.values():
        path = resource_path("fonts", file)
        assert path.read_bytes()[:4] == b"\x00\x01\x00\x00"  # a TrueType font
    licence = resource_path("fonts", "LICENSE-DejaVu.txt").read_text(encoding="utf-8")
    assert "Bitstream Vera Fonts Copyright" in licence
    assert "DejaVu changes are in public domain" in licence
    glyphs = ensure_unicode_fonts()
    assert {ord(c) for c in "ŁłşřčćĆΑλДи"} <= glyphs


def test_ascii_and_western_european_text_stays_in_helvetica() -> None:
    assert plain("Margaret Testperson") == "Margaret Testperson"
    assert plain("Zoë Ó'Brien — café €5 …") == "Zoë Ó'Brien — café €5 …"
    assert plain("Zoe\u0308") == "Zoë"  # a combining diaeresis becomes the one letter
    assert markup("Zoë Ó'Brien") == "Zoë Ó'Brien"
    assert runs("Zoë") == [("Zoë", False)]
    assert plain("Łukasz") is None


def test_markup_escapes_and_wraps_only_the_runs_helvetica_cannot_print() -> None:
    assert markup("a < b & c\nnext") == "a &lt; b &amp; c<br/>next"
    regular = f'<font name="{UNICODE_FONT}">'
    bold = f'<font name="{UNICODE_FONT_BOLD}">'
    assert markup("Łukasz <Wójcik> & Jiří") == (
        f"{regular}Ł</font>ukasz &lt;Wójcik&gt; &amp; Ji{regular}ř</font>í"
    )
    assert markup("Łukasz", FONT_BOLD) == f"{bold}Ł</font>ukasz"
    assert markup("Łukasz", FONT_ITALIC) == f"{regular}Ł</font>ukasz"  # no italic: upright
    assert markup("Дима\r\nЖ&") == f"{regular}Дима</font><br/>{regular}Ж</font>&amp;"


def test_characters_no_font_has_print_as_a_question_mark() -> None:
    # ♥ is in DejaVu Sans; 中 is not; 😀 is outside the Basic Multilingual Plane (reportlab
    # cannot map it back to text for copy and paste); a skin tone modifier is dropped.
    assert runs("♥ 中 😀 👍🏽 ab") == [("♥", True), (" ? ? ? ab", False)]


def test_widths_and_fitting_measure_each_run_in_its_own_font() -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    ensure_unicode_fonts()
    expected = stringWidth("Ł", UNICODE_FONT, 9) + stringWidth("ukasz", FONT, 9)
    assert text_width("Łukasz", FONT, 9) == expected
    assert text_width("Łukasz", FONT_BOLD, 9) == (
        stringWidth("Ł", UNICODE_FONT_BOLD, 9) + stringWidth("ukasz", FONT_BOLD, 9)
    )
    long = "Łukasz Wójcik " * 20
    cut = fit_text(long, FONT, 8, 100)
    assert cut.endswith("…")
    assert text_width(cut, FONT, 8) <= 100


def test_canvas_strings_print_exactly_whatever_the_alignment() -> None:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    aligns: tuple[Align, ...] = ("left", "right", "centre") * 2
    for i, (name, align) in enumerate(zip(NAMES, aligns, strict=True)):
        draw_string(canvas, 300, 700 - 20 * i, f"Printed by {name} now", FONT, 9, align)
    canvas.showPage()
    canvas.save()
    text = page_texts(buffer.getvalue())[0]
    for name in NAMES:
        assert f"Printed by {name} now" in text

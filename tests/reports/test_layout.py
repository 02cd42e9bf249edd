"""Shared page layout helpers and the smoke-test page."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

from pypdf import PdfReader

from app.reports.layout import (
    fit_text,
    format_day,
    format_nhs_number,
    format_time,
    markup,
)
from app.reports.smoke import render_smoke_pdf
from tests.reports.factories import page_texts


def test_nhs_number_is_grouped_3_3_4() -> None:
    assert format_nhs_number("9434765919") == "943 476 5919"
    assert format_nhs_number("943 476 5919") == "943 476 5919"
    assert format_nhs_number("12345") == "12345"  # not a full number: shown as given


def test_times_are_shown_in_london_time_with_the_zone() -> None:
    assert format_time(datetime(2026, 1, 5, 14, 5, tzinfo=UTC)) == "05/01/2026 14:05 GMT"
    assert format_time(datetime(2026, 7, 5, 14, 5, tzinfo=UTC)) == "05/07/2026 15:05 BST"
    assert format_time(datetime(2026, 7, 5, 14, 5, tzinfo=UTC), zone=False) == "05/07/2026 15:05"
    # The night the clocks go back: 01:30 happens twice, the zone tells them apart.
    assert format_time(datetime(2026, 10, 25, 0, 30, tzinfo=UTC)) == "25/10/2026 01:30 BST"
    assert format_time(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == "25/10/2026 01:30 GMT"


def test_days_print_as_dd_mm_yyyy() -> None:
    assert format_day(date(2026, 3, 9)) == "09/03/2026"
    assert format_day(None) == "—"


def test_user_text_is_escaped_and_keeps_line_breaks() -> None:
    assert markup("a < b & c\nnext") == "a &lt; b &amp; c<br/>next"
    assert markup("one\r\ntwo") == "one<br/>two"


def test_fit_text_shortens_with_an_ellipsis() -> None:
    assert fit_text("short", "Helvetica", 8, 200) == "short"
    long = "A very long name " * 20
    cut = fit_text(long, "Helvetica", 8, 100)
    assert cut.endswith("…")
    assert len(cut) < len(long)


def test_smoke_page_renders_one_marked_page(tmp_path: Path) -> None:
    out = tmp_path / "smoke.pdf"
    when = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert render_smoke_pdf(out, now=when) == 1
    pdf = out.read_bytes()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    text = page_texts(pdf)[0]
    assert "CareCoord smoke test" in text
    assert "Łukasz, Ştefan, Jiří" in text  # the bundled fonts were found and embedded
    assert b"DejaVuSans" in pdf
    assert "Page 1 of 1" in text
    assert "Printed by CareCoord at 23/11/2026 09:00 GMT" in text
    assert [p.name for p in tmp_path.iterdir()] == ["smoke.pdf"]


def test_smoke_page_without_a_time_uses_now(tmp_path: Path) -> None:
    assert render_smoke_pdf(tmp_path / "s.pdf") == 1

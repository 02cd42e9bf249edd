"""The weekly team summary PDF: figures as given, aggregate unless the appendix is asked for."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.reports.data import NamedOverdue, PostDischarge, WeeklySummary
from app.reports.layout import NHS_GREEN, NHS_RED, NHS_WARM_YELLOW
from app.reports.weekly_pdf import _rag, render_weekly_pdf
from tests.reports.factories import make_weekly, page_texts, render_bytes


def _render(summary: WeeklySummary, **kwargs: object) -> tuple[bytes, int]:
    return render_bytes(render_weekly_pdf, summary, **kwargs)


def _text(summary: WeeklySummary) -> str:
    """All pages' text with runs of whitespace collapsed (cells wrap differently)."""
    return " ".join(" ".join(page_texts(_render(summary)[0])).split())


def test_aggregate_summary_is_marked_official_on_every_page() -> None:
    pdf, pages = _render(make_weekly())
    texts = page_texts(pdf)
    assert len(texts) == pages
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {pages}" in text
        assert text.count("OFFICIAL") == 2
        assert "OFFICIAL-SENSITIVE" not in text
        assert "Printed by CareCoord at 23/11/2026 07:00 GMT" in text
        assert "Data as of 23/11/2026 07:00 GMT" in text


def test_with_the_appendix_every_page_is_marked_personal() -> None:
    pdf, pages = _render(make_weekly(with_appendix=True), printed_by="Team Lead Example")
    for number, text in enumerate(page_texts(pdf), start=1):
        assert text.count("OFFICIAL-SENSITIVE: PERSONAL") == 2
        assert f"Page {number} of {pages}" in text
        assert "Printed by Team Lead Example" in text


def test_title_names_the_iso_week_and_its_dates() -> None:
    first_page = page_texts(_render(make_weekly())[0])[0]
    assert "Weekly team summary" in first_page
    assert "Week 2026-W47: Monday 16 November 2026 to Sunday 22 November 2026" in first_page


def test_headline_figures_match_the_summary() -> None:
    text = _text(make_weekly())
    assert "81.3%" in text  # contacted within 48 hours
    assert "Just below the 84% target. 13 of 16 in time." in text
    assert "12.5%" in text  # readmission rate
    assert "3 of 24 discharges" in text
    assert "Open caseload 143" in text
    assert "Referrals made 17" in text
    assert "14 into non-clinical services" in text  # LAC + FCP + befriending + social prescribing


def test_detail_figures_match_the_summary() -> None:
    text = _text(make_weekly())
    for phrase in (
        "Discharges this week 19",
        "Contacted within 48 hours (met) 13",
        "Not contacted within 48 hours (missed) 3",
        "Clock still running (pending) 2",
        "Readmitted or died first (excluded) 1",
        "Opened this week 7",
        "Closed this week 4",
        "Needs assessments completed 9",
        "Reviews due 6",
        "Carers identified 5",
        "Carer's assessment offered 3",
        "Meetings held 2",
        "MDT actions open 11",
        "Post-discharge calls past their 48 hours 2",
        "Referrals waiting for a reply 4",
        "All overdue tasks in the queue 8",
        "Accepted 5",
    ):
        assert phrase in text, phrase


def test_caseload_table_by_coordinator_and_level() -> None:
    text = _text(make_weekly())
    assert "Coordinator Essential Expert Enhanced Total" in text
    assert "Ravi Coordinator 0 30 25 55" in text
    assert "Sam Coordinator 10 22 31 63" in text
    assert "All coordinators 15 52 76 143" in text


def test_referrals_are_labelled_in_plain_english() -> None:
    text = _text(make_weekly())
    for label in ("Local Area Coordinator", "First Contact Plus", "Social prescribing link worker"):
        assert label in text
    assert "FIRST_CONTACT_PLUS" not in text
    assert "SOCIAL_PRESCRIBING" not in text


def test_trend_chart_labels_the_weeks_and_the_target() -> None:
    text = _text(make_weekly())
    assert "W36" in text and "W47" in text
    assert "Target 84%" in text


def test_no_patient_names_without_the_appendix_and_present_with_it() -> None:
    with_appendix = make_weekly(with_appendix=True)
    assert with_appendix.named_appendix
    without = replace(with_appendix, named_appendix=None)
    aggregate = _text(without)
    named = _text(with_appendix)
    for entry in with_appendix.named_appendix:
        assert entry.patient_name not in aggregate
        assert entry.patient_name in named
        formatted = f"{entry.nhs_number[:3]} {entry.nhs_number[3:6]} {entry.nhs_number[6:]}"
        assert formatted not in aggregate
        assert formatted in named
    assert "no patient is named in this report" in aggregate
    assert "Appendix: overdue work by patient" in named
    assert "Post-discharge call 21/11/2026 15:00" in named


def test_an_appendix_asked_for_but_empty_says_nothing_is_overdue() -> None:
    text = _text(make_weekly(named_appendix=()))
    assert "Nothing is overdue." in text


def test_appendix_text_is_escaped() -> None:
    entry = NamedOverdue("A <b>&</b> Example", "9990000018", "Call <now>", datetime.now(UTC))
    text = _text(make_weekly(named_appendix=(entry,)))
    assert "A <b>&</b> Example" in text
    assert "Call <now>" in text


def test_a_week_with_no_discharges_prints_no_data_not_zero_percent() -> None:
    summary = make_weekly(post_discharge=PostDischarge(0, 0, 0, 0, 0, None))
    text = _text(summary)
    assert "No data" in text
    assert "0.0%" not in text


@pytest.mark.parametrize(
    ("pct", "colour"),
    [
        (84.0, NHS_GREEN),
        (97.5, NHS_GREEN),
        (83.9, NHS_WARM_YELLOW),
        (79.0, NHS_WARM_YELLOW),
        (78.9, NHS_RED),
        (0.0, NHS_RED),
    ],
)
def test_headline_colour_against_the_84_percent_target(pct: float, colour: object) -> None:
    assert _rag(pct, 84.0)[0] == colour


def test_identical_input_gives_identical_bytes(tmp_path: Path) -> None:
    first, _ = _render(make_weekly(with_appendix=True))
    second, _ = _render(make_weekly(with_appendix=True))
    assert first == second
    render_weekly_pdf(make_weekly(with_appendix=True), tmp_path / "week.pdf")
    assert (tmp_path / "week.pdf").read_bytes() == first


def test_document_date_is_the_as_of_time_unless_printed_later() -> None:
    pdf, _ = _render(make_weekly())
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert meta is not None
    assert meta.creation_date == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    later = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    pdf2, _ = _render(make_weekly(), printed_at=later)
    assert "Printed by CareCoord at 24/11/2026 12:00 GMT" in page_texts(pdf2)[0]
    assert "Data as of 23/11/2026 07:00 GMT" in page_texts(pdf2)[0]


def test_progress_is_reported_from_start_to_end() -> None:
    calls: list[tuple[int, int]] = []
    _render(make_weekly(), progress=lambda d, t: calls.append((d, t)))
    assert calls == [(0, 1), (1, 1)]


def test_coordinator_and_patient_names_outside_western_european_print_exactly() -> None:
    base = make_weekly(with_appendix=True)
    assert base.named_appendix is not None
    first, second = base.named_appendix
    summary = replace(
        base,
        caseload=replace(
            base.caseload,
            by_coordinator={"Ştefan Ţurcanu": {"Expert": 3}, "Sam Coordinator": {"Enhanced": 2}},
        ),
        named_appendix=(
            replace(first, patient_name="Jiří Dvořák"),
            replace(second, patient_name="Łukasz Wójcik"),
        ),
    )
    pdf, _ = _render(summary, printed_by="Zoë Ó'Brien-Ćirić")
    text = " ".join(" ".join(page_texts(pdf)).split())
    assert "Ştefan Ţurcanu 0 3 0 3" in text
    assert "Jiří Dvořák" in text
    assert "Łukasz Wójcik" in text
    for page in page_texts(pdf):
        assert "Printed by Zoë Ó'Brien-Ćirić at 23/11/2026 07:00 GMT" in page
    assert b"/FontFile2" in pdf


def test_an_ordinary_summary_embeds_no_font() -> None:
    pdf, _ = _render(make_weekly(with_appendix=True), printed_by="Zoë Ó'Brien")
    assert "Printed by Zoë Ó'Brien" in page_texts(pdf)[0]
    assert b"/FontFile2" not in pdf

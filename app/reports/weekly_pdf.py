"""The weekly team summary PDF: aggregate figures, with patient names only in an optional
appendix (and then the whole document is marked OFFICIAL-SENSITIVE: PERSONAL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from reportlab.lib import colors
from reportlab.lib.colors import Color
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer, Table
from reportlab.platypus.tables import TableStyle

from app.core.timeutil import to_local
from app.reports.charts import bar_chart, trend_chart
from app.reports.data import WeeklySummary
from app.reports.layout import (
    CONTENT_WIDTH,
    FONT_BOLD,
    GRID,
    NHS_DARK_BLUE,
    NHS_GREEN,
    NHS_MID_GREY,
    NHS_RED,
    NHS_TEXT,
    NHS_WARM_YELLOW,
    OFFICIAL,
    OFFICIAL_SENSITIVE_PERSONAL,
    PALE_BLUE,
    PageDecor,
    ProgressCallback,
    ProgressMark,
    ReportStyles,
    data_table,
    format_day,
    format_long_day,
    format_nhs_number,
    format_pct,
    format_time,
    make_styles,
    para,
    render_story,
    widths,
)

# Plain-English names of the service kinds of DESIGN.md section 4.3, in the order printed.
SERVICE_KIND_LABELS: dict[str, str] = {
    "LAC": "Local Area Coordinator",
    "FIRST_CONTACT_PLUS": "First Contact Plus",
    "BEFRIENDING": "Befriending",
    "SOCIAL_PRESCRIBING": "Social prescribing link worker",
    "ADULT_SOCIAL_CARE": "Adult Social Care",
    "COMMUNITY_NURSING": "Community nursing",
    "HOME_FIRST": "Home First",
    "THERAPY": "Therapy",
    "MENTAL_HEALTH": "Mental health",
    "CARERS_SUPPORT": "Carers' support",
    "OTHER": "Other services",
}
REFERRAL_STATUS_ORDER = (
    "draft",
    "sent",
    "acknowledged",
    "accepted",
    "declined",
    "no_response",
    "completed",
    "cancelled",
)
LEVEL_ORDER = ("Essential", "Expert", "Enhanced")
AMBER_MARGIN = 5.0  # points below target still shown amber rather than red


def render_weekly_pdf(
    summary: WeeklySummary,
    out: Path | BinaryIO,
    *,
    printed_by: str = "CareCoord",
    printed_at: datetime | None = None,
    progress: ProgressCallback | None = None,
) -> int:
    """Render the weekly team summary to ``out`` (a path or a binary stream); returns pages.

    Patient names appear only when ``summary.named_appendix`` is set, in an appendix at the
    end; the document is then marked OFFICIAL-SENSITIVE: PERSONAL instead of OFFICIAL.
    ``printed_at`` defaults to the summary's as-of time, so a report run with ``--as-of`` is
    byte-for-byte reproducible. ``progress(done, total)`` as for the MDT summary.
    """
    if progress is not None:
        progress(0, 1)
    styles = make_styles()
    story: list[Flowable] = []
    story += _title(summary, styles)
    story += _tiles(summary, styles)
    story += _trend(summary, styles)
    story += _discharges_and_caseload(summary, styles)
    story += _referrals(summary, styles)
    story += _other_work(summary, styles)
    named = summary.named_appendix is not None
    if summary.named_appendix is not None:
        story += _appendix(summary, styles)
    if progress is not None:
        story.append(ProgressMark(progress, 1, 1))
    decor = PageDecor(
        title=f"Weekly team summary — {summary.week}",
        classification=OFFICIAL_SENSITIVE_PERSONAL if named else OFFICIAL,
        printed_by=printed_by,
        printed_at=summary.as_of if printed_at is None else printed_at,
        data_as_of=summary.as_of,
        subject="Weekly team summary",
    )
    return render_story(story, decor, out)


def _rag(pct: float | None, target: float) -> tuple[Color, Color, str]:
    """(background, text colour, words) for a percentage against its target."""
    if pct is None:
        return NHS_MID_GREY, colors.white, f"No discharges to measure (target {target:g}%)."
    if pct >= target:
        return NHS_GREEN, colors.white, f"On target ({target:g}%)."
    if pct >= target - AMBER_MARGIN:
        return NHS_WARM_YELLOW, NHS_TEXT, f"Just below the {target:g}% target."
    return NHS_RED, colors.white, f"Below the {target:g}% target."


def _title(s: WeeklySummary, styles: ReportStyles) -> list[Flowable]:
    first = to_local(s.period.start).date()
    last = (to_local(s.period.end) - timedelta(microseconds=1)).date()
    marking = (
        "Aggregate figures, with a named appendix of overdue work (personal data)."
        if s.named_appendix is not None
        else "Aggregate figures: no patient is named in this report."
    )
    return [
        para("Weekly team summary", styles.title),
        para(
            f"Week {s.week}: {format_long_day(first)} to {format_long_day(last)}",
            styles.subtitle,
        ),
        Spacer(0, 2),
        para(f"Figures as of {format_time(s.as_of)}. {marking}", styles.small),
        Spacer(0, 10),
    ]


def _tile(
    label: str, value: str, note: str, width: float, bg: Color, fg: Color, styles: ReportStyles
) -> Table:
    label_style = ParagraphStyle("tile_label", parent=styles.small, textColor=fg)
    value_style = ParagraphStyle(
        "tile_value",
        parent=styles.body,
        fontName=FONT_BOLD,
        fontSize=22,
        leading=26,
        textColor=fg,
    )
    note_style = ParagraphStyle("tile_note", parent=styles.small, fontSize=8, textColor=fg)
    return Table(
        [[para(label, label_style)], [para(value, value_style)], [para(note, note_style)]],
        colWidths=[width],
        rowHeights=[24, 30, 26],
        style=TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), bg),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 7),
                ("RIGHTPADDING", (0, 0), (-1, -1), 7),
                ("TOPPADDING", (0, 0), (0, 0), 6),
            ]
        ),
    )


def _tiles(s: WeeklySummary, styles: ReportStyles) -> list[Flowable]:
    pd, ra, cl = s.post_discharge, s.readmissions_30d, s.caseload
    gap = 6.0
    w = (CONTENT_WIDTH - 3 * gap) / 4
    bg, fg, words = _rag(pd.pct_within_48h, pd.target_pct)
    tiles = [
        _tile(
            "Contacted within 48 hours of discharge",
            format_pct(pd.pct_within_48h, empty="No data"),
            words
            if pd.pct_within_48h is None
            else f"{words} {pd.met} of {pd.met + pd.missed} in time.",
            w,
            bg,
            fg,
            styles,
        ),
        _tile(
            "Readmitted within 30 days",
            format_pct(ra.rate_pct, empty="No data"),
            f"{ra.readmitted} of {ra.eligible} discharges with a closed 30-day window.",
            w,
            PALE_BLUE,
            NHS_DARK_BLUE,
            styles,
        ),
        _tile(
            "Open caseload",
            str(cl.open_episodes),
            f"{cl.opened} opened and {cl.closed} closed this week.",
            w,
            PALE_BLUE,
            NHS_DARK_BLUE,
            styles,
        ),
        _tile(
            "Referrals made",
            str(s.referrals.made),
            f"{_non_clinical(s.referrals.by_service_kind)} into non-clinical services.",
            w,
            PALE_BLUE,
            NHS_DARK_BLUE,
            styles,
        ),
    ]
    row: list[Any] = []
    for i, tile in enumerate(tiles):
        row.append(tile)
        if i < len(tiles) - 1:
            row.append("")
    outer = Table(
        [row],
        colWidths=[w, gap, w, gap, w, gap, w],
        hAlign="LEFT",
        style=TableStyle(
            [("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]
        ),
    )
    return [outer, Spacer(0, 6)]


def _non_clinical(by_kind: Mapping[str, int]) -> int:
    """Referrals to LACs, First Contact Plus, befriending and social prescribing (seed 000)."""
    return sum(
        by_kind.get(k, 0)
        for k in ("LAC", "FIRST_CONTACT_PLUS", "BEFRIENDING", "SOCIAL_PRESCRIBING")
    )


def _trend(s: WeeklySummary, styles: ReportStyles) -> list[Flowable]:
    return [
        KeepTogether(
            [
                para("Contacted within 48 hours of discharge: the last 12 weeks", styles.h2),
                trend_chart(s.trend, target=s.post_discharge.target_pct, width=CONTENT_WIDTH),
                para(
                    "Percentage of discharges with a contact within 48 hours, of those met or"
                    " missed. Weeks with no such discharge are left blank.",
                    styles.small,
                ),
            ]
        )
    ]


def _figures(
    styles: ReportStyles, title: str, rows: Sequence[tuple[str, str]], width: float
) -> list[Flowable]:
    """A small titled table of label/figure pairs, ``width`` points wide."""
    table = Table(
        [[para(label, styles.cell), para(value, styles.cell_right)] for label, value in rows],
        colWidths=[width * 0.74, width * 0.26],
        hAlign="LEFT",
        style=TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, GRID),
                ("ROWBACKGROUNDS", (0, 0), (-1, -1), [colors.white, colors.HexColor("#F4F6F7")]),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        ),
    )
    return [para(title, styles.h3), table]


def _columns(blocks: Sequence[list[Flowable]], gap: float = 14.0) -> Table:
    """Blocks side by side, equal widths, top aligned."""
    n = len(blocks)
    w = (CONTENT_WIDTH - gap * (n - 1)) / n
    row: list[Any] = []
    col_widths: list[float] = []
    for i, block in enumerate(blocks):
        row.append(block)
        col_widths.append(w)
        if i < n - 1:
            row.append("")
            col_widths.append(gap)
    return Table(
        [row],
        colWidths=col_widths,
        hAlign="LEFT",
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )


def _half() -> float:
    return (CONTENT_WIDTH - 14.0) / 2


def _discharges_and_caseload(s: WeeklySummary, styles: ReportStyles) -> list[Flowable]:
    pd, ra, cl = s.post_discharge, s.readmissions_30d, s.caseload
    half = _half()
    left = _figures(
        styles,
        "Post-discharge follow-up",
        [
            ("Discharges this week", str(pd.discharges)),
            ("Contacted within 48 hours (met)", str(pd.met)),
            ("Not contacted within 48 hours (missed)", str(pd.missed)),
            ("Clock still running (pending)", str(pd.pending)),
            ("Readmitted or died first (excluded)", str(pd.excluded)),
            ("Contacted within 48 hours", format_pct(pd.pct_within_48h)),
            ("Target", f"{pd.target_pct:g}%"),
        ],
        half,
    )
    right = _figures(
        styles,
        "Readmissions within 30 days",
        [
            ("Discharges with a closed 30-day window", str(ra.eligible)),
            ("Readmitted within 30 days", str(ra.readmitted)),
            ("Readmission rate", format_pct(ra.rate_pct)),
        ],
        half,
    ) + _figures(
        styles,
        "Episodes",
        [
            ("Open at the end of the week", str(cl.open_episodes)),
            ("Opened this week", str(cl.opened)),
            ("Closed this week", str(cl.closed)),
        ],
        half,
    )
    return [
        KeepTogether(
            [para("Discharges, readmissions and episodes", styles.h2), _columns([left, right])]
        ),
        *_caseload_table(s, styles),
    ]


def _ordered(keys: Sequence[str], order: Sequence[str]) -> list[str]:
    known = [k for k in order if k in keys]
    return known + sorted(k for k in keys if k not in order)


def _caseload_table(s: WeeklySummary, styles: ReportStyles) -> list[Flowable]:
    cl = s.caseload
    levels = _ordered(
        list({*LEVEL_ORDER, *cl.by_level, *(lv for m in cl.by_coordinator.values() for lv in m)}),
        LEVEL_ORDER,
    )
    header = ["Coordinator", *levels, "Total"]
    rows: list[list[str]] = []
    for name in sorted(cl.by_coordinator, key=str.casefold):
        counts = cl.by_coordinator[name]
        rows.append([name, *(str(counts.get(lv, 0)) for lv in levels), str(sum(counts.values()))])
    rows.append(
        [
            "All coordinators",
            *(str(cl.by_level.get(lv, 0)) for lv in levels),
            str(sum(cl.by_level.values())),
        ]
    )
    name_w = 0.34
    rest = (1 - name_w) / (len(levels) + 1)
    table = data_table(
        styles,
        header,
        rows,
        widths(name_w, *([rest] * (len(levels) + 1))),
        right_align=range(1, len(levels) + 2),
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, -1), (-1, -1), FONT_BOLD),
                ("LINEABOVE", (0, -1), (-1, -1), 1, NHS_DARK_BLUE),
                ("BACKGROUND", (0, -1), (-1, -1), PALE_BLUE),
            ]
        )
    )
    return [
        KeepTogether(
            [
                para("Open caseload by coordinator and level", styles.h2),
                table,
            ]
        )
    ]


def _referrals(s: WeeklySummary, styles: ReportStyles) -> list[Flowable]:
    rf = s.referrals
    kinds = _ordered(list({*SERVICE_KIND_LABELS, *rf.by_service_kind}), list(SERVICE_KIND_LABELS))
    rows = [
        (SERVICE_KIND_LABELS.get(k, k.replace("_", " ").capitalize()), rf.by_service_kind.get(k, 0))
        for k in kinds
    ]
    chart_w = CONTENT_WIDTH * 0.62
    status_w = CONTENT_WIDTH - chart_w - 14
    statuses = _ordered(list(rf.by_status), REFERRAL_STATUS_ORDER)
    status_block = _figures(
        styles,
        "By status",
        [(k.replace("_", " ").capitalize(), str(rf.by_status[k])) for k in statuses]
        or [("No referrals", "0")],
        status_w,
    )
    chart_block: list[Flowable] = [
        para(f"By service ({rf.made} made this week)", styles.h3),
        bar_chart(rows, width=chart_w),
    ]
    outer = Table(
        [[chart_block, "", status_block]],
        colWidths=[chart_w, 14, status_w],
        hAlign="LEFT",
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    return [KeepTogether([para("Referrals", styles.h2), outer])]


def _other_work(s: WeeklySummary, styles: ReportStyles) -> list[Flowable]:
    third = (CONTENT_WIDTH - 28.0) / 3
    blocks = [
        _figures(
            styles,
            "Assessments",
            [
                ("Needs assessments completed", str(s.assessments.completed)),
                ("Reviews due", str(s.assessments.reviews_due)),
            ],
            third,
        ),
        _figures(
            styles,
            "Carers",
            [
                ("Carers identified", str(s.carers.identified)),
                ("Carer's assessment offered", str(s.carers.assessment_offered)),
            ],
            third,
        ),
        _figures(
            styles,
            "MDT meetings",
            [
                ("Meetings held", str(s.mdt.meetings)),
                ("MDT actions open", str(s.mdt.actions_open)),
            ],
            third,
        ),
    ]
    ow = s.overdue_work
    overdue = _figures(
        styles,
        "Overdue work",
        [
            ("Post-discharge calls past their 48 hours", str(ow.calls)),
            ("Other overdue tasks", str(ow.tasks)),
            ("Referrals waiting for a reply", str(ow.referrals_waiting)),
            ("All overdue tasks in the queue", str(s.tasks.overdue)),
        ],
        _half(),
    )
    return [
        KeepTogether([para("Assessments, carers and MDTs", styles.h2), _columns(blocks)]),
        KeepTogether([Spacer(0, 4), _columns([overdue, []])]),
    ]


def _appendix(s: WeeklySummary, styles: ReportStyles) -> list[Flowable]:
    entries = s.named_appendix or ()
    flow: list[Flowable] = [
        PageBreak(),
        para("Appendix: overdue work by patient", styles.h1),
        para(
            "This appendix names patients. Keep it with the care record and do not forward it"
            " outside the team.",
            styles.body,
        ),
        Spacer(0, 6),
    ]
    if entries:
        flow.append(
            data_table(
                styles,
                ["Patient", "NHS number", "What is overdue", "Due"],
                [
                    [e.patient_name, format_nhs_number(e.nhs_number), e.what, format_day(e.due)]
                    for e in entries
                ],
                widths(0.3, 0.18, 0.34, 0.18),
            )
        )
    else:
        flow.append(para("Nothing is overdue.", styles.muted))
    return flow

"""The page template shared by every printed document.

A4, a header and footer on every page (security marking, title, "Page X of Y", who printed it
and when, how fresh the data is), one set of paragraph and table styles, and a writer that puts
the finished PDF in place in one step. Output is deterministic: the same input gives the same
bytes (reportlab's invariant mode, document dates taken from the input, not the wall clock).
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, Table
from reportlab.platypus.tables import TableStyle

from app.core.errors import StorageError
from app.core.timeutil import to_local
from app.reports.fonts import FONT as FONT  # re-exported: the reports' fonts
from app.reports.fonts import FONT_BOLD as FONT_BOLD
from app.reports.fonts import FONT_ITALIC as FONT_ITALIC
from app.reports.fonts import draw_string, plain
from app.reports.fonts import fit_text as fit_text
from app.reports.fonts import markup as font_markup
from app.reports.fonts import text_width as text_width

# Security markings (Government Security Classifications).
OFFICIAL = "OFFICIAL"
OFFICIAL_SENSITIVE_PERSONAL = "OFFICIAL-SENSITIVE: PERSONAL"

# NHS identity colours.
NHS_BLUE = colors.HexColor("#005EB8")
NHS_DARK_BLUE = colors.HexColor("#003087")
NHS_PALE_GREY = colors.HexColor("#E8EDEE")
NHS_MID_GREY = colors.HexColor("#768692")
NHS_DARK_GREY = colors.HexColor("#425563")
NHS_TEXT = colors.HexColor("#212B32")
NHS_GREEN = colors.HexColor("#007F3B")
NHS_WARM_YELLOW = colors.HexColor("#FFB81C")
NHS_RED = colors.HexColor("#DA291C")
PALE_BLUE = colors.HexColor("#E6EFF8")
ZEBRA = colors.HexColor("#F4F6F7")
GRID = colors.HexColor("#C8D0D3")
HIGHLIGHT = colors.HexColor("#FFF4D6")

PAGE_SIZE = A4
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_LEFT = MARGIN_RIGHT = 18 * mm
MARGIN_TOP = 24 * mm
MARGIN_BOTTOM = 22 * mm
CONTENT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
CONTENT_HEIGHT = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

ProgressCallback = Callable[[int, int], None]
Cell: TypeAlias = str | Flowable


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def format_nhs_number(digits: str) -> str:
    """'9434765919' -> '943 476 5919' (anything that is not 10 digits is shown as given)."""
    d = "".join(ch for ch in digits if ch.isdigit())
    return f"{d[:3]} {d[3:6]} {d[6:]}" if len(d) == 10 else digits


def format_day(value: date | None, *, empty: str = "—") -> str:
    """A calendar day as dd/mm/yyyy; a datetime is shown with its London time."""
    if value is None:
        return empty
    if isinstance(value, datetime):
        return format_time(value, zone=False)
    return value.strftime("%d/%m/%Y")


def format_long_day(value: date) -> str:
    """'Monday 23 November 2026'."""
    return f"{value:%A} {value.day} {value:%B %Y}"


def format_time(value: datetime, *, zone: bool = True) -> str:
    """An instant as 'dd/mm/yyyy HH:MM' in Europe/London, with GMT/BST unless ``zone`` is off."""
    local = to_local(value)
    text = f"{local:%d/%m/%Y %H:%M}"
    return f"{text} {local.tzname()}" if zone else text


def format_pct(value: float | None, *, empty: str = "no data") -> str:
    return empty if value is None else f"{value:.1f}%"


def markup(text: str, font: str = FONT) -> str:
    """User text made safe for a Paragraph in ``font``: XML escaped, line breaks kept, and any
    run Helvetica cannot print set in the embedded DejaVu Sans (see app.reports.fonts)."""
    return font_markup(text, font)


# --------------------------------------------------------------------------------------------
# Styles, paragraphs and tables
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportStyles:
    body: ParagraphStyle
    muted: ParagraphStyle
    small: ParagraphStyle
    title: ParagraphStyle
    subtitle: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    cell_right: ParagraphStyle
    cell_head: ParagraphStyle
    bar: ParagraphStyle
    bar_right: ParagraphStyle


def make_styles() -> ReportStyles:
    base = ParagraphStyle(
        "body",
        fontName=FONT,
        fontSize=10,
        leading=13,
        textColor=NHS_TEXT,
        alignment=TA_LEFT,
        splitLongWords=1,
    )
    cell = ParagraphStyle("cell", parent=base, fontSize=9, leading=11.5)
    return ReportStyles(
        body=base,
        muted=ParagraphStyle("muted", parent=base, textColor=NHS_DARK_GREY, fontName=FONT_ITALIC),
        small=ParagraphStyle("small", parent=base, fontSize=8.5, leading=10.5),
        title=ParagraphStyle(
            "title", parent=base, fontName=FONT_BOLD, fontSize=20, leading=24, textColor=NHS_BLUE
        ),
        subtitle=ParagraphStyle(
            "subtitle", parent=base, fontSize=12, leading=15, textColor=NHS_DARK_GREY
        ),
        h1=ParagraphStyle(
            "h1",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=15,
            leading=19,
            textColor=NHS_BLUE,
            spaceBefore=8,
            spaceAfter=5,
        ),
        h2=ParagraphStyle(
            "h2",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=12,
            leading=15,
            textColor=NHS_DARK_BLUE,
            spaceBefore=8,
            spaceAfter=4,
        ),
        h3=ParagraphStyle(
            "h3",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=10,
            leading=13,
            textColor=NHS_DARK_BLUE,
            spaceBefore=6,
            spaceAfter=2,
        ),
        cell=cell,
        cell_bold=ParagraphStyle("cell_bold", parent=cell, fontName=FONT_BOLD),
        cell_right=ParagraphStyle("cell_right", parent=cell, alignment=TA_RIGHT),
        cell_head=ParagraphStyle(
            "cell_head", parent=cell, fontName=FONT_BOLD, textColor=colors.white
        ),
        bar=ParagraphStyle(
            "bar", parent=base, fontName=FONT_BOLD, fontSize=12, leading=15, textColor=colors.white
        ),
        bar_right=ParagraphStyle(
            "bar_right",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=10,
            leading=15,
            textColor=colors.white,
            alignment=TA_RIGHT,
        ),
    )


class WrapOnceParagraph(Paragraph):  # type: ignore[misc]
    """A Paragraph that breaks its lines once per width.

    reportlab wraps a table cell's paragraph every time the table is measured (by
    KeepTogether, then by the frame, again after a split) and once more when the cell is drawn,
    each time breaking the same lines at the same width. The result depends only on the width,
    the text and the style, so it is kept and handed back while the width is unchanged and the
    lines are still the ones it made (``split`` may drop them)."""

    _wrapped: tuple[float, Any, tuple[float, float]] | None = None

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        done = self._wrapped
        if done is not None and done[0] == avail_width and self.__dict__.get("blPara") is done[1]:
            self.width, self.height = done[2]
            return done[2]
        size: tuple[float, float] = super().wrap(avail_width, avail_height)
        lines = self.__dict__.get("blPara")
        self._wrapped = (avail_width, lines, size) if lines is not None else None
        return size


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """A Paragraph of user text (escaped: '<' or '&' in a note never breaks the layout)."""
    return WrapOnceParagraph(markup(text, style.fontName), style)


def widths(*fractions: float) -> list[float]:
    """Column widths as fractions of the text width."""
    return [CONTENT_WIDTH * f for f in fractions]


_PAD_X = 4.0
_CELL_COMMANDS: list[tuple[Any, ...]] = [
    ("FONTNAME", (0, 0), (-1, -1), FONT),
    ("FONTSIZE", (0, 0), (-1, -1), 9),
    ("LEADING", (0, 0), (-1, -1), 11.5),
    ("TEXTCOLOR", (0, 0), (-1, -1), NHS_TEXT),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), _PAD_X),
    ("RIGHTPADDING", (0, 0), (-1, -1), _PAD_X),
    ("TOPPADDING", (0, 0), (-1, -1), 3),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ("GRID", (0, 0), (-1, -1), 0.4, GRID),
]


def _cell(value: Cell, style: ParagraphStyle, width: float) -> Flowable | str:
    """Text that fits on one line is drawn as it is (cheap, nothing to parse); anything longer,
    or with line breaks, becomes a wrapping Paragraph so it can never run out of its cell."""
    if not isinstance(value, str):
        return value
    ready = plain(value)  # None when a character needs the embedded font: a Paragraph does
    if (
        ready is not None
        and "\n" not in ready
        and "\r" not in ready
        and stringWidth(ready, style.fontName, style.fontSize) <= width - 2 * _PAD_X - 1
    ):
        return ready
    return para(value, style)


def _runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Row indexes as (first, last) runs of consecutive rows: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for r in sorted(set(rows)):
        if runs and runs[-1][1] == r - 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    return runs


def data_table(
    styles: ReportStyles,
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    col_widths: Sequence[float],
    *,
    highlight_rows: Iterable[int] = (),
    right_align: Iterable[int] = (),
) -> Table:
    """A table with a blue header row repeated on every page, a light grid and zebra rows.

    Long text wraps inside its cell and grows the row; a row taller than a page is split
    across pages. ``highlight_rows`` are 0-based data row indexes to tint; ``right_align``
    are column indexes for numbers.
    """
    right = set(right_align)
    head_right = ParagraphStyle("head_right", parent=styles.cell_head, alignment=TA_RIGHT)
    data: list[list[Flowable | str]] = [
        [
            _cell(h, head_right if i in right else styles.cell_head, col_widths[i])
            for i, h in enumerate(header)
        ]
    ]
    # A text repeated down a column ("Carried forward", a standard action) is one paragraph,
    # parsed and broken into lines once and drawn in each of its cells (as reportlab draws
    # the header cells on every page).
    made: dict[tuple[int, str], Flowable | str] = {}
    for row in rows:
        cells: list[Flowable | str] = []
        for i, v in enumerate(row):
            if not isinstance(v, str):
                cells.append(v)
                continue
            cell = made.get((i, v))
            if cell is None:
                style = styles.cell_right if i in right else styles.cell
                cell = made[(i, v)] = _cell(v, style, col_widths[i])
            cells.append(cell)
        data.append(cells)
    commands = [
        *_CELL_COMMANDS,
        ("BACKGROUND", (0, 0), (-1, 0), NHS_BLUE),
        ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
    ]
    commands += [("ALIGN", (c, 0), (c, -1), "RIGHT") for c in sorted(right)]
    if rows:
        commands.append(("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, ZEBRA]))
    # one command per run of consecutive rows: a table re-applies every command to the rest
    # of its rows each time it splits across a page
    for first, last in _runs(highlight_rows):
        commands.append(("BACKGROUND", (0, first + 1), (-1, last + 1), HIGHLIGHT))
    return Table(
        data,
        colWidths=list(col_widths),
        repeatRows=1,
        splitInRow=1,
        hAlign="LEFT",
        style=TableStyle(commands),
    )


def key_value_table(
    styles: ReportStyles,
    pairs: Sequence[tuple[str, Cell]],
    col_widths: Sequence[float],
) -> Table:
    """Label/value rows; the labels in a pale blue column. Four widths give two pairs a row."""
    per_row = len(col_widths) // 2
    data: list[list[Flowable | str]] = []
    for start in range(0, len(pairs), per_row):
        chunk = pairs[start : start + per_row]
        row: list[Flowable | str] = []
        for label, value in chunk:
            c = len(row)
            row += [
                _cell(label, styles.cell_bold, col_widths[c]),
                _cell(value, styles.cell, col_widths[c + 1]),
            ]
        row += [""] * (len(col_widths) - len(row))
        data.append(row)
    commands = list(_CELL_COMMANDS)
    for c in range(0, len(col_widths), 2):
        commands.append(("BACKGROUND", (c, 0), (c, -1), PALE_BLUE))
        commands.append(("FONTNAME", (c, 0), (c, -1), FONT_BOLD))
    return Table(
        data,
        colWidths=list(col_widths),
        splitInRow=1,
        hAlign="LEFT",
        style=TableStyle(commands),
    )


def section_bar(styles: ReportStyles, left: str, right: str = "") -> Table:
    """A full-width NHS blue band with a heading on the left and a note on the right."""
    table = Table(
        [[para(left, styles.bar), para(right, styles.bar_right)]],
        colWidths=widths(0.62, 0.38),
        hAlign="LEFT",
        style=TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), NHS_BLUE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        ),
    )
    return table


class ProgressMark(Flowable):  # type: ignore[misc]
    """Takes no space; reports ``done`` of ``total`` when the layout reaches it."""

    def __init__(self, callback: ProgressCallback, done: int, total: int) -> None:
        super().__init__()
        self._callback = callback
        self._done = done
        self._total = total

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return 0.0, 0.0

    def draw(self) -> None:
        self._callback(self._done, self._total)


# --------------------------------------------------------------------------------------------
# Page decoration and document writing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageDecor:
    """What every page says about the document, whatever the content."""

    title: str  # shown in the header and as the PDF title; never a patient's name
    classification: str  # OFFICIAL or OFFICIAL_SENSITIVE_PERSONAL
    printed_by: str
    printed_at: datetime
    data_as_of: datetime
    subject: str = ""


def _pdf_date(value: datetime) -> str:
    v = value.astimezone(UTC)
    return f"D:{v:%Y%m%d%H%M%S}+00'00'"


class _DecoratedCanvas(Canvas):  # type: ignore[misc]
    """Holds pages back until the end so each can say 'Page X of Y', then draws the frame."""

    def __init__(self, *args: Any, decor: PageDecor, result: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._decor = decor
        self._result = result
        self._pages: list[dict[str, Any]] = []
        stamp = _pdf_date(decor.printed_at)
        self.setDateFormatter(lambda *_: stamp)

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_frame(number, total)
            super().showPage()
        self._result.append(total)
        super().save()

    def _draw_frame(self, number: int, total: int) -> None:
        d = self._decor
        left, right = MARGIN_LEFT, PAGE_WIDTH - MARGIN_RIGHT
        self.saveState()
        # Header: marking centred at the very top, then the title, then a blue rule. Every
        # string goes through draw_string, which prints what Helvetica cannot in DejaVu Sans.
        self.setFillColor(NHS_TEXT)
        draw_string(
            self, PAGE_WIDTH / 2, PAGE_HEIGHT - 10 * mm, d.classification, FONT_BOLD, 9, "centre"
        )
        self.setFillColor(NHS_BLUE)
        title = fit_text(d.title, FONT_BOLD, 9, CONTENT_WIDTH * 0.75)
        draw_string(self, left, PAGE_HEIGHT - 16 * mm, title, FONT_BOLD, 9)
        self.setFillColor(NHS_DARK_GREY)
        draw_string(self, right, PAGE_HEIGHT - 16 * mm, "CareCoord", FONT, 8, "right")
        self.setStrokeColor(NHS_BLUE)
        self.setLineWidth(1.2)
        self.line(left, PAGE_HEIGHT - 18 * mm, right, PAGE_HEIGHT - 18 * mm)
        # Footer: a grey rule, who printed it and when, page numbers, the marking again.
        self.setStrokeColor(GRID)
        self.setLineWidth(0.6)
        self.line(left, 17 * mm, right, 17 * mm)
        self.setFillColor(NHS_DARK_GREY)
        page_text = f"Page {number} of {total}"
        page_w = text_width(page_text, FONT_BOLD, 8)
        draw_string(self, right, 13 * mm, page_text, FONT_BOLD, 8, "right")
        at = f" at {format_time(d.printed_at)}"
        room = CONTENT_WIDTH - page_w - 10 * mm - text_width("Printed by " + at, FONT, 8)
        who = fit_text(d.printed_by, FONT, 8, max(room, 20 * mm))
        draw_string(self, left, 13 * mm, f"Printed by {who}{at}", FONT, 8)
        draw_string(self, left, 9.5 * mm, f"Data as of {format_time(d.data_as_of)}", FONT, 8)
        self.setFillColor(NHS_TEXT)
        draw_string(self, PAGE_WIDTH / 2, 5 * mm, d.classification, FONT_BOLD, 9, "centre")
        self.restoreState()


def build_pdf(story: list[Flowable], decor: PageDecor) -> tuple[bytes, int]:
    """Lay ``story`` out on decorated A4 pages; returns the PDF bytes and the page count."""
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=decor.title,
        author=decor.printed_by,
        subject=decor.subject,
        creator="CareCoord",
        producer="CareCoord",
        invariant=1,
        pageCompression=1,
        lang="en-GB",
    )
    frame = Frame(
        MARGIN_LEFT,
        MARGIN_BOTTOM,
        CONTENT_WIDTH,
        CONTENT_HEIGHT,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="content",
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    result: list[int] = []

    def canvasmaker(*args: Any, **kwargs: Any) -> _DecoratedCanvas:
        return _DecoratedCanvas(*args, decor=decor, result=result, **kwargs)

    doc.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue(), result[-1]


def write_pdf(data: bytes, out: Path | str | BinaryIO) -> None:
    """Put finished PDF bytes in place: a path gets a temp file renamed over it, so a reader
    never sees half a file; a binary stream gets the whole document in one write."""
    if not isinstance(out, str | os.PathLike):
        out.write(data)
        return
    target = Path(out)
    try:
        fd, tmp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part"
        )
    except OSError as exc:
        raise StorageError(f"Cannot write the PDF in {target.parent}: {exc.strerror}.") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise StorageError(f"Cannot write the PDF {target}: {exc.strerror}.") from exc


def render_story(story: list[Flowable], decor: PageDecor, out: Path | str | BinaryIO) -> int:
    """Build the document and write it to ``out``; returns the page count.

    If anything fails (layout, a progress callback raising to cancel, the disk), ``out`` is left
    as it was.
    """
    data, pages = build_pdf(story, decor)
    write_pdf(data, out)
    return pages

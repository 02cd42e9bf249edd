"""Reports: the weekly team summary on screen (headline figures against the 84% target, the
12-week trend, referrals, caseload by coordinator and level, overdue work) for any ISO week,
saved as PDF or JSON in the background."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.reference import SERVICE_KIND_LABELS, SERVICE_KINDS
from app.core.secrets import atomic_write_bytes
from app.core.timeutil import to_local
from app.reports.data import WeeklySummary
from app.reports.weekly_pdf import render_weekly_pdf
from app.services.desktop import DeviceSettings, get_device_settings
from app.services.weekly import build_weekly_summary
from app.ui import format as fmt
from app.ui.models.reports import CoordinatorModel, CountModel, CountRow, coordinator_rows
from app.ui.screens.base import Screen
from app.ui.shell import Shell
from app.ui.widgets.files import choose_save_path, open_file
from app.ui.widgets.progress import Cancelled, ProgressPanel, Report
from app.ui.widgets.trend_chart import TrendChart, TrendValue

WEEKS_OFFERED = 26
AMBER_MARGIN = 5.0
PRINTED_BY_DEFAULT = "CareCoord"


@dataclass(frozen=True)
class WeeklyData:
    json_text: str  # the summary as the JSON of DESIGN.md 4.3 (no names)
    settings: DeviceSettings


def weekly_json(summary: WeeklySummary) -> str:
    """Exactly what ``carecoord report weekly --json`` prints."""
    return json.dumps(summary.to_json_dict(), sort_keys=True, indent=2)


def load_weekly(session: Session, *, week: str, as_of: datetime) -> WeeklyData:
    summary = build_weekly_summary(session, week=week, as_of=as_of)
    return WeeklyData(weekly_json(summary), get_device_settings(session))


def save_weekly_json(session: Session, *, week: str, as_of: datetime, out: str) -> str:
    summary = build_weekly_summary(session, week=week, as_of=as_of)
    atomic_write_bytes(Path(out), (weekly_json(summary) + "\n").encode(), what="summary")
    return out


def save_weekly_pdf(
    session: Session,
    report: Report,
    *,
    week: str,
    as_of: datetime,
    named: bool,
    printed_by: str,
    out: str,
) -> str:
    report(0, 1, "")
    summary = build_weekly_summary(session, week=week, as_of=as_of, named_appendix=named)
    render_weekly_pdf(
        summary,
        Path(out),
        printed_by=printed_by,
        printed_at=as_of,
        progress=lambda done, total: report(done, total, ""),
    )
    return out


def week_label(monday: date) -> str:
    y, w, _ = monday.isocalendar()
    return f"{y}-W{w:02d}"


def recent_weeks(today: date, count: int = WEEKS_OFFERED) -> list[tuple[str, date]]:
    """(ISO week, its Monday), this week first."""
    monday = today - timedelta(days=today.weekday())
    return [(week_label(monday - timedelta(weeks=n)), monday - timedelta(weeks=n)) for n in
            range(count)]  # fmt: skip


def _table(name: str) -> QTableView:
    table = QTableView()
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return table


class Tile(QFrame):
    """A headline figure: a caption, a big value and a line of detail."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("tile")
        self.caption = QLabel(caption)
        self.caption.setObjectName("factKey")
        self.value = QLabel("—")
        font = self.value.font()
        font.setPointSize(20)
        font.setBold(True)
        self.value.setFont(font)
        self.value.setAccessibleName(caption)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setObjectName("hint")
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        layout.addWidget(self.detail)
        layout.addStretch(1)

    def show_value(self, value: str, detail: str, colour: str | None = None) -> None:
        self.value.setText(value)
        self.value.setStyleSheet(f"color: {colour};" if colour else "")
        self.detail.setText(detail)
        self.value.setAccessibleDescription(detail)


class ReportsScreen(Screen):
    loaded = Signal()
    json_saved = Signal(str)
    pdf_saved = Signal(str)

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(shell, parent)
        self.data: WeeklyData | None = None
        self.summary: WeeklySummary | None = None
        self._generation = 0
        self._build()
        self._connect()

    # --- layout ---
    def _build(self) -> None:
        title = QLabel(self.tr("Weekly team summary"))
        title.setObjectName("screenTitle")
        self.week = QComboBox()
        self.week.setAccessibleName(self.tr("ISO week"))
        self.week.setMinimumContentsLength(28)
        self._fill_weeks()
        self.previous_button = QPushButton("◀")
        self.previous_button.setAccessibleName(self.tr("Previous week (Alt+Page Up)"))
        self.previous_button.setShortcut(QKeySequence("Alt+PgUp"))
        self.next_button = QPushButton("▶")
        self.next_button.setAccessibleName(self.tr("Next week (Alt+Page Down)"))
        self.next_button.setShortcut(QKeySequence("Alt+PgDown"))
        for b in (self.previous_button, self.next_button):
            b.setFixedWidth(36)
        self.named = QCheckBox(self.tr("Name patients with overdue work in the PDF"))
        self.named.setAccessibleName(self.tr("Add an appendix naming patients to the PDF"))
        self.pdf_button = QPushButton(self.tr("Save &PDF…"))
        self.pdf_button.setAccessibleName(self.tr("Save the summary as a PDF"))
        self.json_button = QPushButton(self.tr("Save &JSON…"))
        self.json_button.setAccessibleName(self.tr("Save the summary as JSON"))
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.refresh_button.setAccessibleName(self.tr("Recalculate the summary (F5)"))
        self.refresh_button.setShortcut(QKeySequence("F5"))
        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(16)
        week_label_widget = QLabel(self.tr("&Week"))
        week_label_widget.setBuddy(self.week)
        top.addWidget(week_label_widget)
        top.addWidget(self.previous_button)
        top.addWidget(self.week)
        top.addWidget(self.next_button)
        top.addStretch(1)
        top.addWidget(self.named)
        top.addWidget(self.pdf_button)
        top.addWidget(self.json_button)
        top.addWidget(self.refresh_button)
        self.as_of = QLabel()
        self.as_of.setObjectName("hint")
        self.as_of.setAccessibleName(self.tr("Report time"))

        self.tile_48h = Tile(self.tr("Contacted within 48 hours"))
        self.tile_discharges = Tile(self.tr("Discharges this week"))
        self.tile_readmissions = Tile(self.tr("Readmitted within 30 days"))
        self.tile_referrals = Tile(self.tr("Referrals made"))
        self.tile_caseload = Tile(self.tr("Open caseload"))
        self.tile_overdue = Tile(self.tr("Overdue work"))
        tiles = QGridLayout()
        for n, tile in enumerate(
            (self.tile_48h, self.tile_discharges, self.tile_readmissions,
             self.tile_referrals, self.tile_caseload, self.tile_overdue)
        ):  # fmt: skip
            tiles.addWidget(tile, 0, n)

        self.chart = TrendChart()
        chart_box = QGroupBox(self.tr("Contacted within 48 hours, last 12 weeks"))
        QVBoxLayout(chart_box).addWidget(self.chart)

        self.by_kind = CountModel("Service", "Referrals", self)
        self.kind_table = _table(self.tr("Referrals by kind of service"))
        self.kind_table.setModel(self.by_kind)
        self.by_status = CountModel("Status now", "Referrals", self)
        self.status_table = _table(self.tr("Referrals by status"))
        self.status_table.setModel(self.by_status)
        self.coordinators = CoordinatorModel(self)
        self.coordinator_table = _table(self.tr("Caseload by coordinator and level"))
        self.coordinator_table.setModel(self.coordinators)
        header = self.coordinator_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.other = CountModel("Work", "Count", self)
        self.other_table = _table(self.tr("Assessments, carers, MDTs and overdue work"))
        self.other_table.setModel(self.other)

        referrals_box = QGroupBox(self.tr("Referrals made this week"))
        rbox = QHBoxLayout(referrals_box)
        rbox.addWidget(self.kind_table, 3)
        rbox.addWidget(self.status_table, 2)
        caseload_box = QGroupBox(self.tr("Caseload by coordinator and level"))
        QVBoxLayout(caseload_box).addWidget(self.coordinator_table)
        other_box = QGroupBox(self.tr("Other work"))
        QVBoxLayout(other_box).addWidget(self.other_table)

        middle = QHBoxLayout()
        middle.addWidget(chart_box, 3)
        middle.addWidget(other_box, 2)
        bottom = QHBoxLayout()
        bottom.addWidget(referrals_box, 1)
        bottom.addWidget(caseload_box, 1)

        self.message = QLabel()
        self.message.setObjectName("hint")
        self.message.setWordWrap(True)
        self.message.setAccessibleName(self.tr("Messages"))
        self.progress = ProgressPanel()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.as_of)
        layout.addLayout(tiles)
        layout.addLayout(middle, 3)
        layout.addLayout(bottom, 3)
        layout.addWidget(self.message)
        layout.addWidget(self.progress)

    def _connect(self) -> None:
        self.week.currentIndexChanged.connect(self._week_changed)
        self.previous_button.clicked.connect(lambda: self._step(1))
        self.next_button.clicked.connect(lambda: self._step(-1))
        self.refresh_button.clicked.connect(self.refresh)
        self.pdf_button.clicked.connect(self.save_pdf)
        self.json_button.clicked.connect(self.save_json)

    def _fill_weeks(self) -> None:
        today = to_local(self.shell.now()).date()
        self.week.blockSignals(True)
        self.week.clear()
        for week, monday in recent_weeks(today):
            sunday = monday + timedelta(days=6)
            self.week.addItem(
                f"{week}  ({monday:%d %b} – {sunday:%d %b %Y})", week
            )  # fmt: skip
        self.week.setCurrentIndex(1)  # the last whole week
        self.week.blockSignals(False)

    def selected_week(self) -> str:
        return str(self.week.currentData())

    def set_week(self, week: str) -> None:
        index = self.week.findData(week)
        if index >= 0:
            self.week.setCurrentIndex(index)

    def _step(self, by: int) -> None:
        index = self.week.currentIndex() + by
        if 0 <= index < self.week.count():
            self.week.setCurrentIndex(index)

    def _week_changed(self) -> None:
        self.previous_button.setEnabled(self.week.currentIndex() < self.week.count() - 1)
        self.next_button.setEnabled(self.week.currentIndex() > 0)
        self.refresh()

    # --- loading ---
    def refresh(self) -> None:
        super().refresh()
        self._generation += 1
        generation, week, now = self._generation, self.selected_week(), self.shell.now()

        def job(session: Session) -> WeeklyData:
            return load_weekly(session, week=week, as_of=now)

        self.shell.runner.read(
            job, on_success=lambda d: self._loaded(generation, d), on_failure=self._failed
        )

    def _loaded(self, generation: int, data: WeeklyData) -> None:
        if generation != self._generation:
            return
        self.data = data
        self.summary = WeeklySummary.from_json_dict(json.loads(data.json_text))
        self._show(self.summary)
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(self.tr("The summary could not be made: %1").replace("%1", str(exc)))

    def _show(self, s: WeeklySummary) -> None:
        self.message.clear()
        self.as_of.setText(
            self.tr("Week %1, Monday %2 to Sunday %3 · figures as of %4")
            .replace("%1", s.week)
            .replace("%2", fmt.day(to_local(s.period.start).date()))
            .replace("%3", fmt.day(to_local(s.period.end).date() - timedelta(days=1)))
            .replace("%4", fmt.when(s.as_of))
        )
        pd, ra = s.post_discharge, s.readmissions_30d
        if pd.pct_within_48h is None:
            self.tile_48h.show_value(
                "—", self.tr("No discharge due yet; target %1%").replace("%1", f"{pd.target_pct:g}")
            )
        else:
            colour = (
                "#007f3b"
                if pd.pct_within_48h >= pd.target_pct
                else "#b35c00"
                if pd.pct_within_48h >= pd.target_pct - AMBER_MARGIN
                else "#d5281b"
            )
            self.tile_48h.show_value(
                f"{pd.pct_within_48h:.1f}%",
                self.tr("Target %1% · %2 met, %3 missed")
                .replace("%1", f"{pd.target_pct:g}")
                .replace("%2", str(pd.met))
                .replace("%3", str(pd.missed)),
                colour,
            )
        self.tile_discharges.show_value(
            str(pd.discharges),
            self.tr("%1 pending, %2 excluded (readmitted or died)")
            .replace("%1", str(pd.pending))
            .replace("%2", str(pd.excluded)),
        )
        self.tile_readmissions.show_value(
            "—" if ra.rate_pct is None else f"{ra.rate_pct:.1f}%",
            self.tr("%1 of %2 discharges whose 30 days have passed")
            .replace("%1", str(ra.readmitted))
            .replace("%2", str(ra.eligible)),
        )
        non_clinical = sum(
            s.referrals.by_service_kind.get(k, 0)
            for k in ("LAC", "FIRST_CONTACT_PLUS", "BEFRIENDING", "SOCIAL_PRESCRIBING")
        )
        self.tile_referrals.show_value(
            str(s.referrals.made),
            self.tr("%1 to non-clinical services").replace("%1", str(non_clinical)),
        )
        self.tile_caseload.show_value(
            f"{s.caseload.open_episodes:,}",
            self.tr("%1 opened, %2 closed this week")
            .replace("%1", str(s.caseload.opened))
            .replace("%2", str(s.caseload.closed)),
        )
        ow = s.overdue_work
        self.tile_overdue.show_value(
            str(s.tasks.overdue),
            self.tr("%1 overdue 48-hour calls · %2 referrals waiting")
            .replace("%1", str(ow.calls))
            .replace("%2", str(ow.referrals_waiting)),
            "#d5281b" if s.tasks.overdue else None,
        )
        self.chart.set_values(
            tuple(TrendValue(p.week[5:], p.pct_within_48h, p.met, p.missed) for p in s.trend),
            pd.target_pct,
        )
        kinds = s.referrals.by_service_kind
        self.by_kind.set_rows(
            [CountRow(self.tr(SERVICE_KIND_LABELS[k]), kinds[k]) for k in SERVICE_KINDS
             if kinds.get(k)]
            + [CountRow(k, n) for k, n in sorted(kinds.items()) if k not in SERVICE_KINDS and n]
        )  # fmt: skip
        self.by_status.set_rows(
            [CountRow(fmt.label(k), n) for k, n in s.referrals.by_status.items() if n]
        )
        rows = coordinator_rows(s.caseload.by_coordinator)
        if rows:
            last = rows[-1]
            rows = (*rows[:-1], type(last)(self.tr("Whole team"), last.by_level, last.total))
        self.coordinators.set_rows(rows)
        self.other.set_rows(
            (
                CountRow(self.tr("Needs assessments completed"), s.assessments.completed),
                CountRow(self.tr("Assessment reviews due"), s.assessments.reviews_due),
                CountRow(self.tr("Carers identified"), s.carers.identified),
                CountRow(self.tr("Carer's assessments offered"), s.carers.assessment_offered),
                CountRow(self.tr("MDT meetings held"), s.mdt.meetings),
                CountRow(self.tr("MDT actions open"), s.mdt.actions_open),
                CountRow(self.tr("48-hour calls overdue"), ow.calls),
                CountRow(self.tr("Other tasks overdue"), ow.tasks),
                CountRow(self.tr("Referrals waiting for a reply"), ow.referrals_waiting),
            )
        )

    # --- saving ---
    def _folder(self) -> str | None:
        return self.data.settings.pdf_folder if self.data else None

    def save_json(self) -> None:
        path = choose_save_path(
            self,
            self.tr("Save the weekly summary as JSON"),
            self._folder(),
            f"weekly-summary-{self.selected_week()}.json",
            self.tr("JSON files (*.json)"),
        )
        if path is not None:
            self.save_json_to(path)

    def save_json_to(self, path: Path) -> None:
        week, now = self.selected_week(), self.shell.now()
        self.progress.start(self.tr("Saving the summary…"), cancellable=False)
        self.json_button.setEnabled(False)

        def job(session: Session) -> str:
            return save_weekly_json(session, week=week, as_of=now, out=str(path))

        self.shell.runner.read(job, on_success=self._json_done, on_failure=self._save_failed)

    def _json_done(self, out: str) -> None:
        self._saved_common()
        self.message.setText(self.tr("Summary saved as JSON to %1.").replace("%1", out))
        self.json_saved.emit(out)

    def save_pdf(self) -> None:
        path = choose_save_path(
            self,
            self.tr("Save the weekly summary as PDF"),
            self._folder(),
            f"weekly-summary-{self.selected_week()}.pdf",
            self.tr("PDF files (*.pdf)"),
        )
        if path is not None:
            self.save_pdf_to(path)

    def save_pdf_to(self, path: Path) -> None:
        if path.suffix.lower() != ".pdf":
            path = path.with_name(path.name + ".pdf")
        week, now, named = self.selected_week(), self.shell.now(), self.named.isChecked()
        who = self.shell.coordinator_name or PRINTED_BY_DEFAULT
        report = self.progress.start(self.tr("Preparing the weekly summary PDF…"))
        self.pdf_button.setEnabled(False)

        def job(session: Session) -> str:
            return save_weekly_pdf(
                session, report, week=week, as_of=now, named=named, printed_by=who, out=str(path)
            )

        self.shell.runner.read(job, on_success=self._pdf_done, on_failure=self._save_failed)

    def _pdf_done(self, out: str) -> None:
        self._saved_common()
        self.message.setText(self.tr("Summary saved as PDF to %1.").replace("%1", out))
        open_file(Path(out))
        self.pdf_saved.emit(out)

    def _saved_common(self) -> None:
        self.progress.finish()
        self.pdf_button.setEnabled(True)
        self.json_button.setEnabled(True)

    def _save_failed(self, exc: BaseException) -> None:
        self._saved_common()
        if isinstance(exc, Cancelled):
            self.message.setText(self.tr("Cancelled; no file was written."))
        else:
            self.message.setText(
                self.tr("The summary could not be saved: %1").replace("%1", str(exc))
            )

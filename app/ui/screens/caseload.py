"""Caseload: every patient, searchable and filterable, sorted and paged in SQL."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.models.patient import LEVELS
from app.services.caseload_view import (
    COHORT_FLAGS,
    UNASSIGNED,
    CaseloadPage,
    CaseloadQuery,
    FilterOptions,
    caseload_filter_options,
    search_caseload,
)
from app.ui import format as fmt
from app.ui.models.caseload import CaseloadTableModel
from app.ui.screens.base import Screen
from app.ui.shell import Shell

PAGE_SIZE = 200
DEBOUNCE_MS = 200
SEARCHING_AFTER_MS = 300


class CaseloadScreen(Screen):
    results_shown = Signal(int)  # the total that match, after each new query
    patient_opened = Signal(str)

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(shell, parent)
        self._query = CaseloadQuery()
        self._generation = 0
        self._build()
        self._connect()

    # --- layout ---
    def _build(self) -> None:
        title = QLabel(self.tr("Caseload"))
        title.setObjectName("screenTitle")
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search by name or NHS number (Ctrl+F)"))
        self.search.setAccessibleName(self.tr("Search the caseload"))
        self.search.setClearButtonEnabled(True)
        self.count_label = QLabel()
        self.count_label.setAccessibleName(self.tr("Number of patients shown"))

        self.coordinator = self._combo(self.tr("Coordinator filter"))
        self.level = self._combo(self.tr("Level filter"))
        self.level.addItem(self.tr("All levels"), None)
        for level in LEVELS:
            self.level.addItem(self.tr(level), level)
        self.practice = self._combo(self.tr("Practice filter"))
        self.practice.setMinimumContentsLength(18)
        self.sub_locality = self._combo(self.tr("Sub-locality filter"))
        self.flag_boxes: dict[str, QCheckBox] = {}
        for code in COHORT_FLAGS:
            box = QCheckBox(fmt.label(code))
            box.setAccessibleName(
                self.tr("Only patients flagged %1").replace("%1", fmt.label(code))
            )
            self.flag_boxes[code] = box
        self.overdue = QCheckBox(self.tr("Overdue work only"))
        self.overdue.setAccessibleName(self.tr("Only patients with overdue tasks"))
        self.clear_button = QPushButton(self.tr("Clear filters"))
        self.clear_button.setAccessibleName(self.tr("Clear search and filters"))

        self.model = CaseloadTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName(self.tr("Caseload table"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((180, 105, 45, 165, 75, 45, 170, 260, 120)):
            self.table.setColumnWidth(col, width)

        self.open_button = QPushButton(self.tr("Open record"))
        self.open_button.setAccessibleName(self.tr("Open the selected patient's record"))
        self.open_button.setEnabled(False)
        self.new_button = QPushButton(self.tr("New patient…"))
        self.new_button.setAccessibleName(self.tr("Add a new patient (Ctrl+N)"))

        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(16)
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)

        filters = QGridLayout()
        filters.addWidget(self._caption(self.tr("Coordinator"), self.coordinator), 0, 0)
        filters.addWidget(self.coordinator, 0, 1)
        filters.addWidget(self._caption(self.tr("Level"), self.level), 0, 2)
        filters.addWidget(self.level, 0, 3)
        filters.addWidget(self._caption(self.tr("Practice"), self.practice), 0, 4)
        filters.addWidget(self.practice, 0, 5)
        filters.addWidget(self._caption(self.tr("Sub-locality"), self.sub_locality), 0, 6)
        filters.addWidget(self.sub_locality, 0, 7)
        flags_row = QHBoxLayout()
        for box in self.flag_boxes.values():
            flags_row.addWidget(box)
        flags_row.addWidget(self.overdue)
        flags_row.addStretch(1)
        flags_row.addWidget(self.clear_button)
        filters.addLayout(flags_row, 1, 0, 1, 8)
        filters.setColumnStretch(5, 2)
        filters.setColumnStretch(1, 1)
        filters.setColumnStretch(7, 1)

        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        self._searching = QTimer(self)  # say "Searching…" only when a query takes a while
        self._searching.setSingleShot(True)
        self._searching.setInterval(SEARCHING_AFTER_MS)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._reset_options(FilterOptions((), (), ()))

    def _combo(self, accessible: str) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(accessible)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(12)
        return combo

    def _caption(self, text: str, buddy: QWidget) -> QLabel:
        caption = QLabel(text)
        caption.setBuddy(buddy)
        return caption

    def _connect(self) -> None:
        self.search.textChanged.connect(self._debounce.start)
        self._debounce.timeout.connect(self._apply_filters)
        self._searching.timeout.connect(self._show_searching)
        self.search.returnPressed.connect(self._search_entered)
        for combo in (self.coordinator, self.level, self.practice, self.sub_locality):
            combo.currentIndexChanged.connect(self._apply_filters)
        for box in (*self.flag_boxes.values(), self.overdue):
            box.toggled.connect(self._apply_filters)
        self.clear_button.clicked.connect(self._clear_filters)
        self.model.more_wanted.connect(self._fetch_more)
        self.model.sort_changed.connect(self._sort_changed)
        self.model.modelReset.connect(self._selection_changed)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.activated.connect(self._open_index)
        self.table.doubleClicked.connect(self._open_index)
        self.open_button.clicked.connect(self._open_selected)
        self.new_button.clicked.connect(self.shell.new_patient_requested)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.search, self._clear_search)

    # --- Screen ---
    def refresh(self) -> None:
        super().refresh()
        # the team may have changed (a new coordinator, a bundle from a colleague)
        self.shell.runner.read(
            caseload_filter_options, on_success=self._reset_options, on_failure=self._failed
        )
        self._run_query()

    def focus_search(self) -> bool:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()
        return True

    def current_query(self) -> CaseloadQuery:
        return self._query

    # --- filters ---
    def _reset_options(self, options: FilterOptions) -> None:
        combos = (self.coordinator, self.practice, self.sub_locality)
        kept = [c.currentData() for c in combos]
        for combo in combos:
            combo.blockSignals(True)
            combo.clear()
        self.coordinator.addItem(self.tr("Everyone"), None)
        self.coordinator.addItem(self.tr("Unassigned"), UNASSIGNED)
        for c in options.coordinators:
            self.coordinator.addItem(c.label, c.value)
        self.practice.addItem(self.tr("All practices"), None)
        for p in options.practices:
            self.practice.addItem(p.name, p.code)
        self.sub_locality.addItem(self.tr("All sub-localities"), None)
        for name in options.sub_localities:
            self.sub_locality.addItem(name, name)
        for combo, value in zip(combos, kept, strict=True):
            found = combo.findData(value)
            combo.setCurrentIndex(max(found, 0))
            combo.blockSignals(False)

    def _clear_filters(self) -> None:
        widgets = (self.coordinator, self.level, self.practice, self.sub_locality)
        for w in (*widgets, *self.flag_boxes.values(), self.overdue, self.search):
            w.blockSignals(True)
        for combo in widgets:
            combo.setCurrentIndex(0)
        for box in (*self.flag_boxes.values(), self.overdue):
            box.setChecked(False)
        self.search.clear()
        for w in (*widgets, *self.flag_boxes.values(), self.overdue, self.search):
            w.blockSignals(False)
        self._apply_filters()

    def _clear_search(self) -> None:
        self.search.clear()

    def _search_entered(self) -> None:
        self._debounce.stop()
        self._apply_filters()
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        if self.model.rowCount() and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)

    def _apply_filters(self) -> None:
        self._debounce.stop()
        self._query = replace(
            self._query,
            text=self.search.text().strip(),
            coordinator_id=self.coordinator.currentData(),
            level=self.level.currentData(),
            practice_code=self.practice.currentData(),
            sub_locality=self.sub_locality.currentData(),
            flags=frozenset(code for code, box in self.flag_boxes.items() if box.isChecked()),
            overdue_only=self.overdue.isChecked(),
        )
        self._run_query()

    def _sort_changed(self, key: str, descending: bool) -> None:
        self._query = replace(self._query, sort=key, descending=descending)
        self._run_query()

    # --- queries ---
    def _show_searching(self) -> None:
        self.count_label.setText(self.tr("Searching…"))

    def _run_query(self) -> None:
        self._searching.start()
        self._generation += 1
        generation, query, now = self._generation, self._query, self.shell.now()
        self.model.set_now(now)

        def job(session: Session) -> CaseloadPage:
            return search_caseload(session, query=query, offset=0, limit=PAGE_SIZE, now=now)

        self.shell.runner.read(
            job,
            on_success=lambda page: self._first_page(generation, page),
            on_failure=self._failed,
        )

    def _fetch_more(self, offset: int) -> None:
        generation, query, now = self._generation, self._query, self.shell.now()

        def job(session: Session) -> CaseloadPage:
            return search_caseload(session, query=query, offset=offset, limit=PAGE_SIZE, now=now)

        self.shell.runner.read(
            job,
            on_success=lambda page: self._next_page(generation, page),
            on_failure=self._fetch_failed,
        )

    def _first_page(self, generation: int, page: CaseloadPage) -> None:
        if generation != self._generation:
            return  # a newer query is on its way
        self._searching.stop()
        self.model.reset_page(page)
        shown = self.tr("%1 patients").replace("%1", f"{page.total:,}")
        if page.total == 1:
            shown = self.tr("1 patient")
        self.count_label.setText(shown)
        self.results_shown.emit(page.total)

    def _next_page(self, generation: int, page: CaseloadPage) -> None:
        if generation == self._generation:
            self.model.append_page(page)
        else:
            self.model.fetch_failed()

    def _fetch_failed(self, exc: BaseException) -> None:
        self.model.fetch_failed()
        self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        self._searching.stop()
        self.count_label.setText(self.tr("Could not load the caseload: %1").replace("%1", str(exc)))

    # --- opening a patient ---
    def _selection_changed(self) -> None:
        self.open_button.setEnabled(self.table.selectionModel().hasSelection())

    def _open_index(self, index: QModelIndex) -> None:
        row = self.model.row_at(index.row())
        if row is not None:
            self.patient_opened.emit(row.patient_id)
            self.shell.open_patient(row.patient_id)

    def _open_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self._open_index(rows[0])

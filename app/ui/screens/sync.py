"""Sync: send this laptop's changes to a folder or USB stick as an encrypted bundle ("safe to
remove" once it has been read back), import colleagues' bundles with a clear result (what
changed, from whom, what was refused), warnings about missing changes, the conflicts inbox, and
the team key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.context import AppContext
from app.services.desktop import DeviceSettings, describe_record, get_device_settings
from app.services.sync import (
    SyncCancelled,
    SyncStatus,
    export_bundle,
    import_bundles,
    list_conflicts,
    sync_status,
)
from app.ui import format as fmt
from app.ui.models.sync import ConflictRow, ImportResultModel, ImportRow
from app.ui.screens.base import Screen
from app.ui.shell import Shell
from app.ui.widgets.conflicts import ConflictsPanel
from app.ui.widgets.files import choose_folder, choose_open_paths
from app.ui.widgets.progress import Cancelled, ProgressPanel
from app.ui.widgets.team_keys import TeamPanel

BUNDLE_FILTER = "CareCoord bundles (*.ccb);;All files (*)"


@dataclass(frozen=True)
class SyncData:
    status: SyncStatus
    conflicts: tuple[ConflictRow, ...]
    settings: DeviceSettings


@dataclass(frozen=True)
class ExportDone:
    path: str | None  # None: nothing new to export
    op_count: int
    new_ops: int
    size: int


def load_sync(session: Session, *, ctx: AppContext) -> SyncData:
    status = sync_status(ctx)  # opens its own read session
    conflicts = tuple(
        ConflictRow(c, describe_record(session, table=c.table, record_id=c.record_id))
        for c in list_conflicts(session)
    )
    return SyncData(status, conflicts, get_device_settings(session))


def _size(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{max(size // 1024, 1)} KB"


class SyncScreen(Screen):
    loaded = Signal()
    bundle_exported = Signal(object)  # ExportDone
    bundles_imported = Signal(object)  # tuple[ImportRow, ...]

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(shell, parent)
        self.data: SyncData | None = None
        self.results: tuple[ImportRow, ...] = ()
        self._generation = 0
        self._build()
        self._connect()

    # --- layout ---
    def _build(self) -> None:
        title = QLabel(self.tr("Sync"))
        title.setObjectName("screenTitle")
        self.summary = QLabel()
        self.summary.setAccessibleName(self.tr("Sync status"))
        self.summary.setWordWrap(True)
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.refresh_button.setAccessibleName(self.tr("Refresh the sync status (F5)"))
        self.refresh_button.setShortcut(QKeySequence("F5"))
        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(16)
        top.addWidget(self.summary, 1)
        top.addWidget(self.refresh_button)
        self.warnings = QLabel()
        self.warnings.setObjectName("banner")
        self.warnings.setStyleSheet("background: #ffb81c; color: black;")
        self.warnings.setWordWrap(True)
        self.warnings.setAccessibleName(self.tr("Warnings"))
        self.warnings.hide()

        # export
        self.folder = QLineEdit()
        self.folder.setAccessibleName(self.tr("Folder or USB stick to write the bundle to"))
        self.folder.setPlaceholderText(self.tr("Shared folder or USB stick…"))
        self.browse_button = QPushButton(self.tr("&Browse…"))
        self.browse_button.setAccessibleName(self.tr("Choose the folder for the bundle"))
        self.full = QCheckBox(self.tr("Include every change (for a laptop joining the team)"))
        self.full.setAccessibleName(self.tr("Export every change, not only new ones"))
        self.export_button = QPushButton(self.tr("&Export my changes"))
        self.export_button.setAccessibleName(self.tr("Write a bundle of this laptop's changes"))
        self.export_result = QLabel()
        self.export_result.setWordWrap(True)
        self.export_result.setAccessibleName(self.tr("Export result"))
        send = QGroupBox(self.tr("Send my changes"))
        sbox = QVBoxLayout(send)
        frow = QHBoxLayout()
        frow.addWidget(self.folder, 1)
        frow.addWidget(self.browse_button)
        sbox.addLayout(frow)
        erow = QHBoxLayout()
        erow.addWidget(self.full, 1)
        erow.addWidget(self.export_button)
        sbox.addLayout(erow)
        sbox.addWidget(self.export_result)
        how = QLabel(
            self.tr(
                "Bundles are encrypted with the team key and signed by this laptop: only the "
                "team's laptops can read them, and importing the same bundle twice changes "
                "nothing."
            )
        )
        how.setObjectName("hint")
        how.setWordWrap(True)
        sbox.addWidget(how)

        # import
        self.import_button = QPushButton(self.tr("&Import bundles…"))
        self.import_button.setAccessibleName(self.tr("Choose colleagues' bundles to import"))
        self.import_summary = QLabel(
            self.tr("Choose one or more .ccb files from the shared folder or USB stick.")
        )
        self.import_summary.setWordWrap(True)
        self.import_summary.setAccessibleName(self.tr("Import result"))
        self.result_model = ImportResultModel(self)
        self.result_table = QTableView()
        self.result_table.setAccessibleName(self.tr("What each bundle did"))
        self.result_table.setModel(self.result_model)
        self.result_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.result_table.verticalHeader().setVisible(False)
        self.result_table.setWordWrap(False)
        self.result_table.horizontalHeader().setStretchLastSection(True)
        self.result_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Interactive
        )
        for col, width in enumerate((230, 150, 80, 100, 120, 110)):
            self.result_table.setColumnWidth(col, width)
        receive = QGroupBox(self.tr("Receive colleagues' changes"))
        rbox = QVBoxLayout(receive)
        irow = QHBoxLayout()
        irow.addWidget(self.import_summary, 1)
        irow.addWidget(self.import_button)
        rbox.addLayout(irow)
        rbox.addWidget(self.result_table)

        self.result_table.setMinimumHeight(90)
        self.result_table.setMaximumHeight(170)

        self.conflicts = ConflictsPanel(self.shell)
        self.conflicts_box = QGroupBox(self.tr("Conflicts"))
        QVBoxLayout(self.conflicts_box).addWidget(self.conflicts)
        exchange = QWidget()
        xbox = QVBoxLayout(exchange)
        xbox.addWidget(send)
        xbox.addWidget(receive)
        xbox.addWidget(self.conflicts_box, 1)

        self.team = TeamPanel(self.shell)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName(self.tr("Sync sections"))
        self.tabs.addTab(exchange, self.tr("E&xchange and conflicts"))
        self.tabs.addTab(self.team, self.tr("&Team && keys"))

        self.progress = ProgressPanel()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.warnings)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.progress)

    def _connect(self) -> None:
        self.refresh_button.clicked.connect(self.refresh)
        self.browse_button.clicked.connect(self._browse)
        self.export_button.clicked.connect(self.export_changes)
        self.import_button.clicked.connect(self._choose_bundles)
        self.conflicts.conflict_resolved.connect(lambda _c: self.refresh())
        self.team.keys_changed.connect(self._keys_changed)

    # --- loading ---
    def refresh(self) -> None:
        super().refresh()
        self._generation += 1
        generation, ctx = self._generation, self.shell.ctx
        self.shell.runner.read(
            lambda s: load_sync(s, ctx=ctx),
            on_success=lambda d: self._loaded(generation, d),
            on_failure=self._failed,
        )

    def _loaded(self, generation: int, data: SyncData) -> None:
        if generation != self._generation:
            return
        self.data = data
        st = data.status
        if not self.folder.text() and data.settings.export_folder:
            self.folder.setText(data.settings.export_folder)
        parts = [
            self.tr("%1 changes waiting to be exported").replace("%1", f"{st.unexported_ops:,}")
        ]
        if st.last_export is not None:
            parts.append(self.tr("last export %1").replace("%1", fmt.when(st.last_export.at)))
        if st.last_import is not None:
            parts.append(self.tr("last import %1").replace("%1", fmt.when(st.last_import.at)))
        if st.team_id is None:
            parts.append(self.tr("no team key yet (see Team & keys)"))
        self.summary.setText(" · ".join(parts))
        self.export_button.setEnabled(st.team_id is not None and not st.revoked_here)
        self.import_button.setEnabled(st.team_id is not None)
        self.conflicts.set_conflicts(data.conflicts)
        count = len(data.conflicts)
        self.conflicts_box.setTitle(
            self.tr("Conflicts to resolve (%1)").replace("%1", str(count))
            if count
            else self.tr("Conflicts")
        )
        self.team.show_status(st)
        self._show_warnings()
        self.loaded.emit()

    def _show_warnings(self) -> None:
        lines: list[str] = []
        st = self.data.status if self.data else None
        if st is not None and st.revoked_here:
            lines.append(
                self.tr("This laptop has been revoked by the team: its bundles are refused.")
            )
        gaps = list(st.gaps if st else ())
        for row in self.results:
            gaps += [g for g in row.gaps if g not in gaps]
        lines += [self.tr("Missing changes: %1. Ask that colleague to export again.")
                  .replace("%1", g) for g in gaps]  # fmt: skip
        if st is not None and st.held_back_ops:
            lines.append(
                self.tr(
                    "%1 changes dated more than 24 hours ahead are held back until their time "
                    "(check that laptop's clock)."
                ).replace("%1", str(st.held_back_ops))
            )
        self.warnings.setText("\n".join(lines))
        self.warnings.setVisible(bool(lines))

    def _failed(self, exc: BaseException) -> None:
        self.summary.setText(self.tr("Could not read the sync status: %1").replace("%1", str(exc)))

    def _keys_changed(self, _what: str) -> None:
        self.shell.runner.data_changed.emit()  # enrolment is a change; the status bar counts it
        self.refresh()

    # --- export ---
    def _browse(self) -> None:
        folder = choose_folder(
            self, self.tr("Where to write the bundle"), self.folder.text() or None
        )
        if folder is not None:
            self.folder.setText(str(folder))

    def export_changes(self) -> None:
        text = self.folder.text().strip()
        if not text:
            self._browse()
            text = self.folder.text().strip()
            if not text:
                return
        self.export_to(Path(text))

    def export_to(self, folder: Path) -> None:
        ctx, full = self.shell.ctx, self.full.isChecked()
        report = self.progress.start(self.tr("Writing the bundle…"), raises=False)
        cancelled = self.progress.cancelled_check()
        self.export_button.setEnabled(False)
        self.export_result.setText(self.tr("Writing… do not remove the stick."))

        def job(_session: Session) -> ExportDone:
            done = export_bundle(
                ctx,
                out=folder,
                full=full,
                progress=lambda d, t: report(d, t, ""),
                cancelled=cancelled,
            )
            return ExportDone(
                str(done.path) if done.path else None, done.op_count, done.new_ops, done.size
            )

        self.shell.runner.read(job, on_success=self._exported, on_failure=self._export_failed)

    def _exported(self, done: ExportDone) -> None:
        self.progress.finish()
        if done.path is None:
            self.export_result.setText(self.tr("Nothing new to export: colleagues have it all."))
        else:
            self.export_result.setText(
                self.tr(
                    "Safe to remove: %1 was written and read back (%2 changes, %3). Give it "
                    "to your colleagues or leave it in the shared folder."
                )
                .replace("%1", Path(done.path).name)
                .replace("%2", f"{done.op_count:,}")
                .replace("%3", _size(done.size))
            )
        self.bundle_exported.emit(done)
        self.shell.runner.data_changed.emit()  # the changes are now marked exported
        self.refresh()

    def _export_failed(self, exc: BaseException) -> None:
        self.progress.finish()
        self.export_button.setEnabled(True)
        if isinstance(exc, SyncCancelled | Cancelled):
            self.export_result.setText(self.tr("Export cancelled; no bundle was written."))
        else:
            self.export_result.setText(self.tr("No bundle was written: %1").replace("%1", str(exc)))

    # --- import ---
    def _choose_bundles(self) -> None:
        folder = self.data.settings.import_folder if self.data else None
        paths = choose_open_paths(
            self, self.tr("Bundles to import"), folder or self.folder.text() or None,
            self.tr(BUNDLE_FILTER),
        )  # fmt: skip
        if paths:
            self.import_files(paths)

    def import_files(self, paths: list[Path]) -> None:
        ctx, files = self.shell.ctx, tuple(paths)
        report = self.progress.start(
            self.tr("Importing %1 bundle(s)…").replace("%1", str(len(files))), raises=False
        )
        cancelled = self.progress.cancelled_check()
        self.import_button.setEnabled(False)

        def job(_session: Session) -> tuple[ImportRow, ...]:
            outcomes = import_bundles(
                ctx, files, progress=lambda d, t: report(d, t, ""), cancelled=cancelled
            )
            return tuple(ImportRow.of(o) for o in outcomes)

        self.shell.runner.read(job, on_success=self._imported, on_failure=self._import_failed)

    def _imported(self, rows: tuple[ImportRow, ...]) -> None:
        self.progress.finish()
        self.import_button.setEnabled(True)
        self.results = rows
        self.result_model.set_rows(rows)
        ok = [r for r in rows if r.ok]
        senders = sorted({r.sender for r in ok if r.sender})
        text = (
            self.tr("%1 of %2 bundle(s) imported: %3 new changes from %4.")
            .replace("%1", str(len(ok)))
            .replace("%2", str(len(rows)))
            .replace("%3", f"{sum(r.new for r in ok):,}")
            .replace("%4", ", ".join(senders) or self.tr("no one new"))
        )
        refused = len(rows) - len(ok)
        if refused:
            text += " " + self.tr(
                "%1 refused and moved aside; nothing of them was imported."
            ).replace("%1", str(refused))
        conflicts = max((r.conflicts for r in ok), default=0)
        if conflicts:
            text += " " + self.tr("%1 conflict(s) to resolve.").replace("%1", str(conflicts))
        self.import_summary.setText(text)
        self.bundles_imported.emit(rows)
        self.shell.runner.data_changed.emit()
        self.refresh()

    def _import_failed(self, exc: BaseException) -> None:
        self.progress.finish()
        self.import_button.setEnabled(True)
        if isinstance(exc, Cancelled):
            self.import_summary.setText(self.tr("Import cancelled."))
        else:
            self.import_summary.setText(str(exc))

"""Settings: who you are (your profile, or sign in as someone else), the team's members, this
laptop's idle lock and default folders, the service directory, and backups (back up now, or
restore one after confirming)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.context import AppContext, backup_before, open_context, restore_backup
from app.core.errors import CareCoordError
from app.db.backup import list_backups
from app.services.caseload import (
    CoordinatorView,
    add_coordinator,
    deactivate_coordinator,
    list_coordinators,
)
from app.services.caseload_view import Choice, sign_in, signed_in_coordinator
from app.services.desktop import (
    MAX_IDLE_LOCK_MINUTES,
    DeviceSettings,
    get_device_settings,
    save_device_settings,
    update_coordinator,
)
from app.ui import format as fmt
from app.ui.dialogs.directory import DirectoryDialog
from app.ui.models.settings import BackupModel, BackupRow, TeamModel
from app.ui.screens.base import Screen
from app.ui.shell import Shell
from app.ui.widgets.files import choose_folder
from app.ui.widgets.form import ErrorLabel


@dataclass(frozen=True)
class SettingsData:
    me: Choice | None
    team: tuple[CoordinatorView, ...]
    settings: DeviceSettings
    backups: tuple[BackupRow, ...]
    backups_possible: bool  # False for a database held in memory


def _backups(ctx: AppContext) -> tuple[BackupRow, ...]:
    if ctx.in_memory:
        return ()
    return tuple(
        BackupRow(str(b.path), b.taken_at, b.reason, b.path.stat().st_size)
        for b in list_backups(ctx.paths.backups_dir)
        if b.path.exists()
    )


def load_settings(session: Session, *, ctx: AppContext) -> SettingsData:
    return SettingsData(
        me=signed_in_coordinator(session),
        team=tuple(list_coordinators(session, include_inactive=True)),
        settings=get_device_settings(session),
        backups=_backups(ctx),
        backups_possible=not ctx.in_memory,
    )


def back_up_now(_session: Session, *, ctx: AppContext) -> str:
    made = backup_before(ctx, "manual")
    return made.name if made is not None else ""


def restore_in_place(ctx: AppContext, backup: Path) -> str:
    """Replace the database by ``backup`` while the app runs: close it, restore, and open it
    again (checks and migrations) under the same AppContext. Returns where the replaced
    database was kept. Call with no background work running."""
    ctx.close()
    try:
        restored = restore_backup(ctx.paths, backup, secrets=ctx.secrets, clock=ctx.clock)
    finally:
        reopened = open_context(ctx.paths, clock=ctx.clock, secrets=ctx.secrets)
        # the window's engine reconnects to the file by itself; keep the new marker and keys
        ctx.marker, ctx.db_key, ctx.device_id = reopened.marker, reopened.db_key, reopened.device_id
        ctx.warnings.extend(reopened.warnings)
        ctx.maintenance_due[:] = reopened.maintenance_due  # what the reopened file still needs
        reopened.db.dispose()
    return str(restored.replaced) if restored.replaced else ""


def _button(text: str, name: str) -> QPushButton:
    b = QPushButton(text)
    b.setAccessibleName(name)
    return b


def _table(name: str) -> QTableView:
    table = QTableView()
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return table


class SettingsScreen(Screen):
    loaded = Signal()
    settings_saved = Signal(object)  # DeviceSettings
    backup_made = Signal(str)
    backup_restored = Signal(str)

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(shell, parent)
        self.data: SettingsData | None = None
        self._generation = 0
        self._build()
        self._connect()

    # --- layout ---
    def _build(self) -> None:
        title = QLabel(self.tr("Settings"))
        title.setObjectName("screenTitle")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("hint")
        self.message.setAccessibleName(self.tr("Messages"))

        self.sign_in_as = QComboBox()
        self.sign_in_as.setAccessibleName(self.tr("Coordinator using this laptop"))
        self.sign_in_button = _button(self.tr("Sign &in"), self.tr("Sign in as the chosen person"))
        self.name = QLineEdit()
        self.name.setAccessibleName(self.tr("Your name"))
        self.role = QLineEdit()
        self.role.setAccessibleName(self.tr("Your role"))
        self.locality = QLineEdit()
        self.locality.setAccessibleName(self.tr("Your locality"))
        self.profile_button = _button(self.tr("Save &profile"), self.tr("Save your name and role"))
        self.profile_error = ErrorLabel(self.tr("your profile"))
        you = QGroupBox(self.tr("You"))
        yform = QFormLayout(you)
        who = QHBoxLayout()
        who.addWidget(self.sign_in_as, 1)
        who.addWidget(self.sign_in_button)
        yform.addRow(self.tr("Using this laptop"), who)
        for text, widget in (
            (self.tr("&Name"), self.name),
            (self.tr("&Role"), self.role),
            (self.tr("&Locality"), self.locality),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            yform.addRow(label, widget)
        prow = QHBoxLayout()
        prow.addWidget(self.profile_error, 1)
        prow.addStretch(0)
        prow.addWidget(self.profile_button, 0, Qt.AlignmentFlag.AlignRight)
        yform.addRow(prow)

        self.team = TeamModel(self)
        self.team_table = _table(self.tr("Team members"))
        self.team_table.setModel(self.team)
        self.team_table.setWordWrap(False)
        for col, width in enumerate((190, 170, 110, 80)):
            self.team_table.setColumnWidth(col, width)
        self.new_name = QLineEdit()
        self.new_name.setAccessibleName(self.tr("New member's name"))
        self.new_name.setPlaceholderText(self.tr("Name"))
        self.new_role = QLineEdit("Care Coordinator")
        self.new_role.setAccessibleName(self.tr("New member's role"))
        self.add_member_button = _button(self.tr("&Add member"), self.tr("Add the team member"))
        self.deactivate_button = _button(
            self.tr("&Deactivate"), self.tr("The selected member has left the team")
        )
        self.team_error = ErrorLabel(self.tr("the team"))
        team = QGroupBox(self.tr("Team members"))
        tbox = QVBoxLayout(team)
        tbox.addWidget(self.team_table, 1)
        trow = QHBoxLayout()
        trow.addWidget(self.new_name, 2)
        trow.addWidget(self.new_role, 2)
        trow.addWidget(self.add_member_button)
        trow.addWidget(self.deactivate_button)
        tbox.addLayout(trow)
        tbox.addWidget(self.team_error)

        self.idle_minutes = QSpinBox()
        self.idle_minutes.setAccessibleName(self.tr("Minutes without use before the screen locks"))
        self.idle_minutes.setRange(1, MAX_IDLE_LOCK_MINUTES)
        self.idle_minutes.setSuffix(self.tr(" minutes"))
        self.idle_minutes.setMaximumWidth(140)
        for inner in self.idle_minutes.findChildren(QLineEdit):
            inner.setAccessibleName(self.idle_minutes.accessibleName())
        self.folders: dict[str, QLineEdit] = {}
        laptop = QGroupBox(self.tr("This laptop"))
        lform = QFormLayout(laptop)
        idle_label = QLabel(self.tr("Lock the screen after"))
        idle_label.setBuddy(self.idle_minutes)
        lform.addRow(idle_label, self.idle_minutes)
        self.browse_buttons: dict[str, QPushButton] = {}
        for key, text in (
            ("export", self.tr("Bundles go to")),
            ("import", self.tr("Bundles come from")),
            ("pdf", self.tr("Reports are saved in")),
        ):
            edit = QLineEdit()
            edit.setAccessibleName(text)
            browse = _button(self.tr("Browse…"), self.tr("Choose: %1").replace("%1", text))
            browse.clicked.connect(lambda _=False, k=key: self._browse(k))
            self.folders[key], self.browse_buttons[key] = edit, browse
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(browse)
            lform.addRow(text, row)
        self.save_button = _button(
            self.tr("&Save settings"), self.tr("Save this laptop's settings")
        )
        self.directory_button = _button(
            self.tr("Service &directory…"), self.tr("Edit the directory of services")
        )
        self.settings_error = ErrorLabel(self.tr("settings"))
        srow = QHBoxLayout()
        srow.addWidget(self.directory_button)
        srow.addStretch(1)
        srow.addWidget(self.save_button)
        lform.addRow(self.settings_error)
        lform.addRow(srow)

        self.backup_model = BackupModel(self)
        self.backup_table = _table(self.tr("Backups"))
        self.backup_table.setModel(self.backup_model)
        for col, width in enumerate((140, 120, 80)):
            self.backup_table.setColumnWidth(col, width)
        self.backup_button = _button(self.tr("&Back up now"), self.tr("Make a backup now"))
        self.restore_button = _button(
            self.tr("Res&tore…"), self.tr("Replace the data by the selected backup")
        )
        self.backup_note = QLabel()
        self.backup_note.setObjectName("hint")
        self.backup_note.setWordWrap(True)
        backups = QGroupBox(self.tr("Backups (encrypted, in the data folder)"))
        bbox = QVBoxLayout(backups)
        bbox.addWidget(self.backup_table, 1)
        brow = QHBoxLayout()
        brow.addWidget(self.backup_note, 1)
        brow.addWidget(self.backup_button)
        brow.addWidget(self.restore_button)
        bbox.addLayout(brow)

        grid = QGridLayout()
        grid.addWidget(you, 0, 0)
        grid.addWidget(laptop, 0, 1)
        grid.addWidget(team, 1, 0)
        grid.addWidget(backups, 1, 1)
        grid.setRowStretch(1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(grid, 1)
        layout.addWidget(self.message)

    def _connect(self) -> None:
        self.sign_in_button.clicked.connect(self._sign_in)
        self.profile_button.clicked.connect(self.save_profile)
        self.add_member_button.clicked.connect(self.add_member)
        self.new_name.returnPressed.connect(self.add_member)
        self.deactivate_button.clicked.connect(self._deactivate)
        self.save_button.clicked.connect(self.save_settings)
        self.directory_button.clicked.connect(self.open_directory)
        self.backup_button.clicked.connect(self.back_up)
        self.restore_button.clicked.connect(self._restore_selected)
        self.team_table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.backup_table.selectionModel().selectionChanged.connect(self._update_buttons)

    # --- loading ---
    def refresh(self) -> None:
        super().refresh()
        self._generation += 1
        generation, ctx = self._generation, self.shell.ctx
        self.shell.runner.read(
            lambda s: load_settings(s, ctx=ctx),
            on_success=lambda d: self._loaded(generation, d),
            on_failure=self._failed,
        )

    def _loaded(self, generation: int, data: SettingsData) -> None:
        if generation != self._generation:
            return
        self.data = data
        self.sign_in_as.clear()
        for c in data.team:
            if c.active:
                self.sign_in_as.addItem(c.name, c.id)
        me = next((c for c in data.team if data.me and c.id == data.me.value), None)
        self.sign_in_as.setCurrentIndex(self.sign_in_as.findData(me.id) if me else -1)
        for edit, value in (
            (self.name, me.name if me else ""),
            (self.role, me.role if me else ""),
            (self.locality, (me.locality or "") if me else ""),
        ):
            edit.setText(value)
            edit.setEnabled(me is not None)
        self.profile_button.setEnabled(me is not None)
        self.team.set_rows(data.team)
        s = data.settings
        self.idle_minutes.setValue(s.idle_lock_minutes)
        for key, folder in (
            ("export", s.export_folder),
            ("import", s.import_folder),
            ("pdf", s.pdf_folder),
        ):
            self.folders[key].setText(folder or "")
        self.backup_model.set_rows(data.backups)
        self.backup_note.setText(
            self.tr("%1 backups; one is made every day and before every import.").replace(
                "%1", str(len(data.backups))
            )
            if data.backups_possible
            else self.tr("This data is held in memory only: there is nothing to back up.")
        )
        self._update_buttons()
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(self.tr("Could not load the settings: %1").replace("%1", str(exc)))

    def _update_buttons(self) -> None:
        rows = self.team_table.selectionModel().selectedRows()
        member = self.team.row_at(rows[0].row()) if rows else None
        self.deactivate_button.setEnabled(member is not None and member.active)
        possible = self.data is not None and self.data.backups_possible
        self.backup_button.setEnabled(possible)
        self.restore_button.setEnabled(
            possible and bool(self.backup_table.selectionModel().selectedRows())
        )

    # --- writes ---
    def _write(self, job, done: str, error: ErrorLabel) -> None:  # type: ignore[no-untyped-def]
        error.clear_error()

        def ok(_result: object) -> None:
            self.message.setText(done)
            self.refresh()

        def refused(exc: BaseException) -> None:
            error.show_error(str(exc) if isinstance(exc, CareCoordError) else repr(exc))

        self.shell.runner.write(job, on_success=ok, on_failure=refused)

    def _sign_in(self) -> None:
        cid = self.sign_in_as.currentData()
        if cid is None:
            return
        name = self.sign_in_as.currentText()
        self.shell.set_coordinator(cid, name)
        self._write(
            lambda s: sign_in(s, coordinator_id=cid),
            self.tr("Signed in as %1.").replace("%1", name),
            self.profile_error,
        )

    def save_profile(self) -> None:
        me = self.data.me if self.data else None
        if me is None:
            return
        cid = me.value
        name, role, where = self.name.text(), self.role.text(), self.locality.text() or None
        self._write(
            lambda s: update_coordinator(
                s, coordinator_id=cid, name=name, role=role, locality=where
            ),
            self.tr("Profile saved."),
            self.profile_error,
        )

    def add_member(self) -> None:
        name, role = self.new_name.text(), self.new_role.text()
        self.new_name.clear()
        self._write(
            lambda s: add_coordinator(s, name=name, role=role),
            self.tr("%1 added to the team.").replace("%1", name.strip()),
            self.team_error,
        )

    def _deactivate(self) -> None:
        rows = self.team_table.selectionModel().selectedRows()
        member = self.team.row_at(rows[0].row()) if rows else None
        if member is None:
            return
        cid = member.id
        self._write(
            lambda s: deactivate_coordinator(s, coordinator_id=cid),
            self.tr("%1 is no longer an active member.").replace("%1", member.name),
            self.team_error,
        )

    def _browse(self, key: str) -> None:
        folder = choose_folder(self, self.tr("Choose a folder"), self.folders[key].text() or None)
        if folder is not None:
            self.folders[key].setText(str(folder))

    def save_settings(self) -> None:
        minutes = self.idle_minutes.value()
        export, import_, pdf = (self.folders[k].text() for k in ("export", "import", "pdf"))

        def job(session: Session) -> DeviceSettings:
            return save_device_settings(
                session,
                idle_lock_minutes=minutes,
                export_folder=export,
                import_folder=import_,
                pdf_folder=pdf,
            )

        self.settings_error.clear_error()
        self.shell.runner.write(
            job,
            on_success=self._settings_saved,
            on_failure=lambda e: self.settings_error.show_error(str(e)),
        )

    def _settings_saved(self, settings: DeviceSettings) -> None:
        self.message.setText(self.tr("Settings saved."))
        self.settings_saved.emit(settings)

    def open_directory(self) -> DirectoryDialog:
        dialog = DirectoryDialog(self.shell, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # --- backups ---
    def back_up(self) -> None:
        ctx = self.shell.ctx
        self.backup_button.setEnabled(False)
        self.message.setText(self.tr("Backing up…"))
        self.shell.runner.read(
            lambda s: back_up_now(s, ctx=ctx),
            on_success=self._backed_up,
            on_failure=lambda e: self.message.setText(
                self.tr("The backup was not made: %1").replace("%1", str(e))
            ),
        )

    def _backed_up(self, name: str) -> None:
        self.message.setText(self.tr("Backup %1 made.").replace("%1", name))
        self.backup_made.emit(name)
        self.refresh()

    def _restore_selected(self) -> None:
        rows = self.backup_table.selectionModel().selectedRows()
        backup = self.backup_model.row_at(rows[0].row()) if rows else None
        if backup is None:
            return
        answer = QMessageBox.warning(
            self,
            self.tr("Restore a backup"),
            self.tr(
                "Replace all of this laptop's data by the backup taken %1? Changes made since "
                "then are lost from this laptop (they are kept aside in a file, and colleagues "
                "who received them in bundles still have them)."
            ).replace("%1", fmt.when(backup.taken_at)),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.restore(Path(backup.path))

    def restore(self, backup: Path) -> None:
        """Restore ``backup``. The window waits: nothing may touch the database while its file
        is replaced, so this is the one operation done on the GUI thread."""
        self.shell.background_stop_requested.emit()  # a background check reads the file
        self.shell.runner.wait()
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            kept = restore_in_place(self.shell.ctx, backup)
        except CareCoordError as exc:
            self.message.setText(self.tr("Nothing was restored: %1").replace("%1", str(exc)))
            return
        finally:
            QApplication.restoreOverrideCursor()
            self.shell.background_resume_requested.emit()
        self.message.setText(
            self.tr("Backup %1 restored. The data it replaced is kept in %2.")
            .replace("%1", backup.name)
            .replace("%2", Path(kept).name if kept else self.tr("nothing (there was none)"))
        )
        self.backup_restored.emit(str(backup))
        self.shell.runner.data_changed.emit()

"""Team keys on the Sync screen: start a team (the first laptop), hand the key over in a
passphrase-protected file, join a team from such a file, and the team's laptops (a team lead
can revoke a lost one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.errors import CareCoordError
from app.services.sync import (
    DeviceView,
    SyncStatus,
    export_key,
    import_key,
    init_team_key,
    revoke_device,
)
from app.ui.dialogs.passphrase import PassphraseDialog
from app.ui.models.sync import DeviceModel
from app.ui.shell import Shell
from app.ui.widgets.files import choose_open_path, choose_save_path

KEY_FILTER = "CareCoord team key (*.cckey);;All files (*)"


@dataclass(frozen=True)
class KeyDone:
    """What a key action did, in words (paths as text: they cross threads)."""

    message: str


class TeamPanel(QWidget):
    keys_changed = Signal(str)  # what was done

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        self.status: SyncStatus | None = None
        self._build()
        self._connect()

    def _build(self) -> None:
        self.key_state = QLabel()
        self.key_state.setWordWrap(True)
        self.key_state.setAccessibleName(self.tr("Team key"))
        self.label = QLineEdit()
        self.label.setAccessibleName(self.tr("This laptop's name in the team"))
        self.label.setPlaceholderText(self.tr("e.g. Amira's laptop"))
        self.create_button = QPushButton(self.tr("&Create team key"))
        self.create_button.setAccessibleName(
            self.tr("Create the team key on the team's first laptop")
        )
        self.export_button = QPushButton(self.tr("&Export key file…"))
        self.export_button.setAccessibleName(
            self.tr("Write the team key to a passphrase-protected file for a colleague")
        )
        self.import_button = QPushButton(self.tr("&Import key file…"))
        self.import_button.setAccessibleName(self.tr("Join the team from a key file"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName(self.tr("Messages"))
        keys = QGroupBox(self.tr("Team key"))
        kbox = QVBoxLayout(keys)
        kbox.addWidget(self.key_state)
        name_row = QHBoxLayout()
        name_label = QLabel(self.tr("This laptop's &name"))
        name_label.setBuddy(self.label)
        name_row.addWidget(name_label)
        name_row.addWidget(self.label, 1)
        kbox.addLayout(name_row)
        buttons = QHBoxLayout()
        for b in (self.create_button, self.export_button, self.import_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        kbox.addLayout(buttons)
        kbox.addWidget(self.message)

        self.devices = DeviceModel(self)
        self.device_table = QTableView()
        self.device_table.setAccessibleName(self.tr("The team's laptops"))
        self.device_table.setModel(self.devices)
        self.device_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.device_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.device_table.verticalHeader().setVisible(False)
        self.device_table.horizontalHeader().setStretchLastSection(True)
        self.device_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Interactive
        )
        for col, width in enumerate((220, 330, 140)):
            self.device_table.setColumnWidth(col, width)
        self.revoke_button = QPushButton(self.tr("&Revoke…"))
        self.revoke_button.setAccessibleName(self.tr("Revoke the selected laptop (team leads)"))
        laptops = QGroupBox(self.tr("The team's laptops"))
        lbox = QVBoxLayout(laptops)
        lbox.addWidget(self.device_table, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.revoke_button)
        lbox.addLayout(row)

        layout = QVBoxLayout(self)
        layout.addWidget(keys)
        layout.addWidget(laptops, 1)

    def _connect(self) -> None:
        self.create_button.clicked.connect(self.create_team_key)
        self.export_button.clicked.connect(self._export_key)
        self.import_button.clicked.connect(self._import_key)
        self.revoke_button.clicked.connect(self._revoke)
        self.device_table.selectionModel().selectionChanged.connect(self._update_buttons)

    def show_status(self, status: SyncStatus) -> None:
        self.status = status
        if status.team_id is None:
            self.key_state.setText(
                self.tr(
                    "This laptop holds no team key yet. On the team's first laptop, create "
                    "the team key; on every other laptop, import the key file a colleague "
                    "hands you."
                )
            )
        else:
            self.key_state.setText(
                self.tr("Team %1, key epoch %2. This laptop: %3, key fingerprint %4.")
                .replace("%1", status.team_id[:8])
                .replace("%2", str(status.team_key_epoch))
                .replace("%3", status.device_label or status.device_id[:8])
                .replace("%4", status.fingerprint or self.tr("not enrolled"))
            )
        if not self.label.text() and status.device_label:
            self.label.setText(status.device_label)
        self.devices.set_rows(status.devices)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_key = self.status is not None and self.status.team_id is not None
        self.create_button.setEnabled(self.status is not None and not has_key)
        self.export_button.setEnabled(has_key)
        rows = self.device_table.selectionModel().selectedRows()
        device = self.devices.row_at(rows[0].row()) if rows else None
        self.revoke_button.setEnabled(
            device is not None and not device.revoked and not device.this_laptop
        )

    # --- actions, each off the GUI thread (keys live in the keyring or the key file) ---
    def _run(self, job: Callable[[Session], KeyDone], busy: str) -> None:
        self.message.setText(busy)
        for b in (self.create_button, self.export_button, self.import_button):
            b.setEnabled(False)
        self.shell.runner.read(job, on_success=self._done, on_failure=self._refused)

    def _done(self, done: KeyDone) -> None:
        self.message.setText(done.message)
        self._update_buttons()
        self.keys_changed.emit(done.message)

    def _refused(self, exc: BaseException) -> None:
        self._update_buttons()
        self.message.setText(
            str(exc)
            if isinstance(exc, CareCoordError)
            else self.tr("That did not work: %1").replace("%1", str(exc))
        )

    def _laptop_name(self) -> str | None:
        return self.label.text().strip() or None

    def create_team_key(self) -> None:
        ctx, label = self.shell.ctx, self._laptop_name()

        def job(_session: Session) -> KeyDone:
            info = init_team_key(ctx, label=label)
            return KeyDone(
                self.tr(
                    "Team key created (team %1). Export it to a key file for each colleague."
                ).replace("%1", info.team_id[:8])
            )

        self._run(job, self.tr("Creating the team key…"))

    def _export_key(self) -> None:
        path = choose_save_path(
            self, self.tr("Save the team key file"), None, "team-key.cckey", self.tr(KEY_FILTER)
        )
        if path is None:
            return
        ask = PassphraseDialog(
            self.tr("Protect the key file"),
            self.tr(
                "Choose a passphrase for the key file. Tell it to your colleague in person, "
                "never with the file."
            ),
            new=True,
            parent=self,
        )
        ask.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        ask.accepted.connect(lambda: self.export_key_to(path, ask.value()))
        ask.open()

    def export_key_to(self, path: Path, passphrase: str) -> None:
        ctx = self.shell.ctx

        def job(_session: Session) -> KeyDone:
            done = export_key(ctx, path, passphrase)
            return KeyDone(
                self.tr("Key file %1 written (%2 laptops listed). Hand it over in person.")
                .replace("%1", done.path.name)
                .replace("%2", str(done.members))
            )

        self._run(job, self.tr("Writing the key file…"))

    def _import_key(self) -> None:
        path = choose_open_path(self, self.tr("Open the team key file"), None, self.tr(KEY_FILTER))
        if path is None:
            return
        ask = PassphraseDialog(
            self.tr("Open the key file"),
            self.tr("The passphrase your colleague chose for %1:").replace("%1", path.name),
            new=False,
            parent=self,
        )
        ask.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        ask.accepted.connect(lambda: self.import_key_from(path, ask.value()))
        ask.open()

    def import_key_from(self, path: Path, passphrase: str) -> None:
        ctx, label = self.shell.ctx, self._laptop_name()

        def job(_session: Session) -> KeyDone:
            info = import_key(ctx, path, passphrase, label=label)
            return KeyDone(
                self.tr("This laptop joined team %1 as %2; %3 laptops known.")
                .replace("%1", info.team_id[:8])
                .replace("%2", info.device_label)
                .replace("%3", str(info.members_listed))
            )

        self._run(job, self.tr("Opening the key file…"))

    def _revoke(self) -> None:
        rows = self.device_table.selectionModel().selectedRows()
        device = self.devices.row_at(rows[0].row()) if rows else None
        if device is None:
            return
        reason, ok = QInputDialog.getText(
            self,
            self.tr("Revoke %1").replace("%1", device.label),
            self.tr("Why (for example: laptop lost)? Bundles it signs will be refused."),
        )
        if ok:
            self.revoke(device, reason)

    def revoke(self, device: DeviceView, reason: str) -> None:
        ctx, device_id = self.shell.ctx, device.device_id

        def job(_session: Session) -> KeyDone:
            done = revoke_device(ctx, device_id, reason or None)
            return KeyDone(self.tr("%1 revoked.").replace("%1", done.label))

        self._run(job, self.tr("Revoking…"))

"""The page shown instead of the window's content while CareCoord is locked: no patient data,
only who may carry on (and the key file's passphrase where one protects the keys)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.services.caseload import CoordinatorView
from app.ui.widgets.form import ErrorLabel


class LockScreen(QWidget):
    unlock_requested = Signal(str, str, str)  # coordinator id, name, passphrase ("" if none)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.needs_passphrase = False
        self._build()
        self._connect()
        self.setAccessibleName(self.tr("CareCoord is locked"))

    def _build(self) -> None:
        panel = QFrame()
        panel.setObjectName("lockPanel")
        panel.setFrameShape(QFrame.Shape.StyledPanel)
        panel.setMinimumWidth(440)
        panel.setMaximumWidth(560)
        title = QLabel(self.tr("CareCoord is locked"))
        title.setObjectName("screenTitle")
        self.reason = QLabel(
            self.tr("Patient information is hidden while the laptop is not in use.")
        )
        self.reason.setWordWrap(True)
        self.reason.setAccessibleName(self.tr("Why it is locked"))
        self.who = QComboBox()
        self.who.setAccessibleName(self.tr("Who is carrying on"))
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName(self.tr("Passphrase of the key file"))
        self.passphrase_label = QLabel(self.tr("&Passphrase"))
        self.passphrase_label.setBuddy(self.passphrase)
        self.error = ErrorLabel(self.tr("unlocking"))
        self.unlock_button = QPushButton(self.tr("&Unlock"))
        self.unlock_button.setAccessibleName(self.tr("Unlock CareCoord"))
        self.unlock_button.setDefault(True)
        form = QFormLayout()
        who_label = QLabel(self.tr("&I am"))
        who_label.setBuddy(self.who)
        form.addRow(who_label, self.who)
        form.addRow(self.passphrase_label, self.passphrase)
        box = QVBoxLayout(panel)
        box.setContentsMargins(24, 20, 24, 20)
        box.addWidget(title)
        box.addWidget(self.reason)
        box.addSpacing(8)
        box.addLayout(form)
        box.addWidget(self.error)
        box.addWidget(self.unlock_button, 0, Qt.AlignmentFlag.AlignRight)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(panel, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        self.set_passphrase_needed(False)

    def _connect(self) -> None:
        self.unlock_button.clicked.connect(self._unlock)
        self.passphrase.returnPressed.connect(self._unlock)
        self.passphrase.textChanged.connect(self.error.clear_error)

    def set_passphrase_needed(self, needed: bool) -> None:
        self.needs_passphrase = needed
        self.passphrase.setVisible(needed)
        self.passphrase_label.setVisible(needed)

    def set_team(self, team: tuple[CoordinatorView, ...], current: str | None) -> None:
        self.who.clear()
        for c in team:
            if c.active:
                self.who.addItem(c.name, c.id)
        index = self.who.findData(current)
        self.who.setCurrentIndex(index if index >= 0 else 0)

    def reset(self, reason: str) -> None:
        self.reason.setText(reason)
        self.passphrase.clear()
        self.error.clear_error()
        self.unlock_button.setEnabled(True)
        (self.passphrase if self.needs_passphrase else self.unlock_button).setFocus()

    def _unlock(self) -> None:
        cid = self.who.currentData()
        if cid is None:
            self.error.show_error(self.tr("Choose who you are."))
            return
        if self.needs_passphrase and not self.passphrase.text():
            self.error.show_error(self.tr("Type the passphrase of CareCoord's key file."))
            return
        self.unlock_button.setEnabled(False)
        self.unlock_requested.emit(str(cid), self.who.currentText(), self.passphrase.text())

    def refuse(self, message: str) -> None:
        self.unlock_button.setEnabled(True)
        self.passphrase.clear()
        self.error.show_error(message)
        self.passphrase.setFocus()

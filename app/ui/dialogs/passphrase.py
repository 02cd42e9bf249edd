"""Ask for a passphrase: once to open a key file, or twice (matching, long enough) to protect
a new one."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.ui.widgets.form import ErrorLabel

MIN_LENGTH = 10


class PassphraseDialog(QDialog):
    def __init__(
        self,
        title: str,
        explanation: str,
        *,
        new: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.new = new
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self._explanation = explanation
        self._build()
        self._connect()

    def _build(self) -> None:
        text = QLabel(self._explanation)
        text.setWordWrap(True)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName(self.tr("Passphrase"))
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        self.again.setAccessibleName(self.tr("Passphrase again"))
        self.show_text = QCheckBox(self.tr("Show what I type"))
        self.show_text.setAccessibleName(self.tr("Show the passphrase"))
        self.error = ErrorLabel(self.tr("passphrase"))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        form = QFormLayout()
        label = QLabel(self.tr("&Passphrase"))
        label.setBuddy(self.passphrase)
        form.addRow(label, self.passphrase)
        if self.new:
            again = QLabel(self.tr("&Again"))
            again.setBuddy(self.again)
            form.addRow(again, self.again)
        form.addRow("", self.show_text)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.passphrase.setFocus()

    def _connect(self) -> None:
        self.buttons.accepted.connect(self._check)
        self.buttons.rejected.connect(self.reject)
        self.show_text.toggled.connect(self._show)
        self.passphrase.textChanged.connect(self.error.clear_error)
        self.again.textChanged.connect(self.error.clear_error)

    def _show(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.passphrase.setEchoMode(mode)
        self.again.setEchoMode(mode)

    def problem(self) -> str | None:
        text = self.passphrase.text()
        if not text:
            return self.tr("Type the passphrase.")
        if self.new and len(text) < MIN_LENGTH:
            return self.tr("Use at least %1 characters.").replace("%1", str(MIN_LENGTH))
        if self.new and self.again.text() != text:
            return self.tr("The two passphrases differ.")
        return None

    def _check(self) -> None:
        problem = self.problem()
        if problem:
            self.error.show_error(problem)
            return
        self.accept()

    def value(self) -> str:
        return self.passphrase.text()

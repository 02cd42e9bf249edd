"""Message boxes answered without blocking a test: Discard where offered (unsaved changes),
otherwise Yes. The titles asked are recorded."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox


@pytest.fixture
def questions(monkeypatch) -> list[str]:
    asked: list[str] = []

    def answer(_parent, title, _text, buttons=QMessageBox.StandardButton.Yes, *_args):
        asked.append(title)
        if buttons & QMessageBox.StandardButton.Discard:
            return QMessageBox.StandardButton.Discard
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    return asked

"""Choosing where a file goes, and opening a finished file with the system's viewer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QWidget


def open_file(path: Path) -> bool:
    """Open ``path`` in the user's default application (the PDF viewer for a PDF)."""
    return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))))


def start_folder(folder: str | None) -> str:
    """The remembered folder when it still exists, else the user's home folder."""
    if folder and Path(folder).is_dir():
        return folder
    return str(Path.home())


def choose_save_path(
    parent: QWidget, title: str, folder: str | None, name: str, filters: str
) -> Path | None:
    chosen, _ = QFileDialog.getSaveFileName(
        parent, title, str(Path(start_folder(folder)) / name), filters
    )
    return Path(chosen) if chosen else None


def choose_folder(parent: QWidget, title: str, folder: str | None) -> Path | None:
    chosen = QFileDialog.getExistingDirectory(parent, title, start_folder(folder))
    return Path(chosen) if chosen else None


def choose_open_paths(parent: QWidget, title: str, folder: str | None, filters: str) -> list[Path]:
    chosen, _ = QFileDialog.getOpenFileNames(parent, title, start_folder(folder), filters)
    return [Path(c) for c in chosen]


def choose_open_path(parent: QWidget, title: str, folder: str | None, filters: str) -> Path | None:
    chosen, _ = QFileDialog.getOpenFileName(parent, title, start_folder(folder), filters)
    return Path(chosen) if chosen else None

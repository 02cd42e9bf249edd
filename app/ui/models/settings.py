"""Item models of the Settings screen: the team's coordinators and this laptop's backups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QCoreApplication

from app.services.caseload import CoordinatorView
from app.ui import format as fmt
from app.ui.models.base import Column, RowTableModel
from app.ui.models.directory import INACTIVE

_T = QCoreApplication.translate


@dataclass(frozen=True)
class BackupRow:
    path: str
    taken_at: datetime
    reason: str
    size: int


class TeamModel(RowTableModel[CoordinatorView]):
    columns = (
        Column[CoordinatorView](
            "Name",
            lambda c: c.name + (_T("Settings", " (team lead)") if c.is_team_lead else ""),
            foreground=lambda c: None if c.active else INACTIVE,
        ),
        Column[CoordinatorView]("Role", lambda c: c.role),
        Column[CoordinatorView]("Locality", lambda c: c.locality or ""),
        Column[CoordinatorView]("Caseload", lambda c: str(c.caseload), align_right=True),
        Column[CoordinatorView](
            "Active",
            lambda c: fmt.yes_no(c.active),
            foreground=lambda c: None if c.active else INACTIVE,
        ),
    )


def _reason(reason: str) -> str:
    return reason.replace("-", " ").capitalize()


class BackupModel(RowTableModel[BackupRow]):
    columns = (
        Column[BackupRow]("Taken", lambda b: fmt.when(b.taken_at)),
        Column[BackupRow]("Why", lambda b: _reason(b.reason)),
        Column[BackupRow]("Size", lambda b: f"{b.size / 1_048_576:.1f} MB", align_right=True),
        Column[BackupRow]("File", lambda b: b.path.rsplit("/", 1)[-1], tooltip=lambda b: b.path),
    )

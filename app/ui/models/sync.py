"""Item models of the Sync screen: what each imported bundle did, the conflicts inbox with each
competing value, and the team's laptops."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication

from app.services.desktop import RecordLabel
from app.services.sync import ConflictHead, ConflictView, DeviceView, ImportOutcome
from app.ui import format as fmt
from app.ui.models.base import Column, RowTableModel

_T = QCoreApplication.translate


@dataclass(frozen=True)
class ImportRow:
    """One imported (or refused) bundle, as shown (paths as text: they cross threads)."""

    file: str
    ok: bool
    reason: str | None
    message: str | None
    moved_to: str | None
    sender: str | None
    received: int
    new: int
    already_held: int
    records_changed: int
    conflicts: int
    held_back: int
    duplicates_flagged: int
    enrolled: bool
    gaps: tuple[str, ...]

    @classmethod
    def of(cls, o: ImportOutcome) -> ImportRow:
        return cls(
            file=o.path.name,
            ok=o.ok,
            reason=o.reason,
            message=o.message,
            moved_to=str(o.moved_to) if o.moved_to else None,
            sender=o.sender_label,
            received=o.received,
            new=o.new,
            already_held=o.already_held,
            records_changed=o.records_changed,
            conflicts=o.conflicts,
            held_back=o.held_back,
            duplicates_flagged=o.duplicates_flagged,
            enrolled=o.enrolled,
            gaps=o.gaps,
        )

    def summary(self) -> str:
        if not self.ok:
            return (
                _T("Sync", "Refused (%1): %2")
                .replace("%1", self.reason or "")
                .replace("%2", self.message or "")
            )
        parts = [
            _T("Sync", "%1 new changes, %2 records updated")
            .replace("%1", str(self.new))
            .replace("%2", str(self.records_changed))
        ]
        if self.already_held:
            parts.append(_T("Sync", "%1 already here").replace("%1", str(self.already_held)))
        if self.held_back:
            parts.append(
                _T("Sync", "%1 held back (dated in the future)").replace("%1", str(self.held_back))
            )
        if self.duplicates_flagged:
            parts.append(
                _T("Sync", "%1 possible duplicate patients to check").replace(
                    "%1", str(self.duplicates_flagged)
                )
            )
        if self.enrolled:
            parts.append(_T("Sync", "new laptop enrolled"))
        return "; ".join(parts)


@dataclass(frozen=True)
class ConflictRow:
    conflict: ConflictView
    record: RecordLabel


def value_text(value: Any) -> str:
    """A competing value as a person reads it."""
    if value is None:
        return _T("Sync", "(empty)")
    if isinstance(value, bool):
        return fmt.yes_no(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def field_text(field: str) -> str:
    return field.replace("_", " ").capitalize()


class ImportResultModel(RowTableModel[ImportRow]):
    columns = (
        Column[ImportRow]("Bundle", lambda r: r.file, tooltip=lambda r: r.moved_to),
        Column[ImportRow]("From", lambda r: r.sender or ""),
        Column[ImportRow](
            "Result",
            lambda r: _T("Sync", "Imported") if r.ok else _T("Sync", "Refused"),
            background=lambda r: fmt.GREEN if r.ok else fmt.RED,
        ),
        Column[ImportRow]("New changes", lambda r: str(r.new), align_right=True),
        Column[ImportRow]("Records updated", lambda r: str(r.records_changed), align_right=True),
        Column[ImportRow]("Conflicts open", lambda r: str(r.conflicts), align_right=True),
        Column[ImportRow]("What happened", ImportRow.summary, tooltip=ImportRow.summary),
    )


def _record(r: ConflictRow) -> str:
    about = f": {r.record.about}" if r.record.about else ""
    return _T("Sync", r.record.what) + about


class ConflictModel(RowTableModel[ConflictRow]):
    columns = (
        Column[ConflictRow]("Record", _record, tooltip=lambda r: r.conflict.record_id),
        Column[ConflictRow](
            "Field",
            lambda r: (
                _T("Sync", "the record itself")
                if r.conflict.field.startswith("_")
                else field_text(r.conflict.field)
            ),
        ),
        Column[ConflictRow](
            "Shown now",
            lambda r: (
                _T("Sync", "deleted or kept?")
                if r.conflict.deletion
                else value_text(r.conflict.current)
            ),
        ),
        Column[ConflictRow]("Values", lambda r: str(len(r.conflict.heads)), align_right=True),
        Column[ConflictRow]("Noticed", lambda r: fmt.when(r.conflict.detected_at)),
    )


def _head_value(h: ConflictHead) -> str:
    return _T("Sync", "Deleted the record") if h.deleted else value_text(h.value)


class ConflictHeadModel(RowTableModel[ConflictHead]):
    columns = (
        Column[ConflictHead]("Value", _head_value, tooltip=_head_value),
        Column[ConflictHead]("Laptop", lambda h: h.device_label),
        Column[ConflictHead]("When", lambda h: fmt.when(h.at)),
        Column[ConflictHead](
            "Shown now",
            lambda h: fmt.yes_no(h.shown),
            background=lambda h: fmt.AMBER if h.shown else None,
        ),
    )


class DeviceModel(RowTableModel[DeviceView]):
    columns = (
        Column[DeviceView](
            "Laptop",
            lambda d: d.label + (_T("Sync", " (this laptop)") if d.this_laptop else ""),
        ),
        Column[DeviceView]("Key fingerprint", lambda d: d.fingerprint),
        Column[DeviceView]("Enrolled", lambda d: fmt.when(d.enrolled_at)),
        Column[DeviceView](
            "Status",
            lambda d: (
                (_T("Sync", "Revoked %1").replace("%1", fmt.when(d.revoked_at)))
                if d.revoked
                else _T("Sync", "Active")
            ),
            foreground=lambda d: fmt.RED_TEXT if d.revoked else None,
            tooltip=lambda d: d.revoked_reason,
        ),
    )

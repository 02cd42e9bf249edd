"""Encrypted sync between laptops (DESIGN.md §5), as the command line and the Sync screen use
it: keys, export, import, status, conflicts and the audit trail.

The functions taking the AppContext need keys and files and open their own database sessions;
the others take a Session. Long work reports ``progress(done, total)`` and stops when
``cancelled()`` turns true (raising :class:`SyncCancelled`, with nothing half-written). Results
are frozen dataclasses. The work itself lives in the ``sync_*`` modules next to this one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from app.models import Conflict, LocalState, Op, Setting
from app.services.sync_audit import AuditEntry, audit_trail
from app.services.sync_conflicts import (
    ConflictHead,
    ConflictView,
    RecordChoice,
    find_conflict,
    head_choice,
    list_conflicts,
    resolve_conflict,
)
from app.services.sync_export import (
    LAST_EXPORT_KEY,
    LAST_IMPORT_KEY,
    Cancelled,
    ExportResult,
    Progress,
    SyncCancelled,
    SyncEvent,
    count_ops,
    export_bundle,
    recall_event,
)
from app.services.sync_import import ImportOutcome, import_bundles, refusal_reason
from app.services.sync_keys import (
    DeviceView,
    KeyExport,
    TeamKeyInfo,
    device_labels,
    export_key,
    import_key,
    init_team_key,
    label_for,
    list_devices,
    revoke_device,
    team_key_summary,
)
from app.sync.merge import PENDING_KEY, devices_with_ops, find_gaps, held_back_count

if TYPE_CHECKING:
    from app.context import AppContext

__all__ = [
    "AuditEntry",
    "Cancelled",
    "ConflictHead",
    "ConflictView",
    "DeviceView",
    "ExportResult",
    "ImportOutcome",
    "KeyExport",
    "Progress",
    "RecordChoice",
    "SyncCancelled",
    "SyncEvent",
    "SyncStatus",
    "TeamKeyInfo",
    "audit_trail",
    "export_bundle",
    "export_key",
    "find_conflict",
    "head_choice",
    "import_bundles",
    "import_key",
    "init_team_key",
    "list_conflicts",
    "list_devices",
    "refusal_reason",
    "resolve_conflict",
    "revoke_device",
    "sync_status",
    "team_key_summary",
]


@dataclass(frozen=True)
class SyncStatus:
    device_id: str
    device_label: str
    fingerprint: str | None
    team_id: str | None
    team_key_epoch: int | None
    unexported_ops: int
    held_back_ops: int
    open_conflicts: int
    pending_records: int
    devices: tuple[DeviceView, ...]
    last_export: SyncEvent | None
    last_import: SyncEvent | None
    gaps: tuple[str, ...]
    revoked_here: bool  # this laptop has been revoked by the team


def sync_status(ctx: AppContext) -> SyncStatus:
    """What the Sync screen shows: keys, laptops, what waits to be exported, last exchanges,
    gaps in what has been received, open conflicts."""
    team_key = team_key_summary(ctx)
    with ctx.db.read() as session:
        state = session.get_one(LocalState, 1)
        devices = tuple(list_devices(session))
        labels = device_labels(session)
        me = next((d for d in devices if d.this_laptop), None)
        all_devices = devices_with_ops(session)
        pending_row = session.get(Setting, PENDING_KEY)
        return SyncStatus(
            device_id=state.device_id,
            device_label=me.label if me else state.device_label,
            fingerprint=me.fingerprint if me else None,
            team_id=team_key.team_id if team_key else None,
            team_key_epoch=team_key.epoch if team_key else None,
            unexported_ops=count_ops(session, Op.exported.is_(False)),
            held_back_ops=held_back_count(session),
            open_conflicts=int(session.scalar(select(func.count()).select_from(Conflict)) or 0),
            pending_records=len(json.loads(pending_row.value)) if pending_row else 0,
            devices=devices,
            last_export=recall_event(session, LAST_EXPORT_KEY),
            last_import=recall_event(session, LAST_IMPORT_KEY),
            gaps=tuple(
                g.describe(label_for(labels, g.device_id)) for g in find_gaps(session, all_devices)
            ),
            revoked_here=bool(me and me.revoked),
        )

"""Merging ops received from other laptops (DESIGN.md §5).

Import is a set union of ops: an op already held is ignored, the same op id with different
content halts the import. Ops more than 24 h in the future are kept but held back. Affected
records are re-derived from their ops (app.sync.state); a record whose earlier ops or whose
referenced record has not arrived yet stays pending until it can be shown. Gaps in a device's
sequence numbers are reported. The same NHS number registered on two laptops raises a
possible-duplicate task and is never merged.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.core.clock import Clock
from app.core.errors import BundleError
from app.models import Base, LocalState, Op, Patient, Setting, Task, synced_models
from app.sync.changelog import HELD_BACK_KEY, stored_datetime
from app.sync.codec import canonical_json
from app.sync.hlc import Hlc, observe
from app.sync.state import OpRow, materialise

FUTURE_LIMIT = timedelta(hours=24)
PENDING_KEY = "sync.pending_records"
OP_KEYS = (
    "op_id",
    "device_id",
    "seq",
    "hlc",
    "table",
    "record_id",
    "kind",
    "fields",
    "parents",
)
_OP_KEY_SET = frozenset(OP_KEYS)
_DUP_NS = uuid.UUID("0b7f8f5e-8d2a-4a53-8f61-4a1c8f7d2e11")


class OpConflictError(BundleError):
    """The same op id arrived with different content: something is badly wrong; stop."""


@dataclass(frozen=True)
class SeqGap:
    device_id: str
    first: int
    last: int

    def describe(self, label: str | None = None) -> str:
        who = label or self.device_id[:8]
        span = f"{self.first}" if self.first == self.last else f"{self.first}–{self.last}"
        return f"changes {span} from {who} missing"


@dataclass(frozen=True)
class MergeReport:
    received: int
    new: int
    already_held: int
    held_back: int
    released: int
    records_changed: int
    pending_records: int
    conflicts: int
    by_device: Mapping[str, int]
    gaps: tuple[SeqGap, ...]
    duplicates_flagged: int


def op_to_dict(op: Op) -> dict[str, Any]:
    """The portable form of an op (as it travels in bundles)."""
    return {
        "op_id": op.op_id,
        "device_id": op.device_id,
        "seq": op.seq,
        "hlc": op.hlc,
        "table": op.table_name,
        "record_id": op.record_id,
        "kind": op.kind,
        "fields": json.loads(op.fields),
        "parents": json.loads(op.parents),
    }


_HELD_COLUMNS = (
    Op.op_id,
    Op.device_id,
    Op.seq,
    Op.hlc,
    Op.table_name,
    Op.record_id,
    Op.kind,
    Op.fields,
    Op.parents,
)


def _same(existing: Any, incoming: dict[str, Any]) -> bool:
    """Is ``incoming`` the op held here as ``existing`` (an Op, or a row of _HELD_COLUMNS)?"""
    return (
        existing.device_id == incoming["device_id"]
        and existing.seq == incoming["seq"]
        and existing.hlc == incoming["hlc"]
        and existing.table_name == incoming["table"]
        and existing.record_id == incoming["record_id"]
        and existing.kind == incoming["kind"]
        and existing.fields == canonical_json(incoming["fields"])
        and existing.parents == canonical_json(incoming["parents"])
    )


def _check_shape(op: dict[str, Any], synced_tables: set[str]) -> Hlc:
    """The op's HLC, once the op is known to be well formed."""
    if not op.keys() >= _OP_KEY_SET:
        missing = [k for k in OP_KEYS if k not in op]
        raise BundleError(f"A change is missing {', '.join(missing)}; the import was stopped.")
    if op["table"] not in synced_tables:
        raise BundleError(
            f"Change {op['op_id']} is for an unknown table '{op['table']}'; "
            "the bundle may come from a newer CareCoord."
        )
    if op["op_id"] != f"{op['device_id']}:{op['seq']}" or op["kind"] not in ("put", "delete"):
        raise BundleError(f"Change {op['op_id']} is malformed; the import was stopped.")
    return Hlc.decode(str(op["hlc"]))


def merge_ops(session: Session, ops: Sequence[dict[str, Any]], *, clock: Clock) -> MergeReport:
    """Apply received ops in the caller's transaction (all or nothing: any error rolls back)."""
    now = clock.now()
    synced_tables = {m.__tablename__ for m in synced_models()}
    hlcs = [_check_shape(op, synced_tables) for op in ops]
    order = session.scalar(select(func.max(Op.local_order))) or 0
    # A laptop holding no more ops than arrive (one joining the team holds a handful) reads
    # its own ops once rather than looking every incoming op up.
    scan_held = order <= len(ops)
    ids = [o["op_id"] for o in ops]
    if scan_held:
        held_ids = set(session.scalars(select(Op.op_id)))
        ids = [i for i in ids if i in held_ids]
    existing: dict[str, Any] = {}  # plain rows: a bundle received twice is all held ops
    for start in range(0, len(ids), 500):
        for row in session.execute(
            select(*_HELD_COLUMNS).where(Op.op_id.in_(ids[start : start + 500]))
        ):
            existing[row.op_id] = row
    limit_ms = int((now + FUTURE_LIMIT).timestamp() * 1000)
    received = stored_datetime(now)
    # records this laptop held ops of before: their state is derived from all their ops
    had = _records_held(session, ops, scan_held=scan_held)
    # records it did not: their ops are exactly the new ones, handed to materialise so a large
    # import does not read them back from the database
    known: dict[tuple[str, str], list[OpRow]] = {}
    keys: set[tuple[str, str]] = set()
    rows: list[tuple[Any, ...]] = []  # written in batches, not all held until the end
    new = 0
    seen: dict[str, dict[str, Any]] = {}
    held = 0
    by_device: dict[str, int] = {}
    max_hlc: Hlc | None = None
    for op, hlc in zip(ops, hlcs, strict=True):
        op_id = op["op_id"]
        prior = existing.get(op_id)
        if prior is not None:
            if not _same(prior, op):
                raise OpConflictError(
                    f"Change {op_id} arrived with different content than the copy held "
                    "here; the import was stopped and nothing was changed."
                )
            continue
        twin = seen.get(op_id)
        if twin is not None:
            if canonical_json(twin) != canonical_json(op):
                raise OpConflictError(
                    f"Change {op_id} appears twice with different content; "
                    "the import was stopped and nothing was changed."
                )
            continue
        seen[op_id] = op
        is_future = hlc.wall_ms > limit_ms
        held += is_future
        table, record = op["table"], op["record_id"]
        if not is_future:
            max_hlc = hlc if max_hlc is None or hlc > max_hlc else max_hlc
            key = (table, record)
            keys.add(key)
            if key not in had:
                found = OpRow(op_id, op["device_id"], op["hlc"], op["kind"], op["fields"],
                              op["parents"])  # fmt: skip
                same_record = known.get(key)
                if same_record is None:
                    known[key] = [found]
                else:
                    same_record.append(found)
        order += 1
        new += 1
        by_device[op["device_id"]] = by_device.get(op["device_id"], 0) + 1
        rows.append(
            (op_id, op["device_id"], int(op["seq"]), op["hlc"], table, record, op["kind"],
             canonical_json(op["fields"]), canonical_json(op["parents"]), order, received,
             0,  # not exported: relayed onwards in this laptop's next bundle
             int(is_future))
        )  # fmt: skip
        if len(rows) >= _INSERT_BATCH:
            _insert_ops(session, rows)
            rows.clear()
    _insert_ops(session, rows)
    released = _release_held_back(session, limit_ms, newly_held=held)
    if max_hlc is not None:
        state = session.get_one(LocalState, 1)
        merged = observe(Hlc(state.hlc_wall_ms, state.hlc_counter), max_hlc, now)
        state.hlc_wall_ms, state.hlc_counter = merged.wall_ms, merged.counter
    keys |= released
    keys |= _pending(session)
    pending = materialise(session, sorted(keys), now=now, known_ops=known)
    _set_pending(session, pending)
    flagged = flag_duplicate_nhs_numbers(session, [r for t, r in keys if t == "patients"], now=now)
    session.flush()
    conflicts = session.scalar(select(func.count()).select_from(Base.metadata.tables["conflicts"]))
    return MergeReport(
        received=len(ops),
        new=new,
        already_held=len(ops) - new,
        held_back=held,
        released=len(released),
        records_changed=len(keys) - len(pending),
        pending_records=len(pending),
        conflicts=int(conflicts or 0),
        by_device=by_device,
        gaps=tuple(find_gaps(session, by_device)),
        duplicates_flagged=flagged,
    )


def _records_held(
    session: Session, ops: Sequence[dict[str, Any]], *, scan_held: bool
) -> set[tuple[str, str]]:
    """The (table, record id) pairs of ``ops`` that this laptop holds ops of already: read in
    one pass over its ops (``scan_held``) or looked up in batches."""
    if scan_held:
        return {(t, r) for t, r in session.execute(select(Op.table_name, Op.record_id))}
    by_table: dict[str, set[str]] = {}
    for op in ops:
        by_table.setdefault(op["table"], set()).add(op["record_id"])
    had: set[tuple[str, str]] = set()
    for tname, rids in by_table.items():
        ordered = sorted(rids)
        for start in range(0, len(ordered), 900):
            chunk = ordered[start : start + 900]
            had.update(
                (tname, rid)
                for rid in session.scalars(
                    select(Op.record_id)
                    .where(Op.table_name == tname, Op.record_id.in_(chunk))
                    .distinct()
                )
            )
    return had


_OPS_COLUMNS = (
    "op_id, device_id, seq, hlc, table_name, record_id, kind, fields, parents, local_order,"
    " received_at, exported, held_back"
)
_INSERT_BATCH = 20_000


def _insert_ops(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Bulk insert through the driver (the ORM's per-row overhead dominates large imports);
    each row holds the values of _OPS_COLUMNS as stored."""
    if rows:
        session.connection().exec_driver_sql(
            f"INSERT INTO ops ({_OPS_COLUMNS}) VALUES ({', '.join('?' * 13)})", rows
        )


def held_back_count(session: Session) -> int:
    """How many received ops are held back (dated more than 24 h ahead). Kept in a setting by
    every merge: counting them means reading the whole op log (no index has the flag), seconds
    on a big team's laptop. A laptop from before the setting counts the slow way until its
    next import stores the number."""
    row = session.get(Setting, HELD_BACK_KEY)
    if row is not None:
        return int(row.value)
    return int(
        session.scalar(select(func.count()).select_from(Op).where(Op.held_back.is_(True))) or 0
    )


def _release_held_back(session: Session, limit_ms: int, *, newly_held: int) -> set[tuple[str, str]]:
    """Release the held-back ops that are no longer ahead of the clock; keep the count."""
    row = session.get(Setting, HELD_BACK_KEY)
    if row is not None and int(row.value) == 0 and newly_held == 0:
        return set()  # nothing is held back: no need to read the op log
    released: set[tuple[str, str]] = set()
    still_held = 0
    for op in session.scalars(select(Op).where(Op.held_back.is_(True))):
        if Hlc.decode(op.hlc).wall_ms <= limit_ms:
            op.held_back = False
            released.add((op.table_name, op.record_id))
        else:
            still_held += 1
    if row is None:
        session.add(Setting(key=HELD_BACK_KEY, value=str(still_held)))
    else:
        row.value = str(still_held)
    session.flush()
    return released


def _pending(session: Session) -> set[tuple[str, str]]:
    row = session.get(Setting, PENDING_KEY)
    if row is None:
        return set()
    return {(t, r) for t, r in json.loads(row.value)}


def _set_pending(session: Session, keys: Iterable[tuple[str, str]]) -> None:
    value = json.dumps(sorted(keys))
    row = session.get(Setting, PENDING_KEY)
    if row is None:
        session.add(Setting(key=PENDING_KEY, value=value))
    else:
        row.value = value


_DEVICES_SQL = text(
    "WITH RECURSIVE d(id) AS (SELECT min(device_id) FROM ops"
    " UNION ALL SELECT (SELECT min(device_id) FROM ops WHERE device_id > d.id) FROM d"
    " WHERE d.id IS NOT NULL) SELECT id FROM d WHERE id IS NOT NULL"
)


def devices_with_ops(session: Session) -> list[str]:
    """Every device id in the op log, in order: one index seek per device (a plain DISTINCT
    reads the whole (device_id, seq) index, a million entries on a big team's laptop)."""
    return list(session.scalars(_DEVICES_SQL))


def find_gaps(session: Session, devices: Iterable[str]) -> list[SeqGap]:
    """Missing sequence numbers of each device, as ranges."""
    gaps: list[SeqGap] = []
    for device in sorted(devices):
        count, top = session.execute(
            select(func.count(), func.max(Op.seq)).where(Op.device_id == device)
        ).one()
        if not top or count == top:
            continue
        expected = 1
        for (seq,) in session.execute(
            select(Op.seq).where(Op.device_id == device).order_by(Op.seq)
        ):
            if seq > expected:
                gaps.append(SeqGap(device, expected, seq - 1))
            expected = seq + 1
    return gaps


def duplicate_task_id(a: str, b: str) -> str:
    """The same pair of records gives the same task id on every laptop."""
    first, second = sorted((a, b))
    return str(uuid.uuid5(_DUP_NS, f"{first}|{second}"))


def flag_duplicate_nhs_numbers(
    session: Session, patient_ids: Sequence[str], *, now: datetime
) -> int:
    """A possible-duplicate task for every other record with the same NHS number (the task id
    and its values derive from the pair, so every laptop raises the same task)."""
    flagged = 0
    for start in range(0, len(patient_ids), 500):
        chunk = list(patient_ids[start : start + 500])
        same_number = select(Patient.nhs_number).where(Patient.id.in_(chunk))
        groups: dict[str, list[tuple[str, datetime]]] = {}
        for pid, nhs, created in session.execute(
            select(Patient.id, Patient.nhs_number, Patient.created_at).where(
                Patient.nhs_number.in_(same_number)
            )
        ):
            groups.setdefault(nhs, []).append((pid, created))
        mine = set(chunk)
        for members in groups.values():
            if len(members) < 2:
                continue
            for pid, created in members:
                if pid not in mine:
                    continue
                for other_id, other_created in members:
                    if other_id == pid:
                        continue
                    task_id = duplicate_task_id(pid, other_id)
                    if session.get(Task, task_id) is not None:
                        continue
                    newer_created, newer_id = max((created, pid), (other_created, other_id))
                    older_id = other_id if newer_id == pid else pid
                    session.add(
                        Task(
                            id=task_id,
                            kind="possible_duplicate",
                            title="Possible duplicate patient record: same NHS number on two "
                            "records",
                            patient_id=newer_id,
                            due_at=newer_created + timedelta(days=1),
                            status="open",
                            source_table="patients",
                            source_id=newer_id,
                            notes=f"Other record: {older_id}. Check and merge by hand if the "
                            "same person; never merged automatically.",
                            created_at=newer_created,
                        )
                    )
                    session.flush()
                    flagged += 1
    return flagged

"""Importing bundles from colleagues (DESIGN.md §5 Merge and Bundles).

Per file: the header is looked at (a file that is plainly no bundle needs no backup), a backup
is made, the bundle is verified in full with the team keys held here, the known laptops' keys
and the revocations, and its ops are merged in one transaction, all or nothing. The first
bundle of a new laptop enrols it, from the laptop's own record carried in the bundle; a known
laptop id with a different key is refused. A refused file is moved to the data folder's
``rejected`` folder with one message saying why; the other files are still imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import BundleError, StorageError
from app.core.memory import collector_paused
from app.core.secrets import b64encode
from app.core.timeutil import format_utc
from app.db.engine import bulk_page_cache
from app.models import Op, TeamDevice
from app.services.sync_export import (
    LAST_IMPORT_KEY,
    TEAM_DEVICES,
    Cancelled,
    Progress,
    SyncCancelled,
    remember_event,
)
from app.services.sync_keys import device_labels, known_signers, label_for, require_team_keys
from app.sync.bundle import (
    InvalidOpError,
    KeyMismatchError,
    NotABundleError,
    OpenedBundle,
    RevokedSignerError,
    TamperedBundleError,
    TruncatedBundleError,
    UnknownSignerError,
    UnsupportedVersionError,
    WrongTeamKeyError,
    move_aside,
    open_bundle,
    read_header,
)
from app.sync.keys import TeamKey
from app.sync.merge import MergeReport, merge_ops

if TYPE_CHECKING:
    from app.context import AppContext


@dataclass(frozen=True)
class ImportOutcome:
    path: Path
    ok: bool
    reason: str | None = None  # why a file was refused: "tampered", "wrong team key", ...
    # ("not imported" when the file could not be read or no backup could be made first)
    message: str | None = None  # one sentence naming the file
    moved_to: Path | None = None  # where a refused file went
    bundle_id: str | None = None
    sender_device_id: str | None = None
    sender_label: str | None = None
    received: int = 0
    new: int = 0
    already_held: int = 0
    records_changed: int = 0
    pending_records: int = 0
    conflicts: int = 0  # open on this laptop after the import
    held_back: int = 0
    released: int = 0
    duplicates_flagged: int = 0
    enrolled: bool = False  # the sender was enrolled by this bundle
    sender_fingerprint: str | None = None
    gaps: tuple[str, ...] = ()  # "changes 120–150 from Laptop A missing"


_REASONS: tuple[tuple[type[BundleError], str], ...] = (
    (NotABundleError, "not a bundle"),
    (UnsupportedVersionError, "unsupported version"),
    (TruncatedBundleError, "truncated"),
    (UnknownSignerError, "unknown signer"),
    (KeyMismatchError, "unknown signer"),
    (RevokedSignerError, "revoked"),
    (WrongTeamKeyError, "wrong team key"),
    (TamperedBundleError, "tampered"),
    (InvalidOpError, "invalid"),
)


def refusal_reason(exc: BundleError) -> str:
    """A short name for why a bundle was refused."""
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "invalid"


def import_bundles(
    ctx: AppContext,
    paths: Sequence[Path],
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> list[ImportOutcome]:
    """Import each bundle in turn (each all or nothing); one outcome per file. A cancel stops
    before the next file (files already imported stay imported)."""
    team_keys = require_team_keys(ctx)
    outcomes: list[ImportOutcome] = []
    total = len(paths)
    for done, raw in enumerate(paths):
        if cancelled is not None and cancelled():
            raise SyncCancelled(
                f"The import was cancelled after {done} of {total} files; "
                "the files not reached were left as they are."
            )
        outcomes.append(_import_one(ctx, Path(raw), team_keys))
        if progress is not None:
            progress(done + 1, total)
    return outcomes


def _import_one(ctx: AppContext, path: Path, team_keys: dict[int, TeamKey]) -> ImportOutcome:
    from app.context import backup_before

    try:
        read_header(path)  # a file that is plainly no bundle needs no backup
        backup_before(ctx, "bundle import")
        with ctx.db.read() as session:
            signers, revoked = known_signers(session)
        with collector_paused():
            opened = open_bundle(
                path,
                team_keys=team_keys,
                known_signers=signers,
                revoked=revoked,
                allow_new_signer=True,
            )
            with ctx.db.write() as session, bulk_page_cache(session.connection()):
                return _merge(session, ctx, opened)
    except BundleError as exc:
        message = str(exc)
        try:
            moved: Path | None = move_aside(path, ctx.paths.rejected_dir)
        except StorageError as move_exc:
            moved = None
            message = f"{message} {move_exc}"
        return ImportOutcome(
            path=path, ok=False, reason=refusal_reason(exc), message=message, moved_to=moved
        )
    except StorageError as exc:
        return ImportOutcome(path=path, ok=False, reason="not imported", message=str(exc))


def _public_keys(session: Session) -> dict[str, str]:
    return {i: key for i, key in session.execute(select(TeamDevice.id, TeamDevice.public_key))}


def _merge(session: Session, ctx: AppContext, opened: OpenedBundle) -> ImportOutcome:
    header, path = opened.header, opened.path
    sender = header.sender_device_id
    announced = b64encode(header.sender_public_key)
    before = _public_keys(session)
    expected = {**before, sender: before.get(sender, announced)}
    for op in opened.ops:  # a laptop's key never changes, whatever the merge would make of it
        if op["table"] == TEAM_DEVICES and op["record_id"] in expected:
            key = op["fields"].get("public_key", expected[op["record_id"]])
            if op["kind"] == "delete" or key != expected[op["record_id"]]:
                _key_changed(path, label_for(device_labels(session), op["record_id"]))
    report = merge_ops(session, opened.ops, clock=ctx.clock)
    after = _public_keys(session)
    labels = device_labels(session)
    for device_id, public in before.items():
        if after.get(device_id, public) != public:
            _key_changed(path, label_for(labels, device_id))
    if sender in after and after[sender] != announced:
        raise KeyMismatchError(
            f"The bundle {path.name} lists its sender with a different key from the one it "
            "was signed with; it was refused.",
            path=path,
        )
    if sender not in after and not _has_ops(session, sender):
        session.add(
            TeamDevice(
                id=sender,
                label=label_for({}, sender),
                public_key=announced,
                fingerprint=header.signer_fingerprint,
                enrolled_at=ctx.clock.now(),
                revoked=False,
            )
        )
        session.flush()
        labels = device_labels(session)
    enrolled = sender not in before and sender in labels
    sender_label = label_for(labels, sender)
    remember_event(
        session,
        LAST_IMPORT_KEY,
        {
            "at": format_utc(ctx.clock.now()),
            "file": path.name,
            "ops": report.received,
            "device_label": sender_label,
        },
    )
    return _outcome(opened, report, sender_label, enrolled, labels)


def _key_changed(path: Path, label: str) -> NoReturn:
    raise KeyMismatchError(
        f"The bundle {path.name} would change or remove the key of {label}, "
        "and a laptop's key never changes; it was refused.",
        path=path,
    )


def _has_ops(session: Session, device_id: str) -> bool:
    found = session.execute(
        select(Op.op_id).where(Op.table_name == TEAM_DEVICES, Op.record_id == device_id).limit(1)
    ).first()
    return found is not None


def _outcome(
    opened: OpenedBundle,
    report: MergeReport,
    sender_label: str,
    enrolled: bool,
    labels: dict[str, str],
) -> ImportOutcome:
    return ImportOutcome(
        path=opened.path,
        ok=True,
        bundle_id=opened.header.bundle_id,
        sender_device_id=opened.header.sender_device_id,
        sender_label=sender_label,
        received=report.received,
        new=report.new,
        already_held=report.already_held,
        records_changed=report.records_changed,
        pending_records=report.pending_records,
        conflicts=report.conflicts,
        held_back=report.held_back,
        released=report.released,
        duplicates_flagged=report.duplicates_flagged,
        enrolled=enrolled,
        sender_fingerprint=opened.header.signer_fingerprint,
        gaps=tuple(g.describe(label_for(labels, g.device_id)) for g in report.gaps),
    )

"""Sync keys as a user handles them (DESIGN.md §5 Keys): start a team, hand its key over,
join it, list and revoke the team's laptops.

The team key and this laptop's Ed25519 key live in the data folder's secret store
(``ctx.secrets``); the team's laptops are :class:`~app.models.TeamDevice` records, which sync
like any other record, so enrolments and revocations travel in bundles. A laptop's device key
carries the data folder's device id (the one its ops are numbered under).
"""

from __future__ import annotations

import json
import platform
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import ConflictError, KeyError_, NotFoundError, StorageError, ValidationError
from app.core.secrets import SecretStore, b64decode, b64encode
from app.models import Coordinator, LocalState, Setting, TeamDevice
from app.services.caseload_view import SIGNED_IN_KEY
from app.sync.keys import (
    DeviceKey,
    MemberDevice,
    TeamKey,
    export_team_key,
    import_team_key,
    load_device_key,
    load_team_key,
    load_team_keys,
    new_device_key,
    new_team_key,
    save_device_key,
    save_team_key,
)

if TYPE_CHECKING:
    from app.context import AppContext

MEMBERS_KEY = "sync.key_file_members"
"""Local setting: the laptops listed in an imported key file, known before their bundles."""
LABEL_MAX = 120


@dataclass(frozen=True)
class DeviceView:
    device_id: str
    label: str
    fingerprint: str
    enrolled_at: datetime
    revoked: bool
    revoked_at: datetime | None
    revoked_reason: str | None
    this_laptop: bool


@dataclass(frozen=True)
class TeamKeyInfo:
    """The team key this laptop now holds and how the laptop is enrolled."""

    team_id: str
    epoch: int
    device_id: str
    device_label: str
    fingerprint: str
    members_listed: int = 0
    """Laptops listed in the imported key file (0 after ``key init``)."""


@dataclass(frozen=True)
class KeyExport:
    path: Path
    team_id: str
    epoch: int
    members: int


# --- reading keys ---------------------------------------------------------------------------


def secret_store(ctx: AppContext) -> SecretStore:
    if ctx.secrets is None:
        raise KeyError_("No secret store is open for this data folder, so sync keys are unusable.")
    return ctx.secrets


def require_team_keys(ctx: AppContext) -> dict[int, TeamKey]:
    """Every epoch of the team key held here; KeyError_ when this laptop has joined no team."""
    keys = load_team_keys(secret_store(ctx))
    if not keys:
        raise KeyError_(
            "This laptop holds no team key: run 'carecoord key init' to start a team "
            "or 'carecoord key import FILE' to join one."
        )
    return keys


def require_device_key(ctx: AppContext) -> DeviceKey:
    key = load_device_key(secret_store(ctx))
    if key is None:
        raise KeyError_(
            "This laptop has no device key yet: run 'carecoord key init' or "
            "'carecoord key import FILE' first."
        )
    _check_device_key(ctx, key)
    return key


def _check_device_key(ctx: AppContext, key: DeviceKey) -> None:
    if key.device_id != ctx.device_id:
        raise KeyError_(
            "The device key held for this data folder belongs to another database, "
            "so this laptop cannot sign bundles."
        )


def _ensure_device_key(ctx: AppContext) -> DeviceKey:
    store = secret_store(ctx)
    existing = load_device_key(store)
    if existing is not None:
        _check_device_key(ctx, existing)
        return existing
    key = new_device_key(ctx.device_id)
    save_device_key(store, key)
    return key


def team_key_summary(ctx: AppContext) -> TeamKey | None:
    """The current team key, or None; for status displays (the key bytes stay inside)."""
    if ctx.secrets is None:
        return None
    return load_team_key(ctx.secrets)


# --- devices --------------------------------------------------------------------------------


def _view(device: TeamDevice, this_device: str) -> DeviceView:
    return DeviceView(
        device_id=device.id,
        label=device.label,
        fingerprint=device.fingerprint,
        enrolled_at=device.enrolled_at,
        revoked=bool(device.revoked),
        revoked_at=device.revoked_at,
        revoked_reason=device.revoked_reason,
        this_laptop=device.id == this_device,
    )


def list_devices(session: Session) -> list[DeviceView]:
    """The team's laptops known here, this laptop first, then by label."""
    me = session.get_one(LocalState, 1).device_id
    devices = session.scalars(select(TeamDevice)).all()
    ordered = sorted(devices, key=lambda d: (d.id != me, d.label.casefold(), d.id))
    return [_view(d, me) for d in ordered]


def device_labels(session: Session) -> dict[str, str]:
    """Device id -> label, for every laptop known here."""
    return {i: label for i, label in session.execute(select(TeamDevice.id, TeamDevice.label))}


def label_for(labels: dict[str, str], device_id: str) -> str:
    return labels.get(device_id) or f"laptop {device_id[:8]}"


def known_signers(session: Session) -> tuple[dict[str, bytes], set[str]]:
    """Enrolled public keys by device id, and the revoked device ids: the team's laptops here,
    completed by the list of an imported key file for laptops whose records have not arrived."""
    signers: dict[str, bytes] = {}
    revoked: set[str] = set()
    for member in _key_file_members(session):
        signers[member.device_id] = member.public_key
        if member.revoked:
            revoked.add(member.device_id)
    for device_id, public, is_revoked in session.execute(
        select(TeamDevice.id, TeamDevice.public_key, TeamDevice.revoked)
    ):
        signers[device_id] = b64decode(public)
        if is_revoked:
            revoked.add(device_id)
    return signers, revoked


def _key_file_members(session: Session) -> list[MemberDevice]:
    row = session.get(Setting, MEMBERS_KEY)
    if row is None:
        return []
    try:
        return [
            MemberDevice(
                device_id=m["device_id"],
                public_key=b64decode(m["public_key"]),
                label=m["label"],
                revoked=bool(m["revoked"]),
            )
            for m in json.loads(row.value)
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError("The stored list of the team's laptops is damaged.") from exc


def _remember_members(session: Session, members: Iterable[MemberDevice]) -> None:
    merged = {m.device_id: m for m in _key_file_members(session)}
    for m in members:
        was = merged.get(m.device_id)
        revoked = m.revoked or (was is not None and was.revoked)  # a revocation is never undone
        merged[m.device_id] = MemberDevice(m.device_id, m.public_key, m.label, revoked)
    value = json.dumps(
        [
            {
                "device_id": m.device_id,
                "public_key": b64encode(m.public_key),
                "label": m.label,
                "revoked": m.revoked,
            }
            for m in sorted(merged.values(), key=lambda m: m.device_id)
        ],
        sort_keys=True,
    )
    row = session.get(Setting, MEMBERS_KEY)
    if row is None:
        session.add(Setting(key=MEMBERS_KEY, value=value))
    else:
        row.value = value


def _clean_label(label: str | None) -> str | None:
    if label is None:
        return None
    text = " ".join(label.split())
    if not text:
        return None
    if len(text) > LABEL_MAX:
        raise ValidationError(
            f"The laptop label is longer than {LABEL_MAX} characters.", field="label"
        )
    return text


def _default_label() -> str:
    return (platform.node() or "").strip()[:LABEL_MAX] or "this laptop"


def _enrol_self(session: Session, ctx: AppContext, key: DeviceKey, label: str | None) -> TeamDevice:
    """This laptop's TeamDevice record (created once; its key never changes)."""
    state = session.get_one(LocalState, 1)
    public = b64encode(key.public_bytes())
    device = session.get(TeamDevice, ctx.device_id)
    if device is None:
        device = TeamDevice(
            id=ctx.device_id,
            label=label or state.device_label or _default_label(),
            public_key=public,
            fingerprint=key.fingerprint,
            enrolled_at=ctx.clock.now(),
            revoked=False,
        )
        session.add(device)
    elif device.public_key != public:
        raise KeyError_(
            "This laptop is enrolled in the team with a different device key from the one "
            "held here, so it cannot join again."
        )
    elif label is not None and device.label != label:
        device.label = label
    state.device_label = device.label
    session.flush()
    return device


# --- use cases ------------------------------------------------------------------------------


def init_team_key(ctx: AppContext, *, label: str | None = None) -> TeamKeyInfo:
    """Start a team: a new team key (epoch 1) and this laptop's device key, and this laptop
    recorded as the team's first device. Refused when a team key is already held."""
    chosen = _clean_label(label)
    store = secret_store(ctx)
    held = load_team_key(store)
    if held is not None:
        raise KeyError_(
            f"This laptop already holds a team key (team {held.team_id[:8]}); "
            "a second team key was not created."
        )
    device_key = _ensure_device_key(ctx)
    with ctx.db.write() as session:
        device = _enrol_self(session, ctx, device_key, chosen)
        device_label = device.label
    team_key = new_team_key()
    save_team_key(store, team_key)
    return TeamKeyInfo(
        team_id=team_key.team_id,
        epoch=team_key.epoch,
        device_id=ctx.device_id,
        device_label=device_label,
        fingerprint=device_key.fingerprint,
    )


def export_key(ctx: AppContext, path: Path, passphrase: str) -> KeyExport:
    """Write the current team key and the team's laptops (with revocations) to ``path``,
    sealed under ``passphrase``, to hand to a colleague in person."""
    path = Path(path)
    team_key = require_team_keys(ctx)
    current = team_key[max(team_key)]
    if path.exists():
        raise StorageError(f"The file {path.name} already exists; choose a new name for the key.")
    if not isinstance(passphrase, str) or not passphrase:
        raise ValidationError(
            f"A passphrase is needed to protect the key file {path.name}.", field="passphrase"
        )
    with ctx.db.read() as session:
        members = [
            MemberDevice(
                device_id=d.id,
                public_key=b64decode(d.public_key),
                label=d.label,
                revoked=bool(d.revoked),
            )
            for d in session.scalars(select(TeamDevice).order_by(TeamDevice.id))
        ]
    export_team_key(path, current, members, passphrase)
    return KeyExport(path=path, team_id=current.team_id, epoch=current.epoch, members=len(members))


def import_key(
    ctx: AppContext, path: Path, passphrase: str, *, label: str | None = None
) -> TeamKeyInfo:
    """Join a team from a key file: store its team key, create this laptop's device key and
    record. A key of another team, or different bytes for an epoch already held, are refused."""
    path = Path(path)
    chosen = _clean_label(label)
    store = secret_store(ctx)
    team_key, members = import_team_key(path, passphrase)
    held = load_team_keys(store)
    if any(k.team_id != team_key.team_id for k in held.values()):
        raise KeyError_(
            f"This laptop already belongs to another team; the key file {path.name} "
            "was not imported."
        )
    same_epoch = held.get(team_key.epoch)
    if same_epoch is not None and same_epoch.key != team_key.key:
        raise KeyError_(
            f"The key file {path.name} holds a different key for team key epoch "
            f"{team_key.epoch} than this laptop; it was not imported."
        )
    device_key = _ensure_device_key(ctx)
    with ctx.db.write() as session:
        device = _enrol_self(session, ctx, device_key, chosen)
        device_label = device.label
        others = [m for m in members if m.device_id != ctx.device_id]
        _remember_members(session, others)
    save_team_key(store, team_key)
    return TeamKeyInfo(
        team_id=team_key.team_id,
        epoch=team_key.epoch,
        device_id=ctx.device_id,
        device_label=device_label,
        fingerprint=device_key.fingerprint,
        members_listed=len(members),
    )


def find_device(session: Session, device_id: str) -> TeamDevice:
    """The laptop with this id, or the only one whose id starts with it (at least 4 chars)."""
    text = device_id.strip()
    device = session.get(TeamDevice, text) if text else None
    if device is not None:
        return device
    matches = (
        session.scalars(
            select(TeamDevice).where(TeamDevice.id.startswith(text, autoescape=True))
        ).all()
        if len(text) >= 4
        else []
    )
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ValidationError(
            f"More than one laptop has an id starting with {text}; give more of it.",
            field="device_id",
        )
    raise NotFoundError(f"No laptop of the team has the id {text}; see 'carecoord key list'.")


def _check_team_lead(session: Session) -> None:
    row = session.get(Setting, SIGNED_IN_KEY)
    if row is None:
        return  # the command line has no sign-in; the desktop app signs someone in
    coordinator = session.get(Coordinator, row.value)
    if coordinator is not None and not coordinator.is_team_lead:
        raise ValidationError(
            f"Only a team lead can revoke a laptop, and {coordinator.name} is not one.",
            field="device_id",
        )


def revoke_device(ctx: AppContext, device_id: str, reason: str | None = None) -> DeviceView:
    """Revoke a team laptop: the revocation travels in bundles, and bundles signed by that
    laptop are refused from then on (on each laptop once the revocation has reached it)."""
    text = " ".join((reason or "").split()) or None
    with ctx.db.write() as session:
        _check_team_lead(session)
        device = find_device(session, device_id)
        if device.id == ctx.device_id:
            raise ValidationError(
                "This laptop cannot revoke itself; revoke it from another laptop of the team.",
                field="device_id",
            )
        if device.revoked:
            raise ConflictError(f"The laptop {device.label} is already revoked.")
        device.revoked = True
        device.revoked_at = ctx.clock.now()
        device.revoked_reason = text
        session.flush()
        return _view(device, ctx.device_id)

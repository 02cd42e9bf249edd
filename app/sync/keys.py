"""Sync keys: the shared team key, each laptop's signing key, and the team-key export file.

* A :class:`TeamKey` is 32 random bytes with a team id and an epoch number; bundles are
  encrypted under it (``app.sync.bundle``). A new epoch is a new key for the same team.
* A :class:`DeviceKey` is a laptop's Ed25519 key; bundles are signed with it and announce its
  public half, shown to people as a :func:`fingerprint`.
* Both live in a :class:`~app.core.secrets.SecretStore` under fixed names, and are never
  replaced silently: storing a different key where one exists needs ``replace=True``.
* ``key export`` writes the team key and the member list to a JSON file sealed under a
  passphrase (Argon2id + AES-256-GCM, see ``app.core.secrets``), to hand over in person.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from app.core.errors import KeyError_, StorageError, ValidationError
from app.core.secrets import (
    KdfParams,
    SecretStore,
    atomic_write_bytes,
    b64decode,
    b64encode,
    derive_passphrase_key,
    read_json_file,
    seal_document,
    unseal_document,
)

TEAM_KEY_BYTES = 32
TEAM_KEYS_SECRET = "sync.team-keys"
DEVICE_KEY_SECRET = "sync.device-key"
EXPORT_FORMAT = "carecoord-team-key"
EXPORT_VERSION = 1


def fingerprint(public_key_bytes: bytes) -> str:
    """First 16 bytes of SHA-256, as eight groups of four hex digits joined by '-'."""
    digest = hashlib.sha256(bytes(public_key_bytes)).hexdigest()[:32]
    return "-".join(digest[i : i + 4] for i in range(0, 32, 4))


@dataclass(frozen=True)
class TeamKey:
    team_id: str
    epoch: int
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.team_id, str) or not self.team_id:
            raise ValueError("a team key needs a team id")
        if not isinstance(self.epoch, int) or isinstance(self.epoch, bool) or self.epoch < 1:
            raise ValueError("a team key epoch is a whole number from 1")
        if not isinstance(self.key, bytes) or len(self.key) != TEAM_KEY_BYTES:
            raise ValueError("a team key is 32 bytes")


def new_team_key(team_id: str | None = None, *, epoch: int = 1) -> TeamKey:
    """A fresh random team key (a new team id unless one is given)."""
    return TeamKey(team_id=team_id or str(uuid.uuid4()), epoch=epoch, key=os.urandom(32))


def next_team_key(current: TeamKey) -> TeamKey:
    """The key of the next epoch of the same team (key rotation, e.g. after a revocation)."""
    return new_team_key(current.team_id, epoch=current.epoch + 1)


@dataclass(frozen=True, eq=False)
class DeviceKey:
    device_id: str
    private_key: Ed25519PrivateKey = field(repr=False)

    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def private_bytes(self) -> bytes:
        return self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_bytes())

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DeviceKey):
            return NotImplemented
        return (self.device_id, self.private_bytes()) == (other.device_id, other.private_bytes())

    def __hash__(self) -> int:
        return hash((self.device_id, self.public_bytes()))


def new_device_key(device_id: str | None = None) -> DeviceKey:
    """A fresh Ed25519 key for this laptop (a new device id unless one is given)."""
    return DeviceKey(
        device_id=device_id or str(uuid.uuid4()), private_key=Ed25519PrivateKey.generate()
    )


@dataclass(frozen=True)
class MemberDevice:
    """A laptop of the team as listed in a key export: its id, public key, label, status."""

    device_id: str
    public_key: bytes
    label: str = ""
    revoked: bool = False

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)


# --- in the secret store --------------------------------------------------------------------


def _team_keys_from(raw: bytes) -> dict[int, TeamKey]:
    try:
        doc = json.loads(raw.decode("utf-8"))
        team_id = doc["team_id"]
        return {
            int(epoch): TeamKey(team_id=team_id, epoch=int(epoch), key=b64decode(key))
            for epoch, key in doc["keys"].items()
        }
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StorageError("The stored team key is damaged.") from exc


def load_team_keys(store: SecretStore) -> dict[int, TeamKey]:
    """Every epoch of the team key this laptop holds, by epoch (empty when none)."""
    raw = store.get(TEAM_KEYS_SECRET)
    return {} if raw is None else _team_keys_from(raw)


def load_team_key(store: SecretStore) -> TeamKey | None:
    """The current (highest-epoch) team key, or None when this laptop has none."""
    keys = load_team_keys(store)
    return keys[max(keys)] if keys else None


def save_team_key(store: SecretStore, key: TeamKey, *, replace: bool = False) -> None:
    """Add ``key`` to the held epochs.

    A key of another team, or different bytes for an epoch already held, are refused unless
    ``replace`` is set (then the keys of any other team are forgotten).
    """
    held = load_team_keys(store)
    other_team = any(k.team_id != key.team_id for k in held.values())
    if other_team:
        if not replace:
            raise KeyError_("This laptop already holds the key of another team.")
        held = {}
    existing = held.get(key.epoch)
    if existing is not None and existing.key != key.key and not replace:
        raise KeyError_(f"This laptop already holds a different team key for epoch {key.epoch}.")
    held[key.epoch] = key
    doc = {
        "team_id": key.team_id,
        "keys": {str(epoch): b64encode(k.key) for epoch, k in sorted(held.items())},
    }
    store.set(TEAM_KEYS_SECRET, json.dumps(doc, sort_keys=True).encode("utf-8"))


def load_device_key(store: SecretStore) -> DeviceKey | None:
    raw = store.get(DEVICE_KEY_SECRET)
    if raw is None:
        return None
    try:
        doc = json.loads(raw.decode("utf-8"))
        private = Ed25519PrivateKey.from_private_bytes(b64decode(doc["private_key"]))
        device_id = doc["device_id"]
        if not isinstance(device_id, str) or not device_id:
            raise ValueError("no device id")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise StorageError("The stored device key is damaged.") from exc
    return DeviceKey(device_id=device_id, private_key=private)


def save_device_key(store: SecretStore, key: DeviceKey, *, replace: bool = False) -> None:
    """Store this laptop's key; a different key is never put over an existing one silently."""
    existing = load_device_key(store)
    if existing is not None and existing != key and not replace:
        raise KeyError_("This laptop already has a device key, and it is never replaced silently.")
    doc = {"device_id": key.device_id, "private_key": b64encode(key.private_bytes())}
    store.set(DEVICE_KEY_SECRET, json.dumps(doc, sort_keys=True).encode("utf-8"))


# --- the export file ------------------------------------------------------------------------


def export_team_key(
    path: Path, team_key: TeamKey, members: Iterable[MemberDevice], passphrase: str
) -> None:
    """Write the team key and member list, sealed under ``passphrase``, atomically to ``path``.

    The team id and epoch stay readable (and are authenticated); the key and the members are
    encrypted.
    """
    path = Path(path)
    if not isinstance(passphrase, str) or not passphrase:
        raise ValidationError(
            f"A passphrase is needed to protect the key file {path.name}.", field="passphrase"
        )
    secret = {
        "key": b64encode(team_key.key),
        "members": [
            {
                "device_id": m.device_id,
                "public_key": b64encode(m.public_key),
                "label": m.label,
                "revoked": bool(m.revoked),
            }
            for m in members
        ],
    }
    plaintext = json.dumps(secret, sort_keys=True, separators=(",", ":")).encode("utf-8")
    public = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "team_id": team_key.team_id,
        "epoch": team_key.epoch,
    }
    doc = seal_document(public, plaintext, derive_passphrase_key(passphrase, KdfParams.fresh()))
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"), what="key file")


def import_team_key(path: Path, passphrase: str) -> tuple[TeamKey, list[MemberDevice]]:
    """Read a key export file; KeyError_ for a wrong passphrase, StorageError for a bad file."""
    path = Path(path)
    label = f"key file {path.name}"
    not_key_file = StorageError(f"The file {path.name} is not a CareCoord team key file.")
    doc = read_json_file(path, label=label)
    if doc.get("format") != EXPORT_FORMAT:
        raise not_key_file
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise not_key_file
    if version > EXPORT_VERSION:
        raise StorageError(f"The {label} was written by a newer version of CareCoord.")
    plaintext, _ = unseal_document(doc, passphrase, label=label)
    try:
        secret: dict[str, Any] = json.loads(plaintext.decode("utf-8"))
        team_key = TeamKey(team_id=doc["team_id"], epoch=doc["epoch"], key=b64decode(secret["key"]))
        members = [
            MemberDevice(
                device_id=_text(m["device_id"]),
                public_key=_public_key(b64decode(m["public_key"])),
                label=_text(m["label"], allow_empty=True),
                revoked=_flag(m["revoked"]),
            )
            for m in secret["members"]
        ]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"The {label} is damaged.") from exc
    return team_key, members


def _text(value: object, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or not (value or allow_empty):
        raise ValueError("expected text")
    return value


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _public_key(value: bytes) -> bytes:
    if len(value) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return value

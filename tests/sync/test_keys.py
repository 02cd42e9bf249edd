"""Team and device keys: creation, storage in a secret store, and the passphrase export file."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.core.errors import KeyError_, StorageError, ValidationError
from app.core.secrets import MemorySecretStore
from app.sync.keys import (
    DEVICE_KEY_SECRET,
    TEAM_KEYS_SECRET,
    DeviceKey,
    MemberDevice,
    TeamKey,
    export_team_key,
    fingerprint,
    import_team_key,
    load_device_key,
    load_team_key,
    load_team_keys,
    new_device_key,
    new_team_key,
    next_team_key,
    save_device_key,
    save_team_key,
)


def test_team_keys_are_random_256_bit_and_never_shown_in_repr() -> None:
    a, b = new_team_key(), new_team_key()
    assert len(a.key) == 32 and a.key != b.key and a.team_id != b.team_id
    assert a.epoch == 1
    assert a.key.hex() not in repr(a) and str(list(a.key)) not in repr(a)
    rotated = next_team_key(a)
    assert (rotated.team_id, rotated.epoch) == (a.team_id, 2) and rotated.key != a.key


@pytest.mark.parametrize(
    ("team_id", "epoch", "key"), [("", 1, bytes(32)), ("t", 0, bytes(32)), ("t", 1, bytes(16))]
)
def test_malformed_team_keys_are_refused(team_id: str, epoch: int, key: bytes) -> None:
    with pytest.raises(ValueError):
        TeamKey(team_id=team_id, epoch=epoch, key=key)


def test_fingerprint_is_stable_and_readable() -> None:
    # Pinned (SHA-256 of 32 zero bytes is 66687aad...): people compare fingerprints aloud.
    assert fingerprint(bytes(32)) == "6668-7aad-f862-bd77-6c8f-c18b-8e9f-8e20"
    key = new_device_key("laptop-b")
    assert re.fullmatch(r"[0-9a-f]{4}(-[0-9a-f]{4}){7}", key.fingerprint)
    assert key.fingerprint == fingerprint(key.public_bytes())
    assert key.fingerprint != new_device_key("laptop-b").fingerprint


def test_device_key_signs_and_hides_its_private_half() -> None:
    key = new_device_key("laptop-b")
    assert len(key.public_bytes()) == 32
    signature = key.sign(b"hello")
    Ed25519PublicKey.from_public_bytes(key.public_bytes()).verify(signature, b"hello")
    assert key.private_bytes().hex() not in repr(key)
    assert new_device_key().device_id != new_device_key().device_id


def test_team_key_round_trip_through_a_secret_store() -> None:
    store = MemorySecretStore()
    assert load_team_key(store) is None
    first = new_team_key("team-1")
    save_team_key(store, first)
    assert load_team_key(store) == first
    second = next_team_key(first)
    save_team_key(store, second)
    assert load_team_key(store) == second
    assert load_team_keys(store) == {1: first, 2: second}
    save_team_key(store, first)  # saving a held key again changes nothing
    assert load_team_keys(store) == {1: first, 2: second}


def test_team_key_is_never_replaced_silently() -> None:
    store = MemorySecretStore()
    key = new_team_key("team-1")
    save_team_key(store, key)
    with pytest.raises(KeyError_, match="another team"):
        save_team_key(store, new_team_key("team-2"))
    with pytest.raises(KeyError_, match="epoch 1"):
        save_team_key(store, new_team_key("team-1"))
    assert load_team_key(store) == key
    other = new_team_key("team-2")
    save_team_key(store, other, replace=True)
    assert load_team_keys(store) == {1: other}


def test_device_key_round_trip_and_never_replaced_silently() -> None:
    store = MemorySecretStore()
    assert load_device_key(store) is None
    key = new_device_key("laptop-a")
    save_device_key(store, key)
    loaded = load_device_key(store)
    assert loaded == key and isinstance(loaded, DeviceKey)
    assert loaded.public_bytes() == key.public_bytes()
    save_device_key(store, key)  # the same key again is fine
    with pytest.raises(KeyError_, match="never replaced silently"):
        save_device_key(store, new_device_key("laptop-a"))
    assert load_device_key(store) == key
    newer = new_device_key("laptop-a")
    save_device_key(store, newer, replace=True)
    assert load_device_key(store) == newer


def test_damaged_stored_keys_are_reported() -> None:
    store = MemorySecretStore()
    store.set(TEAM_KEYS_SECRET, b"{not json")
    store.set(DEVICE_KEY_SECRET, b'{"device_id": "x", "private_key": "AAAA"}')
    with pytest.raises(StorageError, match="stored team key is damaged"):
        load_team_key(store)
    with pytest.raises(StorageError, match="stored device key is damaged"):
        load_device_key(store)


# --- export file ----------------------------------------------------------------------------


def members() -> list[MemberDevice]:
    return [
        MemberDevice("laptop-a", new_device_key().public_bytes(), "Priya's laptop", False),
        MemberDevice("laptop-b", new_device_key().public_bytes(), "Coordinator – Melton", True),
    ]


def test_export_import_round_trip(tmp_path: Path) -> None:
    key, listed = new_team_key("team-1", epoch=3), members()
    path = tmp_path / "team.cck"
    export_team_key(path, key, listed, "correct horse battery staple")
    imported, imported_members = import_team_key(path, "correct horse battery staple")
    assert imported == key
    assert imported_members == listed
    assert [p.name for p in tmp_path.iterdir()] == ["team.cck"]  # no temp file left


def test_export_file_never_holds_the_key_in_plaintext(tmp_path: Path) -> None:
    key = new_team_key("team-1")
    path = tmp_path / "team.cck"
    export_team_key(path, key, members(), "pass phrase")
    data = path.read_bytes()
    for form in (key.key, key.key.hex().encode(), base64.b64encode(key.key)):
        assert form not in data
    assert b"Priya" not in data
    doc = json.loads(data)
    assert doc["format"] == "carecoord-team-key" and doc["version"] == 1
    assert doc["team_id"] == "team-1" and doc["epoch"] == 1
    assert doc["kdf"]["name"] == "argon2id"


def test_wrong_passphrase_is_one_clear_sentence(tmp_path: Path) -> None:
    path = tmp_path / "team.cck"
    export_team_key(path, new_team_key(), [], "right")
    with pytest.raises(KeyError_) as info:
        import_team_key(path, "wrong")
    assert str(info.value) == "The passphrase does not unlock the key file team.cck."


def test_altered_public_part_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "team.cck"
    export_team_key(path, new_team_key("team-1"), [], "right")
    doc = json.loads(path.read_text())
    doc["epoch"] = 9
    path.write_text(json.dumps(doc))
    with pytest.raises(StorageError, match=r"team\.cck is damaged"):
        import_team_key(path, "right")


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n",
        b"[1, 2, 3]",
        b'{"format": "something-else", "version": 1}',
        b"\xff\xfe\x00",
        b"",
    ],
)
def test_not_a_key_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(StorageError, match=r"notes\.txt"):
        import_team_key(path, "whatever")


def test_key_file_from_a_newer_version(tmp_path: Path) -> None:
    path = tmp_path / "team.cck"
    export_team_key(path, new_team_key(), [], "pw")
    doc = json.loads(path.read_text())
    doc["version"] = 2
    path.write_text(json.dumps(doc))
    with pytest.raises(StorageError, match="newer version"):
        import_team_key(path, "pw")


def test_export_needs_a_passphrase(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="passphrase"):
        export_team_key(tmp_path / "t.cck", new_team_key(), [], "")
    assert not (tmp_path / "t.cck").exists()


def test_export_replaces_an_older_export_atomically(tmp_path: Path) -> None:
    path = tmp_path / "team.cck"
    export_team_key(path, new_team_key("old"), [], "pw")
    export_team_key(path, new_team_key("new"), [], "pw")
    assert import_team_key(path, "pw")[0].team_id == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["team.cck"]

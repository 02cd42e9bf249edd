"""Secret stores: keyring, passphrase key file, memory, and the choice between them."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest
from keyring.backends import fail

from app.core import secrets
from app.core.errors import KeyError_, StorageError, ValidationError
from app.core.secrets import (
    FileSecretStore,
    KeyringSecretStore,
    MemorySecretStore,
    SecretStore,
    keyring_available,
    open_secret_store,
)

# The parameters as shipped, captured before any test lowers them.
REAL_KDF = (
    secrets.ARGON2_MEMORY_COST_KIB,
    secrets.ARGON2_ITERATIONS,
    secrets.ARGON2_LANES,
    secrets.ARGON2_SALT_BYTES,
)
SECRET = bytes(range(256))


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An in-memory keyring backend, as a real OS keyring would behave."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries: dict[tuple[str, str], str] = {}
        self.locked = False

    def get_password(self, service: str, username: str) -> str | None:
        if self.locked:
            raise keyring.errors.KeyringLocked("locked")
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.locked:
            raise keyring.errors.PasswordSetError("locked")
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("not found") from None


class ZeroPriorityKeyring(MemoryKeyring):
    priority = 0


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "ARGON2_MEMORY_COST_KIB", 8)
    monkeypatch.setattr(secrets, "ARGON2_ITERATIONS", 1)
    monkeypatch.setattr(secrets, "ARGON2_LANES", 1)


@pytest.fixture
def use_keyring() -> Iterator[None]:
    """Tests may call keyring.set_keyring; the previous backend comes back afterwards."""
    previous = keyring.get_keyring()
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(use_keyring: None) -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


def never_asked() -> str:
    raise AssertionError("the passphrase should not have been asked for")


def exercise(store: SecretStore) -> None:
    assert store.get("db-key") is None
    store.set("db-key", SECRET)
    store.set("other", b"x")
    assert store.get("db-key") == SECRET
    store.set("db-key", b"replaced")
    assert store.get("db-key") == b"replaced"
    store.delete("db-key")
    store.delete("db-key")  # deleting twice is harmless
    assert store.get("db-key") is None
    assert store.get("other") == b"x"


# --- memory and keyring ---------------------------------------------------------------------


def test_memory_store_behaves_like_a_store() -> None:
    exercise(MemorySecretStore())


def test_keyring_store_behaves_like_a_store(memory_keyring: MemoryKeyring) -> None:
    exercise(KeyringSecretStore(namespace="team-1"))


def test_keyring_values_are_base64_text_under_service_and_namespace(
    memory_keyring: MemoryKeyring,
) -> None:
    KeyringSecretStore(namespace="team-1").set("db-key", SECRET)
    assert memory_keyring.entries == {
        ("CareCoord", "team-1/db-key"): base64.b64encode(SECRET).decode()
    }


def test_keyring_namespaces_are_kept_apart(memory_keyring: MemoryKeyring) -> None:
    KeyringSecretStore(namespace="a").set("k", b"1")
    KeyringSecretStore(namespace="b").set("k", b"2")
    assert KeyringSecretStore(namespace="a").get("k") == b"1"
    assert KeyringSecretStore(namespace="b").get("k") == b"2"


def test_keyring_failures_become_storage_errors(memory_keyring: MemoryKeyring) -> None:
    store = KeyringSecretStore(namespace="n")
    memory_keyring.locked = True
    with pytest.raises(StorageError, match="keyring could not be read"):
        store.get("k")
    with pytest.raises(StorageError, match="keyring refused to store"):
        store.set("k", b"v")
    memory_keyring.locked = False
    memory_keyring.entries[("CareCoord", "n/k")] = "not base64!"
    with pytest.raises(StorageError, match="keyring entry k is damaged"):
        store.get("k")


def test_keyring_availability(use_keyring: None) -> None:
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    assert keyring_available() is False
    keyring.set_keyring(ZeroPriorityKeyring())
    assert keyring_available() is False
    keyring.set_keyring(MemoryKeyring())
    assert keyring_available() is True


# --- the key file ---------------------------------------------------------------------------


def test_file_store_behaves_like_a_store(tmp_path: Path) -> None:
    exercise(FileSecretStore(tmp_path / "keys.cck", "pass"))


def test_file_store_persists_and_reopens_with_the_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "keys.cck"
    FileSecretStore(path, "pass").set("team", SECRET)
    assert FileSecretStore(path, "pass").get("team") == SECRET
    assert [p.name for p in tmp_path.iterdir()] == ["keys.cck"]  # no temp file left


def test_file_store_never_holds_plaintext(tmp_path: Path) -> None:
    path = tmp_path / "keys.cck"
    value = b"team key material 0123456789abcdef"
    FileSecretStore(path, "pass").set("team", value)
    data = path.read_bytes()
    for form in (value, base64.b64encode(value), value.hex().encode(), b"pass"):
        assert form not in data
    doc = json.loads(data)
    assert doc["format"] == "carecoord-key-file"
    assert set(doc) == {"format", "version", "kdf", "check", "nonce", "ciphertext"}


def test_wrong_passphrase_is_refused_when_the_store_opens(tmp_path: Path) -> None:
    path = tmp_path / "keys.cck"
    FileSecretStore(path, "right").set("team", SECRET)
    with pytest.raises(KeyError_) as info:
        FileSecretStore(path, "wrong")
    assert str(info.value) == "The passphrase does not unlock the key file keys.cck."


def test_passphrase_is_normalised(tmp_path: Path) -> None:
    path = tmp_path / "keys.cck"
    FileSecretStore(path, "caf\u00e9").set("k", b"v")  # precomposed é
    assert FileSecretStore(path, "cafe\u0301").get("k") == b"v"  # e + combining accent


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="passphrase"):
        FileSecretStore(tmp_path / "keys.cck", "")


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: b"{ this is not json",
        lambda d: d[: len(d) // 2],
        lambda d: b'{"format": "carecoord-key-file", "version": 1}',
        lambda d: d.replace(b'"ciphertext": "', b'"ciphertext": "AAAA'),
    ],
    ids=["not-json", "cut-in-half", "fields-missing", "ciphertext-altered"],
)
def test_damaged_key_file_is_a_storage_error(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    path = tmp_path / "keys.cck"
    FileSecretStore(path, "pass").set("team", SECRET)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(StorageError, match=r"key file keys\.cck is damaged"):
        FileSecretStore(path, "pass")


def test_key_file_from_a_newer_version(tmp_path: Path) -> None:
    path = tmp_path / "keys.cck"
    FileSecretStore(path, "pass").set("team", SECRET)
    doc = json.loads(path.read_text())
    doc["version"] = 2
    path.write_text(json.dumps(doc))
    with pytest.raises(StorageError, match="newer version"):
        FileSecretStore(path, "pass")


def test_secret_values_never_reach_the_log(
    tmp_path: Path, memory_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    value = b"super-secret-team-key-material!!"
    for store in (FileSecretStore(tmp_path / "k.cck", "pass"), KeyringSecretStore()):
        store.set("team", value)
        store.get("team")
        store.delete("team")
    text = caplog.text
    assert "team" in text  # names are logged...
    for form in (value.decode(), base64.b64encode(value).decode(), "pass"):
        assert form not in text  # ...values and passphrases never


def test_real_argon2_parameters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs the shipped parameters once: 64 MiB, 3 passes, 4 lanes, 16-byte salt."""
    assert REAL_KDF == (65536, 3, 4, 16)
    monkeypatch.setattr(secrets, "ARGON2_MEMORY_COST_KIB", REAL_KDF[0])
    monkeypatch.setattr(secrets, "ARGON2_ITERATIONS", REAL_KDF[1])
    monkeypatch.setattr(secrets, "ARGON2_LANES", REAL_KDF[2])
    path = tmp_path / "keys.cck"
    FileSecretStore(path, "a long passphrase").set("team", SECRET)
    kdf = json.loads(path.read_text())["kdf"]
    assert (kdf["memory_cost_kib"], kdf["iterations"], kdf["lanes"]) == (65536, 3, 4)
    assert len(base64.b64decode(kdf["salt"])) == 16
    with pytest.raises(KeyError_):
        FileSecretStore(path, "a long passphrasE")


# --- choosing the store ---------------------------------------------------------------------


def test_keyring_is_used_when_available_without_asking_for_a_passphrase(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    store = open_secret_store(key_file=tmp_path / "keys.cck", passphrase_provider=never_asked)
    assert isinstance(store, KeyringSecretStore)
    store.set("team", SECRET)
    assert memory_keyring.entries and not (tmp_path / "keys.cck").exists()


def test_key_file_is_used_when_keyring_is_the_fail_backend(
    tmp_path: Path, use_keyring: None
) -> None:
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    asked = []

    def provider() -> str:
        asked.append(1)
        return "pass"

    store = open_secret_store(key_file=tmp_path / "keys.cck", passphrase_provider=provider)
    assert isinstance(store, FileSecretStore) and asked == [1]
    store.set("team", SECRET)
    reopened = open_secret_store(key_file=tmp_path / "keys.cck", passphrase_provider=provider)
    assert reopened.get("team") == SECRET


def test_an_existing_key_file_wins_over_a_keyring_that_appeared_later(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    FileSecretStore(tmp_path / "keys.cck", "pass").set("team", SECRET)
    store = open_secret_store(key_file=tmp_path / "keys.cck", passphrase_provider=lambda: "pass")
    assert isinstance(store, FileSecretStore)
    assert store.get("team") == SECRET

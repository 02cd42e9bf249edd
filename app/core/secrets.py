"""Where CareCoord keeps its secrets: team key, device key, database key.

All of them go through one small protocol, :class:`SecretStore`, with two real homes:

* the operating system's keyring (Windows Credential Manager, macOS Keychain, Secret Service)
  through the ``keyring`` library, values stored as base64 text;
* where no usable keyring backend exists (headless Linux reports keyring's ``fail`` backend), a
  key file in the data folder. Its secrets are encrypted with AES-256-GCM under a key derived
  from a passphrase with Argon2id (64 MiB, 3 passes, 4 lanes, 16-byte random salt). A separate
  verifier derived from the same passphrase tells "wrong passphrase" apart from "damaged file".

Secret values are never written in plaintext and never logged; only secret *names* are.
The passphrase-sealed JSON document used by the key file is also used by the team-key export
file (``app.sync.keys``), so both share :func:`seal_document` / :func:`unseal_document`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import os
import tempfile
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import keyring
import keyring.errors
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from keyring.backends import fail as keyring_fail

from app.core.errors import KeyError_, StorageError, ValidationError

log = logging.getLogger(__name__)

# Argon2id parameters for new files. Read at call time, so tests may lower them for speed.
ARGON2_MEMORY_COST_KIB = 65536  # 64 MiB
ARGON2_ITERATIONS = 3
ARGON2_LANES = 4
ARGON2_SALT_BYTES = 16

# Upper bounds accepted from a file, so a damaged file cannot make us allocate gigabytes.
_MAX_MEMORY_COST_KIB = 1024 * 1024
_MAX_ITERATIONS = 32
_MAX_LANES = 64

_CHECK_LABEL = b"CareCoord passphrase check v1"
KEY_FILE_FORMAT = "carecoord-key-file"
KEY_FILE_VERSION = 1


# --- small utilities -----------------------------------------------------------------------


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: object) -> bytes:
    """Strict base64 (standard alphabet, padded); ValueError on anything else."""
    if not isinstance(text, str):
        raise ValueError("expected base64 text")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("invalid base64 text") from exc


def _canonical(obj: object) -> bytes:
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def fsync_directory(directory: Path) -> None:
    """Make a rename inside ``directory`` durable (POSIX); a no-op where unsupported."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, *, what: str = "file") -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder, fsync, then rename.

    Readers see the old content or the new content, never a mix. The temp file is created
    with owner-only permissions. OS failures become a StorageError naming the file.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise StorageError(
            f"The {what} {path.name} could not be written ({exc.strerror})."
        ) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise StorageError(
            f"The {what} {path.name} could not be written ({exc.strerror})."
        ) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    fsync_directory(path.parent)


# --- passphrase-derived keys ----------------------------------------------------------------


def _positive_int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError("expected a positive integer")
    return value


@dataclass(frozen=True)
class KdfParams:
    """Argon2id parameters recorded next to what they protect."""

    salt: bytes
    memory_cost: int
    iterations: int
    lanes: int

    @classmethod
    def fresh(cls) -> KdfParams:
        """New random salt with the module's current parameters."""
        return cls(
            salt=os.urandom(ARGON2_SALT_BYTES),
            memory_cost=ARGON2_MEMORY_COST_KIB,
            iterations=ARGON2_ITERATIONS,
            lanes=ARGON2_LANES,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": "argon2id",
            "salt": b64encode(self.salt),
            "memory_cost_kib": self.memory_cost,
            "iterations": self.iterations,
            "lanes": self.lanes,
        }

    @classmethod
    def from_json(cls, obj: object) -> KdfParams:
        """Parse and bound-check; ValueError when anything is off."""
        if not isinstance(obj, dict) or obj.get("name") != "argon2id":
            raise ValueError("not an argon2id parameter block")
        salt = b64decode(obj.get("salt"))
        memory, iterations, lanes = (
            _positive_int(obj.get(k)) for k in ("memory_cost_kib", "iterations", "lanes")
        )
        if not 8 <= len(salt) <= 64 or memory > _MAX_MEMORY_COST_KIB or memory < 8 * lanes:
            raise ValueError("argon2id parameters out of range")
        if iterations > _MAX_ITERATIONS or lanes > _MAX_LANES:
            raise ValueError("argon2id parameters out of range")
        return cls(salt=salt, memory_cost=memory, iterations=iterations, lanes=lanes)


@dataclass(frozen=True)
class PassphraseKey:
    """An AES-256 key and a passphrase verifier, both derived from one Argon2id run."""

    params: KdfParams
    encryption_key: bytes = field(repr=False)
    check: bytes = field(repr=False)


def derive_passphrase_key(passphrase: str, params: KdfParams) -> PassphraseKey:
    """Run Argon2id once (NFC-normalised passphrase) and split the output into key + verifier."""
    material = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    out = Argon2id(
        salt=params.salt,
        length=64,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_cost,
    ).derive(material)
    check = hmac.new(out[32:], _CHECK_LABEL, hashlib.sha256).digest()
    return PassphraseKey(params=params, encryption_key=out[:32], check=check)


def seal_document(
    public: Mapping[str, Any], plaintext: bytes, key: PassphraseKey
) -> dict[str, Any]:
    """A JSON-ready document: ``public`` fields, kdf, verifier, nonce and ciphertext.

    The AES-256-GCM associated data is the canonical JSON of everything except nonce and
    ciphertext, so no public field (format, version, team id, KDF parameters) can be altered.
    """
    doc: dict[str, Any] = dict(public)
    doc["kdf"] = key.params.to_json()
    doc["check"] = b64encode(key.check)
    nonce = os.urandom(12)
    doc["nonce"] = b64encode(nonce)
    doc["ciphertext"] = b64encode(AESGCM(key.encryption_key).encrypt(nonce, plaintext, _aad(doc)))
    return doc


def _aad(doc: Mapping[str, Any]) -> bytes:
    return _canonical({k: v for k, v in doc.items() if k not in ("nonce", "ciphertext")})


def unseal_document(
    doc: Mapping[str, Any],
    passphrase: str,
    *,
    label: str,
    cached: PassphraseKey | None = None,
) -> tuple[bytes, PassphraseKey]:
    """Decrypt a sealed document; returns the plaintext and the key (for reuse).

    ``label`` names the file in messages, e.g. ``"key file keys.cck"``. Raises StorageError
    for a damaged document and KeyError_ when the passphrase is wrong.
    """
    damaged = StorageError(f"The {label} is damaged or is not a CareCoord key file.")
    try:
        params = KdfParams.from_json(doc.get("kdf"))
        check = b64decode(doc.get("check"))
        nonce = b64decode(doc.get("nonce"))
        ciphertext = b64decode(doc.get("ciphertext"))
    except ValueError as exc:
        raise damaged from exc
    if len(nonce) != 12 or len(ciphertext) < 16:
        raise damaged
    if cached is not None and cached.params == params:
        key = cached
    else:
        key = derive_passphrase_key(passphrase, params)
    if not hmac.compare_digest(key.check, check):
        raise KeyError_(f"The passphrase does not unlock the {label}.")
    try:
        plaintext = AESGCM(key.encryption_key).decrypt(nonce, ciphertext, _aad(doc))
    except InvalidTag as exc:
        raise StorageError(f"The {label} is damaged.") from exc
    return plaintext, key


def read_json_file(path: Path, *, label: str) -> dict[str, Any]:
    """A JSON object from ``path``; StorageError naming the file when it is not one."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StorageError(f"The {label} cannot be read ({exc.strerror}).") from exc
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise StorageError(f"The {label} is damaged or is not a CareCoord key file.") from exc
    if not isinstance(doc, dict):
        raise StorageError(f"The {label} is damaged or is not a CareCoord key file.")
    return doc


def _require_passphrase(passphrase: str, label: str) -> None:
    if not isinstance(passphrase, str) or not passphrase:
        raise ValidationError(f"A passphrase is needed to protect the {label}.", field="passphrase")


# --- the stores -----------------------------------------------------------------------------


class SecretStore(Protocol):
    def get(self, name: str) -> bytes | None:
        """The secret stored under ``name``, or None."""
        ...

    def set(self, name: str, value: bytes) -> None:
        """Store (or replace) the secret ``name``."""
        ...

    def delete(self, name: str) -> None:
        """Forget ``name``; nothing happens if it is not stored."""
        ...


class MemorySecretStore:
    """A dict, for tests and throwaway contexts."""

    def __init__(self) -> None:
        self._values: dict[str, bytes] = {}

    def get(self, name: str) -> bytes | None:
        return self._values.get(name)

    def set(self, name: str, value: bytes) -> None:
        self._values[name] = bytes(value)

    def delete(self, name: str) -> None:
        self._values.pop(name, None)

    def __repr__(self) -> str:
        return f"MemorySecretStore(names={sorted(self._values)!r})"


class KeyringSecretStore:
    """Secrets in the OS keyring: service ``service``, user name ``<namespace>/<name>``.

    ``namespace`` keeps two data folders (or teams) on one account apart.
    """

    def __init__(self, service: str = "CareCoord", namespace: str = "default") -> None:
        self.service = service
        self.namespace = namespace

    def _user(self, name: str) -> str:
        return f"{self.namespace}/{name}"

    def get(self, name: str) -> bytes | None:
        try:
            text = keyring.get_password(self.service, self._user(name))
        except keyring.errors.KeyringError as exc:
            raise StorageError(f"The system keyring could not be read for {name}.") from exc
        if text is None:
            return None
        try:
            return b64decode(text)
        except ValueError as exc:
            raise StorageError(f"The keyring entry {name} is damaged.") from exc

    def set(self, name: str, value: bytes) -> None:
        try:
            keyring.set_password(self.service, self._user(name), b64encode(bytes(value)))
        except keyring.errors.KeyringError as exc:
            raise StorageError(f"The system keyring refused to store {name}.") from exc
        log.info("secret %s stored in the system keyring", name)

    def delete(self, name: str) -> None:
        try:
            keyring.delete_password(self.service, self._user(name))
        except keyring.errors.PasswordDeleteError:
            return
        except keyring.errors.KeyringError as exc:
            raise StorageError(f"The system keyring refused to delete {name}.") from exc
        log.info("secret %s deleted from the system keyring", name)

    def __repr__(self) -> str:
        return f"KeyringSecretStore(service={self.service!r}, namespace={self.namespace!r})"


class FileSecretStore:
    """Secrets in one passphrase-protected JSON key file (Argon2id + AES-256-GCM).

    An existing file is unlocked when the store is created, so a wrong passphrase is reported
    at start-up. Every change rewrites the whole file atomically with a fresh nonce.
    """

    def __init__(self, path: Path, passphrase: str) -> None:
        self.path = Path(path)
        self._label = f"key file {self.path.name}"
        _require_passphrase(passphrase, self._label)
        self._passphrase = passphrase
        self._key: PassphraseKey | None = None
        if self.path.exists():
            self._load()

    def _load(self) -> dict[str, bytes]:
        if not self.path.exists():
            return {}
        doc = read_json_file(self.path, label=self._label)
        if doc.get("format") != KEY_FILE_FORMAT:
            raise StorageError(f"The {self._label} is damaged or is not a CareCoord key file.")
        version = doc.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise StorageError(f"The {self._label} is damaged or is not a CareCoord key file.")
        if version > KEY_FILE_VERSION:
            raise StorageError(f"The {self._label} was written by a newer version of CareCoord.")
        plaintext, self._key = unseal_document(
            doc, self._passphrase, label=self._label, cached=self._key
        )
        try:
            entries = json.loads(plaintext.decode("utf-8"))
            if not isinstance(entries, dict):
                raise ValueError("not an object")
            return {str(name): b64decode(value) for name, value in entries.items()}
        except (UnicodeDecodeError, ValueError) as exc:
            raise StorageError(f"The {self._label} is damaged.") from exc

    def _save(self, entries: Mapping[str, bytes]) -> None:
        if self._key is None:
            self._key = derive_passphrase_key(self._passphrase, KdfParams.fresh())
        plaintext = _canonical({name: b64encode(value) for name, value in entries.items()})
        doc = seal_document(
            {"format": KEY_FILE_FORMAT, "version": KEY_FILE_VERSION}, plaintext, self._key
        )
        text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
        atomic_write_bytes(self.path, text.encode("utf-8"), what="key file")

    def get(self, name: str) -> bytes | None:
        return self._load().get(name)

    def set(self, name: str, value: bytes) -> None:
        entries = self._load()
        entries[name] = bytes(value)
        self._save(entries)
        log.info("secret %s stored in the key file", name)

    def delete(self, name: str) -> None:
        entries = self._load()
        if entries.pop(name, None) is not None:
            self._save(entries)
            log.info("secret %s deleted from the key file", name)

    def __repr__(self) -> str:
        return f"FileSecretStore(path={self.path.name!r})"


# --- choosing a store -----------------------------------------------------------------------


def keyring_available() -> bool:
    """True when keyring has a real backend (not ``fail``, priority above zero)."""
    try:
        backend = keyring.get_keyring()
        if isinstance(backend, keyring_fail.Keyring):
            return False
        return float(backend.priority) > 0
    except Exception:  # a broken backend (no D-Bus, locked store) counts as unavailable
        log.warning("the system keyring could not be queried; using the key file instead")
        return False


def default_namespace(key_file: Path) -> str:
    """A stable keyring namespace for a data folder (hash of its resolved path)."""
    resolved = str(Path(key_file).parent.resolve())
    return hashlib.sha256(resolved.encode("utf-8")).hexdigest()[:16]


def open_secret_store(
    *,
    key_file: Path,
    passphrase_provider: Callable[[], str],
    namespace: str | None = None,
    service: str = "CareCoord",
) -> SecretStore:
    """The secret store for this data folder.

    * an existing ``key_file`` wins (its secrets must not be stranded by a keyring that has
      appeared since), and is unlocked with the provider's passphrase;
    * otherwise the OS keyring when :func:`keyring_available`, under ``namespace`` (default:
      derived from the data folder's path), without asking for a passphrase;
    * otherwise a new key file protected by the provider's passphrase.
    """
    key_file = Path(key_file)
    if key_file.exists():
        log.info("using the passphrase-protected key file")
        return FileSecretStore(key_file, passphrase_provider())
    if keyring_available():
        log.info("using the system keyring")
        return KeyringSecretStore(
            service=service, namespace=namespace or default_namespace(key_file)
        )
    log.warning("no usable system keyring; secrets go in a passphrase-protected key file")
    return FileSecretStore(key_file, passphrase_provider())

"""The ``.ccb`` sync bundle: an encrypted, signed file of ops that laptops hand to each other.

Layout (all integers big-endian)::

    MAGIC b"CCBNDL\\0\\1"            8 bytes; the last byte is the container version
    header length                    u32
    header                           canonical JSON (sorted keys, no whitespace, UTF-8); no
                                     patient data: ids, counts, seq ranges, key ids only
    chunk records, one or more       flag u8 (0 = more follow, 1 = last) · u32 length ·
                                     AES-256-GCM ciphertext+tag of one payload chunk
    signature                        64 bytes, Ed25519

The payload is the ops as canonical JSON lines (one object and ``\\n`` per op), cut into
chunks of ``chunk_size`` bytes (1 MiB by default; only the last chunk may be shorter).

Cipher. The design asked for a cipher that ``cryptography`` does not provide, so the bundle
uses AES-256-GCM (``AESGCM``) in a STREAM-like chunked construction, recorded in the header as
``"cipher": "AES-256-GCM-STREAM-1MiB"`` (the suffix is the chunk size). Chunk ``i`` uses nonce
``nonce_prefix (8 random bytes from the header) · u32 i``, and associated data
``magic · header length · header · u32 i · flag``. So every chunk is bound to this exact header
(team, epoch, counts, sender), to its position, and to whether it is the last one: dropping,
reordering, duplicating or cutting chunks fails authentication even for someone who holds the
team key but not the sender's signing key. Chunking keeps memory to a few chunks at a time, which
a single AEAD call over the whole payload could not.

Signature. ``cryptography`` signs Ed25519 messages in one piece, with no streaming or pre-hash
mode, so the sender signs ``b"CareCoord bundle signature v1\\0" · SHA-512(everything before
the signature)``. That covers every byte before it, while reading and writing stream.

Reading checks, in this order, and raises a distinct :class:`BundleFileError` subclass naming
the file at the first failure: magic and version; header (canonical JSON, known fields,
consistent fingerprint); signer (not revoked, known with the same public key, or new and
allowed); framing (the file is complete); signature; team key held; decryption of every chunk;
every op valid, and op count and seq ranges as declared. Ops are returned only after all pass.

Wrong key or tampered? Once the signature has been verified the bytes are exactly what the
signer wrote. If the first chunk then fails to decrypt, the signer encrypted under a different
key than the one this laptop holds for that team id and epoch: :class:`WrongTeamKeyError`. If
the first chunk decrypts, the key is proven right, so a later failure means the content is not
consistent: :class:`TamperedBundleError`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import struct
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.core.clock import Clock, SystemClock
from app.core.errors import BundleError, StorageError
from app.core.secrets import b64decode, b64encode, fsync_directory
from app.core.timeutil import format_utc
from app.sync.keys import DeviceKey, TeamKey, fingerprint

log = logging.getLogger(__name__)

MAGIC = b"CCBNDL\0\1"
FORMAT = "carecoord-bundle"
FORMAT_VERSION = 1
DEFAULT_CHUNK_SIZE = 1 << 20
MIN_CHUNK_SIZE = 16
MAX_CHUNK_SIZE = 16 << 20
MAX_HEADER_BYTES = 1 << 20
SIGNATURE_BYTES = 64
NONCE_PREFIX_BYTES = 8
SUFFIX = ".ccb"
_AHEAD = 4  # sealed-and-written chunks the plaintext may run ahead of
OP_KINDS = frozenset({"put", "delete"})
_TEXT_KEYS = ("op_id", "device_id", "hlc", "table", "record_id")

_TAG_BYTES = 16
_LENGTH = struct.Struct(">I")
_RECORD = struct.Struct(">BI")
_CHUNK_AAD = struct.Struct(">IB")
_MORE, _LAST = 0, 1
_SIG_CONTEXT = b"CareCoord bundle signature v1\0"
_CIPHER_RE = re.compile(r"AES-256-GCM-STREAM-([1-9][0-9]*)(B|KiB|MiB)")
_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20}
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


_RAW_DECODE = json.JSONDecoder(parse_constant=_reject_constant).raw_decode
_DECODE = json.JSONDecoder(parse_constant=_reject_constant).decode
_HEADER_FIELDS = frozenset(
    {
        "format", "format_version", "bundle_id", "created_at", "sender_device_id",
        "sender_public_key", "signer_fingerprint", "team_id", "team_key_epoch",
        "schema_version", "app_version", "op_count", "seq_ranges", "cipher", "nonce_prefix",
    }
)  # fmt: skip


# --- errors ---------------------------------------------------------------------------------


class BundleFileError(BundleError):
    """A refused bundle; ``path`` is the file, the message one sentence naming it."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


class NotABundleError(BundleFileError):
    pass


class UnsupportedVersionError(BundleFileError):
    pass


class TruncatedBundleError(BundleFileError):
    pass


class TamperedBundleError(BundleFileError):
    """Bad signature, inconsistent framing, or content that fails to decrypt under a proven key."""


class InvalidHeaderError(TamperedBundleError):
    """The header is not canonical JSON with the expected fields."""


class UnknownSignerError(BundleFileError):
    pass


class RevokedSignerError(BundleFileError):
    pass


class KeyMismatchError(BundleFileError):
    """A known device id announces a different public key."""


class WrongTeamKeyError(BundleFileError):
    pass


class InvalidOpError(BundleFileError):
    pass


# --- data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleHeader:
    bundle_id: str
    created_at: datetime
    sender_device_id: str
    sender_public_key: bytes
    signer_fingerprint: str
    team_id: str
    team_key_epoch: int
    schema_version: str | int
    app_version: str
    op_count: int
    seq_ranges: Mapping[str, tuple[int, int]]
    cipher: str
    nonce_prefix: bytes
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    @property
    def chunk_size(self) -> int:
        return _chunk_size_of(self.cipher)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "format_version": self.format_version,
            "bundle_id": self.bundle_id,
            "created_at": format_utc(self.created_at),
            "sender_device_id": self.sender_device_id,
            "sender_public_key": b64encode(self.sender_public_key),
            "signer_fingerprint": self.signer_fingerprint,
            "team_id": self.team_id,
            "team_key_epoch": self.team_key_epoch,
            "schema_version": self.schema_version,
            "app_version": self.app_version,
            "op_count": self.op_count,
            "seq_ranges": {d: [lo, hi] for d, (lo, hi) in sorted(self.seq_ranges.items())},
            "cipher": self.cipher,
            "nonce_prefix": b64encode(self.nonce_prefix),
        }


@dataclass(frozen=True)
class BundleInfo:
    """A bundle written and read back successfully: safe to remove the stick."""

    path: Path
    header: BundleHeader
    size: int


@dataclass(frozen=True)
class OpenedBundle:
    path: Path
    header: BundleHeader
    ops: list[dict[str, Any]] = field(repr=False)
    signer_public_key: bytes
    new_signer: bool


def cipher_name(chunk_size: int) -> str:
    for unit in ("MiB", "KiB"):
        if chunk_size % _UNITS[unit] == 0:
            return f"AES-256-GCM-STREAM-{chunk_size // _UNITS[unit]}{unit}"
    return f"AES-256-GCM-STREAM-{chunk_size}B"


def _chunk_size_of(cipher: str) -> int:
    match = _CIPHER_RE.fullmatch(cipher)
    if match is None:
        raise ValueError("unknown cipher")
    size = int(match.group(1)) * _UNITS[match.group(2)]
    if not MIN_CHUNK_SIZE <= size <= MAX_CHUNK_SIZE or cipher_name(size) != cipher:
        raise ValueError("unsupported chunk size")
    return size


def _canonical(obj: object) -> bytes:
    return _ENCODER.encode(obj).encode("utf-8")


def op_problem(op: object) -> str | None:
    """Why ``op`` is not a valid op, or None. Names keys only, never values (patient data)."""
    if type(op) is dict:  # the common case, checked fast
        get = op.get
        seq, device, hlc, table, record = (
            get("seq"),
            get("device_id"),
            get("hlc"),
            get("table"),
            get("record_id"),
        )
        if (
            type(seq) is int
            and seq >= 1
            and type(device) is str
            and type(hlc) is str
            and type(table) is str
            and type(record) is str
            and device
            and hlc
            and table
            and record
            and get("kind") in OP_KINDS
            and type(get("fields")) is dict
            and type(get("parents")) is dict
            and get("op_id") == f"{device}:{seq}"
        ):
            return None
    return _describe_problem(op)


def _describe_problem(op: object) -> str | None:
    if not isinstance(op, dict):
        return "it is not a JSON object"
    for key in _TEXT_KEYS:
        value = op.get(key)
        if not isinstance(value, str) or not value:
            return f"'{key}' is missing or not text"
    seq = op.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return "'seq' is missing or not a whole number from 1"
    if op.get("kind") not in OP_KINDS:
        return "'kind' is not put or delete"
    for key in ("fields", "parents"):
        if not isinstance(op.get(key), dict):
            return f"'{key}' is missing or not an object"
    if op["op_id"] != f"{op['device_id']}:{seq}":
        return "'op_id' does not match its device and seq"
    return None


class _Tally:
    """Op count and per-device [min, max] seq, as declared in the header."""

    def __init__(self) -> None:
        self.count = 0
        self.ranges: dict[str, tuple[int, int]] = {}

    def add(self, op: Mapping[str, Any]) -> None:
        self.count += 1
        device, seq = op["device_id"], op["seq"]
        lo, hi = self.ranges.get(device, (seq, seq))
        self.ranges[device] = (min(lo, seq), max(hi, seq))


# --- writing --------------------------------------------------------------------------------


def default_file_name(header: BundleHeader) -> str:
    stamp = header.created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"carecoord-{stamp}-{header.bundle_id[:8]}{SUFFIX}"


def write_bundle(
    path: Path,
    *,
    ops: Iterable[Mapping[str, Any]],
    team_key: TeamKey,
    device_key: DeviceKey,
    schema_version: str | int,
    app_version: str,
    op_count: int | None = None,
    seq_ranges: Mapping[str, tuple[int, int]] | None = None,
    clock: Clock | None = None,
    bundle_id: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> BundleInfo:
    """Write ``ops`` to a bundle at ``path`` (or a new name inside ``path`` if it is a folder).

    With ``op_count`` and ``seq_ranges`` given (the change log knows them), ``ops`` is streamed
    once and only one chunk is held at a time; if they do not match the ops, ValueError and
    nothing is written. Without them, ``ops`` is first read into a list to count it.
    The file goes to a temp name in the same folder, is fsynced and renamed, then read back and
    checked; a file that does not read back exactly as written is removed and StorageError
    raised.
    """
    if op_count is None or seq_ranges is None:
        ops = list(ops)
        counted = _Tally()
        for n, op in enumerate(ops, 1):
            _check_op_for_writing(op, n, Path(path))
            counted.add(op)
        op_count = counted.count if op_count is None else op_count
        seq_ranges = counted.ranges if seq_ranges is None else seq_ranges
    tally = _Tally()

    def encoded(target: Path) -> Iterator[bytes]:
        for n, op in enumerate(ops, 1):
            _check_op_for_writing(op, n, target)
            tally.add(op)
            try:
                yield _canonical(op) + b"\n"
            except (TypeError, ValueError) as exc:
                raise InvalidOpError(
                    f"Change {n} cannot be put in bundle {target.name}: it is not plain JSON.",
                    path=target,
                ) from exc
        if tally.count != op_count or tally.ranges != dict(seq_ranges):
            raise ValueError("op_count or seq_ranges do not match the ops given")

    return _write(
        Path(path),
        encoded,
        team_key=team_key,
        device_key=device_key,
        schema_version=schema_version,
        app_version=app_version,
        op_count=op_count,
        seq_ranges=seq_ranges,
        clock=clock,
        bundle_id=bundle_id,
        chunk_size=chunk_size,
    )


def write_bundle_lines(
    path: Path,
    *,
    lines: Iterable[bytes],
    team_key: TeamKey,
    device_key: DeviceKey,
    schema_version: str | int,
    app_version: str,
    op_count: int,
    seq_ranges: Mapping[str, tuple[int, int]],
    clock: Clock | None = None,
    bundle_id: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> BundleInfo:
    """Like :func:`write_bundle`, for ops already encoded as JSON lines by a trusted source
    (the change log, which stores every op's fields and parents as canonical JSON text).

    Each item of ``lines`` holds one or more whole lines, each ending in ``\\n``. The ops are
    not decoded again: only their number is checked against ``op_count`` (ValueError and
    nothing written if it differs); ``seq_ranges`` is taken as given.
    """
    counted = 0

    def counting(target: Path) -> Iterator[bytes]:
        nonlocal counted
        for block in lines:
            if block and not block.endswith(b"\n"):
                raise ValueError("every block of lines must end with a newline")
            counted += block.count(b"\n")
            yield block
        if counted != op_count:
            raise ValueError("op_count does not match the lines given")

    return _write(
        Path(path),
        counting,
        team_key=team_key,
        device_key=device_key,
        schema_version=schema_version,
        app_version=app_version,
        op_count=op_count,
        seq_ranges=seq_ranges,
        clock=clock,
        bundle_id=bundle_id,
        chunk_size=chunk_size,
    )


def _write(
    path: Path,
    payload: Callable[[Path], Iterator[bytes]],
    *,
    team_key: TeamKey,
    device_key: DeviceKey,
    schema_version: str | int,
    app_version: str,
    op_count: int,
    seq_ranges: Mapping[str, tuple[int, int]],
    clock: Clock | None,
    bundle_id: str | None,
    chunk_size: int,
) -> BundleInfo:
    """Header, temp file, payload (``payload(target)`` yields it in blocks), fsync, rename,
    read-back."""
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE}")
    header = BundleHeader(
        bundle_id=bundle_id or str(uuid.uuid4()),
        created_at=(clock or SystemClock()).now().astimezone(UTC),
        sender_device_id=device_key.device_id,
        sender_public_key=device_key.public_bytes(),
        signer_fingerprint=device_key.fingerprint,
        team_id=team_key.team_id,
        team_key_epoch=team_key.epoch,
        schema_version=schema_version,
        app_version=app_version,
        op_count=op_count,
        seq_ranges={d: (int(lo), int(hi)) for d, (lo, hi) in seq_ranges.items()},
        cipher=cipher_name(chunk_size),
        nonce_prefix=os.urandom(NONCE_PREFIX_BYTES),
    )
    target = Path(path)
    if target.is_dir():
        target = target / default_file_name(header)
    if target.exists():
        raise StorageError(f"The file {target.name} already exists; a bundle is never overwritten.")
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
    except OSError as exc:
        raise StorageError(
            f"The bundle {target.name} could not be written ({exc.strerror})."
        ) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            written = _stream_payload(fh, header, payload(target), team_key, device_key, chunk_size)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise StorageError(
            f"The bundle {target.name} could not be written ({exc.strerror})."
        ) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    fsync_directory(target.parent)
    try:
        _read_back(target, team_key, written)
    except BundleError as exc:
        with contextlib.suppress(OSError):
            target.unlink()
        raise StorageError(
            f"The bundle {target.name} did not read back correctly, so it was removed; "
            "check the disk and export again."
        ) from exc
    size = target.stat().st_size
    log.info("bundle %s written: %d ops, %d bytes", header.bundle_id, header.op_count, size)
    return BundleInfo(path=target, header=header, size=size)


def _check_op_for_writing(op: object, n: int, path: Path) -> None:
    problem = op_problem(op)
    if problem is not None:
        raise InvalidOpError(
            f"Change {n} cannot be put in bundle {path.name}: {problem}.", path=path
        )


@dataclass(frozen=True)
class _Written:
    """What was written, to check the file against when it is read back."""

    prefix: bytes
    header: BundleHeader
    digest: bytes  # SHA-512 of everything before the signature
    signature: bytes


def _stream_payload(
    fh: IO[bytes],
    header: BundleHeader,
    blocks: Iterable[bytes],
    team_key: TeamKey,
    device_key: DeviceKey,
    chunk_size: int,
) -> _Written:
    """Write prefix, chunk records and signature.

    Sealing, hashing and writing a chunk run on a second thread while the next chunk's
    plaintext is produced (the hashing, AES and file calls release the GIL), at most a few
    chunks ahead, in order.
    """
    header_bytes = _canonical(header.to_json())
    prefix = MAGIC + _LENGTH.pack(len(header_bytes)) + header_bytes
    hasher = hashlib.sha512(prefix)
    fh.write(prefix)
    aead = AESGCM(team_key.key)

    def emit(index: int, chunk: bytes, flag: int) -> None:
        nonce = header.nonce_prefix + _LENGTH.pack(index)
        sealed = aead.encrypt(nonce, chunk, prefix + _CHUNK_AAD.pack(index, flag))
        head = _RECORD.pack(flag, len(sealed))
        hasher.update(head)
        hasher.update(sealed)
        fh.write(head)
        fh.write(sealed)

    pending: deque[Future[None]] = deque()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bundle-writer") as pool:
        try:
            index = 0
            buf = bytearray()
            for block in blocks:
                buf += block
                while len(buf) > chunk_size:
                    pending.append(pool.submit(emit, index, bytes(buf[:chunk_size]), _MORE))
                    del buf[:chunk_size]
                    index += 1
                    while len(pending) > _AHEAD:
                        pending.popleft().result()
            pending.append(pool.submit(emit, index, bytes(buf), _LAST))
            while pending:
                pending.popleft().result()
        finally:
            for job in pending:
                job.cancel()
    digest = hasher.digest()
    signature = device_key.sign(_SIG_CONTEXT + digest)
    fh.write(signature)
    return _Written(prefix=prefix, header=header, digest=digest, signature=signature)


def _read_back(path: Path, team_key: TeamKey, written: _Written) -> None:
    """One pass over the file just written: every byte as written (same SHA-512 and signature)
    and every chunk decrypts under the team key."""
    header = written.header
    aead = AESGCM(team_key.key)
    with _open_file(path) as fh:
        if fh.read(len(written.prefix)) != written.prefix:
            raise TamperedBundleError(f"The bundle {path.name} changed on disk.", path=path)
        hasher = hashlib.sha512(written.prefix)
        for index, flag, head, sealed in _records(fh, header, path):
            hasher.update(head)
            hasher.update(sealed)
            nonce = header.nonce_prefix + _LENGTH.pack(index)
            try:
                aead.decrypt(nonce, sealed, written.prefix + _CHUNK_AAD.pack(index, flag))
            except InvalidTag as exc:
                raise TamperedBundleError(
                    f"The bundle {path.name} chunk {index} does not decrypt.", path=path
                ) from exc
        if hasher.digest() != written.digest or fh.read() != written.signature:
            raise TamperedBundleError(f"The bundle {path.name} changed on disk.", path=path)


# --- reading --------------------------------------------------------------------------------


@contextlib.contextmanager
def _open_file(path: Path) -> Iterator[IO[bytes]]:
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the context manager
    except OSError as exc:
        raise StorageError(f"The bundle {path.name} cannot be read ({exc.strerror}).") from exc
    with fh:
        yield fh


def read_header(path: Path) -> BundleHeader:
    """The header of a bundle (no key needed): checks magic, version and header only."""
    path = Path(path)
    with _open_file(path) as fh:
        header, _ = _read_prefix(fh, path)
    return header


def _read_prefix(fh: IO[bytes], path: Path) -> tuple[BundleHeader, bytes]:
    name = path.name
    magic = fh.read(len(MAGIC))
    if len(magic) < len(MAGIC):
        if MAGIC.startswith(magic):
            raise TruncatedBundleError(f"The bundle {name} is empty or cut short.", path=path)
        raise NotABundleError(f"The file {name} is not a CareCoord bundle.", path=path)
    if magic[:-1] != MAGIC[:-1]:
        raise NotABundleError(f"The file {name} is not a CareCoord bundle.", path=path)
    if magic[-1] != MAGIC[-1]:
        raise UnsupportedVersionError(
            f"The bundle {name} uses a container version this CareCoord does not read.", path=path
        )
    raw_length = fh.read(_LENGTH.size)
    if len(raw_length) < _LENGTH.size:
        raise TruncatedBundleError(f"The bundle {name} is cut short.", path=path)
    (length,) = _LENGTH.unpack(raw_length)
    if not 2 <= length <= MAX_HEADER_BYTES:
        raise InvalidHeaderError(f"The bundle {name} has a damaged header.", path=path)
    header_bytes = fh.read(length)
    if len(header_bytes) < length:
        raise TruncatedBundleError(f"The bundle {name} is cut short.", path=path)
    return _parse_header(header_bytes, path), magic + raw_length + header_bytes


def _parse_header(data: bytes, path: Path) -> BundleHeader:
    name = path.name

    def damaged(detail: str) -> InvalidHeaderError:
        return InvalidHeaderError(f"The bundle {name} has a damaged header ({detail}).", path=path)

    try:
        obj = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise damaged("not JSON") from exc
    if not isinstance(obj, dict):
        raise damaged("not a JSON object")
    if obj.get("format") != FORMAT:
        raise NotABundleError(f"The file {name} is not a CareCoord bundle.", path=path)
    version = obj.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise damaged("no format version")
    if version > FORMAT_VERSION:
        raise UnsupportedVersionError(
            f"The bundle {name} was written by a newer version of CareCoord "
            f"(bundle format {version}); update CareCoord to import it.",
            path=path,
        )
    if version < FORMAT_VERSION:
        raise UnsupportedVersionError(
            f"The bundle {name} uses bundle format {version}, which this CareCoord does not read.",
            path=path,
        )
    if _canonical(obj) != data:
        raise damaged("not in canonical form")
    if set(obj) != _HEADER_FIELDS:
        raise damaged("unexpected or missing fields")
    try:
        cipher = obj["cipher"]
        if not isinstance(cipher, str):
            raise ValueError("cipher")
        _chunk_size_of(cipher)
    except ValueError as exc:
        raise UnsupportedVersionError(
            f"The bundle {name} uses an encryption method this CareCoord does not know.", path=path
        ) from exc
    try:
        header = BundleHeader(
            bundle_id=str(uuid.UUID(_text(obj["bundle_id"]))),
            created_at=_utc(obj["created_at"]),
            sender_device_id=_text(obj["sender_device_id"]),
            sender_public_key=_sized(b64decode(obj["sender_public_key"]), 32),
            signer_fingerprint=_text(obj["signer_fingerprint"]),
            team_id=_text(obj["team_id"]),
            team_key_epoch=_count(obj["team_key_epoch"], low=1),
            schema_version=_schema(obj["schema_version"]),
            app_version=_text(obj["app_version"]),
            op_count=_count(obj["op_count"], low=0),
            seq_ranges=_ranges(obj["seq_ranges"]),
            cipher=cipher,
            nonce_prefix=_sized(b64decode(obj["nonce_prefix"]), NONCE_PREFIX_BYTES),
        )
    except (ValueError, TypeError) as exc:
        raise damaged("a field is invalid") from exc
    if header.bundle_id != obj["bundle_id"]:
        raise damaged("a field is invalid")
    if header.signer_fingerprint != fingerprint(header.sender_public_key):
        raise damaged("the fingerprint does not match the public key")
    return header


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("expected text")
    return value


def _count(value: object, *, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError("expected a whole number")
    return value


def _sized(value: bytes, size: int) -> bytes:
    if len(value) != size:
        raise ValueError("wrong length")
    return value


def _schema(value: object) -> str | int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _text(value)


def _utc(value: object) -> datetime:
    moment = datetime.fromisoformat(_text(value))
    if moment.tzinfo is None:
        raise ValueError("naive time")
    return moment.astimezone(UTC)


def _ranges(value: object) -> dict[str, tuple[int, int]]:
    if not isinstance(value, dict):
        raise ValueError("expected an object")
    out: dict[str, tuple[int, int]] = {}
    for device, pair in value.items():
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError("expected [min, max]")
        lo, hi = _count(pair[0], low=1), _count(pair[1], low=1)
        if lo > hi:
            raise ValueError("min above max")
        out[_text(device)] = (lo, hi)
    return out


def open_bundle(
    path: Path,
    *,
    team_keys: Mapping[int, TeamKey] | TeamKey,
    known_signers: Callable[[str], bytes | None] | Mapping[str, bytes],
    revoked: Container[str] = (),
    allow_new_signer: bool = False,
) -> OpenedBundle:
    """Verify, decrypt and validate a bundle completely; only then return its ops.

    ``team_keys`` maps epoch -> key (or is the one key); ``known_signers`` gives a device's
    enrolled public key or None; ``revoked`` holds revoked device ids. With
    ``allow_new_signer`` an unknown device is accepted on the strength of its own announced
    key and the team key (``new_signer=True`` on the result), so the caller can enrol it.
    """
    keys = {team_keys.epoch: team_keys} if isinstance(team_keys, TeamKey) else dict(team_keys)
    lookup = known_signers.get if isinstance(known_signers, Mapping) else known_signers
    return _verify(
        Path(path), keys, lookup, revoked, allow_new_signer=allow_new_signer, keep_ops=True
    )


def _verify(
    path: Path,
    team_keys: Mapping[int, TeamKey],
    lookup: Callable[[str], bytes | None],
    revoked: Container[str],
    *,
    allow_new_signer: bool,
    keep_ops: bool,
) -> OpenedBundle:
    name = path.name
    with _open_file(path) as fh:
        header, prefix = _read_prefix(fh, path)
        device = header.sender_device_id
        if device in revoked:
            raise RevokedSignerError(
                f"The bundle {name} is signed by device {device}, which has been revoked.",
                path=path,
            )
        known = lookup(device)
        if known is None:
            if not allow_new_signer:
                raise UnknownSignerError(
                    f"The bundle {name} is signed by device {device}, which is not known here.",
                    path=path,
                )
            public = header.sender_public_key
        elif bytes(known) != header.sender_public_key:
            raise KeyMismatchError(
                f"The bundle {name} claims to come from device {device} "
                "but carries a different key from the one enrolled for it.",
                path=path,
            )
        else:
            public = bytes(known)
        digest, signature = _scan_records(fh, prefix, header, path)
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature, _SIG_CONTEXT + digest)
        except (InvalidSignature, ValueError) as exc:
            raise TamperedBundleError(
                f"The bundle {name} has been altered: its signature does not match.", path=path
            ) from exc
        team_key = _team_key_for(header, team_keys, path)
        sink = _OpParser(header, path, keep_ops=keep_ops)
        ops = _decrypt_all(fh, prefix, header, team_key, digest, path, sink)
    log.info("bundle %s verified: %d ops from device %s", header.bundle_id, header.op_count, device)
    return OpenedBundle(
        path=path, header=header, ops=ops, signer_public_key=public, new_signer=known is None
    )


def _records(
    fh: IO[bytes], header: BundleHeader, path: Path
) -> Iterator[tuple[int, int, bytes, bytes]]:
    """(index, flag, record head, sealed chunk) for each record, checking the framing."""
    max_sealed = header.chunk_size + _TAG_BYTES
    for index in range(1 << 32):
        head = fh.read(_RECORD.size)
        if len(head) < _RECORD.size:
            raise TruncatedBundleError(f"The bundle {path.name} is cut short.", path=path)
        flag, length = _RECORD.unpack(head)
        valid = length == max_sealed if flag == _MORE else _TAG_BYTES <= length <= max_sealed
        if flag not in (_MORE, _LAST) or not valid:
            raise TamperedBundleError(
                f"The bundle {path.name} has been altered: its chunk {index} is malformed.",
                path=path,
            )
        sealed = fh.read(length)
        if len(sealed) < length:
            raise TruncatedBundleError(f"The bundle {path.name} is cut short.", path=path)
        yield index, flag, head, sealed
        if flag == _LAST:
            return


def _scan_records(
    fh: IO[bytes], prefix: bytes, header: BundleHeader, path: Path
) -> tuple[bytes, bytes]:
    """First pass: framing complete, digest of everything before the signature, signature."""
    hasher = hashlib.sha512(prefix)
    for _, _, head, sealed in _records(fh, header, path):
        hasher.update(head)
        hasher.update(sealed)
    signature = fh.read(SIGNATURE_BYTES + 1)
    if len(signature) < SIGNATURE_BYTES:
        raise TruncatedBundleError(f"The bundle {path.name} is cut short.", path=path)
    if len(signature) > SIGNATURE_BYTES:
        raise TamperedBundleError(
            f"The bundle {path.name} has been altered: it has extra bytes after its end.",
            path=path,
        )
    return hasher.digest(), signature


def _team_key_for(header: BundleHeader, keys: Mapping[int, TeamKey], path: Path) -> TeamKey:
    key = keys.get(header.team_key_epoch)
    if key is not None and key.team_id == header.team_id and key.epoch == header.team_key_epoch:
        return key
    if any(k.team_id == header.team_id for k in keys.values()):
        raise WrongTeamKeyError(
            f"The bundle {path.name} needs team key epoch {header.team_key_epoch}, "
            "which this laptop does not hold.",
            path=path,
        )
    raise WrongTeamKeyError(
        f"The bundle {path.name} was made for another team and cannot be opened here.", path=path
    )


def _parse_line(line: bytes) -> tuple[Any, str | None]:
    """One JSON line -> (op, None) or (None, problem); the whole line must be one value."""
    try:
        text = line.decode("utf-8")
        op, end = _RAW_DECODE(text)
    except (UnicodeDecodeError, ValueError):
        return None, "it is not valid JSON"
    if end != len(text):
        return None, "it is not valid JSON"
    return op, op_problem(op)


def _parse_lines(body: bytes, count: int) -> list[Any] | None:
    """``count`` JSON lines decoded in one call (per-line calls cost more than the parsing at
    a million ops), or None unless the piece is ``count`` JSON objects, one per line, each
    line starting with its ``{`` and ending with its ``}`` (otherwise each line is looked at on
    its own, which finds the bad one)."""
    if body[:1] != b"{" or body[-1:] != b"}" or body.count(b"}\n{") != count - 1:
        return None
    try:
        values = _DECODE("[" + body.decode("utf-8").replace("\n", ",") + "]")
    except (UnicodeDecodeError, ValueError):
        return None
    return values if type(values) is list and len(values) == count else None


class _OpParser:
    """Turns decrypted payload into ops; the first bad line is remembered, not raised at once,
    so that a chunk failing to decrypt further on is reported first (decryption comes first)."""

    def __init__(self, header: BundleHeader, path: Path, *, keep_ops: bool) -> None:
        self.header, self.path, self.keep_ops = header, path, keep_ops
        self.ops: list[dict[str, Any]] = []
        self.tally = _Tally()
        self.problem: InvalidOpError | None = None
        self.rest = b""
        self.line_no = 0

    def feed(self, plain: bytes) -> None:
        if self.problem is not None:
            return
        data = self.rest + plain
        cut = data.rfind(b"\n")
        if cut < 0:
            self.rest = data
            return
        body, self.rest = data[:cut], data[cut + 1 :]
        lines = body.split(b"\n")
        parsed = _parse_lines(body, len(lines))
        if parsed is None:  # something is wrong in this piece: find the line, op by op
            parsed = []
            for line in lines:
                op, problem = _parse_line(line)
                if problem is not None:
                    self._refuse(self.line_no + len(parsed) + 1, problem)
                    return
                parsed.append(op)
        for n, op in enumerate(parsed, self.line_no + 1):
            problem = op_problem(op)
            if problem is not None:
                self._refuse(n, problem)
                return
            self.tally.add(op)
        self.line_no += len(parsed)
        if self.keep_ops:
            self.ops.extend(parsed)

    def _refuse(self, line_no: int, problem: str) -> None:
        self.problem = InvalidOpError(
            f"The bundle {self.path.name} holds an invalid change on line {line_no}: {problem}.",
            path=self.path,
        )

    def finish(self) -> list[dict[str, Any]]:
        name, header, tally = self.path.name, self.header, self.tally
        if self.problem is not None:
            raise self.problem
        if self.rest:
            raise InvalidOpError(
                f"The bundle {name} ends in the middle of a change.", path=self.path
            )
        if tally.count != header.op_count:
            raise InvalidOpError(
                f"The bundle {name} declares {header.op_count} changes but holds {tally.count}.",
                path=self.path,
            )
        if tally.ranges != dict(header.seq_ranges):
            raise InvalidOpError(
                f"The bundle {name} holds changes outside the sequence ranges it declares.",
                path=self.path,
            )
        return self.ops


def _decrypt_all(
    fh: IO[bytes],
    prefix: bytes,
    header: BundleHeader,
    team_key: TeamKey,
    digest: bytes,
    path: Path,
    sink: _OpParser,
) -> list[dict[str, Any]]:
    """Second pass: decrypt every chunk into ``sink``; the bytes must match the first pass."""
    name = path.name
    fh.seek(len(prefix))
    hasher = hashlib.sha512(prefix)
    aead = AESGCM(team_key.key)
    try:
        for index, flag, head, sealed in _records(fh, header, path):
            hasher.update(head)
            hasher.update(sealed)
            nonce = header.nonce_prefix + _LENGTH.pack(index)
            try:
                plain = aead.decrypt(nonce, sealed, prefix + _CHUNK_AAD.pack(index, flag))
            except InvalidTag as exc:
                if index == 0:
                    raise WrongTeamKeyError(
                        f"The bundle {name} was not encrypted with this laptop's key for team "
                        f"key epoch {header.team_key_epoch}.",
                        path=path,
                    ) from exc
                raise TamperedBundleError(
                    f"The bundle {name} has been altered: chunk {index} does not decrypt.",
                    path=path,
                ) from exc
            sink.feed(plain)
    except TruncatedBundleError as exc:
        raise TamperedBundleError(
            f"The bundle {name} changed while it was read.", path=path
        ) from exc
    if hasher.digest() != digest:
        raise TamperedBundleError(f"The bundle {name} changed while it was read.", path=path)
    return sink.finish()


def move_aside(path: Path, rejected_dir: Path) -> Path:
    """Move a refused bundle into ``rejected_dir`` (never overwriting) and return its new path."""
    path, rejected_dir = Path(path), Path(rejected_dir)
    try:
        rejected_dir.mkdir(parents=True, exist_ok=True)
        target = rejected_dir / path.name
        n = 1
        while target.exists():
            target = rejected_dir / f"{path.stem}.{n}{path.suffix}"
            n += 1
        shutil.move(path, target)
    except OSError as exc:
        raise StorageError(
            f"The file {path.name} could not be moved aside ({exc.strerror})."
        ) from exc
    log.info("refused bundle moved aside")
    return target

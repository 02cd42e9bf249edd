"""The .ccb bundle: round trips, and every way a bundle can be refused."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import struct
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.clock import FixedClock
from app.core.errors import BundleError, StorageError
from app.sync.bundle import (
    MAGIC,
    InvalidHeaderError,
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
    write_bundle,
    write_bundle_lines,
)
from app.sync.keys import DeviceKey, TeamKey, new_device_key, new_team_key, next_team_key

NHS_NUMBER = "9990000018"  # 999 test range, valid check digit
FAMILY_NAME = "Featherstonehaugh"


def make_ops(device_id: str, n: int, *, start: int = 1) -> list[dict[str, Any]]:
    return [
        {
            "op_id": f"{device_id}:{seq}",
            "device_id": device_id,
            "seq": seq,
            "hlc": f"2026-11-23T09:00:00.000Z/{seq:08d}",
            "table": "patients",
            "record_id": f"rec-{seq}",
            "kind": "put",
            "fields": {"family_name": FAMILY_NAME, "nhs_number": NHS_NUMBER, "n": seq},
            "parents": {"family_name": [f"{device_id}:{seq - 1}"] if seq > 1 else []},
        }
        for seq in range(start, start + n)
    ]


def write(
    path: Path,
    ops: Iterable[dict[str, Any]],
    team_key: TeamKey,
    device_key: DeviceKey,
    **kw: Any,
) -> Path:
    info = write_bundle(
        path,
        ops=ops,
        team_key=team_key,
        device_key=device_key,
        schema_version="0001",
        app_version="0.1.0",
        clock=FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        **kw,
    )
    return info.path


def open_as(
    path: Path, team_key: TeamKey | dict[int, TeamKey], device_key: DeviceKey, **kw: Any
) -> OpenedBundle:
    signers = kw.pop("known_signers", {device_key.device_id: device_key.public_bytes()})
    return open_bundle(path, team_keys=team_key, known_signers=signers, **kw)


# --- an independent writer of the documented format, to build bundles write_bundle refuses ---


def split_file(data: bytes) -> tuple[bytes, list[tuple[int, bytes]], bytes]:
    """(prefix, [(flag, sealed)], signature) of a bundle file."""
    (length,) = struct.unpack(">I", data[8:12])
    prefix, pos, records = data[: 12 + length], 12 + length, []
    while True:
        flag, size = struct.unpack(">BI", data[pos : pos + 5])
        records.append((flag, data[pos + 5 : pos + 5 + size]))
        pos += 5 + size
        if flag == 1:
            return prefix, records, data[pos:]


def assemble(prefix: bytes, records: list[tuple[int, bytes]], device_key: DeviceKey) -> bytes:
    body = prefix + b"".join(struct.pack(">BI", f, len(s)) + s for f, s in records)
    digest = hashlib.sha512(body).digest()
    return body + device_key.sign(b"CareCoord bundle signature v1\0" + digest)


def craft(
    header: dict[str, Any],
    payload: bytes,
    team_key: TeamKey,
    device_key: DeviceKey,
    chunk_size: int,
) -> bytes:
    header = {**header, "cipher": f"AES-256-GCM-STREAM-{chunk_size}B"}
    header_bytes = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    prefix = MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes
    pieces = [payload[i : i + chunk_size] for i in range(0, len(payload), chunk_size)] or [b""]
    nonce_prefix = base64.b64decode(header["nonce_prefix"])
    records = []
    for i, piece in enumerate(pieces):
        flag = 1 if i == len(pieces) - 1 else 0
        aad = prefix + struct.pack(">IB", i, flag)
        sealed = AESGCM(team_key.key).encrypt(nonce_prefix + struct.pack(">I", i), piece, aad)
        records.append((flag, sealed))
    return assemble(prefix, records, device_key)


def lines(ops: list[Any]) -> bytes:
    return b"".join(
        json.dumps(op, sort_keys=True, separators=(",", ":")).encode() + b"\n" for op in ops
    )


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1])
def test_round_trip_small(tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, n: int) -> None:
    ops = make_ops(device_key.device_id, n)
    path = write(tmp_path / "out.ccb", ops, team_key, device_key)
    opened = open_as(path, team_key, device_key)
    assert opened.ops == ops
    assert opened.new_signer is False
    assert opened.header.op_count == n
    assert dict(opened.header.seq_ranges) == ({device_key.device_id: (1, 1)} if n else {})


def test_round_trip_ten_thousand_ops_over_many_chunks(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey
) -> None:
    ops = make_ops(device_key.device_id, 10_000)
    path = write(tmp_path / "big.ccb", ops, team_key, device_key, chunk_size=4096)
    _, records, _ = split_file(path.read_bytes())
    assert len(records) > 100
    assert all(len(sealed) == 4096 + 16 for _, sealed in records[:-1])
    opened = open_as(path, team_key, device_key)
    assert opened.ops == ops
    assert opened.header.seq_ranges == {device_key.device_id: (1, 10_000)}


def test_streamed_ops_with_declared_counts(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey
) -> None:
    dev = device_key.device_id
    generated = (op for op in make_ops(dev, 500, start=41))
    path = write(
        tmp_path / "s.ccb", generated, team_key, device_key,
        op_count=500, seq_ranges={dev: (41, 540)}, chunk_size=1024,
    )  # fmt: skip
    assert [op["seq"] for op in open_as(path, team_key, device_key).ops] == list(range(41, 541))


def test_declared_counts_that_do_not_match_write_nothing(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey
) -> None:
    dev = device_key.device_id
    with pytest.raises(ValueError, match="op_count"):
        write(
            tmp_path / "s.ccb", make_ops(dev, 5), team_key, device_key,
            op_count=6, seq_ranges={dev: (1, 5)},
        )  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_invalid_op_is_not_written(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey
) -> None:
    ops = make_ops(device_key.device_id, 3)
    ops[1]["kind"] = "upsert"
    with pytest.raises(InvalidOpError, match="Change 2 "):
        write(tmp_path / "x.ccb", ops, team_key, device_key)
    assert list(tmp_path.iterdir()) == []


def lines_of(ops: list[dict[str, Any]], per_block: int) -> list[bytes]:
    encoded = [json.dumps(op, sort_keys=True, separators=(",", ":")).encode() for op in ops]
    return [
        b"".join(line + b"\n" for line in encoded[i : i + per_block])
        for i in range(0, len(encoded), per_block)
    ]


def write_lines(path: Path, lines: list[bytes], team_key: TeamKey, device_key: DeviceKey,
                op_count: int, seq_ranges: dict[str, tuple[int, int]]) -> Path:  # fmt: skip
    return write_bundle_lines(
        path,
        lines=lines,
        team_key=team_key,
        device_key=device_key,
        schema_version="0001",
        app_version="0.1.0",
        op_count=op_count,
        seq_ranges=seq_ranges,
        chunk_size=1024,
    ).path


def test_pre_encoded_lines_read_back_as_the_same_ops(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey
) -> None:
    dev = device_key.device_id
    ops = make_ops(dev, 300)
    path = write_lines(tmp_path / "l.ccb", lines_of(ops, 7), team_key, device_key, 300,
                       {dev: (1, 300)})  # fmt: skip
    assert open_as(path, team_key, device_key).ops == ops


@pytest.mark.parametrize(
    ("blocks", "declared", "message"),
    [
        (lambda ops: lines_of(ops, 4), 11, "op_count"),
        (lambda ops: [b"".join(lines_of(ops, 4))[:-1]], 10, "newline"),
    ],
)
def test_pre_encoded_lines_that_do_not_match_write_nothing(
    tmp_path: Path,
    team_key: TeamKey,
    device_key: DeviceKey,
    blocks: Callable[[list[dict[str, Any]]], list[bytes]],
    declared: int,
    message: str,
) -> None:
    dev = device_key.device_id
    lines = blocks(make_ops(dev, 10))
    with pytest.raises(ValueError, match=message):
        write_lines(tmp_path / "l.ccb", lines, team_key, device_key, declared, {dev: (1, 10)})
    assert list(tmp_path.iterdir()) == []


def test_a_bundle_that_does_not_read_back_as_written_is_removed(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk (or stick) returns other bytes than were written: no bundle is left behind
    that would be refused at the other end."""
    real_replace = os.replace

    def replace_and_damage(src: str, dst: Path) -> None:
        real_replace(src, dst)
        data = bytearray(Path(dst).read_bytes())
        data[len(data) // 2] ^= 0x01
        Path(dst).write_bytes(bytes(data))

    monkeypatch.setattr("app.sync.bundle.os.replace", replace_and_damage)
    with pytest.raises(StorageError, match="did not read back correctly, so it was removed"):
        write(tmp_path / "r.ccb", make_ops(device_key.device_id, 200), team_key, device_key,
              chunk_size=1024)  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_writing_into_a_folder_picks_a_name_and_leaves_no_temp_files(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey
) -> None:
    path = write(tmp_path, make_ops(device_key.device_id, 2), team_key, device_key)
    assert path.parent == tmp_path
    assert path.name.startswith("carecoord-20261123T090000Z-") and path.suffix == ".ccb"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_an_existing_file_is_never_overwritten(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey
) -> None:
    target = tmp_path / "b.ccb"
    target.write_bytes(b"earlier bundle")
    with pytest.raises(StorageError, match=r"b\.ccb already exists"):
        write(target, make_ops(device_key.device_id, 1), team_key, device_key)
    assert target.read_bytes() == b"earlier bundle"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(
        st.dictionaries(
            st.text(min_size=1, max_size=8), st.one_of(st.none(), st.text(), st.integers())
        ),
        max_size=12,
    ),
    chunk_size=st.integers(min_value=16, max_value=300),
)
def test_any_json_field_values_round_trip(values: list[dict[str, Any]], chunk_size: int) -> None:
    team_key, device_key = new_team_key(), new_device_key("laptop-a")
    ops = make_ops("laptop-a", len(values))
    for op, fields in zip(ops, values, strict=True):
        op["fields"] = fields
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp) / "h.ccb", ops, team_key, device_key, chunk_size=chunk_size)
        assert open_as(path, team_key, device_key).ops == ops


# --- what the file shows --------------------------------------------------------------------


def test_header_fields_and_no_patient_data_anywhere_in_the_file(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey
) -> None:
    ops = make_ops(device_key.device_id, 20)
    path = write(tmp_path / "b.ccb", ops, team_key, device_key, chunk_size=256)
    data = path.read_bytes()
    assert data.startswith(b"CCBNDL\x00\x01")
    for secret in (NHS_NUMBER, FAMILY_NAME, "rec-1", "patients"):
        assert secret.encode() not in data
        assert secret.encode("utf-16-le") not in data
    (length,) = struct.unpack(">I", data[8:12])
    header = json.loads(data[12 : 12 + length])
    assert set(header) == {
        "format", "format_version", "bundle_id", "created_at", "sender_device_id",
        "sender_public_key", "signer_fingerprint", "team_id", "team_key_epoch",
        "schema_version", "app_version", "op_count", "seq_ranges", "cipher", "nonce_prefix",
    }  # fmt: skip
    assert header["format"] == "carecoord-bundle" and header["format_version"] == 1
    assert header["cipher"] == "AES-256-GCM-STREAM-256B"
    assert header["created_at"] == "2026-11-23T09:00:00Z"
    assert header["seq_ranges"] == {device_key.device_id: [1, 20]}
    assert header["signer_fingerprint"] == device_key.fingerprint

    parsed = read_header(path)
    assert parsed.op_count == 20 and parsed.team_id == team_key.team_id
    assert parsed.sender_public_key == device_key.public_bytes()


def test_default_cipher_is_one_mebibyte_stream(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey
) -> None:
    path = write(tmp_path / "b.ccb", [], team_key, device_key)
    assert read_header(path).cipher == "AES-256-GCM-STREAM-1MiB"
    assert read_header(path).chunk_size == 1 << 20


# --- refusals -------------------------------------------------------------------------------


@pytest.fixture
def small_bundle(tmp_path: Path, team_key: TeamKey, device_key: DeviceKey) -> bytes:
    """Two short ops over six chunks: small enough to flip every bit of it."""
    dev = device_key.device_id
    ops = [
        {"op_id": f"{dev}:{n}", "device_id": dev, "seq": n, "hlc": f"{n:04d}", "table": "t",
         "record_id": "r", "kind": "put", "fields": {"x": n}, "parents": {}}
        for n in (1, 2)
    ]  # fmt: skip
    data = write(tmp_path / "small.ccb", ops, team_key, device_key, chunk_size=48).read_bytes()
    assert len(split_file(data)[1]) == 6
    return data


@pytest.mark.parametrize("allow_new", [False, True], ids=["known-signer", "new-signer-allowed"])
def test_every_single_bit_flip_is_refused(
    tmp_path: Path,
    team_key: TeamKey,
    device_key: DeviceKey,
    small_bundle: bytes,
    allow_new: bool,
) -> None:
    known = {} if allow_new else {device_key.device_id: device_key.public_bytes()}
    # With new signers allowed only the magic and header can behave differently (the sender's
    # id and key live there); past them both modes verify the same signature.
    (header_length,) = struct.unpack(">I", small_bundle[8:12])
    end = 12 + header_length if allow_new else len(small_bundle)
    path = tmp_path / "flipped.ccb"
    path.write_bytes(small_bundle)
    accepted, other_errors = [], []
    # flip bytes in place (rewriting the file each time is slow on some filesystems)
    with open(path, "r+b") as fh:
        for bit in range(end * 8):
            offset, original = bit // 8, small_bundle[bit // 8]
            os.pwrite(fh.fileno(), bytes([original ^ (1 << (bit % 8))]), offset)
            try:
                open_bundle(
                    path, team_keys=team_key, known_signers=known, allow_new_signer=allow_new
                )
            except BundleError:
                pass
            except Exception as exc:  # anything but a BundleError is a bug too
                other_errors.append((bit, exc))
            else:
                accepted.append(bit)
            os.pwrite(fh.fileno(), bytes([original]), offset)
    assert accepted == []
    assert other_errors == []


def test_every_truncation_is_refused_as_truncated(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, small_bundle: bytes
) -> None:
    path = tmp_path / "cut.ccb"
    path.write_bytes(small_bundle)
    wrong = []
    for length in reversed(range(len(small_bundle))):
        os.truncate(path, length)
        try:
            open_as(path, team_key, device_key)
        except TruncatedBundleError as exc:
            assert "cut.ccb" in str(exc)
            continue
        except Exception as exc:
            wrong.append((length, type(exc).__name__))
            continue
        wrong.append((length, "accepted"))
    assert wrong == []


def test_extra_bytes_after_the_signature_are_refused(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, small_bundle: bytes
) -> None:
    path = tmp_path / "long.ccb"
    path.write_bytes(small_bundle + b"\0")
    with pytest.raises(TamperedBundleError, match="extra bytes"):
        open_as(path, team_key, device_key)


def test_a_flipped_payload_byte_is_reported_as_tampered(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, small_bundle: bytes
) -> None:
    path = tmp_path / "t.ccb"
    data = bytearray(small_bundle)
    data[-100] ^= 0x40
    path.write_bytes(data)
    with pytest.raises(TamperedBundleError, match=r"^The bundle t\.ccb has been altered"):
        open_as(path, team_key, device_key)


def test_wrong_team_key_same_id_and_epoch(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, small_bundle: bytes
) -> None:
    path = tmp_path / "b.ccb"
    path.write_bytes(small_bundle)
    impostor = TeamKey(team_id=team_key.team_id, epoch=team_key.epoch, key=os.urandom(32))
    with pytest.raises(WrongTeamKeyError, match="not encrypted with this laptop's key"):
        open_as(path, impostor, device_key)


def test_wrong_team_key_other_team_or_missing_epoch(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, small_bundle: bytes
) -> None:
    path = tmp_path / "b.ccb"
    path.write_bytes(small_bundle)
    with pytest.raises(WrongTeamKeyError, match="another team"):
        open_as(path, new_team_key(), device_key)
    later = next_team_key(team_key)
    with pytest.raises(WrongTeamKeyError, match="epoch 1"):
        open_as(path, {later.epoch: later}, device_key)
    opened = open_as(path, {team_key.epoch: team_key, later.epoch: later}, device_key)
    assert len(opened.ops) == 2


def test_unknown_signer_refused_unless_new_signers_allowed(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, small_bundle: bytes
) -> None:
    path = tmp_path / "b.ccb"
    path.write_bytes(small_bundle)
    with pytest.raises(UnknownSignerError, match=device_key.device_id):
        open_as(path, team_key, device_key, known_signers=lambda _device: None)
    opened = open_as(path, team_key, device_key, known_signers={}, allow_new_signer=True)
    assert opened.new_signer is True
    assert opened.signer_public_key == device_key.public_bytes()
    assert len(opened.ops) == 2


def test_new_signer_without_the_team_key_is_refused(tmp_path: Path, team_key: TeamKey) -> None:
    stranger = new_device_key()
    outsider_key = TeamKey(team_key.team_id, team_key.epoch, os.urandom(32))
    path = write(tmp_path / "s.ccb", make_ops(stranger.device_id, 2), outsider_key, stranger)
    with pytest.raises(WrongTeamKeyError):
        open_bundle(path, team_keys=team_key, known_signers={}, allow_new_signer=True)


def test_known_device_with_a_different_key_is_always_refused(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, small_bundle: bytes
) -> None:
    path = tmp_path / "b.ccb"
    path.write_bytes(small_bundle)
    enrolled = {device_key.device_id: new_device_key().public_bytes()}
    for allow in (False, True):
        with pytest.raises(KeyMismatchError, match="different key"):
            open_as(path, team_key, device_key, known_signers=enrolled, allow_new_signer=allow)


def test_revoked_signer_is_refused(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, small_bundle: bytes
) -> None:
    path = tmp_path / "b.ccb"
    path.write_bytes(small_bundle)
    with pytest.raises(RevokedSignerError, match="revoked"):
        open_as(path, team_key, device_key, revoked={device_key.device_id})
    with pytest.raises(RevokedSignerError):
        open_as(
            path, team_key, device_key, known_signers={}, revoked=[device_key.device_id],
            allow_new_signer=True,
        )  # fmt: skip


def _with_header(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    (length,) = struct.unpack(">I", data[8:12])
    header = json.loads(data[12 : 12 + length])
    change(header)
    new = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return data[:8] + struct.pack(">I", len(new)) + new + data[12 + length :]


def test_newer_format_version_is_unsupported(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, small_bundle: bytes
) -> None:
    path = tmp_path / "new.ccb"
    path.write_bytes(_with_header(small_bundle, lambda h: h.update(format_version=2)))
    with pytest.raises(UnsupportedVersionError, match="newer version"):
        read_header(path)
    with pytest.raises(UnsupportedVersionError):
        open_as(path, team_key, device_key)
    path.write_bytes(small_bundle[:7] + b"\x02" + small_bundle[8:])
    with pytest.raises(UnsupportedVersionError):
        open_as(path, team_key, device_key)


def test_unknown_cipher_is_unsupported(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, small_bundle: bytes
) -> None:
    path = tmp_path / "c.ccb"
    path.write_bytes(_with_header(small_bundle, lambda h: h.update(cipher="Cobblestone-256")))
    with pytest.raises(UnsupportedVersionError, match="encryption method"):
        read_header(path)


@pytest.mark.parametrize(
    "change",
    [
        lambda h: h.pop("team_id"),
        lambda h: h.update(surprise=1),
        lambda h: h.update(op_count=-1),
        lambda h: h.update(signer_fingerprint="0000-0000-0000-0000-0000-0000-0000-0000"),
        lambda h: h.update(seq_ranges={"d": [5, 1]}),
        lambda h: h.update(created_at="2026-11-23T09:00:00"),
    ],
)
def test_damaged_headers_are_refused(
    tmp_path: Path, small_bundle: bytes, change: Callable[[dict[str, Any]], None]
) -> None:
    path = tmp_path / "h.ccb"
    path.write_bytes(_with_header(small_bundle, change))
    with pytest.raises(InvalidHeaderError, match=r"h\.ccb has a damaged header"):
        read_header(path)


def test_non_canonical_header_is_refused(tmp_path: Path, small_bundle: bytes) -> None:
    (length,) = struct.unpack(">I", small_bundle[8:12])
    pretty = json.dumps(json.loads(small_bundle[12 : 12 + length]), indent=1).encode()
    path = tmp_path / "p.ccb"
    path.write_bytes(
        small_bundle[:8] + struct.pack(">I", len(pretty)) + pretty + small_bundle[12 + length :]
    )
    with pytest.raises(InvalidHeaderError, match="canonical"):
        read_header(path)


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        random.Random(7).randbytes(2000),
        b'{"format": "carecoord-bundle"}',
        b"CCBNDX\0\1" + bytes(100),
    ],
)
def test_foreign_files_are_not_bundles(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, content: bytes
) -> None:
    path = tmp_path / "foreign.ccb"
    path.write_bytes(content)
    with pytest.raises(NotABundleError, match=r"^The file foreign\.ccb is not a CareCoord bundle"):
        read_header(path)
    with pytest.raises(NotABundleError):
        open_as(path, team_key, device_key)


def test_header_of_another_format_is_not_a_bundle(tmp_path: Path, small_bundle: bytes) -> None:
    path = tmp_path / "o.ccb"
    path.write_bytes(_with_header(small_bundle, lambda h: h.update(format="other")))
    with pytest.raises(NotABundleError):
        read_header(path)


# --- chunk-level attacks by someone holding the team key and signing correctly -------------


def test_dropping_reordering_or_cutting_chunks_fails_even_when_re_signed(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, small_bundle: bytes
) -> None:
    prefix, records, _ = split_file(small_bundle)
    assert len(records) >= 4
    variants = {
        "drop middle": records[:1] + records[2:],
        "swap": [records[0], records[2], records[1], *records[3:]],
        "cut and mark last": [*records[:-2], (1, records[-2][1])],
        "duplicate": [*records[:2], records[1], *records[2:]],
    }
    path = tmp_path / "r.ccb"
    refused = {}
    for label, variant in variants.items():
        path.write_bytes(assemble(prefix, variant, device_key))
        with pytest.raises(TamperedBundleError) as info:
            open_as(path, team_key, device_key)
        refused[label] = "does not decrypt" in str(info.value)
    assert refused == dict.fromkeys(variants, True)


def test_decryption_rule_first_chunk_means_wrong_key_later_chunk_means_tampered(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, small_bundle: bytes
) -> None:
    prefix, records, _ = split_file(small_bundle)
    path = tmp_path / "d.ccb"

    def corrupt(i: int) -> list[tuple[int, bytes]]:
        out = list(records)
        flag, sealed = out[i]
        out[i] = (flag, bytes([sealed[0] ^ 1]) + sealed[1:])
        return out

    path.write_bytes(assemble(prefix, corrupt(0), device_key))
    with pytest.raises(WrongTeamKeyError):
        open_as(path, team_key, device_key)
    path.write_bytes(assemble(prefix, corrupt(2), device_key))
    with pytest.raises(TamperedBundleError, match="chunk 2 does not decrypt"):
        open_as(path, team_key, device_key)


# --- op validation --------------------------------------------------------------------------


@pytest.fixture
def base_header(tmp_path: Path, team_key: TeamKey, device_key: DeviceKey) -> dict[str, Any]:
    path = write(tmp_path / "base.ccb", make_ops(device_key.device_id, 2), team_key, device_key)
    return read_header(path).to_json()


def _bad(op: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = dict(op)
    for key, value in changes.items():
        if value is ...:
            out.pop(key)
        else:
            out[key] = value
    return out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "upsert"}, "'kind'"),
        ({"seq": 0, "op_id": "{dev}:0"}, "'seq'"),
        ({"seq": True}, "'seq'"),
        ({"op_id": "{dev}:7"}, "'op_id' does not match"),
        ({"fields": ...}, "'fields'"),
        ({"parents": []}, "'parents'"),
        ({"hlc": ""}, "'hlc'"),
        ({"table": 5}, "'table'"),
        ({"record_id": ...}, "'record_id'"),
    ],
)
def test_invalid_ops_are_refused_naming_the_line_but_not_the_data(
    tmp_path: Path,
    team_key: TeamKey,
    device_key: DeviceKey,
    base_header: dict[str, Any],
    change: dict[str, Any],
    message: str,
) -> None:
    dev = device_key.device_id
    ops = make_ops(dev, 2)
    fixed = {k: v.format(dev=dev) if isinstance(v, str) else v for k, v in change.items()}
    ops[1] = _bad(ops[1], **fixed)
    path = tmp_path / "bad.ccb"
    path.write_bytes(craft(base_header, lines(ops), team_key, device_key, 64))
    with pytest.raises(InvalidOpError, match="line 2") as info:
        open_as(path, team_key, device_key)
    assert message in str(info.value)
    assert NHS_NUMBER not in str(info.value) and FAMILY_NAME not in str(info.value)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json\n", "not valid JSON"),
        (b"[1, 2]\n", "not a JSON object"),
        (b'{"a": NaN}\n', "not valid JSON"),
        (b"\n", "not valid JSON"),
    ],
)
def test_lines_that_are_not_op_objects_are_refused(
    tmp_path: Path,
    team_key: TeamKey,
    device_key: DeviceKey,
    base_header: dict[str, Any],
    payload: bytes,
    message: str,
) -> None:
    path = tmp_path / "bad.ccb"
    path.write_bytes(craft(base_header, payload, team_key, device_key, 64))
    with pytest.raises(InvalidOpError, match=message):
        open_as(path, team_key, device_key)


def test_counts_and_ranges_must_match_the_content(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, base_header: dict[str, Any]
) -> None:
    dev = device_key.device_id
    path = tmp_path / "c.ccb"
    path.write_bytes(craft(base_header, lines(make_ops(dev, 3)), team_key, device_key, 64))
    with pytest.raises(InvalidOpError, match="declares 2 changes but holds 3"):
        open_as(path, team_key, device_key)
    shifted = make_ops(dev, 2, start=2)
    path.write_bytes(craft(base_header, lines(shifted), team_key, device_key, 64))
    with pytest.raises(InvalidOpError, match="sequence ranges"):
        open_as(path, team_key, device_key)
    path.write_bytes(craft(base_header, lines(make_ops(dev, 2))[:-1], team_key, device_key, 64))
    with pytest.raises(InvalidOpError, match="middle of a change"):
        open_as(path, team_key, device_key)


def test_the_independent_writer_matches_the_format(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, base_header: dict[str, Any]
) -> None:
    ops = make_ops(device_key.device_id, 2)
    path = tmp_path / "ok.ccb"
    path.write_bytes(craft(base_header, lines(ops), team_key, device_key, 64))
    assert open_as(path, team_key, device_key).ops == ops


def test_a_damaged_chunk_is_reported_before_a_bad_op(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, base_header: dict[str, Any]
) -> None:
    ops = make_ops(device_key.device_id, 2)
    ops[0]["kind"] = "bogus"
    data = craft(base_header, lines(ops), team_key, device_key, 64)
    prefix, records, _ = split_file(data)
    flag, sealed = records[-1]
    records[-1] = (flag, sealed[:-1] + bytes([sealed[-1] ^ 1]))
    path = tmp_path / "o.ccb"
    path.write_bytes(assemble(prefix, records, device_key))
    with pytest.raises(TamperedBundleError):
        open_as(path, team_key, device_key)


# --- moving refused files aside -------------------------------------------------------------


def test_move_aside_never_overwrites(tmp_path: Path) -> None:
    rejected = tmp_path / "rejected"
    first, second = tmp_path / "a" / "x.ccb", tmp_path / "b" / "x.ccb"
    for p, content in ((first, b"one"), (second, b"two")):
        p.parent.mkdir()
        p.write_bytes(content)
    moved1 = move_aside(first, rejected)
    moved2 = move_aside(second, rejected)
    assert moved1 == rejected / "x.ccb" and moved1.read_bytes() == b"one"
    assert moved2 == rejected / "x.1.ccb" and moved2.read_bytes() == b"two"
    assert not first.exists() and not second.exists()


def test_missing_file_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"nothing\.ccb cannot be read"):
        read_header(tmp_path / "nothing.ccb")


@pytest.mark.parametrize("chunk_size", [64, 50_000])
def test_a_bad_change_among_many_is_named_by_its_line(
    tmp_path: Path,
    team_key: TeamKey,
    device_key: DeviceKey,
    base_header: dict[str, Any],
    chunk_size: int,
) -> None:
    dev = device_key.device_id
    ops = make_ops(dev, 1000)
    ops[536] = _bad(ops[536], kind="upsert")
    header = {**base_header, "op_count": 1000, "seq_ranges": {dev: [1, 1000]}}
    path = tmp_path / "bad.ccb"
    path.write_bytes(craft(header, lines(ops), team_key, device_key, chunk_size))
    with pytest.raises(InvalidOpError, match="line 537: 'kind'"):
        open_as(path, team_key, device_key)


def test_a_change_spread_over_two_lines_is_refused(
    tmp_path: Path, team_key: TeamKey, device_key: DeviceKey, base_header: dict[str, Any]
) -> None:
    payload = lines(make_ops(device_key.device_id, 2)).replace(b',"n":2', b',\n"n":2')
    path = tmp_path / "bad.ccb"
    path.write_bytes(craft(base_header, payload, team_key, device_key, 50_000))
    with pytest.raises(InvalidOpError, match="line 2: it is not valid JSON"):
        open_as(path, team_key, device_key)

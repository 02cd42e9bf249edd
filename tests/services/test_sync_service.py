"""Sync between laptops through the service API: bundles both ways, refusals, enrolment,
revocation, gaps, conflicts and the audit trail, on real data folders."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import keyring
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.context import AppContext, open_context
from app.core import secrets
from app.core.clock import FixedClock
from app.core.errors import ConflictError, KeyError_, NotFoundError, StorageError, ValidationError
from app.core.paths import AppPaths
from app.core.secrets import b64encode, default_namespace
from app.models import Admission, CallAttempt, Coordinator, Op, Patient, Setting, TeamDevice
from app.services.sync import (
    ImportOutcome,
    RecordChoice,
    SyncCancelled,
    audit_trail,
    export_bundle,
    export_key,
    import_bundles,
    import_key,
    init_team_key,
    list_conflicts,
    list_devices,
    resolve_conflict,
    revoke_device,
    sync_status,
)
from app.sync.bundle import open_bundle, read_header, write_bundle
from app.sync.dump import dump_json
from app.sync.keys import load_device_key, load_team_key, new_device_key, new_team_key
from app.sync.merge import op_to_dict
from tests.conftest import MemoryKeyring

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PASSPHRASE = "correct horse battery staple"


def _fast_kdf(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(secrets, "ARGON2_MEMORY_COST_KIB", 8)
    mp.setattr(secrets, "ARGON2_ITERATIONS", 1)
    mp.setattr(secrets, "ARGON2_LANES", 1)


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    _fast_kdf(monkeypatch)


@dataclass
class Laptop:
    name: str
    ctx: AppContext

    @property
    def id(self) -> str:
        return self.ctx.device_id

    def dump(self) -> str:
        with self.ctx.db.read() as s:
            return dump_json(s)

    def add_patient(self, nhs: str, family: str) -> str:
        with self.ctx.db.write() as s:
            p = Patient(
                nhs_number=nhs,
                family_name=family,
                given_name="Test",
                date_of_birth=date(1940, 1, 1),
                created_at=self.ctx.clock.now(),
            )
            s.add(p)
            s.flush()
            return p.id

    def edit(self, pid: str, **changes: object) -> None:
        with self.ctx.db.write() as s:
            p = s.get_one(Patient, pid)
            for k, v in changes.items():
                setattr(p, k, v)

    def delete(self, pid: str) -> None:
        with self.ctx.db.write() as s:
            s.delete(s.get_one(Patient, pid))

    def patient(self, pid: str) -> Patient | None:
        with self.ctx.db.read() as s:
            return s.get(Patient, pid)

    def export(self, out: Path, *, full: bool = False) -> Path:
        result = export_bundle(self.ctx, out=out, full=full)
        assert result.path is not None
        return result.path

    def receive(self, *paths: Path) -> list[ImportOutcome]:
        return import_bundles(self.ctx, list(paths))


def _copy_folder(
    src: Path, dst: Path, saved: dict[tuple[str, str], str], ring: MemoryKeyring
) -> None:
    """A copy of a data folder, with its keys copied under the copy's keyring name."""
    shutil.copytree(src, dst)
    old, new = (default_namespace(AppPaths(d).key_file) for d in (src, dst))
    for (service, user), secret in saved.items():
        if user.startswith(old + "/"):
            ring.store[(service, new + user[len(old) :])] = secret


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[str, str], str]]:
    """Laptop A started the team; laptop B joined with A's key file; C has no key yet. They
    have exchanged nothing. ``as`` and ``bs`` are A and B after exchanging bundles both ways,
    sharing one patient. Built once, copied for each test."""
    root = tmp_path_factory.mktemp("sync-team")
    backend, previous = MemoryKeyring(), keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        with pytest.MonkeyPatch.context() as mp:
            _fast_kdf(mp)
            clock = FixedClock(START)
            a = open_context(AppPaths(root / "a"), clock=clock)
            init_team_key(a, label="Laptop A")
            export_key(a, root / "team.cck", PASSPHRASE)
            b = open_context(AppPaths(root / "b"), clock=clock)
            import_key(b, root / "team.cck", PASSPHRASE, label="Laptop B")
            c = open_context(AppPaths(root / "c"), clock=clock)
            for ctx in (a, b, c):
                ctx.close()
            for name in ("a", "b"):
                _copy_folder(root / name, root / f"{name}s", dict(backend.store), backend)
            a2 = Laptop("a", open_context(AppPaths(root / "as"), clock=clock))
            b2 = Laptop("b", open_context(AppPaths(root / "bs"), clock=clock))
            (root / "shared-patient").write_text(a2.add_patient("9991408916", "Testperson"))
            (root / "out").mkdir()
            b2.receive(a2.export(root / "out"))
            a2.receive(b2.export(root / "out"))
            b2.receive(a2.export(root / "out"))  # relays B's own changes back: all held
            a2.ctx.close()
            b2.ctx.close()
    finally:
        keyring.set_keyring(previous)
    return root, dict(backend.store)


@dataclass
class Team:
    root: Path
    template: Path
    clock: FixedClock
    a: Laptop
    b: Laptop
    open_laptops: list[Laptop]
    saved: dict[tuple[str, str], str]
    ring: MemoryKeyring
    pid: str = ""  # the patient both laptops hold (``synced`` only)

    def laptop(self, name: str, *, copy_of: str | None = None) -> Laptop:
        """Another laptop: a fresh copy of template folder ``copy_of`` (default: ``name``)."""
        target = self.root / f"{name}-{uuid.uuid4().hex[:8]}"
        _copy_folder(self.template / (copy_of or name), target, self.saved, self.ring)
        lap = Laptop(name, open_context(AppPaths(target), clock=self.clock))
        self.open_laptops.append(lap)
        return lap


def _team(
    template: tuple[Path, dict[tuple[str, str], str]],
    tmp_path: Path,
    ring: MemoryKeyring,
    *,
    synced: bool,
) -> Iterator[Team]:
    src, saved = template
    root = tmp_path / "work"
    root.mkdir()
    (root / "out").mkdir()
    t = Team(root, src, FixedClock(START), None, None, [], saved, ring)  # type: ignore[arg-type]
    t.a = t.laptop("a", copy_of="as" if synced else "a")
    t.b = t.laptop("b", copy_of="bs" if synced else "b")
    if synced:
        t.pid = (src / "shared-patient").read_text()
    try:
        yield t
    finally:
        for lap in t.open_laptops:
            lap.ctx.close()


@pytest.fixture
def team(
    template: tuple[Path, dict[tuple[str, str], str]], tmp_path: Path, memory_keyring: MemoryKeyring
) -> Iterator[Team]:
    """Laptops A and B of one team, before any exchange."""
    yield from _team(template, tmp_path, memory_keyring, synced=False)


@pytest.fixture
def synced(
    template: tuple[Path, dict[tuple[str, str], str]], tmp_path: Path, memory_keyring: MemoryKeyring
) -> Iterator[Team]:
    """Laptops A and B after exchanging everything, both holding patient ``pid``."""
    yield from _team(template, tmp_path, memory_keyring, synced=True)


def fresh_folder(team: Team) -> Path:
    out = team.root / "out" / uuid.uuid4().hex[:8]
    out.mkdir()
    return out


# --- exchanging ------------------------------------------------------------------------------


def test_two_laptops_exchange_both_ways_and_end_identical(team: Team) -> None:
    a, b = team.a, team.b
    a.add_patient("9991408916", "Testperson")
    b.add_patient("9995968533", "Sampleton")

    first = b.receive(a.export(fresh_folder(team)))[0]
    assert first.ok and first.sender_label == "Laptop A" and first.enrolled
    assert first.new == first.received > 0 and first.already_held == 0

    back = a.receive(b.export(fresh_folder(team)))[0]
    assert back.ok and back.sender_label == "Laptop B" and back.enrolled
    assert back.already_held > 0  # A's own ops, relayed back

    assert a.dump() == b.dump()
    dump = json.loads(a.dump())
    assert {p["family_name"] for p in dump["patients"]} == {"Testperson", "Sampleton"}
    assert {d["label"] for d in dump["team_devices"]} == {"Laptop A", "Laptop B"}
    assert sync_status(a.ctx).unexported_ops > 0  # B's ops, to relay onwards
    with a.ctx.db.read() as s:
        labels = {d.label: d for d in list_devices(s)}
    assert labels["Laptop A"].this_laptop and not labels["Laptop B"].this_laptop


def test_importing_the_same_bundle_twice_changes_nothing(team: Team) -> None:
    a, b = team.a, team.b
    a.add_patient("9991408916", "Testperson")
    bundle = a.export(fresh_folder(team))
    b.receive(bundle)
    dump = b.dump()
    again = b.receive(bundle)[0]
    assert again.ok and again.new == 0 and again.already_held == again.received
    assert again.records_changed == 0 and not again.enrolled
    assert b.dump() == dump


def test_bundles_imported_in_either_order_give_the_same_result(team: Team) -> None:
    a = team.a
    pid = a.add_patient("9991408916", "Testperson")
    one = a.export(fresh_folder(team))
    team.clock.advance(timedelta(minutes=5))
    a.edit(pid, phone="0116 496 0001")
    a.add_patient("9995968533", "Sampleton")
    two = a.export(fresh_folder(team))

    in_order = team.b
    reversed_ = team.laptop("b2", copy_of="b")  # the same laptop B, before either import
    in_order.receive(one, two)
    late, early = reversed_.receive(two, one)
    assert late.ok and early.ok
    assert late.pending_records > 0  # the edit waits for the patient it changes
    assert in_order.dump() == reversed_.dump()
    patients = json.loads(in_order.dump())["patients"]
    assert {p["phone"] for p in patients} == {"0116 496 0001", None}
    assert sync_status(reversed_.ctx).gaps == ()


def test_any_import_schedule_of_the_same_bundles_converges(team: Team) -> None:
    a = team.a
    pid = a.add_patient("9991408916", "Testperson")
    bundles = [a.export(fresh_folder(team))]
    team.clock.advance(timedelta(minutes=5))
    a.edit(pid, phone="0116 496 0001")
    other = a.add_patient("9995968533", "Sampleton")
    bundles.append(a.export(fresh_folder(team)))
    team.clock.advance(timedelta(minutes=5))
    a.edit(pid, phone="0116 496 0003")
    a.delete(other)
    bundles.append(a.export(fresh_folder(team)))
    team.b.receive(*bundles)
    expected = team.b.dump()

    schedules = st.lists(st.sampled_from(range(len(bundles))), min_size=3, max_size=6)

    @settings(max_examples=4, deadline=None, derandomize=True)
    @given(schedules.filter(lambda s: set(s) == {0, 1, 2}))
    def converges(schedule: list[int]) -> None:
        lap = team.laptop("b", copy_of="b")
        try:
            outcomes = lap.receive(*(bundles[i] for i in schedule))
            assert all(o.ok for o in outcomes)
            assert lap.dump() == expected
        finally:
            lap.ctx.close()
            team.open_laptops.remove(lap)

    converges()


def test_a_skipped_bundle_is_reported_as_a_gap_until_it_arrives(team: Team) -> None:
    a, b = team.a, team.b
    a.add_patient("9991408916", "Testperson")
    one = a.export(fresh_folder(team))
    a.add_patient("9995968533", "Sampleton")
    two = a.export(fresh_folder(team))
    low, high = read_header(one).seq_ranges[a.id]
    assert read_header(two).seq_ranges[a.id][0] < high  # A's own device record travels again

    with a.ctx.db.read() as s:
        travelled_again = set(s.scalars(select(Op.seq).where(Op.table_name == "team_devices")))
    missing = sorted(set(range(low, high + 1)) - travelled_again)
    runs: list[list[int]] = []
    for seq in missing:
        if runs and runs[-1][1] == seq - 1:
            runs[-1][1] = seq
        else:
            runs.append([seq, seq])
    expected = tuple(
        f"changes {lo}–{hi} from Laptop A missing"
        if lo != hi
        else f"changes {lo} from Laptop A missing"
        for lo, hi in runs
    )

    outcome = b.receive(two)[0]
    assert outcome.ok and outcome.gaps == expected and len(expected) == 2
    assert sync_status(b.ctx).gaps == expected

    b.receive(one)
    assert sync_status(b.ctx).gaps == ()


def test_nothing_to_export_writes_no_file(team: Team) -> None:
    a = team.a
    out = fresh_folder(team)
    a.export(out)
    again = export_bundle(a.ctx, out=out)
    assert again.path is None and again.op_count == 0 and not again.written
    assert len(list(out.iterdir())) == 1


def test_full_export_streams_every_op_in_local_order_and_marks_them_exported(team: Team) -> None:
    a = team.a
    a.add_patient("9991408916", "Testperson")
    # text the JSON lines must escape or keep as it is: quotes, backslash, newline, tab, accents
    a.add_patient("9991409009", 'O\'Dónnell "Sé" \\ Łukasz\nline two\tend \u2603')
    seen: list[tuple[int, int]] = []
    result = export_bundle(
        a.ctx, out=fresh_folder(team), full=True, progress=lambda d, t: seen.append((d, t))
    )
    assert result.path is not None and seen[-1] == (result.op_count, result.op_count)
    with a.ctx.db.read() as s:
        held = [op_to_dict(o) for o in s.scalars(select(Op).order_by(Op.local_order))]
        assert s.scalar(select(func.count()).where(Op.exported.is_(False))) == 0
    with a.ctx.db.read() as s:
        signer = s.get_one(TeamDevice, a.id)
        opened = open_bundle(
            result.path,
            team_keys=load_team_key(a.ctx.secrets),  # type: ignore[arg-type]
            known_signers={a.id: secrets.b64decode(signer.public_key)},
        )
    assert opened.ops == held
    assert opened.header.sender_public_key == secrets.b64decode(signer.public_key)
    assert sync_status(a.ctx).last_export is not None


def test_a_failed_or_cancelled_export_leaves_the_changes_to_export(team: Team) -> None:
    a = team.a
    a.add_patient("9991408916", "Testperson")
    waiting = sync_status(a.ctx).unexported_ops
    with pytest.raises(StorageError, match="could not be written"):
        export_bundle(a.ctx, out=team.root / "no such folder" / "x.ccb")
    out = fresh_folder(team)
    with pytest.raises(SyncCancelled):
        export_bundle(a.ctx, out=out, cancelled=lambda: True)
    assert list(out.iterdir()) == []
    assert sync_status(a.ctx).unexported_ops == waiting


def test_a_revoked_laptop_is_told_its_bundles_would_be_refused(team: Team) -> None:
    a, b = team.a, team.b
    b.receive(a.export(fresh_folder(team)))
    revoke_device(b.ctx, a.id, "laptop lost")
    a.receive(b.export(fresh_folder(team)))
    assert sync_status(a.ctx).revoked_here
    a.add_patient("9991408916", "Testperson")
    with pytest.raises(KeyError_, match="revoked"):
        export_bundle(a.ctx, out=fresh_folder(team))


# --- refusals --------------------------------------------------------------------------------


def _flip_payload_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    header_len = int.from_bytes(data[8:12], "big")
    data[12 + header_len + 5 + 10] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _newer_container(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[7] = 2
    path.write_bytes(bytes(data))


def _a_bundle(team: Team, damage: Callable[[Path], None] | None = None) -> Path:
    team.a.add_patient("9991408916", "Testperson")
    path = team.a.export(fresh_folder(team))
    if damage is not None:
        damage(path)
    return path


def _random_file(team: Team) -> Path:
    path = fresh_folder(team) / "random.ccb"
    path.write_bytes(os.urandom(3000))
    return path


_OP = {
    "op_id": "x:1",
    "device_id": "x",
    "seq": 1,
    "hlc": "1795424400000.00000",
    "table": "coordinators",
    "record_id": "00000000-0000-4000-8000-000000000001",
    "kind": "put",
    "fields": {"name": "Priya", "role": "Care Coordinator", "locality": None, "active": True,
               "is_team_lead": False},
    "parents": {},
}  # fmt: skip


def _signed_by(team: Team, device_id: str, *, other_team: bool) -> Path:
    device = new_device_key(device_id)
    key = new_team_key() if other_team else load_team_key(team.a.ctx.secrets)  # type: ignore[arg-type]
    assert key is not None
    op = {**_OP, "op_id": f"{device_id}:1", "device_id": device_id}
    info = write_bundle(
        fresh_folder(team) / "foreign.ccb",
        ops=[op],
        team_key=key,
        device_key=device,
        schema_version="0001",
        app_version="1.0",
        clock=team.clock,
    )
    return info.path


def _impostor(team: Team) -> Path:
    team.b.receive(team.a.export(fresh_folder(team)))  # B knows A's key
    return _signed_by(team, team.a.id, other_team=False)


def _revoked(team: Team) -> Path:
    team.b.receive(team.a.export(fresh_folder(team)))
    revoke_device(team.b.ctx, team.a.id, "laptop lost")
    return _a_bundle(team)


REFUSALS: dict[str, tuple[Callable[[Team], Path], str, str]] = {
    "tampered": (lambda t: _a_bundle(t, _flip_payload_byte), "tampered", "altered"),
    "truncated": (lambda t: _a_bundle(t, _truncate), "truncated", "cut short"),
    "random file": (_random_file, "not a bundle", "not a CareCoord bundle"),
    "newer container": (lambda t: _a_bundle(t, _newer_container), "unsupported version", "version"),
    "other team": (lambda t: _signed_by(t, str(uuid.uuid4()), other_team=True), "wrong team key",
                   "another team"),
    "known id, other key": (_impostor, "unknown signer", "different key"),
    "revoked laptop": (_revoked, "revoked", "has been revoked"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_bundle_is_moved_aside_with_its_own_message_and_changes_nothing(
    team: Team, case: str
) -> None:
    make, reason, words = REFUSALS[case]
    path = make(team)
    b = team.b
    dump, waiting = b.dump(), sync_status(b.ctx).unexported_ops
    (outcome,) = b.receive(path)
    assert not outcome.ok and outcome.reason == reason
    assert outcome.message is not None and words in outcome.message and path.name in outcome.message
    assert not path.exists()
    assert outcome.moved_to == b.ctx.paths.rejected_dir / path.name and outcome.moved_to.exists()
    assert b.dump() == dump and sync_status(b.ctx).unexported_ops == waiting


def test_every_refusal_reason_is_distinct() -> None:
    reasons = [reason for _, reason, _ in REFUSALS.values()]
    assert len(set(reasons)) == len(reasons)


def test_a_refused_file_does_not_stop_the_others(team: Team) -> None:
    good = _a_bundle(team)
    bad = _random_file(team)
    outcomes = team.b.receive(bad, good)
    assert [o.ok for o in outcomes] == [False, True]
    assert json.loads(team.b.dump())["patients"][0]["family_name"] == "Testperson"


def test_a_new_laptop_is_enrolled_from_its_first_bundle(team: Team) -> None:
    device_id = str(uuid.uuid4())
    path = _signed_by(team, device_id, other_team=False)
    (outcome,) = team.b.receive(path)
    assert outcome.ok and outcome.enrolled and outcome.sender_device_id == device_id
    with team.b.ctx.db.read() as s:
        device = s.get_one(TeamDevice, device_id)
        assert device.fingerprint == outcome.sender_fingerprint and not device.revoked
        assert s.get(Coordinator, _OP["record_id"]) is not None


@pytest.mark.parametrize("supersedes", [True, False])
def test_a_bundle_that_changes_a_known_laptops_key_is_refused(team: Team, supersedes: bool) -> None:
    """Whether the change would win (it names the current key as its parent) or only stand
    beside it as a conflict (an old, concurrent change), the bundle is refused."""
    a, b = team.a, team.b
    b.receive(a.export(fresh_folder(team)))
    with b.ctx.db.read() as s:
        heads = [
            o.op_id
            for o in s.scalars(
                select(Op).where(Op.table_name == "team_devices", Op.record_id == a.id)
            )
        ]
    intruder = new_device_key(str(uuid.uuid4()))
    op = {
        **_OP,
        "op_id": f"{intruder.device_id}:1",
        "device_id": intruder.device_id,
        "table": "team_devices",
        "record_id": a.id,
        "fields": {"public_key": b64encode(intruder.public_bytes())},
        "parents": {"public_key": heads} if supersedes else {},
        "hlc": _OP["hlc"] if supersedes else "0000000000001.00000",
    }
    key = load_team_key(a.ctx.secrets)  # type: ignore[arg-type]
    assert key is not None
    info = write_bundle(
        fresh_folder(team) / "swap.ccb", ops=[op], team_key=key, device_key=intruder,
        schema_version="0001", app_version="1.0", clock=team.clock,
    )  # fmt: skip
    dump = b.dump()
    (outcome,) = b.receive(info.path)
    assert not outcome.ok and "never changes" in (outcome.message or "")
    assert b.dump() == dump
    with b.ctx.db.read() as s:
        assert list_conflicts(s) == []


def test_import_without_a_team_key_is_refused_before_touching_files(team: Team) -> None:
    c = team.laptop("c")
    path = _a_bundle(team)
    with pytest.raises(KeyError_, match="no team key"):
        c.receive(path)
    assert path.exists()


# --- conflicts -------------------------------------------------------------------------------


def _exchange(team: Team) -> None:
    ab = team.a.export(fresh_folder(team))
    ba = team.b.export(fresh_folder(team))
    team.b.receive(ab)
    team.a.receive(ba)


def test_concurrent_edits_are_listed_with_both_values_and_resolved_everywhere(synced: Team) -> None:
    team = synced
    a, b = team.a, team.b
    pid = team.pid
    team.clock.advance(timedelta(minutes=1))
    a.edit(pid, phone="0116 496 0001")
    team.clock.advance(timedelta(minutes=1))
    b.edit(pid, phone="0116 496 0002")
    _exchange(team)
    assert a.dump() == b.dump()

    with a.ctx.db.read() as s:
        (view,) = list_conflicts(s)
    assert (view.table, view.record_id, view.field, view.deletion) == (
        "patients",
        pid,
        "phone",
        False,
    )
    by_label = {h.device_label: h for h in view.heads}
    assert by_label["Laptop A"].value == "0116 496 0001"
    assert by_label["Laptop B"].value == "0116 496 0002" and by_label["Laptop B"].shown
    assert by_label["Laptop A"].at == START + timedelta(minutes=1)
    assert view.current == "0116 496 0002"

    with a.ctx.db.write() as s:
        left = resolve_conflict(
            s, clock=a.ctx.clock, table="patients", record_id=pid, field="phone",
            value="0116 496 0001",
        )  # fmt: skip
    assert left is None
    with a.ctx.db.read() as s:
        assert list_conflicts(s) == []
    assert a.patient(pid).phone == "0116 496 0001"  # type: ignore[union-attr]

    b.receive(a.export(fresh_folder(team)))
    with b.ctx.db.read() as s:
        assert list_conflicts(s) == []
    assert a.dump() == b.dump()


def test_resolution_values_are_checked_against_the_field(synced: Team) -> None:
    team = synced
    a, b = team.a, team.b
    pid = team.pid
    a.edit(pid, ltc_count=3, family_name="Testpersonne")
    b.edit(pid, ltc_count=5, family_name="Test-Person")
    _exchange(team)
    with a.ctx.db.write() as s:
        with pytest.raises(ValidationError, match="cannot be left empty"):
            resolve_conflict(
                s, clock=a.ctx.clock, table="patients", record_id=pid, field="family_name",
                value=None,
            )  # fmt: skip
        for bad in ("five", 4.5, True, RecordChoice.KEEP):
            with pytest.raises(ValidationError):
                resolve_conflict(
                    s, clock=a.ctx.clock, table="patients", record_id=pid, field="ltc_count",
                    value=bad,
                )  # fmt: skip
        with pytest.raises(NotFoundError):
            resolve_conflict(
                s, clock=a.ctx.clock, table="patients", record_id=pid, field="phone", value="1"
            )
        resolve_conflict(
            s, clock=a.ctx.clock, table="patients", record_id=pid, field="ltc_count", value=4
        )
    assert a.patient(pid).ltc_count == 4  # type: ignore[union-attr]


@pytest.mark.parametrize("choice", [RecordChoice.KEEP, RecordChoice.DELETE])
def test_edit_against_delete_is_kept_or_deleted_on_every_laptop(
    synced: Team, choice: RecordChoice
) -> None:
    team = synced
    a, b = team.a, team.b
    pid = team.pid
    a.delete(pid)
    b.edit(pid, phone="0116 496 0002")
    _exchange(team)
    assert a.patient(pid) is not None  # an edit is never lost silently
    with b.ctx.db.read() as s:
        (view,) = list_conflicts(s)
    assert view.deletion and view.field == "phone"
    assert {h.deleted for h in view.heads} == {True, False}
    assert next(h for h in view.heads if h.deleted).device_label == "Laptop A"

    with b.ctx.db.write() as s:
        resolve_conflict(
            s, clock=b.ctx.clock, table="patients", record_id=pid, field="phone", value=choice
        )
    a.receive(b.export(fresh_folder(team)))
    for lap in (a, b):
        kept = lap.patient(pid)
        if choice is RecordChoice.KEEP:
            assert kept is not None and kept.phone == "0116 496 0002"
        else:
            assert kept is None
        with lap.ctx.db.read() as s:
            assert list_conflicts(s) == []
    assert a.dump() == b.dump()


def test_a_record_deleted_while_still_referred_to_offers_keep_or_delete(synced: Team) -> None:
    team = synced
    a, b = team.a, team.b
    pid = team.pid
    a.delete(pid)
    with b.ctx.db.write() as s:
        s.add(Admission(patient_id=pid, admitted_at=START, created_at=START))
    _exchange(team)
    with a.ctx.db.read() as s:
        (view,) = list_conflicts(s)
    assert view.field == "_deleted" and view.deletion and view.note
    with a.ctx.db.write() as s, pytest.raises(ValidationError):
        resolve_conflict(
            s, clock=a.ctx.clock, table="patients", record_id=pid, field="_deleted", value="x"
        )
    with a.ctx.db.write() as s, pytest.raises(ConflictError, match="still refer"):
        resolve_conflict(
            s, clock=a.ctx.clock, table="patients", record_id=pid, field="_deleted",
            value=RecordChoice.DELETE,
        )  # fmt: skip
    with a.ctx.db.write() as s:
        resolve_conflict(
            s, clock=a.ctx.clock, table="patients", record_id=pid, field="_deleted",
            value=RecordChoice.KEEP,
        )  # fmt: skip
    b.receive(a.export(fresh_folder(team)))
    for lap in (a, b):
        with lap.ctx.db.read() as s:
            assert list_conflicts(s) == []
    assert a.dump() == b.dump()


# --- audit trail -----------------------------------------------------------------------------


def test_the_audit_trail_follows_a_patient_across_laptops(synced: Team) -> None:
    team = synced
    a, b = team.a, team.b
    pid = team.pid
    other = a.add_patient("9995968533", "Sampleton")
    team.clock.advance(timedelta(hours=1))
    with b.ctx.db.write() as s:
        adm = Admission(patient_id=pid, admitted_at=START, discharged_at=START + timedelta(hours=1),
                        created_at=team.clock.now())  # fmt: skip
        s.add(adm)
        s.flush()
        s.add(CallAttempt(admission_id=adm.id, patient_id=pid, called_at=team.clock.now(),
                          outcome="no_answer", ))  # fmt: skip
    team.clock.advance(timedelta(hours=1))
    a.edit(pid, phone="0116 496 0001")
    a.edit(other, phone="0116 496 0009")
    _exchange(team)

    with a.ctx.db.read() as s:
        trail = audit_trail(s, patient_id=pid)
        with pytest.raises(NotFoundError):
            audit_trail(s, patient_id=str(uuid.uuid4()))
    assert [(e.table, e.action, e.device_label) for e in trail] == [
        ("patients", "created", "Laptop A"),
        ("admissions", "created", "Laptop B"),
        ("call_attempts", "created", "Laptop B"),
        ("patients", "changed", "Laptop A"),
    ]
    assert dict(trail[-1].field_changes) == {"phone": "0116 496 0001"}
    assert trail[1].when == START + timedelta(hours=1)
    with b.ctx.db.read() as s:
        assert audit_trail(s, patient_id=pid) == trail  # the same on both laptops


# --- keys ------------------------------------------------------------------------------------


def test_starting_a_second_team_is_refused(team: Team) -> None:
    with pytest.raises(KeyError_, match="already holds a team key"):
        init_team_key(team.a.ctx)


def test_key_handover_carries_the_members_and_their_revocations(team: Team) -> None:
    a, b = team.a, team.b
    b.receive(a.export(fresh_folder(team)))
    revoke_device(b.ctx, a.id, "laptop lost")
    key_file = team.root / "handover.cck"
    export_key(b.ctx, key_file, PASSPHRASE)
    with pytest.raises(StorageError, match="already exists"):
        export_key(b.ctx, key_file, PASSPHRASE)

    c = team.laptop("c")
    with pytest.raises(KeyError_, match="passphrase"):
        import_key(c.ctx, key_file, "wrong passphrase")
    info = import_key(c.ctx, key_file, PASSPHRASE, label="Laptop C")
    assert info.members_listed == 2 and info.device_label == "Laptop C"
    assert load_team_key(c.ctx.secrets) == load_team_key(a.ctx.secrets)  # type: ignore[arg-type]
    device_key = load_device_key(c.ctx.secrets)  # type: ignore[arg-type]
    assert device_key is not None and device_key.device_id == c.id

    # A's records have not reached C, but the key file already says A is revoked
    (outcome,) = c.receive(_a_bundle(team))
    assert not outcome.ok and outcome.reason == "revoked"
    # B's bundle is accepted, and enrols B
    (outcome,) = c.receive(b.export(fresh_folder(team)))
    assert outcome.ok and outcome.enrolled and outcome.sender_label == "Laptop B"


def test_a_key_file_of_another_team_is_refused(team: Team, tmp_path: Path) -> None:
    other = team.laptop("c")
    init_team_key(other.ctx, label="Elsewhere")
    key_file = tmp_path / "elsewhere.cck"
    export_key(other.ctx, key_file, PASSPHRASE)
    with pytest.raises(KeyError_, match="another team"):
        import_key(team.a.ctx, key_file, PASSPHRASE)


def test_revocation_rules(team: Team) -> None:
    a, b = team.a, team.b
    b.receive(a.export(fresh_folder(team)))
    with pytest.raises(ValidationError, match="itself"):
        revoke_device(b.ctx, b.id)
    with pytest.raises(NotFoundError):
        revoke_device(b.ctx, "no-such-laptop")
    with b.ctx.db.write() as s:
        lead = Coordinator(name="Sam Coordinator", role="Care Coordinator", active=True,
                           is_team_lead=False)  # fmt: skip
        s.add(lead)
        s.flush()
        s.add(Setting(key="coordinator_id", value=lead.id))
    with pytest.raises(ValidationError, match="team lead"):
        revoke_device(b.ctx, a.id[:8])
    with b.ctx.db.write() as s:
        s.get_one(Coordinator, lead.id).is_team_lead = True
    view = revoke_device(b.ctx, a.id[:8], "  laptop   lost ")
    assert view.revoked and view.revoked_reason == "laptop lost" and view.revoked_at == START
    with pytest.raises(ConflictError, match="already revoked"):
        revoke_device(b.ctx, a.id)


def test_status_of_a_laptop_without_a_team(team: Team) -> None:
    c = team.laptop("c")
    status = sync_status(c.ctx)
    assert status.team_id is None and status.fingerprint is None and status.devices == ()
    assert status.last_export is None and status.last_import is None
    with pytest.raises(KeyError_, match="no team key"):
        export_bundle(c.ctx, out=fresh_folder(team))

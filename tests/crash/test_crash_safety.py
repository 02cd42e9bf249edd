"""kill -9 at random moments never loses a committed change and never corrupts the database.

A writer process (``crash_writer``) commits transactions of one patient + k tasks through the
real unit of work on an encrypted data folder and acknowledges each one after its commit. The
test kills it with SIGKILL at a random moment (sometimes while it is still opening the folder,
migrating or taking its daily backup), then reopens the folder as the app would (which runs the
full check after an unclean shutdown) and checks:

* every acknowledged patient is there, with all its tasks;
* no transaction is half there: every patient has exactly the tasks its transaction wrote, and
  each of those records has exactly one op in the change log;
* ``integrity_check`` and ``foreign_key_check`` are clean, and op sequence numbers are intact.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.context import open_context
from app.core.clock import SystemClock
from app.core.paths import AppPaths
from app.core.secrets import MemorySecretStore
from app.db.encryption import DB_KEY_SECRET
from app.db.integrity import full_check
from app.models import LocalState, Op, Patient, Task
from tests.crash import crash_writer

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="SIGKILL and a fork server are POSIX features"
)

BASE_SEED = int(os.environ.get("CARECOORD_CRASH_SEED", "20261123"))


def _receive(conn: Any, acked: dict[str, int]) -> bool:
    """Record one acknowledgement; True when it was the writer's "ready"."""
    text = conn.recv_bytes().decode("ascii")
    if text == crash_writer.READY:
        return True
    patient_id, k = text.split()
    acked[patient_id] = int(k)
    return False


def _read_until(conn: Any, end: float, acked: dict[str, int], *, stop_at_ready: bool) -> bool:
    while (left := end - time.monotonic()) > 0:
        if conn.poll(left) and _receive(conn, acked) and stop_at_ready:
            return True
    return False


def _run_and_kill(
    mp: Any, paths: AppPaths, key_hex: str, seed: int, rng: random.Random, acked: dict[str, int]
) -> None:
    """Start a writer, SIGKILL it at a random moment: one time in six while it is still
    opening the folder, otherwise up to 0.6 s into its writes."""
    receiver, sender = mp.Pipe(duplex=False)
    proc = mp.Process(
        target=crash_writer.run_with_pipe, args=(str(paths.data_dir), key_hex, seed, sender)
    )
    proc.start()
    sender.close()
    try:
        if rng.random() < 1 / 6:
            _read_until(
                receiver, time.monotonic() + rng.uniform(0, 0.25), acked, stop_at_ready=False
            )
        else:
            ready = _read_until(receiver, time.monotonic() + 30, acked, stop_at_ready=True)
            assert ready, "the writer did not open the data folder"
            _read_until(
                receiver, time.monotonic() + rng.uniform(0, 0.6), acked, stop_at_ready=False
            )
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        assert proc.exitcode == -signal.SIGKILL, "the writer stopped on its own (see its error)"
        while True:  # acknowledgements sent just before the kill
            try:
                _receive(receiver, acked)
            except EOFError:
                break
    finally:
        receiver.close()


def _verify(paths: AppPaths, store: MemorySecretStore, acked: dict[str, int], label: str) -> int:
    ctx = open_context(paths, clock=SystemClock(), secrets=store)  # full check: unclean stop
    try:
        with ctx.db.read() as s:
            patients = {
                pid: name for pid, name in s.execute(select(Patient.id, Patient.family_name))
            }
            tasks_by_patient = Counter(s.scalars(select(Task.patient_id)))
            task_owner = {tid: owner for tid, owner in s.execute(select(Task.id, Task.patient_id))}
            ops_by_record = Counter(
                s.scalars(select(Op.record_id).where(Op.table_name.in_(("patients", "tasks"))))
            )
            state = s.get(LocalState, 1)
            assert state is not None, label
            max_seq = s.scalar(select(func.max(Op.seq)).where(Op.device_id == state.device_id))
        for pid, k in acked.items():
            assert pid in patients, f"{label}: acknowledged patient {pid} was lost"
            assert tasks_by_patient[pid] == k, f"{label}: patient {pid} lost tasks"
        for pid, name in patients.items():
            assert tasks_by_patient[pid] == int(name.removeprefix("Crash")), (
                f"{label}: half a transaction for patient {pid}"
            )
            assert ops_by_record[pid] == 1, f"{label}: patient {pid} has no single op"
        for tid, owner in task_owner.items():
            assert owner in patients
            assert ops_by_record[tid] == 1, f"{label}: task {tid} has no single op"
        assert set(ops_by_record) == set(patients) | set(task_owner)
        assert max_seq is None or state.next_seq == max_seq + 1
        raw = ctx.db.engine.raw_connection()
        try:
            assert full_check(raw.driver_connection) == [], label
        finally:
            raw.close()
        return len(patients)
    finally:
        ctx.close()


def test_kill_9_never_loses_a_committed_change_or_leaves_half_of_one(
    tmp_path: Path, crash_runs: int
) -> None:
    paths = AppPaths(tmp_path / "data")
    store = MemorySecretStore()
    open_context(paths, clock=SystemClock(), secrets=store).close()
    key = store.get(DB_KEY_SECRET)
    assert key is not None

    mp = multiprocessing.get_context("forkserver")
    mp.set_forkserver_preload(["tests.crash.crash_writer"])
    rng = random.Random(BASE_SEED)
    acked: dict[str, int] = {}
    acked_before = 0
    progressed = 0
    for run in range(crash_runs):
        label = f"run {run} (CARECOORD_CRASH_SEED={BASE_SEED})"
        _run_and_kill(mp, paths, key.hex(), BASE_SEED + run, rng, acked)
        progressed += len(acked) > acked_before
        acked_before = len(acked)
        assert _verify(paths, store, acked, label) >= len(acked)
    # the kills really landed among the writes, not only before the first one
    assert progressed >= crash_runs // 4
    # and acknowledged writes accumulated (fewer on a loaded machine, where each write is slower)
    assert len(acked) >= crash_runs // 2

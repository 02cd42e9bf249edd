"""The writer the crash-safety test kills with SIGKILL.

It opens the (encrypted) data folder through the real ``open_context`` and loops over write
transactions through ``ctx.db.write()`` and the ORM, so the change log records an op per
record. Each transaction adds one patient and ``k`` tasks for that patient; ``k`` is also
written in the patient's family name (``Crash<k>``), so a reader can tell a whole transaction
from half of one. Only after the transaction has committed is ``"<patient id> <k>"``
acknowledged (``"ready"`` is sent first, once the folder is open).

Run by the test through a multiprocessing fork server (fast: the imports are done once), or by
hand as ``python -m tests.crash.crash_writer DATA_DIR SEED`` with the database key in hex in
``CARECOORD_TEST_DB_KEY``: then acknowledgements are printed to stdout and flushed.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import configure_mappers

import app.services.reference  # noqa: F401 - imported by open_context; loaded once, here
from app.context import open_context
from app.core.clock import SystemClock
from app.core.paths import AppPaths
from app.core.secrets import MemorySecretStore
from app.db.encryption import DB_KEY_SECRET
from app.db.migrate import script_directory
from app.models import Patient, Task
from tests.db.factories import nhs_number

# done once in the fork server, not in every writer it forks
configure_mappers()
script_directory()

READY = "ready"  # sent once the data folder is open
TASK_COUNTS = (0, 1, 2, 3, 5, 8, 40, 150)  # a few big transactions widen the commit window


def write_forever(data_dir: str, key_hex: str, seed: int, ack: Callable[[str], None]) -> None:
    store = MemorySecretStore()
    store.set(DB_KEY_SECRET, bytes.fromhex(key_hex))
    ctx = open_context(AppPaths(Path(data_dir)), clock=SystemClock(), secrets=store)
    ack(READY)
    rng = random.Random(seed)
    due = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    while True:
        k = rng.choice(TASK_COUNTS)
        with ctx.db.write() as s:
            now = ctx.clock.now()
            patient = Patient(
                nhs_number=nhs_number(rng.randint(1, 5000)),
                family_name=f"Crash{k}",
                given_name="Test",
                date_of_birth=date(1940, 1, 1),
                created_at=now,
            )
            s.add(patient)
            s.flush()
            for i in range(k):
                s.add(
                    Task(
                        kind="other",
                        title=f"crash test task {i}",
                        patient_id=patient.id,
                        due_at=due + timedelta(hours=i),
                        status="open",
                        created_at=now,
                    )
                )
        ack(f"{patient.id} {k}")  # after the commit, never before


class PipeAck:
    """Picklable wrapper turning a pipe end into an ``ack(text)`` callable."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def __call__(self, text: str) -> None:
        self.conn.send_bytes(text.encode("ascii"))


def run_with_pipe(data_dir: str, key_hex: str, seed: int, conn: Any) -> None:
    """Target for ``multiprocessing``: acknowledgements go down a one-way pipe."""
    write_forever(data_dir, key_hex, seed, PipeAck(conn))


def _print_ack(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    write_forever(sys.argv[1], os.environ["CARECOORD_TEST_DB_KEY"], int(sys.argv[2]), _print_ack)

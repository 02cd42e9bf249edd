"""Whoever finds a lost laptop finds no patient data: a scripted working day leaves no NHS
number or patient name readable in any file of the data folder (database, WAL, backups, logs,
exports, markers) or of the temporary folder it used. The log's redaction is the safety net."""

from __future__ import annotations

import csv
import importlib.util
import logging
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.cli.main import run
from app.context import AppContext, backup_before, open_context
from app.core.clock import FixedClock
from app.core.logs import (
    BACKUP_COUNT,
    LOG_FILE_NAME,
    REDACTED,
    close_logging,
    redact,
    setup_logging,
)
from app.core.paths import AppPaths
from app.models import Patient
from app.services.import_patients import import_patients_file
from tests.db.factories import nhs_number

log = logging.getLogger("carecoord.test")


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "logs"
    setup_logging(folder)
    try:
        yield folder
    finally:
        close_logging()


# --- the redaction safety net ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "9990000018",
        "999 000 0018",
        "999-000-0018",
        "patient 9990000018 imported",
        "(9990000026)",
    ],
)
def test_nhs_number_shapes_are_redacted(text: str) -> None:
    out = redact(text)
    assert REDACTED in out
    assert "0018" not in out and "0026" not in out


@pytest.mark.parametrize(
    "text",
    [
        "1732352400000",  # a time in milliseconds
        "op 6f1d8a52-53a4-4b55-9d0e-6c1c4b1f3a10:120",
        "2026-11-23T09:00:00Z",
        "123456789",
    ],
)
def test_other_numbers_stay_readable(text: str) -> None:
    assert redact(text) == text


def test_the_log_file_redacts_messages_arguments_and_tracebacks(log_dir: Path) -> None:
    nhs = nhs_number(3)
    log.info("looked up %s", nhs)
    log.warning(f"careless message about {nhs[:3]} {nhs[3:6]} {nhs[6:]}")
    try:
        raise ValueError(f"bad row for {nhs}")
    except ValueError:
        log.exception("import failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = (log_dir / LOG_FILE_NAME).read_text(encoding="utf-8")
    assert "looked up" in text and "import failed" in text and "ValueError" in text
    assert nhs not in text and nhs[6:] not in text
    assert text.count(REDACTED) == 3


def test_the_log_rotates_at_about_a_megabyte_keeping_five_files(log_dir: Path) -> None:
    line = "x" * 10_000
    for _ in range(6 * 100 + 10):
        log.info(line)
    files = sorted(p.name for p in log_dir.iterdir())
    assert files == [LOG_FILE_NAME] + [f"{LOG_FILE_NAME}.{i}" for i in range(1, BACKUP_COUNT + 1)]
    assert all(p.stat().st_size <= 1_000_000 for p in log_dir.iterdir())


# --- a whole working day ----------------------------------------------------------------------


def _add_patients(ctx: AppContext) -> None:
    """Synthetic team: the demo when it is installed, otherwise patients through services."""
    if importlib.util.find_spec("app.services.demo") is not None:
        demo = importlib.import_module("app.services.demo")
        with ctx.db.write() as s:
            today = ctx.clock.now().date()
            demo.generate_demo(s, patients=30, seed=7, today=today, clock=ctx.clock)
        return
    from app.services.caseload import register_patient

    with ctx.db.write() as s:
        for i, (family, given) in enumerate(
            [("Threlkeld", "Marigold"), ("Ormerod", "Bartholomew"), ("Vasquez", "Henrietta")]
        ):
            register_patient(
                s,
                nhs_number=nhs_number(200 + i),
                family_name=family,
                given_name=given,
                date_of_birth=date(1936 + i, 4, 9),
                postcode="LE1 5WW",
                phone="07700 900123",
                now=ctx.clock.now(),
            )


def _write_csv(folder: Path) -> Path:
    folder.mkdir()
    source = folder / "caseload.csv"
    with source.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["NHS Number", "Surname", "Forename", "DOB", "Postcode"])
        for i, (family, given) in enumerate(
            [("Pennyfeather", "Clementine"), ("Abernathy", "Winifred"), ("Kowalczyk", "Stanislas")]
        ):
            w.writerow([nhs_number(300 + i), family, given, f"0{i + 1}/02/1939", "LE2 7QQ"])
    return source


def _secrets_of(ctx: AppContext) -> set[bytes]:
    """Every NHS number (plain and 3-3-4) and every patient name of 5+ letters."""
    found: set[bytes] = set()
    with ctx.db.read() as s:
        for nhs, family, given in s.execute(
            select(Patient.nhs_number, Patient.family_name, Patient.given_name)
        ):
            found.add(nhs.encode())
            found.add(f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}".encode())
            found.update(n.encode("utf-8") for n in (family, given) if len(n) >= 5)
    return found


def test_a_working_day_leaves_no_readable_patient_data(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    paths = AppPaths(tmp_path / "data")
    setup_logging(paths.log_dir, level=logging.DEBUG)
    try:
        ctx = open_context(paths, clock=clock)
        try:
            _add_patients(ctx)
            backup_before(ctx, "pre-import")
            with ctx.db.write() as s:
                result = import_patients_file(
                    s, _write_csv(tmp_path / "inbox"), skip_invalid=False, now=clock.now()
                )
            assert result.created == 3
            log.info("imported %s", nhs_number(300))  # a careless line: the filter catches it
            secrets = _secrets_of(ctx)
        finally:
            ctx.close()

        clock.advance(timedelta(days=2))  # next start: a daily backup
        out = paths.exports_dir / "weekly.json"
        out.parent.mkdir(exist_ok=True)
        with pytest.MonkeyPatch.context() as mp:
            import io
            import sys

            buffer = io.StringIO()
            mp.setattr(sys, "stdout", buffer)
            code = run(
                ["--data-dir", str(paths.data_dir), "report", "weekly", "--json"], clock=clock
            )
        assert code == 0
        out.write_text(buffer.getvalue(), encoding="utf-8")
    finally:
        close_logging()

    assert len(secrets) >= 3 * 6
    files = [p for folder in (paths.data_dir, temp) for p in folder.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert LOG_FILE_NAME in names and "weekly.json" in names
    assert any("daily" in n for n in names) and any("pre-import" in n for n in names)
    leaks = [
        (p.relative_to(tmp_path), secret.decode())
        for p in files
        for secret in secrets
        if secret in p.read_bytes()
    ]
    assert leaks == []
    assert REDACTED in (paths.log_dir / LOG_FILE_NAME).read_text(encoding="utf-8")

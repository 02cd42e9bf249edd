"""A database written under schema 0001 upgrades to 0002 (the weekly summary's indexes) with
every row, op included, unchanged; and back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from app.db.engine import make_engine
from app.db.migrate import alembic_config, current_revision, upgrade_to_head
from app.models import Admission, CallAttempt, Episode, Op, Patient, Task

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
ADDED = {
    "admissions": {"ix_admissions_discharged_patient", "ix_admissions_patient_stay"},
    "call_attempts": {"ix_call_attempts_outcome_called"},
    "episodes": {"ix_episodes_patient_dates"},
    "level_changes": {"ix_level_changes_changed_at"},
    "needs_assessments": {
        "ix_needs_assessments_review_date",
        "ix_needs_assessments_status_completed",
    },
    "ops": {"ix_ops_record_hlc"},
    "referrals": {"ix_referrals_created_at", "ix_referrals_status_changed"},
    "tasks": {"ix_tasks_completed_at", "ix_tasks_source_kind_created", "ix_tasks_status_due_kind"},
}
REPLACED = {
    "admissions": {"ix_admissions_discharged_at", "ix_admissions_patient_admitted"},
    "episodes": {"ix_episodes_patient_id"},
    "ops": {"ix_ops_record"},
    "referrals": {"ix_referrals_status"},
    "tasks": {"ix_tasks_source", "ix_tasks_status_due"},
}


def _to(engine: Engine, revision: str, *, down: bool = False) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _indexes(engine: Engine) -> dict[str, set[str]]:
    insp = inspect(engine)
    return {t: {ix["name"] for ix in insp.get_indexes(t)} for t in ADDED}  # type: ignore[misc]


def _content(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    with engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{t}"')))) for t in tables}


def _some_records(engine: Engine) -> None:
    with Session(engine) as s, s.begin():
        p = Patient(
            nhs_number="9990000026",
            family_name="Quenby",
            given_name="Ottoline",
            date_of_birth=date(1940, 3, 1),
            level="Enhanced",
            created_at=NOW,
        )
        s.add(p)
        s.flush()
        s.add(Episode(patient_id=p.id, opened_on=date(2026, 1, 5), source="mdt", level="Enhanced"))
        a = Admission(patient_id=p.id, admitted_at=NOW, discharged_at=NOW, created_at=NOW)
        s.add(a)
        s.flush()
        s.add(
            CallAttempt(
                admission_id=a.id, patient_id=p.id, called_at=NOW, outcome="contacted_patient"
            )
        )
        s.add(
            Task(
                kind="carers_assessment",
                title="Offer a carer's assessment",
                patient_id=p.id,
                due_at=NOW,
                status="done",
                completed_at=NOW,
                created_at=NOW,
            )
        )
        s.add(
            Op(
                op_id="d1:1",
                device_id="d1",
                seq=1,
                hlc="1763632800000.00000001",
                table_name="patients",
                record_id=p.id,
                kind="put",
                fields='{"family_name":"Quenby"}',
                parents="{}",
                local_order=1,
                received_at=NOW,
            )
        )


def test_a_0001_database_upgrades_with_its_data_unchanged_and_back(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "old.db")
    _to(engine, "0001")
    _some_records(engine)
    before = _content(engine)
    old = _indexes(engine)
    assert all(REPLACED[t] <= old[t] for t in REPLACED)

    backups: list[str] = []

    def backup() -> None:
        backups.append("b")

    assert upgrade_to_head(engine, backup=backup) is True
    assert backups == ["b"]  # an existing database is backed up first
    assert current_revision(engine) == "0002"
    assert _content(engine) == before  # rows and ops exactly as they were
    new = _indexes(engine)
    for table, names in ADDED.items():
        assert names <= new[table], table
        assert not REPLACED.get(table, set()) & new[table], table

    _to(engine, "0001", down=True)
    assert _indexes(engine) == old
    assert _content(engine) == before

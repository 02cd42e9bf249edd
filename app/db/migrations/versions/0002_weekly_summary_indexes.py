"""indexes for the weekly summary

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Indexes only: no column, table or row changes, so ops and bundles are the same as under 0001
and laptops on either version sync with each other. Each index lets one of the weekly
summary's counts read an index range instead of a whole table (or, for the carers, instead of
thousands of rows scattered through the change log); where an existing index is replaced, the
new one starts with the same columns and still serves the old lookups.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # carers identified: each carer's first op time, from the index
    with op.batch_alter_table("ops", schema=None) as batch_op:
        batch_op.drop_index("ix_ops_record")
        batch_op.create_index("ix_ops_record_hlc", ["table_name", "record_id", "hlc"], unique=False)

    # 12-week trend: the deciding calls, the discharges and each patient's next stay
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_call_attempts_outcome_called",
            ["outcome", "called_at", "admission_id", "patient_id"],
            unique=False,
        )
    with op.batch_alter_table("admissions", schema=None) as batch_op:
        batch_op.drop_index("ix_admissions_discharged_at")
        batch_op.drop_index("ix_admissions_patient_admitted")
        batch_op.create_index(
            "ix_admissions_discharged_patient",
            ["discharged_at", "patient_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_admissions_patient_stay",
            ["patient_id", "admitted_at", "discharged_at"],
            unique=False,
        )

    # overdue work and carers' assessment tasks
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_status_due")
        batch_op.drop_index("ix_tasks_source")
        batch_op.create_index(batch_op.f("ix_tasks_completed_at"), ["completed_at"], unique=False)
        batch_op.create_index(
            "ix_tasks_source_kind_created",
            ["source_table", "source_id", "kind", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_tasks_status_due_kind", ["status", "due_at", "kind"], unique=False
        )

    # referrals made in the week, and awaiting a reply at the report time
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_status"))
        batch_op.create_index(batch_op.f("ix_referrals_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            "ix_referrals_status_changed",
            ["status", "status_changed_at", "created_at"],
            unique=False,
        )

    # assessments completed and reviews due in the week
    with op.batch_alter_table("needs_assessments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_needs_assessments_review_date"), ["review_date"], unique=False
        )
        batch_op.create_index(
            "ix_needs_assessments_status_completed", ["status", "completed_at"], unique=False
        )

    # caseload: open episodes by coordinator and level, levels changed after the report time
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_episodes_patient_id"))
        batch_op.create_index(
            "ix_episodes_patient_dates",
            ["patient_id", "opened_on", "closed_on", "coordinator_id"],
            unique=False,
        )
    with op.batch_alter_table("level_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_level_changes_changed_at"), ["changed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("level_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_level_changes_changed_at"))
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_index("ix_episodes_patient_dates")
        batch_op.create_index(batch_op.f("ix_episodes_patient_id"), ["patient_id"], unique=False)
    with op.batch_alter_table("needs_assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_needs_assessments_status_completed")
        batch_op.drop_index(batch_op.f("ix_needs_assessments_review_date"))
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_referrals_status_changed")
        batch_op.drop_index(batch_op.f("ix_referrals_created_at"))
        batch_op.create_index(batch_op.f("ix_referrals_status"), ["status"], unique=False)
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_status_due_kind")
        batch_op.drop_index("ix_tasks_source_kind_created")
        batch_op.drop_index(batch_op.f("ix_tasks_completed_at"))
        batch_op.create_index("ix_tasks_source", ["source_table", "source_id"], unique=False)
        batch_op.create_index("ix_tasks_status_due", ["status", "due_at"], unique=False)
    with op.batch_alter_table("admissions", schema=None) as batch_op:
        batch_op.drop_index("ix_admissions_patient_stay")
        batch_op.drop_index("ix_admissions_discharged_patient")
        batch_op.create_index(
            "ix_admissions_patient_admitted", ["patient_id", "admitted_at"], unique=False
        )
        batch_op.create_index("ix_admissions_discharged_at", ["discharged_at"], unique=False)
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_call_attempts_outcome_called")
    with op.batch_alter_table("ops", schema=None) as batch_op:
        batch_op.drop_index("ix_ops_record_hlc")
        batch_op.create_index("ix_ops_record", ["table_name", "record_id"], unique=False)

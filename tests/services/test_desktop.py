"""This laptop's settings, editing a team member, and finding a known carer."""

from __future__ import annotations

from datetime import date

import pytest

from app.core.errors import ConflictError, ValidationError
from app.models import Op
from app.services import carers, caseload, desktop


def test_settings_default_then_saved(db) -> None:
    with db.write() as s:
        assert desktop.get_device_settings(s) == desktop.DeviceSettings(idle_lock_minutes=5)
        ops = s.query(Op).count()
        saved = desktop.save_device_settings(
            s, idle_lock_minutes=10, export_folder=" /media/usb ", pdf_folder=""
        )
        assert s.query(Op).count() == ops  # device-local: never synced
    assert saved == desktop.DeviceSettings(10, "/media/usb", None, None)
    with db.write() as s:
        desktop.save_device_settings(s, idle_lock_minutes=10)
        assert desktop.get_device_settings(s).export_folder is None


@pytest.mark.parametrize("minutes", [0, -5, 241, True, 5.0])
def test_idle_lock_outside_1_to_240_whole_minutes_is_refused(db, minutes) -> None:
    with db.write() as s, pytest.raises(ValidationError, match="from 1 to 240"):
        desktop.save_device_settings(s, idle_lock_minutes=minutes)


def test_update_coordinator_refuses_a_name_clash(db) -> None:
    with db.write() as s:
        amira = caseload.add_coordinator(s, name="Amira Shah")
        caseload.add_coordinator(s, name="Ben Okoro")
        changed = desktop.update_coordinator(
            s, coordinator_id=amira.id, name="  Amira   Shah-Khan ", role="Team Lead"
        )
        assert (changed.name, changed.role) == ("Amira Shah-Khan", "Team Lead")
        with pytest.raises(ConflictError, match="already an active coordinator called Ben"):
            desktop.update_coordinator(s, coordinator_id=amira.id, name="ben okoro", role="x")
        with pytest.raises(ValidationError, match="Role is required"):
            desktop.update_coordinator(s, coordinator_id=amira.id, name="Amira", role=" ")


def test_find_carers_by_name_prefix_or_phone(db, clock) -> None:
    with db.write() as s:
        for family, given_name, phone in (
            ("Okafor", "Ada", "0116 496 0001"),
            ("Oakley", "Sam", None),
            ("Smith", "Okonkwo", None),
        ):
            carers.add_carer(
                s, family_name=family, given_name=given_name, phone=phone, now=clock.now()
            )
        assert [c.display_name for c in desktop.find_carers(s, text="ok")] == [
            "OKAFOR, Ada",
            "SMITH, Okonkwo",
        ]
        assert [c.display_name for c in desktop.find_carers(s, text="oak sam")] == ["OAKLEY, Sam"]
        assert [c.display_name for c in desktop.find_carers(s, text="496 0001")] == ["OKAFOR, Ada"]
        assert desktop.find_carers(s, text="%") == []
        assert desktop.find_carers(s, text="  ") == []


def test_describe_record_names_the_patient_it_concerns(db, clock) -> None:
    with db.write() as s:
        amira = caseload.add_coordinator(s, name="Amira Shah")
        p = caseload.register_patient(
            s, nhs_number="9434765919", family_name="Smith", given_name="Ann",
            date_of_birth=date(1940, 5, 17), now=clock.now(),
        )  # fmt: skip
        carer = carers.add_carer(s, family_name="Smith", given_name="Joe", now=clock.now())
        link = carers.link_carer(s, carer_id=carer.id, patient_id=p.id, now=clock.now())
        assert desktop.describe_record(s, table="patients", record_id=p.id) == (
            desktop.RecordLabel("patients", p.id, "Patient", "SMITH, Ann")
        )
        assert desktop.describe_record(s, table="carer_links", record_id=link.link_id).about == (
            "SMITH, Ann"
        )
        assert desktop.describe_record(s, table="coordinators", record_id=amira.id).about == (
            "Amira Shah"
        )
        gone = desktop.describe_record(s, table="referrals", record_id="no-such-id")
        assert (gone.what, gone.about) == ("Referral", None)

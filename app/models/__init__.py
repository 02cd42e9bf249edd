"""SQLAlchemy 2 typed ORM entities, one module per aggregate.

Importing this package registers every table on ``Base.metadata``.
"""

from app.models.admission import Admission, CallAttempt
from app.models.assessment import AgreedAction, CarePlan, NeedsAssessment, NeedsDomainEntry
from app.models.base import Base, Synced, new_id
from app.models.carer import Carer, CarerLink
from app.models.local import Conflict, LocalState, Op, Setting
from app.models.mdt import MdtAction, MdtAttendee, MdtItem, MdtMeeting
from app.models.patient import Episode, LevelChange, Patient
from app.models.reference import Practice
from app.models.referral import Referral, ReferralStatusChange, Service
from app.models.task import Task
from app.models.team import Coordinator, TeamDevice

__all__ = [
    "Admission",
    "AgreedAction",
    "Base",
    "CallAttempt",
    "CarePlan",
    "Carer",
    "CarerLink",
    "Conflict",
    "Coordinator",
    "Episode",
    "LevelChange",
    "LocalState",
    "MdtAction",
    "MdtAttendee",
    "MdtItem",
    "MdtMeeting",
    "NeedsAssessment",
    "NeedsDomainEntry",
    "Op",
    "Patient",
    "Practice",
    "Referral",
    "ReferralStatusChange",
    "Service",
    "Setting",
    "Synced",
    "Task",
    "TeamDevice",
    "new_id",
    "synced_models",
]


def synced_models() -> list[type[Base]]:
    """Synced model classes in foreign-key dependency order (parents first)."""
    by_table = {
        m.class_.__tablename__: m.class_
        for m in Base.registry.mappers
        if getattr(m.class_, "__synced__", False)
    }
    return [by_table[t.name] for t in Base.metadata.sorted_tables if t.name in by_table]

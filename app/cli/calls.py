"""``carecoord call log``: log a post-discharge call (DESIGN.md §4.1)."""

from __future__ import annotations

import argparse
from datetime import datetime

from sqlalchemy.orm import Session

from app.cli.common import add_handler, echo
from app.context import AppContext
from app.core.errors import ValidationError
from app.core.validation import parse_datetime
from app.models import Coordinator, Setting
from app.models.admission import CALL_ISSUES, CALL_OUTCOMES
from app.services.followup import log_call_by_nhs, when

SIGNED_IN_SETTING = "coordinator_id"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("call", help="post-discharge follow-up calls")
    csub = p.add_subparsers(dest="call_command", metavar="ACTION", required=True)
    log = csub.add_parser(
        "log",
        help="log a call attempt on a patient's discharge",
        description="Log a call on the discharge at --discharge, or else on the patient's most "
        "recent discharge before the call. Times are UK local time unless an offset is given.",
    )
    log.add_argument("--nhs", required=True, metavar="NHSNO", help="the patient's NHS number")
    log.add_argument("--at", required=True, metavar="ISO8601", help="when the call was made")
    log.add_argument(
        "--outcome", required=True, metavar="OUTCOME", help="one of: " + ", ".join(CALL_OUTCOMES)
    )
    log.add_argument("--discharge", metavar="ISO8601", help="the discharge the call follows up")
    log.add_argument("--notes", metavar="T", help="free-text notes")
    log.add_argument(
        "--issues", metavar="a,b", default="", help="issues found: " + ", ".join(CALL_ISSUES)
    )
    add_handler(log, _log)


def signed_in_coordinator(session: Session) -> Coordinator | None:
    """The coordinator signed in on this laptop (Setting ``coordinator_id``), if any."""
    setting = session.get(Setting, SIGNED_IN_SETTING)
    if setting is None or not setting.value:
        return None
    return session.get(Coordinator, setting.value)


def option_time(text: str, option: str) -> datetime:
    """A time given on the command line; a refusal names the option."""
    try:
        return parse_datetime(text, field=option)
    except ValidationError as exc:
        raise ValidationError(f"{option}: {exc}", field=option) from None


def _log(args: argparse.Namespace, ctx: AppContext) -> int:
    called_at = option_time(args.at, "--at")
    discharge_at = option_time(args.discharge, "--discharge") if args.discharge else None
    with ctx.db.write() as session:
        coordinator = signed_in_coordinator(session)
        call = log_call_by_nhs(
            session,
            nhs_number=args.nhs,
            called_at=called_at,
            outcome=args.outcome,
            discharge_at=discharge_at,
            issues=args.issues,
            notes=args.notes,
            coordinator_id=coordinator.id if coordinator else None,
            now=ctx.clock.now(),
        )
    hours = call.hours_after_discharge
    if call.is_contact:
        verdict = "late: after the 48-hour deadline" if call.late else "within 48 hours"
    else:
        verdict = "deadline passed" if call.late else f"deadline {when(call.deadline)}"
    echo(
        f"Call logged: {call.outcome}, {hours:.1f} hours after the discharge of "
        f"{when(call.discharged_at)} ({verdict})."
    )
    return 0

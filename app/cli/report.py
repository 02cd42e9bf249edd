"""``carecoord report weekly|mdt``: the weekly team summary (JSON or PDF) and the MDT pack."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sqlalchemy.orm import Session

from app.cli.calls import option_time, signed_in_coordinator
from app.cli.common import add_handler, echo
from app.context import AppContext
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.core.validation import parse_date
from app.services.followup import when

DEFAULT_PRINTED_BY = "CareCoord"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="weekly team summary and MDT summary")
    rsub = p.add_subparsers(dest="report_kind", metavar="REPORT", required=True)

    weekly = rsub.add_parser(
        "weekly",
        help="weekly team summary as JSON and/or PDF",
        description="Aggregate figures for one ISO week (default: the week of --as-of). "
        "Without --json or --out, prints the headline figures.",
    )
    weekly.add_argument("--week", metavar="YYYY-Www", help="ISO week, such as 2026-W47")
    weekly.add_argument(
        "--as-of", metavar="ISO8601", help="report time (default: now); makes reports repeatable"
    )
    weekly.add_argument("--json", action="store_true", help="print the summary as JSON")
    weekly.add_argument("--out", type=Path, metavar="FILE.pdf", help="write the summary PDF")
    weekly.add_argument(
        "--named-appendix",
        action="store_true",
        help="add an appendix naming patients with overdue work (PDF only)",
    )
    add_handler(weekly, _weekly)

    mdt = rsub.add_parser("mdt", help="MDT meeting summary PDF")
    which = mdt.add_mutually_exclusive_group(required=True)
    which.add_argument("--meeting", metavar="ID", help="the meeting's id")
    which.add_argument("--date", metavar="YYYY-MM-DD", help="the day of the meeting")
    mdt.add_argument("--out", type=Path, metavar="FILE.pdf", required=True, help="PDF to write")
    add_handler(mdt, _mdt)


def _check_out(out: Path) -> Path:
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ValidationError(f"The folder {folder} does not exist; create it first.", field="out")
    if out.is_dir():
        raise ValidationError(f"{out} is a folder; give a file name for the PDF.", field="out")
    return out


def printed_by(session: Session) -> str:
    """The signed-in coordinator's name, else the application's."""
    coordinator = signed_in_coordinator(session)
    return coordinator.name if coordinator is not None else DEFAULT_PRINTED_BY


def _weekly(args: argparse.Namespace, ctx: AppContext) -> int:
    from app.services.weekly import build_weekly_summary, resolve_week

    now = ctx.clock.now()
    as_of = option_time(args.as_of, "--as-of") if args.as_of else now
    if as_of > now:
        raise ValidationError(
            f"--as-of {when(as_of)} is in the future; a report can only describe the past.",
            field="--as-of",
        )
    resolve_week(args.week, as_of)
    out = _check_out(args.out) if args.out is not None else None
    with ctx.db.read() as session:
        summary = build_weekly_summary(
            session, week=args.week, as_of=as_of, named_appendix=args.named_appendix
        )
        who = printed_by(session)
    if args.json:
        echo(json.dumps(summary.to_json_dict(), sort_keys=True, indent=2))
    if out is not None:
        from app.reports.weekly_pdf import render_weekly_pdf

        pages = render_weekly_pdf(summary, out, printed_by=who)
        echo(f"Weekly summary {summary.week} written to {out} ({pages} pages).")
    if not args.json and out is None:
        pd = summary.post_discharge
        pct = "no data" if pd.pct_within_48h is None else f"{pd.pct_within_48h:.1f}%"
        echo(
            f"Week {summary.week} as of {when(summary.as_of)}: {pd.discharges} discharges, "
            f"{pd.met} contacted within 48 hours, {pd.missed} missed, {pd.pending} pending, "
            f"{pd.excluded} excluded; {pct} against the {pd.target_pct:.0f}% target."
        )
    return 0


def _mdt(args: argparse.Namespace, ctx: AppContext) -> int:
    from app.services.mdt_pack import build_mdt_pack, meetings_on

    out = _check_out(args.out)
    with ctx.db.read() as session:
        if args.meeting is not None:
            meeting_id = args.meeting.strip()
        else:
            try:
                day = parse_date(args.date, field="--date")
            except ValidationError as exc:
                raise ValidationError(f"--date: {exc}", field="--date") from None
            found = meetings_on(session, day)
            if not found:
                raise NotFoundError(f"No MDT meeting on {day:%d/%m/%Y}.")
            if len(found) > 1:
                raise ConflictError(
                    f"{len(found)} MDT meetings on {day:%d/%m/%Y} ({', '.join(found)}); "
                    "choose one with --meeting."
                )
            meeting_id = found[0]
        pack = build_mdt_pack(
            session, meeting_id=meeting_id, printed_by=printed_by(session), now=ctx.clock.now()
        )
    from app.reports.mdt_pdf import render_mdt_pdf

    pages = render_mdt_pdf(pack, out)
    echo(f"MDT summary for {pack.meeting_date:%d/%m/%Y} written to {out} ({pages} pages).")
    return 0

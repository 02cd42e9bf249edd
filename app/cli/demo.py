"""``carecoord demo [--patients N] [--seed S] [--today YYYY-MM-DD]``: fill an empty data folder
with a realistic synthetic team (DESIGN.md §4.1)."""

from __future__ import annotations

import argparse
import time

from sqlalchemy import func, select

from app.cli.common import add_handler, echo
from app.context import AppContext
from app.core.timeutil import to_local
from app.core.validation import parse_date
from app.models import Patient
from app.services.demo import DemoSummary, generate_demo

DEFAULT_PATIENTS = 400
DEFAULT_SEED = 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this group's commands to the ``carecoord`` parser."""
    p = sub.add_parser(
        "demo",
        help="fill an empty data folder with a realistic synthetic team",
        description="Create a synthetic care-coordination team with a year of activity up to "
        "the start of --today: coordinators, patients (NHS numbers from the 999 test range), "
        "admissions and 48-hour calls, assessments, carers, referrals, MDTs and tasks. The "
        "same seed and --today always give the same records. Refused if the data folder "
        "already holds patients.",
    )
    p.add_argument(
        "--patients",
        type=int,
        default=DEFAULT_PATIENTS,
        metavar="N",
        help=f"how many patients (default {DEFAULT_PATIENTS})",
    )
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, metavar="S", help="random seed (default 1)"
    )
    p.add_argument(
        "--today",
        metavar="YYYY-MM-DD",
        help="the demo's today; its activity stops at 00:00 that day (default: today)",
    )
    p.add_argument(
        "--open",
        action="store_true",
        help="then open the desktop app on this data folder (if the folder already holds a "
        "team, just open it)",
    )
    add_handler(p, _run)


def _run(args: argparse.Namespace, ctx: AppContext) -> int:
    if args.open:
        with ctx.db.read() as session:
            existing = session.scalar(select(func.count()).select_from(Patient)) or 0
        if existing:
            echo(f"This data folder already holds a team ({existing:,} patients); opening it.")
            return 0
    if args.today is None:
        today = to_local(ctx.clock.now()).date()
    else:
        today = parse_date(args.today, field="--today")
    started = time.perf_counter()
    with ctx.db.write() as session:
        summary = generate_demo(
            session, patients=args.patients, seed=args.seed, today=today, clock=ctx.clock
        )
    elapsed = time.perf_counter() - started
    for line in summary_lines(summary):
        echo(line)
    echo(f"Done in {elapsed:.1f} s.")
    return 0


def summary_lines(s: DemoSummary) -> list[str]:
    """The summary as a user reads it after ``carecoord demo``."""
    places = ", ".join(s.localities)
    return [
        f"Demo team created (seed {s.seed}, today {s.today:%d/%m/%Y}): {s.coordinators} "
        f"coordinators in {places}.",
        f"  Patients: {s.patients:,} ({s.open_episodes:,} with an open episode).",
        f"  Hospital: {s.admissions:,} admissions, {s.discharges:,} discharges, "
        f"{s.call_attempts:,} call attempts; {s.open_clocks:,} 48-hour clocks still open.",
        f"  Care: {s.needs_assessments:,} needs assessments, {s.care_plans:,} care plans, "
        f"{s.carers:,} carers, {s.referrals:,} referrals.",
        f"  MDT: {s.mdt_meetings:,} meetings, {s.open_mdt_actions:,} actions open.",
        f"  Tasks: {s.tasks:,} ({s.open_tasks:,} open). Records written: {s.records:,}.",
    ]

"""``carecoord import patients|discharges FILE.csv [--skip-invalid]`` (DESIGN.md §4.1-4.2)."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.common import add_handler, echo, warn
from app.context import AppContext
from app.services.csvio import ImportResult


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import a patients or discharges CSV file")
    isub = p.add_subparsers(dest="import_kind", metavar="KIND", required=True)
    for kind, help_text in (
        ("patients", "risk-stratification or caseload list"),
        ("discharges", "hospital discharge list"),
    ):
        q = isub.add_parser(kind, help=help_text)
        q.add_argument("file", type=Path, metavar="FILE.csv")
        q.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the valid rows and report the rejected ones",
        )
        add_handler(q, _run_import)


def _run_import(args: argparse.Namespace, ctx: AppContext) -> int:
    if args.import_kind == "patients":
        from app.services.import_patients import import_patients_file

        with ctx.db.write() as session:
            result = import_patients_file(
                session, args.file, skip_invalid=args.skip_invalid, now=ctx.clock.now()
            )
    else:
        from app.services.import_discharges import import_discharges_file

        with ctx.db.write() as session:
            result = import_discharges_file(
                session, args.file, skip_invalid=args.skip_invalid, now=ctx.clock.now()
            )
    report(result)
    return 0


def report(result: ImportResult) -> None:
    echo(result.summary())
    for problem in result.rejected:
        warn(f"  rejected: {problem}")

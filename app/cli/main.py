"""``carecoord`` command line (DESIGN.md §4.1): argparse commands over services.

Exit codes: 0 ok; 1 refused (bad input, validation, wrong key: nothing written); 2 usage.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from app import __version__
from app.cli import calls, db, demo, imports, keys, report, sync
from app.core.clock import Clock
from app.core.errors import CareCoordError
from app.core.paths import resolve_paths

COMMAND_MODULES = (demo, imports, calls, report, sync, keys, db)

log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="carecoord",
        description="CareCoord: caseloads, 48-hour post-discharge calls, MDTs and sync for "
        "care coordinators. Without a command, opens the desktop app.",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="data folder (default: the platform's user data folder; env CARECOORD_DATA_DIR)",
    )
    parser.add_argument("--version", action="version", version=f"CareCoord {__version__}")
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="start headless, migrate a temporary database, render a PDF and exit",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def run(argv: Sequence[str], *, clock: Clock | None = None) -> int:
    """Run one CLI command (not the GUI, not the smoke test). Returns the exit code."""
    from app.context import open_context

    parser = build_parser()
    args = parser.parse_args(list(argv))
    handler = getattr(args, "handler", None)
    if args.command is None or handler is None:
        parser.print_usage(sys.stderr)
        return 2
    if not getattr(args, "needs_context", True):
        # e.g. `db restore`: the database may be too damaged to open, and must not be open
        try:
            return int(handler(args, resolve_paths(args.data_dir)))
        except CareCoordError as exc:
            print(f"carecoord: {exc}", file=sys.stderr)
            return 1
    try:
        ctx = open_context(resolve_paths(args.data_dir), clock=clock)
    except CareCoordError as exc:
        print(f"carecoord: {exc}", file=sys.stderr)
        return 1
    try:
        return int(handler(args, ctx))
    except CareCoordError as exc:
        print(f"carecoord: {exc}", file=sys.stderr)
        return 1
    finally:
        ctx.close()

"""Entry point: the command line, the smoke test, or the desktop app."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    desktop, data_dir = _desktop_only(args)
    if desktop:  # the common case, kept quick: the command line's modules are not imported
        _start_logging(data_dir)
        return gui_main(data_dir=data_dir)
    from app.cli.main import build_parser, run

    parsed = build_parser().parse_args(args)
    if parsed.smoke_test:
        return smoke_test()
    _start_logging(parsed.data_dir)
    if parsed.command is None:
        return gui_main(data_dir=parsed.data_dir)
    code = run(args)
    if code == 0 and parsed.command == "demo" and parsed.open:
        return gui_main(data_dir=parsed.data_dir)
    return code


def _desktop_only(args: list[str]) -> tuple[bool, str | None]:
    """(True, the --data-dir value) when ``args`` only open the desktop app: nothing, or
    ``--data-dir DIR`` / ``--data-dir=DIR``. Anything else (a command, --help, --version, the
    smoke test, an abbreviation, a mistake) goes through the full parser."""
    if not args:
        return True, None
    if len(args) == 1 and args[0].startswith("--data-dir="):
        return True, args[0].partition("=")[2]
    if len(args) == 2 and args[0] == "--data-dir" and not args[1].startswith("-"):
        return True, args[1]
    return False, None


def _start_logging(data_dir: str | None) -> None:
    """A rotating, redacted log file in the data folder's logs/ (record ids only)."""
    from app.core.logs import setup_logging
    from app.core.paths import resolve_paths

    log_dir = resolve_paths(data_dir).log_dir
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        setup_logging(log_dir)
    except OSError:  # a read-only or full disk must not stop the app; it reports elsewhere
        pass


def gui_main(data_dir: str | None = None) -> int:
    from app.core.errors import CareCoordError
    from app.core.paths import resolve_paths
    from app.ui.application import run_gui

    try:
        return run_gui(resolve_paths(data_dir))
    except CareCoordError as exc:  # before any window could show it
        print(f"carecoord: {exc}", file=sys.stderr)
        return 1


def smoke_test() -> int:
    """Start headless, migrate a temporary database, check the keyring backend, render a PDF,
    build the main window offscreen, exit 0 (used to verify the frozen build)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import keyring

    from app.context import open_context
    from app.core.paths import AppPaths
    from app.core.secrets import MemorySecretStore
    from app.reports.smoke import render_smoke_pdf

    with tempfile.TemporaryDirectory(prefix="carecoord-smoke-") as tmp:
        # keys in memory: the smoke test must run on machines without a keyring or passphrase
        ctx = open_context(AppPaths(Path(tmp)), secrets=MemorySecretStore())
        try:
            backend = type(keyring.get_keyring()).__module__
            pages = render_smoke_pdf(Path(tmp) / "smoke.pdf")
            from PySide6.QtWidgets import QApplication

            from app.ui.main_window import MainWindow

            app = QApplication.instance() or QApplication(["carecoord-smoke"])
            window = MainWindow(ctx)
            window.show()
            app.processEvents()
            window.close()
            app.processEvents()
        finally:
            ctx.close()
    print(
        f"CareCoord smoke test passed: database migrated, keyring backend {backend}, "
        f"PDF of {pages} page(s) rendered, main window built."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

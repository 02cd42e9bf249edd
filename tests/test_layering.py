"""Qt is imported only in app/ui and app/main.py (DESIGN.md §2); the rest runs headless."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
QT_MODULES = ("PySide6", "shiboken6", "PyQt5", "PyQt6")


def _qt_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        found += [n for n in names if n.split(".")[0] in QT_MODULES]
    return found


def test_qt_only_in_ui_and_main() -> None:
    offenders = {}
    for path in APP.rglob("*.py"):
        rel = path.relative_to(APP)
        if rel.parts[0] == "ui" or rel.as_posix() == "main.py":
            continue
        if found := _qt_imports(path):
            offenders[rel.as_posix()] = found
    assert offenders == {}


def test_the_checker_notices_a_qt_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("from PySide6.QtCore import QObject\nimport os\n")
    assert _qt_imports(sample) == ["PySide6.QtCore"]


def test_headless_packages_import_without_qt() -> None:
    import subprocess
    import sys

    code = (
        "import sys, app.cli.main, app.services.import_patients, app.sync.state, app.context;"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('PySide6','shiboken6')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr

"""What goes into CareCoord's frozen one-folder build: names, data files and hidden imports.

``installer/carecoord.spec`` builds from these lists, ``installer/build.py`` checks the built
folder against them, and ``tests/test_installer_spec.py`` checks that they cover every file the
app reads at run time. The names and pure file lists need only the standard library; the
functions that ask PyInstaller's hook utilities (third-party data, metadata, submodules) import
PyInstaller when called.
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]

APP_NAME = "CareCoord"
#: The executable people start. Windowed on Windows and macOS; on Linux a normal binary, so the
#: same file runs the desktop app (no arguments) and the command line (with a command).
EXE_NAME = "CareCoord"
#: Windows only: a console twin of the app in the same folder for the command line and scripts
#: (a windowed .exe has no stdout/stderr). Not "carecoord.exe": Windows names ignore case.
CLI_EXE_NAME = "carecoord-cli"
BUNDLE_ID = "uk.nhs.carecoord"
LAUNCHER = ROOT / "installer" / "launcher.py"
ICON_DIR = ROOT / "resources" / "icons"
ICON_SVG = ICON_DIR / "carecoord.svg"
ICON_ICO = ICON_DIR / "carecoord.ico"
ICON_ICNS = ICON_DIR / "carecoord.icns"
MACOS_ENTITLEMENTS = ROOT / "installer" / "macos" / "entitlements.plist"

RESOURCES_DIR = ROOT / "resources"
MIGRATIONS_DIR = ROOT / "app" / "db" / "migrations"
#: Bundle folder that ``app.core.resources`` looks in (``sys._MEIPASS/resources``).
RESOURCES_DEST = "resources"
#: Alembic loads ``env.py``, ``script.py.mako`` and ``versions/*.py`` from the file system next
#: to the ``app.db`` package (``script_location = "app.db:migrations"``).
MIGRATIONS_DEST = "app/db/migrations"

#: Every keyring backend module, so ``keyring`` finds the platform's store when frozen.
KEYRING_BACKENDS: tuple[str, ...] = (
    "keyring.backends.Windows",
    "keyring.backends.macOS",
    "keyring.backends.macOS.api",
    "keyring.backends.SecretService",
    "keyring.backends.kwallet",
    "keyring.backends.libsecret",
    "keyring.backends.chainer",
    "keyring.backends.fail",
    "keyring.backends.null",
)

#: Imported by code that PyInstaller cannot see: the migration scripts (loaded from files by
#: Alembic), ``zoneinfo`` (finds ``tzdata`` by name) and Qt's SVG icon support.
RUNTIME_IMPORTS: tuple[str, ...] = (
    "alembic.context",
    "alembic.op",
    "alembic.ddl.sqlite",
    "sqlalchemy.dialects.sqlite",
    "tzdata",
    "PySide6.QtSvg",
)

#: Imported only if this Python has them (SQLCipher for encryption at rest; the Windows
#: credential store bindings used by keyring's Windows backend).
OPTIONAL_IMPORTS: tuple[str, ...] = (
    "_rl_accel",  # reportlab imports its C accelerator by a name built at run time
    "sqlcipher3",
    "sqlcipher3.dbapi2",
    "win32ctypes.pywin32.win32cred",
    "win32ctypes.pywin32.pywintypes",
)

#: Distribution metadata read at run time: the app's version (``importlib.metadata``) and
#: keyring's backend entry points.
METADATA: tuple[str, ...] = ("carecoord", "keyring")

#: Never wanted in the app.
EXCLUDES: tuple[str, ...] = (
    "tkinter",
    "_tkinter",
    "pytest",
    "_pytest",
    "hypothesis",
    "mypy",
    "PyInstaller",
)

_SKIPPED_PARTS = frozenset({"__pycache__", ".DS_Store"})
_SKIPPED_SUFFIXES = frozenset({".pyc", ".pyo"})


def app_version(root: Path = ROOT) -> str:
    """The one version number, from ``pyproject.toml``."""
    with (root / "pyproject.toml").open("rb") as f:
        version = tomllib.load(f)["project"]["version"]
    if not isinstance(version, str) or not version:
        raise ValueError("pyproject.toml has no [project] version")
    return version


def is_windows() -> bool:
    return sys.platform == "win32"


def is_macos() -> bool:
    return sys.platform == "darwin"


def gui_exe_is_console() -> bool:
    """Linux keeps a console binary so the command line prints; Windows and macOS windowed."""
    return not (is_windows() or is_macos())


def exe_file_name(name: str, *, windows: bool | None = None) -> str:
    windows = is_windows() if windows is None else windows
    return f"{name}.exe" if windows else name


def app_icon() -> Path | None:
    """The icon PyInstaller embeds: .ico on Windows, .icns on macOS, none on Linux."""
    if is_windows():
        return ICON_ICO
    if is_macos():
        return ICON_ICNS
    return None


def _files_under(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not _SKIPPED_PARTS.intersection(p.relative_to(folder).parts)
        and p.suffix not in _SKIPPED_SUFFIXES
    )


def _tree(folder: Path, dest: str) -> list[tuple[str, str]]:
    """(source file, destination folder inside the bundle) for every file under ``folder``."""
    pairs = []
    for path in _files_under(folder):
        rel_parent = PurePosixPath(*path.relative_to(folder).parts[:-1])
        pairs.append((str(path), str(PurePosixPath(dest) / rel_parent)))
    return pairs


def app_datas(root: Path = ROOT) -> list[tuple[str, str]]:
    """CareCoord's own data files: all of ``resources/`` and the Alembic migrations folder."""
    return _tree(root / "resources", RESOURCES_DEST) + _tree(
        root / "app" / "db" / "migrations", MIGRATIONS_DEST
    )


def bundled_paths(datas: list[tuple[str, str]]) -> set[str]:
    """Bundle-relative POSIX paths of the files a ``datas`` list puts in the build."""
    return {str(PurePosixPath(dest) / Path(src).name) for src, dest in datas}


def importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a missing parent package
        return False


def third_party_datas() -> list[tuple[str, str]]:
    """reportlab's fonts and data, tzdata's zone files, and the metadata in :data:`METADATA`."""
    from PyInstaller.utils.hooks import collect_data_files, copy_metadata

    datas: list[tuple[str, str]] = []
    datas += collect_data_files("reportlab")
    datas += collect_data_files("tzdata")
    for dist in METADATA:
        datas += copy_metadata(dist)
    return datas


def datas(root: Path = ROOT) -> list[tuple[str, str]]:
    return app_datas(root) + third_party_datas()


def hidden_imports() -> list[str]:
    """Modules the frozen app may import that static analysis does not find."""
    from PyInstaller.utils.hooks import collect_submodules

    names = list(KEYRING_BACKENDS) + list(RUNTIME_IMPORTS)
    names += collect_submodules("keyring.backends")
    # Every app module (screens and commands may be imported lazily), but not the migration
    # scripts: Alembic runs those from the files added by app_datas().
    names += collect_submodules("app", filter=lambda n: not n.startswith("app.db.migrations"))
    names += [n for n in OPTIONAL_IMPORTS if importable(n)]
    return sorted(set(names))


__all__ = [
    "APP_NAME",
    "BUNDLE_ID",
    "CLI_EXE_NAME",
    "EXCLUDES",
    "EXE_NAME",
    "KEYRING_BACKENDS",
    "METADATA",
    "MIGRATIONS_DEST",
    "RESOURCES_DEST",
    "app_datas",
    "app_icon",
    "app_version",
    "bundled_paths",
    "datas",
    "exe_file_name",
    "gui_exe_is_console",
    "hidden_imports",
    "is_macos",
    "is_windows",
]

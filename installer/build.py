"""Build CareCoord's one-folder app, check it, and smoke-test it.

    python installer/build.py            # build dist/CareCoord, verify, smoke-test
    python installer/build.py --clean    # the same, from an empty PyInstaller cache
    python installer/build.py --smoke-only   # re-test an existing dist/CareCoord

Steps: install PyInstaller into the running Python if it is missing (the requirement comes from
``pyproject.toml``'s ``build`` extra); write ``build/installer/version.iss`` (the version and
names the Inno Setup script includes); run ``installer/carecoord.spec``; check that every data
file the app reads at run time is in the folder; run the frozen ``--version`` and
``--smoke-test`` (offscreen); print the build time and the folder's size. On Windows, when Inno
Setup's ``ISCC.exe`` is found, also compile ``installer/windows/carecoord.iss`` into
``dist/CareCoord-<version>-setup.exe``. Exits non-zero when any step fails.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path

import carecoord_bundle as cb  # installer/ is on sys.path when this file runs as a script

ROOT = cb.ROOT
SPEC = ROOT / "installer" / "carecoord.spec"
ISS = ROOT / "installer" / "windows" / "carecoord.iss"
DIST_DIR = ROOT / "dist"
WORK_DIR = ROOT / "build" / "pyinstaller"
ISS_DEFINES = ROOT / "build" / "installer" / "version.iss"
APP_DIR = DIST_DIR / cb.APP_NAME
SMOKE_TIMEOUT_S = 300


class BuildError(Exception):
    """A build step failed; the message says which and why."""


def pyinstaller_requirement(root: Path = ROOT) -> str:
    """The PyInstaller requirement of the ``build`` extra in ``pyproject.toml``."""
    with (root / "pyproject.toml").open("rb") as f:
        extras = tomllib.load(f)["project"].get("optional-dependencies", {})
    for req in extras.get("build", []):
        if req.lower().startswith("pyinstaller"):
            return str(req)
    return "pyinstaller>=6.10"


def ensure_pyinstaller() -> None:
    if importlib.util.find_spec("PyInstaller") is not None:
        return
    requirement = pyinstaller_requirement()
    print(f"PyInstaller is not installed; installing {requirement} into {sys.prefix}")
    subprocess.run([sys.executable, "-m", "pip", "install", requirement], check=True)
    importlib.invalidate_caches()


def file_version(version: str) -> str:
    """The numeric part of a version (``1.2.0rc1`` -> ``1.2.0``), as Windows file versions need."""
    match = re.match(r"\d+(?:\.\d+){0,3}", version)
    if match is None:
        raise BuildError(f"The version {version!r} in pyproject.toml does not start with a number.")
    return match.group(0)


def iss_defines(root: Path = ROOT) -> dict[str, str]:
    """The ``#define``s the Inno Setup script includes (version from ``pyproject.toml``)."""
    version = cb.app_version(root)
    return {
        "AppVersion": version,
        "AppFileVersion": file_version(version),
        "AppName": cb.APP_NAME,
        "AppExeName": cb.exe_file_name(cb.EXE_NAME, windows=True),
    }


def write_iss_defines(path: Path = ISS_DEFINES, root: Path = ROOT) -> Path:
    lines = ["; Written by installer/build.py from pyproject.toml. Do not edit."]
    lines += [f'#define {name} "{value}"' for name, value in iss_defines(root).items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_pyinstaller(*, clean: bool) -> None:
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level=WARN",
        f"--distpath={DIST_DIR}",
        f"--workpath={WORK_DIR}",
    ]
    if clean:
        cmd.append("--clean")
    cmd.append(str(SPEC))
    result = subprocess.run(cmd, cwd=ROOT)
    if result.returncode != 0:
        raise BuildError(f"PyInstaller failed with exit code {result.returncode}.")


def contents_dir(app_dir: Path = APP_DIR) -> Path:
    """Where the bundled files live (``sys._MEIPASS``): ``_internal`` since PyInstaller 6."""
    internal = app_dir / "_internal"
    return internal if internal.is_dir() else app_dir


def missing_app_files(app_dir: Path = APP_DIR) -> list[str]:
    """Bundle paths of CareCoord's own data files that are not in the built folder."""
    base = contents_dir(app_dir)
    expected = cb.bundled_paths(cb.app_datas())
    return sorted(p for p in expected if not (base / p).is_file())


def verify_bundle(app_dir: Path = APP_DIR) -> None:
    if not app_dir.is_dir():
        raise BuildError(f"{app_dir.relative_to(ROOT)} does not exist; build it first.")
    missing = missing_app_files(app_dir)
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise BuildError(f"{len(missing)} data file(s) missing from the build: {shown}")
    for name in executable_names():
        if not (app_dir / name).is_file():
            raise BuildError(f"The executable {name} is missing from {app_dir.name}.")


def executable_names() -> list[str]:
    names = [cb.exe_file_name(cb.EXE_NAME)]
    if cb.is_windows():
        names.append(cb.exe_file_name(cb.CLI_EXE_NAME))
    return names


def smoke_env() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.pop("CARECOORD_DATA_DIR", None)  # the smoke test makes its own temporary folder
    return env


def run_frozen(exe: Path, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [str(exe), *args],
            env=smoke_env(),
            capture_output=True,
            text=True,
            timeout=SMOKE_TIMEOUT_S,
            cwd=exe.parent.parent,  # not the app folder: nothing may depend on the cwd
        )
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"{exe.name} {' '.join(args)} did not finish in {exc.timeout} s.") from exc


def smoke_test(app_dir: Path = APP_DIR) -> None:
    """``--version`` must print pyproject's version; ``--smoke-test`` must exit 0."""
    version = cb.app_version()
    for name in executable_names():
        exe = app_dir / name
        shown = exe.relative_to(ROOT)
        if cb.is_windows() and name != cb.exe_file_name(cb.CLI_EXE_NAME):
            # A windowed .exe has no stdout; its exit code still tells.
            checks: list[tuple[list[str], str | None]] = [(["--smoke-test"], None)]
        else:
            checks = [(["--version"], version), (["--smoke-test"], "smoke test passed")]
        for args, expected in checks:
            result = run_frozen(exe, args)
            out = (result.stdout + result.stderr).strip()
            print(f"$ {shown} {' '.join(args)}\n{out}")
            if result.returncode != 0:
                raise BuildError(f"{shown} {' '.join(args)} exited with {result.returncode}.")
            if expected is not None and expected not in out:
                raise BuildError(f"{shown} {' '.join(args)} did not print {expected!r}.")


def folder_size(path: Path) -> tuple[int, int]:
    """(bytes, files) under ``path``, not following symlinks."""
    total = count = 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
            count += 1
    return total, count


def human_size(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.2f} GiB"


def human_time(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def find_iscc() -> Path | None:
    found = shutil.which("iscc") or shutil.which("ISCC.exe")
    if found:
        return Path(found)
    for env in ("ProgramFiles(x86)", "ProgramFiles", "LOCALAPPDATA"):
        base = os.environ.get(env)
        for sub in ("Inno Setup 6", "Programs/Inno Setup 6"):
            candidate = Path(base) / sub / "ISCC.exe" if base else None
            if candidate and candidate.is_file():
                return candidate
    return None


def build_windows_installer() -> None:
    iscc = find_iscc()
    if iscc is None:
        print("Inno Setup 6 (ISCC.exe) not found: skipped the Windows installer.")
        return
    result = subprocess.run([str(iscc), "/Q", str(ISS)], cwd=ISS.parent)
    if result.returncode != 0:
        raise BuildError(f"Inno Setup failed with exit code {result.returncode}.")
    print(f"Windows installer: dist/{cb.APP_NAME}-{cb.app_version()}-setup.exe")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build and smoke-test CareCoord's app folder.")
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's cache first")
    parser.add_argument(
        "--smoke-only", action="store_true", help="only verify and smoke-test dist/CareCoord"
    )
    args = parser.parse_args(argv)
    try:
        if not args.smoke_only:
            ensure_pyinstaller()
            write_iss_defines()
            started = time.monotonic()
            run_pyinstaller(clean=args.clean)
            build_seconds = time.monotonic() - started
        verify_bundle()
        smoke_test()
        if not args.smoke_only and cb.is_windows():
            build_windows_installer()
    except (BuildError, subprocess.CalledProcessError) as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    size, files = folder_size(APP_DIR)
    if not args.smoke_only:
        print(f"Build took {human_time(build_seconds)}.")
    print(f"{APP_DIR.relative_to(ROOT)}: {human_size(size)} in {files} files.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

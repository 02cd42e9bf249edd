"""Locate files shipped in the top-level ``resources/`` folder.

In a source checkout the folder sits at the repository root (two levels above this file's
package). In a PyInstaller build it is unpacked next to the bundled code, under
``sys._MEIPASS``; the build must add it as data with the destination ``resources``.
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath

from app.core.errors import StorageError

_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def resources_root() -> Path:
    """The ``resources/`` folder of this installation, or StorageError if it is missing."""
    bundle_dir = getattr(sys, "_MEIPASS", None)
    base = Path(bundle_dir) if bundle_dir is not None else _SOURCE_ROOT
    root = base / "resources"
    if not root.is_dir():
        raise StorageError("The application's resources folder is missing; reinstall CareCoord.")
    return root


def resource_path(*parts: str) -> Path:
    """Path of a shipped resource, e.g. ``resource_path("reference", "services.json")``.

    Raises StorageError when the file or folder is not there, and ValueError for a part that
    would leave the resources folder (an absolute path or ``..``).
    """
    if not parts:
        return resources_root()
    for part in parts:
        pure = PurePosixPath(part.replace("\\", "/"))
        if pure.is_absolute() or ".." in pure.parts or not part:
            raise ValueError(f"Resource path part {part!r} is not a plain relative name.")
    path = resources_root().joinpath(*parts)
    if not path.exists():
        shown = "/".join(parts)
        raise StorageError(f"Resource '{shown}' is missing; reinstall CareCoord.")
    return path

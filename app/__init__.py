"""CareCoord: caseload and post-discharge follow-up for care coordinators."""

from __future__ import annotations

APP_NAME = "CareCoord"
APP_ID = "carecoord"

_version: str | None = None


def __getattr__(name: str) -> str:
    """``__version__`` is read from the installed package's metadata when first asked for:
    importing ``importlib.metadata`` costs tens of milliseconds that the desktop app's first
    paint does not need."""
    global _version
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _version is None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            _version = version("carecoord")
        except PackageNotFoundError:  # running from a source tree that was never installed
            _version = "0.0.0"
    return _version

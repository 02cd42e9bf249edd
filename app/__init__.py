"""CareCoord: caseload and post-discharge follow-up for care coordinators."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("carecoord")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

APP_NAME = "CareCoord"
APP_ID = "carecoord"

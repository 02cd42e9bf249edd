"""The application log: a rotating file in the data folder's ``logs/`` folder.

Code logs record ids, never NHS numbers, names or keys. As a safety net, every record that
reaches the file passes :class:`RedactNhsNumbers`, which blanks anything shaped like an NHS
number (ten digits, optionally grouped 3-3-4 with spaces or hyphens) in the message, its
arguments, and any traceback or stack attached to it.
"""

from __future__ import annotations

import logging
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_FILE_NAME = "carecoord.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
REDACTED = "[NHS number removed]"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Ten digits, optionally 3-3-4 with one space or hyphen between groups, not inside a longer
# run of digits (so timestamps in milliseconds and similar stay readable).
_NHS_LIKE = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")


def redact(text: str) -> str:
    """``text`` with every NHS-number-shaped run of digits replaced."""
    return _NHS_LIKE.sub(REDACTED, text)


class RedactNhsNumbers(logging.Filter):
    """Blank NHS-number-shaped digits in a record before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what can be shown, redacted
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _CareCoordFileHandler(RotatingFileHandler):
    """Marks the handler this module installed, so a second set-up replaces it."""


def setup_logging(log_dir: Path, *, level: int = logging.INFO) -> Path:
    """Send the root logger to ``log_dir/carecoord.log`` (1 MB x 5 files), redacted.

    Calling it again (another data folder, tests) replaces the previous file handler.
    Returns the path of the log file.
    """
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE_NAME
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _CareCoordFileHandler)]:
        root.removeHandler(old)
        old.close()
    handler = _CareCoordFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8", delay=True
    )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactNhsNumbers())
    handler.setLevel(level)
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    return path


def close_logging() -> None:
    """Flush and detach the file handler (at exit, or before the data folder goes away)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _CareCoordFileHandler)]:
        root.removeHandler(old)
        old.close()

"""Shared bits of the command line: opening the data folder, printing, passphrases."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.core.errors import KeyError_
from app.core.paths import PASSPHRASE_ENV

if TYPE_CHECKING:
    from app.context import AppContext


Handler = Callable[[argparse.Namespace, "AppContext"], int]


def add_handler(parser: argparse.ArgumentParser, handler: Handler) -> None:
    """Commands that work on the data folder get an opened, migrated AppContext."""
    parser.set_defaults(handler=handler)


def passphrase_from_env_or_prompt(prompt: str = "Passphrase: ") -> str:
    """``CARECOORD_PASSPHRASE`` when set (non-interactive use), otherwise ask on the terminal."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not sys.stdin or not sys.stdin.isatty():
        raise KeyError_(
            f"A passphrase is needed: set {PASSPHRASE_ENV} or run the command in a terminal."
        )
    return getpass.getpass(prompt)


def echo(text: str = "") -> None:
    print(text)


def warn(text: str) -> None:
    print(text, file=sys.stderr)

"""``--crash-runs N``: how many times the crash-safety test kills its writer (default 50).

pytest reads this option only when it loads this folder's conftest at start-up, i.e. when the
command names this folder: ``pytest tests/crash --crash-runs 500``. The environment variable
``CARECOORD_CRASH_RUNS`` works from anywhere.
"""

from __future__ import annotations

import os

import pytest

DEFAULT_CRASH_RUNS = 50


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--crash-runs",
        type=int,
        default=None,
        metavar="N",
        help=f"kill -9 the crash-test writer N times (default {DEFAULT_CRASH_RUNS})",
    )


@pytest.fixture
def crash_runs(request: pytest.FixtureRequest) -> int:
    try:
        option = request.config.getoption("--crash-runs")
    except ValueError:  # the option was not registered (this conftest loaded late)
        option = None
    if option is None:
        option = int(os.environ.get("CARECOORD_CRASH_RUNS", DEFAULT_CRASH_RUNS))
    return int(option)

"""Every test here runs the system as a whole: real server processes, builds killed mid-way,
`make` itself, replicas, a Ray head, Chromium. All are marked `slow`."""

import os

import pytest

HERE = os.path.dirname(__file__)


def pytest_collection_modifyitems(items):
    for item in items:
        if str(item.path).startswith(HERE + os.sep):
            item.add_marker(pytest.mark.slow)

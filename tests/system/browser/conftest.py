"""Every test here drives Debian's Chromium (marked `browser`; tests/system/conftest.py marks them
`slow`). One browser per module.

Without /usr/bin/chromium the tests fail with instructions rather than skip: `make test` installs
it; `make test-fast` leaves these tests out."""

import os

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS

HERE = os.path.dirname(__file__)


def pytest_collection_modifyitems(items):
    for item in items:
        if str(item.path).startswith(HERE + os.sep):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: the browser tests need Debian's Chromium "
                    "(`make test` or `apt-get install chromium`; .ci/run installs it). They do not skip.")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()

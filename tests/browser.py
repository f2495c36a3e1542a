"""Playwright with Debian's chromium, for tests of pages (marker ``browser``).

Playwright never downloads a browser here: it drives ``/usr/bin/chromium``
(``apt-get install -y chromium``; ``make test`` does it as root), headless
and without the network chatter a closed machine refuses.
"""

import os
import shutil

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def browser():
    """Chromium for one test.

    Not shared across tests: between its calls Playwright's sync API marks
    its event loop as running in the test thread, so while it lives every
    ``async_to_sync`` there (websocket tests) fails with "You cannot use
    AsyncToSync in the same thread as an async event loop".
    """
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if not os.path.exists(path):
        pytest.fail(f"browser tests need Debian's chromium at {path}: apt-get install -y chromium")
    # Playwright's sync API refuses to start inside a running event loop;
    # Django's async-unsafe guard must also allow the test thread's ORM calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, center):
    """A fresh browser page on the running center (``center.url``)."""
    context = browser.new_context(base_url=center.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def login(page, user, password: str) -> None:
    """Log in through the real login form."""
    page.goto("/login/")
    page.fill('input[name="username"]', user.username)
    page.fill('input[name="password"]', password)
    page.click('button[type="submit"]')
    page.wait_for_url(lambda url: "/login/" not in url)

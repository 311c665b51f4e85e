"""Playwright driving Debian's chromium (never a downloaded browser)."""

import os
import shutil
from contextlib import contextmanager

import pytest

CHROMIUM = os.environ.get("PLAYWRIGHT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

requires_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason="Debian's chromium is not installed (apt-get install chromium)",
)


def close_connections() -> None:
    """Close the database connections opened inside Playwright's block; call it before leaving.

    Django keeps a connection per context (asgiref), and ``sync_playwright()`` runs what is
    inside its block in a context of its own: queries made there open a connection that
    pytest-django's teardown, outside the block, never sees and that would stop the test
    database from being dropped ("being accessed by other users"). A connection inside a
    transaction (a non-transactional test's atomic block) belongs to pytest-django."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


@contextmanager
def chromium():
    """Debian's chromium under Playwright, headless; the database connections opened while it
    ran are closed before it goes (see :func:`close_connections`)."""
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by
    # fixtures around it are still synchronous and safe.
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                yield browser
            finally:
                close_connections()
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@contextmanager
def browser_page(viewport=(1400, 900)):
    """One page of :func:`chromium` at ``viewport`` (width, height)."""
    with chromium() as browser:
        yield browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})


def log_in(page, base: str, username: str, password: str, *, timeout: float = 60_000) -> None:
    """Log in through the real form and land on the dashboard.

    Waits for the answer to the POST to arrive (not for every image and stylesheet of the next
    page), and when the login page comes back instead, fails with what it says."""
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation(wait_until="commit", timeout=timeout):
        page.click("form button[type=submit]")
    page.wait_for_load_state("domcontentloaded", timeout=timeout)
    if page.url != f"{base}/":
        said = page.locator(".alert, .errorlist, .invalid-feedback").all_inner_texts()
        raise AssertionError(f"logging in as {username} led to {page.url}: {said}")

"""Playwright with Debian's chromium against pytest-django's live server.

Playwright's sync API runs an event loop in the test thread, so Django's guard against ORM calls
from async contexts is switched off here (the ORM is only used before and after driving the
page, never concurrently with it). Without /usr/bin/chromium the tests skip locally and fail in
CI (``CI=true``), where a missing browser means a broken machine, not an optional feature.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
WALL = {"width": 1920, "height": 1080}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so a failing test can leave a screenshot."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="package")
def browser() -> Generator[Any, None, None]:
    """One chromium for these tests. Closed when they are done: Playwright's synchronous API
    keeps an event loop running in the main thread, where later tests call asyncio.run()."""
    if not CHROMIUM.exists():
        message = (
            f"{CHROMIUM} is missing: apt-get install -y chromium fonts-wqy-microhei "
            "(scripts/test does this)"
        )
        if _under_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    """Argon2 costs seconds per account of the world; login still checks the password."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


@pytest.fixture
def live_world(transactional_db: None, fast_passwords: None) -> Any:
    """The shared two-community world, committed so the live server's thread sees it."""
    from conftest import World, build_side, make_user

    a = build_side("a", "东湖街道", "翠苑社区")
    b = build_side("b", "西湖街道", "文华社区")
    admin = make_user("platform_admin", is_superuser=True, is_staff=True)
    return World(a=a, b=b, platform_admin=admin)


@pytest.fixture
def open_page(
    browser: Any, request: pytest.FixtureRequest
) -> Generator[Callable[..., Any], None, None]:
    """Open a page in a fresh browser context (a phone unless told otherwise), in Chinese as a
    phone in China would ask; a failing test leaves a screenshot of every page it opened."""
    contexts: list[Any] = []
    pages: list[Any] = []

    def open_(viewport: dict[str, int] | None = None, locale: str = "zh-CN") -> Any:
        context = browser.new_context(viewport=viewport or PHONE, locale=locale)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        return page

    yield open_
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for number, page in enumerate(pages):
            try:
                page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{number}-failed.png"))
            except Exception:  # noqa: S112 - a closed page has nothing left to show
                continue
    for context in contexts:
        context.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (``test-artifacts/``, ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS

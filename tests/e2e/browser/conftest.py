"""The console in a real browser: Debian's chromium driven through its chromedriver.

One browser for the browser tests (package-scoped like ``local_stack``; a fresh profile in a temporary directory),
against the same running local stack as the other end-to-end tests
(``local_stack`` from tests/e2e/conftest.py). Nothing is downloaded: the
browser and the driver are the system's (``./dev test`` installs them as root).
Screenshots go to ``.screenshots/`` (gitignored), so a person can look.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.support.deadlines import EVENT_S

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[3] / ".screenshots"
DESKTOP = (1280, 800)
PHONE = (390, 844)
WAIT_S = EVENT_S  # what a page shows after a click or a live update; generous under load


@pytest.fixture(scope="package")
def browser(tmp_path_factory: pytest.TempPathFactory):
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        pytest.fail(
            f"missing {', '.join(missing)}: install Debian's chromium and chromium-driver "
            "(./dev test does it when run as root)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # issue 17: a fake camera that plays a still photo (a picture held to the camera), camera allowed
    from tests.support.camera import still_y4m
    from tests.support.faces import photo

    camera = still_y4m(photo("harington-1.jpg"), tmp_path_factory.mktemp("camera") / "still-face.y4m")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-features=Translate,MediaRouter,OptimizationHints",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_window_size(*DESKTOP)
    yield driver
    driver.quit()


class ConsoleErrors:
    """Errors the page logged (console.error, uncaught exceptions, failed loads)."""

    def __init__(self, driver: Any):
        self.driver = driver
        self.expected: list[str] = []

    def drain(self) -> list[dict[str, Any]]:
        return self.driver.get_log("browser")

    def allow(self, *fragments: str) -> None:
        """Errors a test provokes on purpose (e.g. the 403 it checks)."""
        self.expected.extend(fragments)

    def unexpected(self, entries: Iterable[dict[str, Any]]) -> list[str]:
        return [
            e["message"]
            for e in entries
            if e.get("level") == "SEVERE" and not any(f in e["message"] for f in self.expected)
        ]


@pytest.fixture
def page_errors(browser):
    """Fails the test if the browser logged an error it did not expect."""
    errors = ConsoleErrors(browser)
    errors.drain()
    yield errors
    found = errors.unexpected(errors.drain())
    assert not found, "the browser logged errors:\n" + "\n".join(found)


def screenshot(driver: Any, name: str) -> Path:
    """Save the whole page at the window's width (taller pages are captured whole)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    before = driver.get_window_size()
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(before["width"], max(before["height"], min(int(height) + 40, 4000)))
    driver.execute_script("window.scrollTo(0, 0)")
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(before["width"], before["height"])
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """A failed browser test says what the page showed: its address, visible alerts and errors, the browser's
    console errors, and a screenshot (.screenshots/failed-<test>.png)."""
    outcome = yield
    report = outcome.get_result()
    driver = getattr(item, "funcargs", {}).get("browser")
    if report.when != "call" or not report.failed or driver is None:
        return
    try:
        shown = driver.execute_script(
            "return [...document.querySelectorAll('[role=alert], .error:not([hidden])')]"
            ".map((e) => e.textContent.trim()).filter(Boolean)"
        )
        logged = [e["message"] for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "WARNING")]
        shot = screenshot(driver, f"failed-{item.name}")
        lines = [f"url: {driver.current_url}", f"screenshot: {shot}", "alerts and errors shown:", *shown,
                 "browser console:", *logged]
    except Exception as error:  # the browser itself may be what failed
        lines = [f"could not read the page: {error!r}"]
    report.sections.append(("page when it failed", "\n".join(lines)))

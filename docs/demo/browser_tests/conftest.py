"""A headless Chromium from Debian's packages, driven by Selenium.

``nox -s browser`` serves the demo and sets ``DEMO_BASE_URL``,
``DEMO_SERVER_LOG`` and ``SCREENSHOTS``. Nothing is downloaded: the driver and
the browser are ``/usr/bin/chromedriver`` and ``/usr/bin/chromium``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1600,1000",
    "--lang=en-US",
]
SERVER_ERROR_RE = re.compile(r'" 5\d\d \d')


class Browser:
    """The driver plus the checks every step makes: screenshots, console, 5xx."""

    def __init__(
        self, driver: webdriver.Chrome, base_url: str, shots: Path, log: Path | None
    ):
        self.driver = driver
        self.base_url = base_url.rstrip("/")
        self.shots = shots
        self.server_log = log
        self._log_offset = 0
        self._shot = 0

    def get(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def follow(self, element: WebElement) -> None:
        """Click something that loads a new page, and wait until it has loaded."""
        old_page = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        wait = WebDriverWait(self.driver, 15)
        wait.until(expected_conditions.staleness_of(old_page))
        wait.until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )

    def save(self, name: str) -> Path:
        """Screenshot of the whole page, numbered in the order of the steps."""
        self._shot += 1
        path = self.shots / f"{self._shot:02d}-{name}.png"
        height = self.driver.execute_script(
            "return Math.max(document.body.scrollHeight, 600)"
        )
        self.driver.set_window_size(1600, min(int(height) + 120, 4000))
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(1600, 1000)
        return path

    def console_errors(self) -> list[str]:
        """The SEVERE console messages logged since the last call (this drains them)."""
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if entry["level"] == "SEVERE"
        ]

    def assert_healthy(self, expected_error: re.Pattern[str] | None = None) -> None:
        """No console error in the browser, no 5xx from the server, no error page.

        With ``expected_error``, the step must have logged at least one console
        error and every one must match it in full (e.g. the 403 a step asked
        for); any other console error still fails.
        """
        errors = self.console_errors()
        if expected_error is None:
            assert not errors, f"browser console errors: {errors}"
        else:
            assert errors, f"expected a console error matching {expected_error.pattern}"
            unexpected = [e for e in errors if not expected_error.fullmatch(e)]
            assert not unexpected, f"browser console errors: {unexpected}"
        if self.server_log is not None and self.server_log.exists():
            text = self.server_log.read_text()
            new, self._log_offset = text[self._log_offset :], len(text)
            bad = [line for line in new.splitlines() if SERVER_ERROR_RE.search(line)]
            assert not bad, f"server errors: {bad}"
        title = self.driver.title
        assert "Server Error" not in title and "Exception" not in title, title


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    base_url = os.environ.get("DEMO_BASE_URL")
    if not base_url:
        pytest.exit(
            "DEMO_BASE_URL is not set: run these tests with `nox -s browser`.", 2
        )
    shots = Path(os.environ.get("SCREENSHOTS", "build/screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    log = os.environ.get("DEMO_SERVER_LOG")

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        service=Service(executable_path=CHROMEDRIVER), options=options
    )
    driver.implicitly_wait(2)
    try:
        yield Browser(driver, base_url, shots, Path(log) if log else None)
    finally:
        driver.quit()

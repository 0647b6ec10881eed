"""The report in a real headless browser: the page loads, every image decodes, no console errors."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="module")
def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip(
            "Debian's chromium and chromium-driver are not installed (`make browser` installs them "
            "with apt-get as root); the report's browser test cannot run"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,900",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(service=Service(driver), options=options)
    yield session
    session.quit()


@pytest.mark.slow
def test_report_opens_in_a_browser(tiny_run, browser, tmp_path):
    browser.get((tiny_run / "index.html").as_uri())
    assert "fraudsim report" in browser.title
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight]);"
    )
    assert len(images) >= 8
    for alt, complete, width, height in images:
        assert complete and width > 100 and height > 100, alt
    errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    findings = browser.find_elements("css selector", ".finding li")
    assert len(findings) >= 3
    assert browser.save_screenshot(str(tmp_path / "report.png"))  # never into the repository's reports/

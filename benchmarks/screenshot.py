"""The README's screenshot: the top of a run's report in headless Chromium, as docs/images/report.png.

    make demo && .venv/bin/python benchmarks/screenshot.py reports/quickstart

Needs Debian's chromium and chromium-driver (``make browser`` installs them when run as root).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run directory holding index.html")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "report.png")
    parser.add_argument("--size", default="1200,900", help="window width,height in pixels")
    args = parser.parse_args(argv)
    page = args.run / "index.html"
    if not page.exists():
        parser.error(f"{page} does not exist: run the scenario with its report first")
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        parser.error("chromium and chromedriver are needed (make browser)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={args.size}"):
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(driver), options=options)
    try:
        session.get(page.resolve().as_uri())
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if not session.save_screenshot(str(args.out)):
            print(f"could not write {args.out}", file=sys.stderr)
            return 1
    finally:
        session.quit()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

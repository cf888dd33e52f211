"""Rendered weeks per second while playing the baseline in a real (headless) Chromium.

Serves `magshock viz`, opens it in Debian's Chromium, presses Play and reads the week shown on
the page as it advances: the figure is weeks actually rendered in the browser per second
(target >= 10; a stock SolaraViz page with matplotlib charts managed ~4 here).

    .venv/bin/python benchmarks/browser_speed.py [--seconds 8]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright

from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    current_week,
    serve_viz,
    wait_ready,
)

TARGET_WEEKS_PER_S = 10.0


def measure(seconds: float) -> tuple[float, int]:
    """Play for about ``seconds``; return (rendered weeks per second, weeks rendered)."""
    with serve_viz() as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        wait_ready(page)
        page.get_by_role("button", name="Play", exact=True).click()
        page.wait_for_function("(document.querySelector('.kpi-week')?.innerText || '')[0] >= '0'")
        start_week, start = current_week(page), time.perf_counter()
        week = start_week
        while time.perf_counter() - start < seconds and week < 150:
            page.wait_for_timeout(100)
            week = current_week(page)
        elapsed = time.perf_counter() - start
        # No Pause click: Play may already have reached the horizon (the button is "Play"
        # again); closing the browser ends the session and its Play thread.
        browser.close()
    return (week - start_week) / elapsed, week - start_week


def main() -> None:
    """Print the rendered weeks per second and the ratio to the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    runs = [measure(args.seconds) for _ in range(3)]
    rates = sorted(rate for rate, _ in runs)
    shown = ", ".join(f"{r:.1f}" for r in rates)
    print(f"rendered weeks/s over 3 plays of ~{args.seconds:.0f} s: {shown}")
    best = rates[-1]
    verdict = "PASS" if best >= TARGET_WEEKS_PER_S else "MISS"
    print(
        f"best {best:.1f} weeks/s = {best / TARGET_WEEKS_PER_S:.2f}x the target of "
        f"{TARGET_WEEKS_PER_S:.0f} weeks/s -> {verdict}"
    )


if __name__ == "__main__":
    main()

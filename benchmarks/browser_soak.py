"""Play the page in a real (headless) Chromium for a while, moving levers: any server error?

For each scenario: serve `magshock viz SCENARIO`, then for ``--seconds`` repeat Reset, Play,
move a lever while playing, Pause after a random week (or let Play reach the horizon), and
count the weeks rendered. Prints per scenario the plays, weeks rendered, lever moves and the
error lines in the server's log and the browser console (all should be 0).

    .venv/bin/python benchmarks/browser_soak.py [--seconds 60] [SCENARIO ...]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright

from tests.browser_support import (
    BENIGN_CONSOLE,
    CHROMIUM,
    CHROMIUM_FLAGS,
    SLIDER_NAMES,
    WEEK_AT_LEAST,
    current_week,
    serve_viz,
    server_errors,
    wait_ready,
)

SCENARIOS = ["baseline_2025", "history_2025", "full_ban"]


def soak(scenario: str, seconds: float, rng: random.Random) -> dict[str, object]:
    """Play ``scenario`` for about ``seconds``; return counts and error lines."""
    console: list[str] = []
    plays = weeks = moves = 0
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        with serve_viz(scenario, log=log) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on(
                "console",
                lambda m: (
                    console.append(m.text)
                    if m.type == "error" and not any(p.search(m.text) for p in BENIGN_CONSOLE)
                    else None
                ),
            )
            page.goto(url)
            wait_ready(page)
            start = time.perf_counter()
            while time.perf_counter() - start < seconds:
                page.get_by_role("button", name="Reset", exact=True).click()
                page.wait_for_function(
                    "document.querySelector('.kpi-week')?.innerText === 'not started'"
                )
                page.get_by_role("button", name="Play", exact=True).click()
                plays += 1
                page.wait_for_function(WEEK_AT_LEAST, arg=rng.randint(1, 20), timeout=60_000)
                page.get_by_role("slider", name=rng.choice(SLIDER_NAMES)).focus()
                for _ in range(rng.randint(1, 4)):
                    page.keyboard.press(rng.choice(["ArrowRight", "ArrowLeft"]))
                    moves += 1
                if rng.random() < 0.5:
                    page.wait_for_function(WEEK_AT_LEAST, arg=rng.randint(25, 60), timeout=60_000)
                    pause = page.get_by_role("button", name="Pause", exact=True)
                    if pause.count():
                        pause.click()
                page.get_by_role("button", name="Play", exact=True).wait_for(timeout=60_000)
                weeks += current_week(page) + 1
            browser.close()
        errors = server_errors(log)
    return {"plays": plays, "weeks": weeks, "moves": moves, "server": errors, "console": console}


def main() -> None:
    """Soak each scenario and print one line per scenario (exit 1 on any error)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=SCENARIOS)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    failed = False
    for scenario in args.scenarios:
        r = soak(scenario, args.seconds, rng)
        print(
            f"{scenario}: {r['plays']} plays, {r['weeks']} weeks rendered, {r['moves']} lever "
            f"moves in ~{args.seconds:.0f} s; server errors {len(r['server'])}, "
            f"console errors {len(r['console'])}"
        )
        for line in [*r["server"], *r["console"]][:5]:
            print(f"    {line}")
        failed |= bool(r["server"] or r["console"])
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()

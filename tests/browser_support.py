"""Helpers to serve `magshock viz` and drive it in a real Chromium (tests and the benchmark)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Console messages known to be harmless (Solara/ipyvue internals); anything else fails a test.
BENIGN_CONSOLE = [
    re.compile(r"Failed to evaluate Vue script and find module\.exports"),
]
CHART_COUNT = 7
SLIDER_NAMES = [
    "Approval probability",
    "Review capacity /week (0 = no limit)",
    "Review delay (working days)",
    "Subsidy (USD/kg)",
    "Domestic ramp-up (weeks)",
    "OEM stockpile target (weeks)",
]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_viz(*args: str, port: int | None = None, log: Path | None = None) -> Iterator[str]:
    """Run ``magshock viz`` on a free loopback port; yield its URL; stop it afterwards.

    Args:
        *args: more arguments for ``magshock viz`` (e.g. a scenario).
        port: the port (default: a free one).
        log: file that gets the server's stdout and stderr (default: discarded).
    """
    port = port or free_port()
    exe = Path(sys.executable).with_name("magshock")
    out = log.open("wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        [str(exe), "viz", *args, "--port", str(port)],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("magshock viz did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        if log:
            out.close()


# Lines in the server's log that are not errors although they mention one (none known so far).
SERVER_LOG_BENIGN: list[re.Pattern[str]] = []


def server_errors(log: Path) -> list[str]:
    """Lines of a server log that report an exception or error."""
    return [
        line
        for line in log.read_text(errors="replace").splitlines()
        if re.search(r"Traceback|Error|Exception", line)
        and not any(p.search(line) for p in SERVER_LOG_BENIGN)
    ]


def kpi(page, label: str) -> str:
    """Text of a KPI card."""
    return page.locator(f".kpi-{label.replace(' ', '-')}").inner_text().strip()


def wait_ready(page, timeout_ms: int = 60_000) -> None:
    """Wait until the controls and every chart have rendered."""
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=timeout_ms)
    page.wait_for_function(
        f"document.querySelectorAll('.solara-echarts canvas').length >= {CHART_COUNT}",
        timeout=timeout_ms,
    )


def current_week(page) -> int:
    """The week shown on the page (-1 before the first step)."""
    text = kpi(page, "week")
    match = re.match(r"(\d+)", text)
    return int(match.group(1)) if match else -1


WEEK_AT_LEAST = "n => parseInt(document.querySelector('.kpi-week')?.innerText || '', 10) >= n"

PAUSE_AT_WEEK = """n => {
    const week = parseInt(document.querySelector('.kpi-week')?.innerText || '', 10);
    if (!(week >= n)) return false;
    [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Pause')?.click();
    return true;
}"""


def play_moving_a_lever(
    page, min_week: int, lever: str, presses: int = 3, timeout_ms: int = 60_000
) -> int:
    """Press Play, move ``lever`` while it plays, wait until ``min_week`` is shown, pause.

    Play is fast (the baseline's 156 weeks take a few seconds), so the lever moves early
    (key strokes on its focused slider, from week 5) and Pause is clicked as soon as the page
    shows week ``min_week``. Returns the week shown once paused.
    """
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function(WEEK_AT_LEAST, arg=5, timeout=timeout_ms)
    page.get_by_role("slider", name=lever).focus()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
    # click Pause in the page the moment it shows min_week: a click from here can come seconds
    # later on a loaded machine, after Play reached the horizon
    page.wait_for_function(PAUSE_AT_WEEK, arg=min_week, timeout=timeout_ms)
    page.get_by_role("button", name="Play", exact=True).wait_for(timeout=timeout_ms)
    return current_week(page)

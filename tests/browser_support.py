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


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_viz(*args: str, port: int | None = None) -> Iterator[str]:
    """Run ``magshock viz`` on a free loopback port; yield its URL; stop it afterwards."""
    port = port or free_port()
    exe = Path(sys.executable).with_name("magshock")
    proc = subprocess.Popen(
        [str(exe), "viz", *args, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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


def kpi(page, label: str) -> str:
    """Text of a KPI card."""
    return page.locator(f".kpi-{label.replace(' ', '-')}").inner_text().strip()


def wait_ready(page, timeout_ms: int = 60_000) -> None:
    """Wait until the controls and every chart have rendered."""
    page.get_by_role("button", name="Step").wait_for(timeout=timeout_ms)
    page.wait_for_function(
        f"document.querySelectorAll('.solara-echarts canvas').length >= {CHART_COUNT}",
        timeout=timeout_ms,
    )


def current_week(page) -> int:
    """The week shown on the page (-1 before the first step)."""
    text = kpi(page, "week")
    match = re.match(r"(\d+)", text)
    return int(match.group(1)) if match else -1

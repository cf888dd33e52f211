"""How ``magshock viz`` starts the Solara server: command line and environment, nothing external.

Kept apart from the CLI so a test can check what the server is started with: telemetry and
the version check off, front-end assets only from this machine, kernels of closed tabs culled
after a minute (their models and Play threads end with them).

Assets: Solara serves its front-end files under ``/_solara/cdn`` from the ``solara-assets``
copy in the environment, and fetches a file it lacks from ``SOLARA_ASSETS_CDN``
(cdn.jsdelivr.net). ``SOLARA_ASSETS_PROXY=False`` would not keep that local: the page then
makes the *browser* load every asset from jsdelivr (measured with solara 1.58.2: blank page
offline). So the proxy stays on and its upstream is a closed loopback port: a missing file
is a quick local 404, never a request out.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Mapping
from pathlib import Path

KERNEL_CULL_TIMEOUT = "60s"  # a closed tab's session (model, Play thread) is released after this
OFFLINE_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # no telemetry to mixpanel / ipify
    "SOLARA_ASSETS_PROXY": "True",  # the browser loads assets from this server only
    "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/no-cdn/",  # ... which never fetches one from outside
    "SOLARA_KERNEL_CULL_TIMEOUT": KERNEL_CULL_TIMEOUT,
}
NO_AUTH_WARNING = (
    "warning: {host}:{port} is not loopback and the page has no authentication: "
    "anyone who can reach it can use it"
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback interface (127.0.0.0/8, ::1 or localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def solara_command(
    host: str, port: int, app_file: str | Path, python: str = sys.executable
) -> list[str]:
    """The ``solara run`` command line serving the page (production mode, no version check)."""
    return [
        python,
        "-m",
        "solara",
        "run",
        str(app_file),
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
    ]


def solara_env(
    base: Mapping[str, str], scenario_name: str, scenario_file: Path | None
) -> dict[str, str]:
    """The server's environment: ``base`` with the offline settings and the scenario to open.

    Args:
        base: the environment to start from (usually ``os.environ``).
        scenario_name: the scenario the page opens on (a library name).
        scenario_file: a scenario file outside the library chosen by the operator (offered on
            the page besides the library), or None; an inherited one is dropped.
    """
    env = {k: v for k, v in base.items() if k != "MAGSHOCK_VIZ_SCENARIO_FILE"}
    env.update(OFFLINE_ENV)
    env["MAGSHOCK_VIZ_SCENARIO"] = scenario_name
    if scenario_file is not None:
        env["MAGSHOCK_VIZ_SCENARIO_FILE"] = str(scenario_file.resolve())
    return env

"""What ``magshock viz`` starts Solara with: nothing leaves the machine, closed tabs are released."""

from __future__ import annotations

import subprocess
from urllib.parse import urlparse

import pytest
from typer.testing import CliRunner

pytest.importorskip("solara")

from experiments.cli import app
from simulation.scenario_io import SCENARIO_DIR

runner = CliRunner()


@pytest.fixture
def started(monkeypatch):
    """Run ``magshock viz`` without a server; return what it would have started."""
    calls: list[tuple[list[str], dict[str, str]]] = []

    def fake_call(cmd, env=None, **kwargs):
        calls.append((cmd, env))
        return 0

    monkeypatch.setattr(subprocess, "call", fake_call)
    monkeypatch.setenv("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "True")  # the caller's shell says on
    monkeypatch.setenv("MAGSHOCK_VIZ_SCENARIO_FILE", "/etc/passwd")  # left over in the shell

    def start(*args: str):
        result = runner.invoke(app, ["viz", *args])
        assert result.exit_code == 0, result.output
        (call,) = calls
        calls.clear()
        return result, *call

    return start


def test_viz_serves_with_telemetry_proxy_and_version_check_off(started):
    _result, cmd, env = started()
    assert cmd[1:4] == ["-m", "solara", "run"] and cmd[4].endswith("app.py")
    assert "--no-check-version" in cmd and "--production" in cmd and "--no-open" in cmd
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert env["SOLARA_ASSETS_PROXY"] == "True"  # off, the browser would load from jsdelivr
    assert urlparse(env["SOLARA_ASSETS_CDN"]).hostname == "127.0.0.1"  # never fetched outside
    assert env["SOLARA_KERNEL_CULL_TIMEOUT"] == "60s"  # a closed tab's session ends in a minute
    assert env["MAGSHOCK_VIZ_SCENARIO"] == "baseline_2025"
    assert "MAGSHOCK_VIZ_SCENARIO_FILE" not in env  # only a file named on this command line


def test_viz_offers_the_scenario_file_it_was_given(started):
    path = SCENARIO_DIR / "full_ban.toml"
    _result, _cmd, env = started(str(path))
    assert env["MAGSHOCK_VIZ_SCENARIO_FILE"] == str(path.resolve())


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_viz_on_loopback_prints_no_warning(started, host):
    result, cmd, _env = started("--host", host)
    assert "authentication" not in result.output
    assert cmd[cmd.index("--host") + 1] == host


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "example.org", "::"])
def test_viz_on_another_interface_warns_that_the_page_has_no_authentication(started, host):
    result, _cmd, _env = started("--host", host, "--port", "9001")
    warnings = [line for line in result.output.splitlines() if "no authentication" in line]
    assert len(warnings) == 1 and f"{host}:9001" in warnings[0], result.output

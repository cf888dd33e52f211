"""`agents`, `simulation` and `experiments` are common names on PyPI: they must come from here."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # fresh interpreters in subprocesses

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["agents", "simulation", "experiments"])
def test_package_imports_from_this_repository(name):
    module = importlib.import_module(name)
    assert Path(module.__file__).resolve().is_relative_to(REPO), module.__file__


def test_installed_environment_resolves_to_this_repository(tmp_path):
    # Run from a neutral folder: the installed environment (not pytest's sys.path) decides.
    code = (
        "import agents as a, simulation as s, experiments as e\n"
        "print(a.__file__, s.__file__, e.__file__)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert all(Path(f).resolve().is_relative_to(REPO) for f in proc.stdout.split())


def test_a_shadowing_agents_package_is_reported_clearly(tmp_path):
    fake = tmp_path / "fake" / "agents"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "fake")}
    proc = subprocess.run(
        [sys.executable, "-c", "from simulation import MagnetSupplyModel"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "shadowed by" in proc.stderr


def test_console_script_entry_point_is_ours():
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "magshock"]
    assert script.value == "experiments.cli:app"

"""`agents`, `simulation` and `experiments` are common names on PyPI: they must come from here."""

import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["agents", "simulation", "experiments"])
def test_package_imports_from_this_repository(name):
    module = importlib.import_module(name)
    assert Path(module.__file__).resolve().is_relative_to(REPO), module.__file__


def test_console_script_entry_point_is_ours():
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "magshock"]
    assert script.value == "experiments.cli:app"

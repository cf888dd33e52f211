"""docs/ODD.md stays honest: its code references resolve, its sections and agents are there."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import agents

REPO = Path(__file__).resolve().parent.parent
ODD = REPO / "docs" / "ODD.md"

PACKAGES = ("agents", "simulation", "experiments")
# A backticked span that is nothing but a dotted path into one of our packages.
DOTTED = re.compile(rf"^(?:{'|'.join(PACKAGES)})(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")
SECTIONS = (
    "Purpose and patterns",
    "Entities, state variables and scales",
    "Process overview and scheduling",
    "Design concepts",
    "Initialisation",
    "Input data",
    "Submodels",
)


def _text() -> str:
    return ODD.read_text(encoding="utf-8")


def _references(text: str) -> list[str]:
    """Every backticked dotted path into agents/simulation/experiments, in order, deduplicated."""
    refs = []
    for span in re.findall(r"`([^`\n]+)`", text):
        span = span.strip().removesuffix("()")
        if DOTTED.match(span) and span not in refs:
            refs.append(span)
    return refs


def _resolve(path: str) -> object:
    """Import the longest importable module prefix of ``path``, then getattr the rest."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        module_name = ".".join(parts[:i])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            # Only "this prefix is not a module" moves on; a broken import inside it is a bug.
            if err.name is not None and not module_name.startswith(err.name):
                raise
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(f"no importable prefix in {path!r}")


def test_odd_exists_and_has_references():
    assert ODD.is_file(), "docs/ODD.md is missing"
    assert len(_references(_text())) >= 50


@pytest.mark.parametrize(
    "path", _references(ODD.read_text(encoding="utf-8")) if ODD.is_file() else []
)
def test_reference_resolves(path):
    try:
        _resolve(path)
    except (ImportError, AttributeError) as err:
        pytest.fail(f"docs/ODD.md names `{path}`, which does not resolve: {err}")


@pytest.mark.parametrize("number, title", list(enumerate(SECTIONS, start=1)))
def test_odd_section_heading(number, title):
    pattern = rf"^##\s+{number}\.?\s+{re.escape(title)}\s*$"
    assert re.search(pattern, _text(), flags=re.MULTILINE), f"missing heading: ## {number}. {title}"


def test_sections_in_order():
    text = _text()
    positions = [
        re.search(rf"^##\s+{n}\.?\s+{re.escape(t)}", text, flags=re.MULTILINE)
        for n, t in enumerate(SECTIONS, start=1)
    ]
    assert all(positions)
    starts = [m.start() for m in positions]
    assert starts == sorted(starts)


@pytest.mark.parametrize("name", agents.__all__)
def test_agent_class_mentioned(name):
    assert re.search(rf"\b{re.escape(name)}\b", _text()), f"agent class {name} not in ODD.md"


def test_every_submodel_names_its_implementation():
    text = _text()
    submodels = text.split("\n## 7.", 1)[1]
    submodels = re.split(r"^## (?!7\.)", submodels, flags=re.MULTILINE)[0]
    blocks = re.split(r"^### ", submodels, flags=re.MULTILINE)[1:]
    assert len(blocks) >= 20
    for block in blocks:
        title = block.splitlines()[0]
        refs = _references(block)
        assert refs, f"submodel {title!r} names no implementing function"
        for ref in refs:
            _resolve(ref)

"""CITATION.cff is valid YAML with the fields a citation needs, and its version is the package's."""

from importlib.metadata import version
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def test_citation_file_is_complete_and_versioned():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert {"title", "authors", "version", "message", "license"} <= cff.keys()
    assert cff["version"] == version("magshock")


def test_license_file_matches_the_declared_license():
    """pyproject and CITATION.cff say MIT: the repository ships that licence's text."""
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["license"] == "MIT"

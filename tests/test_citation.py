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

"""Scenario files and the scenario library: reading TOML, ``extends`` chains, loading.

Files may ``extends = "other.toml"``: tables are merged key by key, arrays of tables
(``[[oems]]`` …) are replaced as a whole. A name that is not a path is looked up in the
library folder :data:`SCENARIO_DIR`. Any mistake raises
:class:`simulation.errors.ScenarioError` with one line naming the file, the key, the problem
and the allowed range.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from simulation.errors import ScenarioError, validate_scenario
from simulation.overrides import apply_overrides
from simulation.scenario import Scenario, default_name

REPO_ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = REPO_ROOT / "experiments" / "scenarios"
DEFAULT_SCENARIO = "baseline_2025.toml"
MAX_NESTING = 32  # levels of arrays/tables in a TOML file or value (deeper exhausts the stack)
MAX_EXTENDS = 32  # files in an ``extends`` chain


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            # A policy table of another kind replaces the base policy instead of merging into it.
            if key == "licensing" and value.get("kind", out[key].get("kind")) != out[key].get(
                "kind"
            ):
                out[key] = value
            else:
                out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def resolve_scenario_path(name: str | Path, relative_to: Path | None = None) -> Path:
    """Find a scenario file, then fall back to the scenario library.

    Args:
        name: a path, or a library name with or without ``.toml``.
        relative_to: for ``extends``: the folder of the file that extends. A relative name is
            then looked up there (never in the working directory), so a scenario resolves to
            the same files wherever it is run from.
    """
    path = Path(name)
    if relative_to is not None and not path.is_absolute():
        candidates = [relative_to / path]
    else:
        candidates = [path]
    if not path.is_absolute():
        candidates.append(SCENARIO_DIR / path)
        if path.suffix != ".toml":
            candidates.append(SCENARIO_DIR / f"{path}.toml")
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise ScenarioError(
        f"{name}: scenario file not found (looked in {', '.join(map(str, candidates))})"
    )


def parse_toml(text: str) -> dict[str, Any]:
    """Parse TOML text, refusing arrays/tables nested deeper than ``MAX_NESTING`` levels.

    Raises:
        tomllib.TOMLDecodeError: the text is not valid TOML.
        ScenarioError: nested too deeply (the parser would exhaust Python's stack).
    """
    too_deep = ScenarioError(f"arrays/tables nested too deeply (allowed: {MAX_NESTING} levels)")
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise too_deep from None
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_NESTING:
            raise too_deep
        children = value.values() if isinstance(value, dict) else value
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return data


def read_scenario_file(
    path: Path, chain: tuple[Path, ...] = ()
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Read a scenario file and its ``extends`` chain into one raw mapping (not validated).

    Returns:
        (merged raw mapping, [(path, verbatim text), ...] with the file first, bases after).

    Raises:
        ScenarioError: unreadable or broken file, missing parent, cyclic or too long chain.
    """
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(f"{chain[-1]}: extends: cyclic extends chain {cycle}")
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(
            f"{chain[0]}: extends: chain longer than {MAX_EXTENDS} files (allowed: 1-{MAX_EXTENDS})"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError(f"{path}: cannot read file: {err.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a UTF-8 text file") from None
    try:
        raw = parse_toml(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML: {err}") from None
    except ScenarioError as err:
        raise ScenarioError(f"{path}: {err}") from None
    sources = [(str(path), text)]
    parent = raw.pop("extends", None)
    if parent is None:
        return raw, sources
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}: extends: must be a file name (a string), got {parent!r}")
    try:
        parent_path = resolve_scenario_path(parent, relative_to=path.parent)
    except ScenarioError:
        raise ScenarioError(f"{path}: extends: file {parent!r} not found") from None
    base, base_sources = read_scenario_file(parent_path, (*chain, path))
    return _deep_merge(base, raw), sources + base_sources


def load_scenario(path: str | Path | None = None, **overrides: Any) -> Scenario:
    """Load, merge (``extends``), override and validate a scenario file.

    Args:
        path: file path, or a name in the scenario library (``"full_ban"``); None = baseline.
        **overrides: flat parameter overrides (see :func:`simulation.overrides.apply_overrides`).

    Returns:
        The validated :class:`Scenario`; ``scenario.sources`` keeps the verbatim file texts.

    Raises:
        ScenarioError: with a one-line message naming file, key and allowed range.

    Example:
        >>> s = load_scenario("full_ban", weeks=10)
        >>> s.licensing.kind, s.simulation.weeks
        ('ban', 10)
    """
    resolved = resolve_scenario_path(DEFAULT_SCENARIO if path is None else path)
    raw, sources = read_scenario_file(resolved, ())
    raw.setdefault("name", default_name(resolved.stem))
    label = str(path) if path is not None else str(resolved)
    try:
        data = apply_overrides(raw, overrides) if overrides else raw
    except ScenarioError as err:
        raise ScenarioError(f"{label}: {err}") from None
    scenario = validate_scenario(data, label)
    scenario._sources = sources
    return scenario

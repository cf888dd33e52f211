"""Atomic writes: a result appears whole or not at all (no heavy imports, used everywhere).

Replacing a folder is allowed only when magshock wrote everything in it: a result folder
(``magshock run`` / ``sweep``) carries a ``manifest.json`` naming magshock's version and holds
only the files magshock puts there; a derived folder (``report/``, ``analysis/``, ...) holds
only the files its writer makes. Anything else is refused, never deleted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from fnmatch import fnmatchcase
from pathlib import Path

MANIFEST = "manifest.json"
RESULT_ENTRIES = (
    MANIFEST,
    "steps.parquet",
    "runs.parquet",
    "agents.parquet",
    "design.parquet",
    "sweep.json",
    "parts",
    "report",
    "analysis",
    "discovery",
    "kpis.csv",
    ".*.tmp-*",  # left by an interrupted atomic write
)


class OutputExistsError(FileExistsError):
    """The output folder exists and may not be replaced (not asked for, or not ours)."""


def foreign_entries(folder: Path, patterns: tuple[str, ...]) -> list[str]:
    """Names in ``folder`` that match none of the glob ``patterns`` (sorted)."""
    return sorted(
        p.name for p in folder.iterdir() if not any(fnmatchcase(p.name, pat) for pat in patterns)
    )


def has_magshock_manifest(folder: Path) -> bool:
    """True if ``folder/manifest.json`` was written by magshock.

    The manifest of a run or sweep records ``versions.magshock``; a reference written by
    ``magshock reproduce --update`` records ``environment.magshock``.
    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    if not isinstance(manifest, dict):
        return False
    versions = manifest.get("versions") or manifest.get("environment")
    return isinstance(versions, dict) and "magshock" in versions


def check_replaceable(
    target: Path, overwrite: bool, entries: tuple[str, ...] | None = None
) -> None:
    """Refuse to write ``target`` if that would replace something magshock did not write.

    Args:
        target: the folder about to be written.
        overwrite: whether replacing an existing (non-empty) folder was asked for.
        entries: glob patterns of everything the writer puts in ``target`` (a derived folder
            such as ``report/``). None for a result folder, which must also carry a magshock
            ``manifest.json`` and hold only :data:`RESULT_ENTRIES`.

    Raises:
        OutputExistsError: ``target`` is a file; or a non-empty folder and ``overwrite`` is
            False, or it holds what magshock did not write (the message names it).
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputExistsError(f"{target}: is a file, not a folder; refusing to replace it")
    if not target.exists() or not any(target.iterdir()):
        return
    if not overwrite:
        raise OutputExistsError(
            f"{target}: output folder exists and is not empty (use --overwrite)"
        )
    others = foreign_entries(target, RESULT_ENTRIES if entries is None else entries)
    if others:
        what = f"it holds {', '.join(others[:3])}{' ...' if len(others) > 3 else ''}"
    elif entries is None and not has_magshock_manifest(target):
        what = "no magshock manifest.json"
    else:
        return
    raise OutputExistsError(
        f"{target}: not a magshock result ({what}); refusing to replace it: --overwrite only "
        "replaces folders magshock wrote"
    )


def _sibling(target: Path, tag: str) -> Path:
    return target.with_name(f".{target.name}.{tag}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


@contextmanager
def atomic_directory(
    target: Path, overwrite: bool = False, entries: tuple[str, ...] | None = None
) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success rename it to ``target`` in one step.

    On any exception the temporary folder is deleted and ``target`` is left untouched, so a
    crash never leaves half a result.

    Raises:
        OutputExistsError: see :func:`check_replaceable` (checked before anything is written).
    """
    target = Path(target)
    check_replaceable(target, overwrite, entries)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(target, "tmp")
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists():
        old = _sibling(target, "old")
        target.rename(old)
        tmp.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(target)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a file via a temporary sibling and an atomic rename."""
    tmp = _sibling(path, "tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


_TEMP_NAME = re.compile(r"^\..+\.(?:tmp|old)-(\d+)(?:-[0-9a-f]{8})?$")  # made by _sibling & co


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the temporaries a killed magshock process left under ``folder``.

    Only names made by our atomic writers (``.<name>.tmp-<pid>[-<hex8>]``,
    ``.<name>.old-<pid>-<hex8>``) whose writing process no longer runs are removed.

    Returns:
        The removed paths.
    """
    stale = [
        path
        for path in Path(folder).rglob(".*")
        if (match := _TEMP_NAME.match(path.name)) and not _process_alive(int(match[1]))
    ]
    for path in stale:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return stale

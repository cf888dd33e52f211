"""Atomic writes: a result appears whole or not at all (no heavy imports, used everywhere)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class OutputExistsError(FileExistsError):
    """The output folder already exists and overwriting was not asked for."""


def _sibling(target: Path, tag: str) -> Path:
    return target.with_name(f".{target.name}.{tag}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


@contextmanager
def atomic_directory(target: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success rename it to ``target`` in one step.

    On any exception the temporary folder is deleted and ``target`` is left untouched, so a
    crash never leaves half a result.

    Raises:
        OutputExistsError: if ``target`` exists (and is not empty) and ``overwrite`` is False.
    """
    target = Path(target)
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise OutputExistsError(
            f"{target}: output folder exists and is not empty (use --overwrite)"
        )
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

"""Atomic writes: a result appears whole or not at all (no heavy imports, used everywhere)."""

from __future__ import annotations

import os
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

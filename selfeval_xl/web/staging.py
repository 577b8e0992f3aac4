"""Stored files (named by hash) put under the names their senders gave them, in a private folder,
for the readers: a workbook checked under its own name (the messages name the file the coordinator
knows), a report under its real suffix (the reader sees its kind). Shared by ``work`` and ``reports``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .store import Workspace


def staged_path(folder: str | Path, i: int, name: str) -> Path:
    """Where ``check_items`` stages the i-th workbook of an upload in ``folder``."""
    return Path(folder) / str(i) / (name if name.lower().endswith((".xlsx", ".xlsm")) else name + ".xlsx")


def stage(ws: Workspace, sha: str, path: Path) -> Path:
    """A stored file under another name in a private folder: a hard link (no copy), or a copy
    where the file system has none. A name too long for a file name is shortened (whole
    characters, suffix kept): one long name must not fail a whole upload."""
    from ..files.outputs import NAME_BYTES, bounded_name

    if len(os.fsencode(path.name)) > NAME_BYTES:
        path = path.with_name(bounded_name(path.stem, path.suffix))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(ws.path_of(sha), path)
    except OSError:
        shutil.copyfile(ws.path_of(sha), path)
    return path

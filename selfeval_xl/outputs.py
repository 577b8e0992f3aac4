"""Every file the tool writes goes through here: atomically, with the user's permissions.

An output is written to a hidden temp file beside its target (``.~selfeval-…``) and renamed
over it only when complete, so a killed run never leaves half a workbook or report under
the real name. ``tempfile.mkstemp`` creates files 0600; the finished file gets the mode any
other program would give it (0666 less the umask), so a colleague on a shared folder can
open what the coordinator compiled.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

TEMP_PREFIX = ".~selfeval-"


@lru_cache(maxsize=1)
def _umask() -> int:
    mask = os.umask(0)  # the only way to read it; set back at once, before any file is made
    os.umask(mask)
    return mask


class PendingOutput:
    """A temp file beside ``path`` that becomes ``path`` on ``commit`` (for writers that stay
    open across many calls, such as 汇总表.xlsx filled unit by unit)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=self.path.suffix, dir=self.path.parent)
        os.close(fd)

    def commit(self) -> None:
        os.chmod(self.tmp, 0o666 & ~_umask())
        os.replace(self.tmp, self.path)

    def abandon(self) -> None:
        Path(self.tmp).unlink(missing_ok=True)


@contextmanager
def atomic_output(path: str | Path) -> Iterator[str]:
    """Yield a temp path beside ``path``; on success rename it to ``path``, else remove it."""
    pending = PendingOutput(path)
    try:
        yield pending.tmp
        pending.commit()
    except BaseException:
        pending.abandon()
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))

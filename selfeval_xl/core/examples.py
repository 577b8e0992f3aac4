"""Where the example roster and the seeds' data are (``examples/`` at the top of the repository).

A clone (or an editable install) reads them where they are; a wheel carries a copy inside the
package, ``selfeval_xl/examples/``, put there by the build (``setup.py``'s build_py), so an
installed ``selfeval-xl demo`` finds them with no source tree anywhere.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]


def examples_dir() -> Path:
    """The packaged copy when there is one (an installed wheel), else the repository's folder."""
    packaged = _PACKAGE / "examples"
    if (packaged / "roster.csv").is_file():
        return packaged
    return _PACKAGE.parent / "examples"

"""Only a build hook; the project's metadata is in pyproject.toml.

``examples/`` (the roster and the seeds' data) lives at the top of the repository, where a reader
of the project looks for it, and is also needed at run time by ``selfeval-xl demo`` from an
installed wheel. ``build_py`` copies it into the built package as ``selfeval_xl/examples/``
(``selfeval_xl.core.examples`` looks there first), so the wheel carries it without a second copy
in the source tree.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
EXAMPLE_FILES = ("roster.csv", "data/*.json")


class BuildWithExamples(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads examples/ where it is
        dest = Path(self.build_lib) / "selfeval_xl" / "examples"
        for pattern in EXAMPLE_FILES:
            for src in sorted((ROOT / "examples").glob(pattern)):
                target = dest / src.relative_to(ROOT / "examples")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, target)

    def get_outputs(self, include_bytecode=True):
        out = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return out
        dest = Path(self.build_lib) / "selfeval_xl" / "examples"
        return out + [str(dest / src.relative_to(ROOT / "examples"))
                      for pattern in EXAMPLE_FILES for src in sorted((ROOT / "examples").glob(pattern))]


setup(cmdclass={"build_py": BuildWithExamples})

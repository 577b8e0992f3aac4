"""The Python API (#13 item 7): the README's example runs as written, and each name is the very
function the CLI and the workspace use."""

from __future__ import annotations

import re
from pathlib import Path

import selfeval_xl

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_api_name_resolves_to_the_library_function():
    from selfeval_xl.jobs.checking import check_workbook
    from selfeval_xl.xlsx.write import write_workbook

    for name in selfeval_xl.__all__:
        obj = getattr(selfeval_xl, name)
        assert callable(obj) and obj.__module__.startswith("selfeval_xl."), name
    assert selfeval_xl.check_workbook is check_workbook and selfeval_xl.generate_workbook is write_workbook


def test_the_readme_example_runs(tmp_path, monkeypatch):
    """The ```python block under "Python 接口" in the README, executed in a scratch folder."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"### Python 接口.*?```python\n(.*?)```", text, re.S)
    assert block, "README has no Python API example"
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(block.group(1), "README.md", "exec"), scope)
    assert scope["result"]["status"] == "有错误" and "SUM-104" in [f["code"] for f in scope["result"]["flags"]]
    assert (tmp_path / "档案馆.xlsx").exists() and (tmp_path / "档案馆报告.docx").exists()

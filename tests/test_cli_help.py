"""The command line speaks Chinese throughout (#13 item 7): help, usage lines, type hints and the
errors Click/Typer raise themselves — as a clerk sees them, from the installed `selfeval-xl`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(sys.executable).parent / "selfeval-xl"
COMMANDS = ["profiles", "generate", "fill", "extract", "check", "annotate", "report", "serve", "examples", "demo"]
ENGLISH = ["Usage", "Show this message", "Options:", "Arguments:", "Commands:", "[required]", "<path>", "<int>",
           "<str>", "<float>", "list[", "Error:", "Try '", "default:", "Missing", "No such"]


def run(*args: str) -> str:
    env = dict(os.environ, COLUMNS="100")
    p = subprocess.run([str(CLI), *args], capture_output=True, text=True, env=env, timeout=60)
    return p.stdout + p.stderr


@pytest.mark.parametrize("command", [""] + COMMANDS)
def test_help_has_no_english_left(command):
    out = run(*([command] if command else []), "--help")
    assert "用法：" in out
    for word in ENGLISH:
        assert word not in out, (command, word, out)


def test_the_command_list_is_not_cut():
    out = run("--help")
    listed = [line for line in out.splitlines() if re.match(r"^\s{2}(" + "|".join(COMMANDS) + r")\s", line)]
    assert len(listed) == len(COMMANDS)
    assert not [line for line in listed if line.rstrip().endswith(("...", "…"))], listed


@pytest.mark.parametrize("args, said", [
    (["check"], "缺少参数"),
    (["check", "x", "--bogus"], "没有选项 --bogus"),
    (["generate", "名册.csv", "-o", "x", "--year", "abc"], "应为整数"),
    (["nosuch"], "没有命令"),
])
def test_usage_errors_are_in_chinese(args, said):
    out = run(*args)
    assert said in out and "错误：" in out, out
    for word in ENGLISH:
        assert word not in out, (args, word, out)


def test_fill_help_points_at_what_an_installed_user_has():
    """templates/ is not in the wheel: fill --help names a command that prints the format."""
    out = run("fill", "--help")
    assert "templates/department.schema.json" not in out and "fill --schema" in out
    import json

    p = subprocess.run([str(CLI), "fill", "--schema"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    schema = json.loads(p.stdout)
    assert "code" in schema["properties"] and "projects" in schema["properties"]


def test_demo_help_says_how_many_units_it_makes():
    out = run("demo", "--help").replace("\n", "").replace(" ", "")
    assert "三个单位" not in out
    assert "生成3个单位的空白模板" in out and "用5个示例单位" in out


def test_serve_help_names_the_default_port():
    out = run("serve", "--help")
    assert "8765" in out and "空闲端口" in out

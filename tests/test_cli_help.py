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
COMMANDS = ["profiles", "generate", "fill", "extract", "check", "annotate", "report", "serve", "demo"]
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

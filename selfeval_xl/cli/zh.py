"""Click and Typer in Chinese: their built-in words (Usage, Options, Show this message and exit,
[required], error messages) and the type hints they print (<path>, <int>, <list[Path]>).

Click marks these strings for gettext but ships no Chinese catalogue; its modules bind
``gettext`` as ``_`` at import, so each module's ``_`` (and ``ngettext``) is replaced with a
lookup in the table below — a string it does not know passes through unchanged. Imported by
``cli`` before the app is built.
"""

from __future__ import annotations

import click
import click.core
import typer.core

ZH = {
    "Usage:": "用法：",
    "Options": "选项",
    "Arguments": "参数",
    "Positional arguments": "参数",
    "Commands": "命令",
    "Show this message and exit.": "显示本帮助并退出。",
    "required": "必填",
    "[required]": "[必填]",
    "default: {default}": "默认：{default}",
    "(dynamic)": "（动态）",
    "env var: {var}": "环境变量：{var}",
    "Aborted!": "已中止。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行“{command} {option}”查看帮助。",
    "Invalid value: {message}": "无效的值：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing command.": "缺少命令。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such option: {name}": "没有选项：{name}",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Did you mean {possibility}?": "是不是 {possibility}？",
    "(Possible options: {possibilities})": "（可能是：{possibilities}）",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值。",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "unknown error": "未知错误",
    "{value!r} is not a valid integer.": "{value!r} 不是整数。",
    "{value!r} is not a valid float.": "{value!r} 不是数字。",
    "{value!r} is not a valid boolean.": "{value!r} 不是是/否值。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "File": "文件",
    "Directory": "文件夹",
    "Path": "路径",
}

# what Typer prints for a parameter's type, in words a clerk reads
TYPES = {"path": "路径", "int": "整数", "integer": "整数", "str": "文字", "text": "文字", "float": "数字",
         "list[Path]": "路径…", "list[path]": "路径…", "Path": "路径", "bool": "是/否", "boolean": "是/否"}


def _gettext(message: str) -> str:
    return ZH.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return ZH.get(singular if n == 1 else plural, singular if n == 1 else plural)


def install() -> None:
    import gettext
    import importlib
    import pkgutil
    import sys

    # Click, and the copy of Click that Typer vendors (typer._click): every module that bound
    # gettext as ``_`` (or ngettext) gets the table instead
    for pkg_name in ("click", "typer", "typer._click"):
        try:
            pkg = importlib.import_module(pkg_name)
        except ImportError:  # pragma: no cover - an older Typer without a vendored Click
            continue
        for info in pkgutil.iter_modules(pkg.__path__, pkg_name + "."):
            if info.name.endswith(("_winconsole", "__main__", "cli", "testing")) or info.name.startswith("typer._click._"):
                continue
            try:
                importlib.import_module(info.name)
            except Exception:  # noqa: BLE001 - optional modules (rich, shells) may not import here
                continue
    for name, mod in list(sys.modules.items()):
        if not (name == "click" or name.startswith(("click.", "typer."))):
            continue
        if getattr(mod, "_", None) is gettext.gettext:
            mod._ = _gettext
        if getattr(mod, "ngettext", None) is gettext.ngettext:
            mod.ngettext = _ngettext

    # <path>, <int>, <list[Path]>: in Chinese
    mixin = next((c for c in typer.core.TyperArgument.__mro__ if "display_type" in c.__dict__), None)
    if mixin is not None and not getattr(mixin.display_type, "_zh", False):
        original = mixin.display_type

        def display_type(self, ctx):
            text = original(self, ctx)
            if not text:
                return text
            inner = text.strip("<>")
            return f"<{TYPES.get(inner, inner)}>" if text.startswith("<") else TYPES.get(text, text)

        display_type._zh = True
        mixin.display_type = display_type

    install_vendored()
    # the usage line: [OPTIONS], COMMAND [ARGS]... — on every class that builds one
    import typer._click.core as vendored

    classes = {click.core.Command, vendored.Command, typer.core.TyperGroup, typer.core.TyperCommand}
    classes |= {c for c in (getattr(click.core, "Group", None), getattr(vendored, "Group", None)) if c}
    for cls in classes:
        own = cls.__dict__.get("collect_usage_pieces")
        if own is None or getattr(own, "_zh", False):
            continue

        def wrapped(self, ctx, _own=own):
            return [_USAGE.get(p, p) for p in _own(self, ctx)]

        wrapped._zh = True
        cls.collect_usage_pieces = wrapped


_USAGE = {"[OPTIONS]": "[选项]", "COMMAND [ARGS]...": "命令 [参数]..."}


# Typer vendors its own Click (typer._click) whose words are plain English literals, not gettext:
# its usage prefix, its help option and its error messages are translated here.
_MESSAGES = (
    (r"^Missing argument '(.+)'\.$", r"缺少参数“\1”。"),
    (r"^Missing option '(.+)'\.$", r"缺少选项 \1。"),
    (r"^Missing parameter: (.+)$", r"缺少参数：\1"),
    (r"^No such option: (\S+)(?: \(Possible options: (.+)\))?$", None),
    (r"^No such command '(.+)'\.$", r"没有命令“\1”。"),
    (r"^Got unexpected extra arguments? \((.+)\)$", r"多余的参数（\1）"),
    (r"^Invalid value for (.+?): Input should be a valid integer.*$", r"\1 的值应为整数。"),
    (r"^Invalid value for (.+?): Input should be a valid number.*$", r"\1 的值应为数字。"),
    (r"^Invalid value for '(.+)': '(.+)' is not a valid integer\.?$", r"\1 的值“\2”不是整数。"),
    (r"^Invalid value for '(.+)': '(.+)' is not a valid float\.?$", r"\1 的值“\2”不是数字。"),
    (r"^Invalid value for '(.+)': (.+)$", r"\1 的值无效：\2"),
    (r"^Option '(.+)' requires an argument\.$", r"选项 \1 需要一个值。"),
    (r"^Option '(.+)' does not take a value\.$", r"选项 \1 不带值。"),
    (r"^Missing command\.$", "缺少命令。"),
)


def translate(message: str) -> str:
    import re

    for pattern, repl in _MESSAGES:
        m = re.match(pattern, message, re.S)
        if m:
            if repl is None:  # No such option
                return f"没有选项 {m[1]}" + (f"（可能是：{m[2]}）" if m[2] else "")
            return m.expand(repl)
    return message


def install_vendored() -> None:
    try:
        import typer._click.core as vcore
        import typer._click.exceptions as vexc
        import typer._click.formatting as vfmt
        from typer._click.utils import echo
    except ImportError:  # pragma: no cover - a Typer that uses Click itself
        return
    if getattr(vfmt.HelpFormatter.write_usage, "_zh", False):
        return

    write_usage = vfmt.HelpFormatter.write_usage

    def zh_write_usage(self, prog, args="", prefix=None):
        return write_usage(self, prog, args, "用法：" if prefix is None else prefix)

    zh_write_usage._zh = True
    vfmt.HelpFormatter.write_usage = zh_write_usage

    get_help_option = vcore.Command.get_help_option

    def zh_get_help_option(self, ctx):
        opt = get_help_option(self, ctx)
        if opt is not None:
            opt.help = "显示本帮助并退出。"
        return opt

    vcore.Command.get_help_option = zh_get_help_option

    def click_show(self, file=None):
        from typer._click._compat import get_text_stderr

        echo(f"错误：{translate(self.format_message())}", file=file or get_text_stderr(), color=self.show_color)

    def usage_show(self, file=None):
        from typer._click._compat import get_text_stderr

        file = file or get_text_stderr()
        color = None
        if self.ctx is not None:
            color = self.ctx.color
            hint = ""
            if self.ctx.command.get_help_option(self.ctx) is not None:
                hint = f"运行“{self.ctx.command_path} {self.ctx.help_option_names[0]}”查看帮助。\n"
            echo(f"{self.ctx.get_usage()}\n{hint}", file=file, color=color)
        echo(f"错误：{translate(self.format_message())}", file=file, color=color)

    vexc.ClickException.show = click_show
    vexc.UsageError.show = usage_show

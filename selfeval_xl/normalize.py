"""Numbers the way clerks type them: full-width digits, thousands separators, a trailing 万元,
stray spaces, numbers stored as text. What cannot be read is reported, never guessed."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_FW = str.maketrans("０１２３４５６７８９．－＋，", "0123456789.-+,")
_SPACES = re.compile(r"[\s\u3000\u00a0\u2002\u2003\u2009\u200b]+")
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_SUFFIXES = {"money": ("万元",), "score": ("分",), "weight": ("分",), "int": ("人",), "area": ("㎡", "平方米", "m2")}


@dataclass(frozen=True)
class Parsed:
    value: float | None
    ok: bool
    note: str = ""  # non-empty when the raw value needed normalising (for an info flag)


def parse_number(raw: object, vtype: str) -> Parsed:
    if raw is None:
        return Parsed(None, True)
    if isinstance(raw, bool) or isinstance(raw, (dt.date, dt.datetime, dt.time)):
        return Parsed(None, False)
    if isinstance(raw, (int, float)):
        return Parsed(float(raw), True)
    text = str(raw)
    t = _SPACES.sub("", text.translate(_FW))
    if t == "":
        return Parsed(None, True, "" if text == "" else "只有空格，按空白处理")
    if t in ("-", "—", "——", "/", "无"):
        return Parsed(None, True, f"“{text}”按空白处理")
    for suffix in _SUFFIXES.get(vtype, ()):
        if t.endswith(suffix):
            t = t[: -len(suffix)]
            break
    if not _NUMBER.match(t):
        return Parsed(None, False)
    value = float(t.replace(",", ""))
    return Parsed(value, True, f"以文本形式存储的“{text}”已按数字 {value:g} 读取")

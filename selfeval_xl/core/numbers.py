"""Numbers in and out: the one place that reads and writes a figure.

* ``parse_number`` reads numbers the way clerks type them — full-width digits, thousands
  separators, a trailing 万元, stray spaces, numbers stored as text. What cannot be read is
  reported, never guessed.
* ``xl_round`` / ``xl_text`` are Excel's ROUND and number-to-text, which the formula
  language and the scoring rules share.
* ``fmt_*`` write figures into messages and reports the way the official forms print them.
* ``parse_date`` reads a date the way spreadsheets and clerks leave it (a datetime, an Excel
  serial number, "2024-03-05", "2024/3/5", "2024年3月5日", "2024.3.5"); the model keeps it as
  ISO text (``iso_date``), a workbook as a serial (``date_serial``), a report prints ``fmt_date``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# full-width digits and signs, and the minus signs of other input methods (U+2212, U+FE63)
_FW = str.maketrans("０１２３４５６７８９．－＋，−﹣％", "0123456789.-+,--%")
_SPACES = re.compile(r"[\s\u3000\u00a0\u2002\u2003\u2009\u200b]+")
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_SUFFIXES = {"money": ("万元",), "score": ("分",), "weight": ("分",), "int": ("人",), "area": ("㎡", "平方米", "m2"),
             "percent": ("%",)}


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


# -- Excel's conversions ------------------------------------------------------------------------

def xl_round(x: float, digits: int) -> float:
    """Excel's ROUND: half away from zero, on the value as Excel sees it (15 digits)."""
    d = Decimal(format(x, ".15g"))
    q = Decimal(1).scaleb(-digits)
    sign = -1 if d < 0 else 1
    return float(sign * abs(d).quantize(q, rounding=ROUND_HALF_UP))


def xl_text(x: float | str | bool | None) -> str:
    """A value as Excel writes it inside ``"..."&value`` (numbers with 15 significant digits)."""
    if x is None:
        return ""
    if isinstance(x, bool):
        return "TRUE" if x else "FALSE"
    if isinstance(x, (int, float)):
        s = format(x, ".15g")
        if "e" in s:  # Excel: 1E+16, 1E-07
            mant, exp = s.split("e")
            s = f"{mant}E{exp[0]}{int(exp[1:]):02d}"
        return s
    return x


# -- writing figures ---------------------------------------------------------------------------

def fmt_money(x: float | None) -> str:
    """万元 with two decimals, or three where the figure has them (the seeds print 440.083)."""
    if x is None:
        return ""
    s = f"{x:.3f}"
    return s[:-1] if s.endswith("0") else s


def fmt_pct(x: float | None, places: int = 2) -> str:
    """A rate (0.9834) as the forms print it: 98.34% (``places`` decimals of a percent: a region's
    execution rate is shown as it is rounded, ``Scoring.rate_places``: 0 → 98%)."""
    return "" if x is None else f"{x * 100:.{places}f}%"


def fmt_num(x: float | None, places: int = 2) -> str:
    """A score, weight or count: at most ``places`` decimals, no trailing zeros (8, 7.5, 98.34)."""
    if x is None:
        return ""
    return f"{x:.{places}f}".rstrip("0").rstrip(".")


def share(part: float | None, whole: float | None) -> str:
    """part ÷ whole as a percentage, or "" when the whole is zero or blank."""
    if part is None or not whole:
        return ""
    return f"{part / whole * 100:.2f}%"


# -- dates ---------------------------------------------------------------------------------------

EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 0 (Excel's 1900 system, past its 29 Feb 1900)
# the dates a date input accepts (its data validation says the same)
DATE_MIN, DATE_MAX = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                        r"(?:[T\s]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATE_FW = str.maketrans("０１２３４５６７８９．－／：", "0123456789.-/:")


def parse_date(raw: object) -> dt.date | None:
    """A date as a spreadsheet or a clerk leaves it, or None when it is none: a datetime (the
    time dropped), an Excel serial number, or text — 2024-03-05, 2024/3/5, 2024.3.5,
    2024年3月5日 (full-width digits too), 20240305, an ISO timestamp. A day that does not
    exist (2024-02-30) is no date."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, (int, float)):
        if not (raw == raw and 1 <= raw < 2958466):  # NaN; Excel's last day is 9999-12-31
            return None
        return from_serial(raw)
    text = _SPACES.sub(" ", str(raw).translate(_DATE_FW)).strip()
    m = _DATE_TEXT.match(text) or _DATE_DIGITS.match(text)
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def from_serial(serial: float) -> dt.date:
    """The day of an Excel serial number (its fraction, a time of day, dropped)."""
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


def date_serial(day: dt.date) -> int:
    """The Excel serial number of a day (what a date cell stores)."""
    return (day - EXCEL_EPOCH).days


def iso_date(day: dt.date) -> str:
    """A day as the model keeps it: 2024-03-05."""
    return day.isoformat()


def fmt_date(x: object) -> str:
    """A date as the forms print it: 2024年3月5日; text that is no date as it is."""
    day = parse_date(x) if x not in (None, "") else None
    if day is None:
        return "" if x is None else str(x)
    return f"{day.year}年{day.month}月{day.day}日"

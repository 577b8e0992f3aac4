"""One formula language for the workbook and for Python: a small subset of Excel.

A derived cell is declared once, as an Excel formula whose references name model keys —
``=IF(N({b})>0,ROUND({a}/{b},2),"")``. ``Layout.render`` turns the ``{key}`` references into
A1 addresses for the workbook; this module compiles the same text into Python and evaluates
it with Excel's semantics, so the recompute a returned workbook is checked against cannot
drift from the formula the clerk saw. A LibreOffice test holds the two equal.

Only what the forms need is supported, and anything else is refused when a region is
compiled (``FormulaError`` names the formula), never at check time:

* numbers, "strings" ("" escapes a quote), TRUE/FALSE, ``{key}`` references, parentheses;
* operators ``+ - * / & = <> < > <= >=`` and unary minus, with Excel's precedence;
* functions ABS AND CLEAN COUNT IF ISBLANK ISNUMBER ISTEXT LEN MAX MIN N NOT OR ROUND
  SUBSTITUTE SUM TRIM.

Values are ``float``, ``str``, ``bool`` and ``None`` (a blank cell). As in Excel: a blank
is 0 in arithmetic and "" in text; SUM, COUNT, MIN and MAX skip text and blanks given as
references; ROUND is half away from zero on the 15-digit value; a number joined to text is
written with 15 significant digits; errors (``#DIV/0!``, ``#VALUE!``) propagate.

A region can be hostile (a unit edits the copy its workbook carries), so everything is
bounded (``core.region.Limits``): a formula's length, nesting and steps are refused when it
is compiled; when it is evaluated, a non-finite number is ``#NUM!`` (as Excel), a text
longer than a cell holds is ``#VALUE!`` (as Excel), and the text one sheet's evaluation
creates is capped — never a crash or gigabytes of memory.
"""

from __future__ import annotations

import math
import re
import threading
from decimal import Decimal
from typing import Any, Callable

from ..core.numbers import xl_round, xl_text  # noqa: F401  (ROUND, and numbers joined to text)
from ..core.region import Limits
from .keys import key_of

Value = float | str | bool | None


class FormulaError(ValueError):
    """A formula outside the supported subset; the message quotes it."""


class XlError(Exception):
    """An Excel error value raised while evaluating (#DIV/0!, #VALUE!); the cell shows it."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _num(x: Value) -> float:
    """A value in arithmetic: blank 0, TRUE 1, numeric text its number, other text #VALUE!
    (Python's float() also reads "inf", "nan" and "1_000", which Excel does not)."""
    if x is None:
        return 0.0
    if isinstance(x, bool):
        return 1.0 if x else 0.0
    if isinstance(x, (int, float)):
        return float(x)
    t = x.strip()
    if not t or "_" in t or len(t) > 400:
        raise XlError("#VALUE!")
    try:
        v = float(t)
    except ValueError:
        raise XlError("#VALUE!") from None
    if not math.isfinite(v):
        raise XlError("#VALUE!" if t.lstrip("+-")[:1].isalpha() else "#NUM!")
    return v


def _finite(v: float) -> float:
    """A result Excel can hold: beyond ±1.8e308 (inf) or undefined (nan) is #NUM!."""
    if v - v != 0.0:  # inf or nan, without a call
        raise XlError("#NUM!")
    return v


# -- text: no value longer than a cell holds, and a budget for the text one run creates -------

_TEXT = threading.local()


def _text(s: str) -> str:
    """A text result, charged to the running sheet's budget (``Limits.TEXT_CHARS_PER_SHEET``)."""
    n = len(s)
    if n > Limits.TEXT_CHARS:
        raise XlError("#VALUE!")
    if n > 64:  # short texts are bounded by the number of steps already
        left = getattr(_TEXT, "left", Limits.TEXT_CHARS_PER_SHEET) - n
        if left < 0:
            raise XlError("#VALUE!")
        _TEXT.left = left
    return s


def _new_run() -> None:
    _TEXT.left = Limits.TEXT_CHARS_PER_SHEET


def _raise(code: str):
    raise XlError(code)


_NUMBER_TYPES = frozenset((float, int))


def _is_number(x: Value) -> bool:
    return type(x) in _NUMBER_TYPES  # not bool, which Excel does not count as a number


def _compare(a: Value, b: Value) -> int:
    """Excel's ordering: blank takes the other side's type; numbers < text < booleans;
    text compares case-insensitively."""
    if a is None:
        a = "" if isinstance(b, str) else (False if isinstance(b, bool) else 0.0)
    if b is None:
        b = "" if isinstance(a, str) else (False if isinstance(a, bool) else 0.0)
    rank = lambda v: 2 if isinstance(v, bool) else (1 if isinstance(v, str) else 0)  # noqa: E731
    ra, rb = rank(a), rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == 1:
        a, b = a.lower(), b.lower()
    return (a > b) - (a < b)


# -- functions: each receives its arguments as (value, came_from_reference) pairs -------------

def _numbers(args, strict: bool) -> list[float]:
    out = []
    for v, is_ref in args:
        if _is_number(v):
            out.append(float(v))
        elif is_ref or v is None:
            continue  # text and blanks in references are skipped
        elif strict:
            out.append(_num(v))
    return out


def f_sum(*args):
    total = 0.0
    for x in _numbers(args, True):
        total += x
    return _finite(total)


def f_count(*args):
    n = 0
    for v, _ in args:
        if type(v) in _NUMBER_TYPES:
            n += 1
    return float(n)


def f_min(*args):
    xs = _numbers(args, True)
    return min(xs) if xs else 0.0


def f_max(*args):
    xs = _numbers(args, True)
    return max(xs) if xs else 0.0


def f_abs(x):
    return abs(_num(x))


def f_round(x, d):
    """Excel's ROUND, for any decimals: beyond the 15 significant digits Excel keeps, the
    value is already round (``xl_round`` would need more digits than Decimal's context)."""
    v, n = _finite(_num(x)), _finite(_num(d))
    n = int(max(-400.0, min(400.0, n)))  # truncated toward zero, as Excel does
    dec = Decimal(format(v, ".15g"))
    if -dec.as_tuple().exponent <= n:
        return float(dec)
    return _finite(xl_round(v, n))


def f_n(x):
    return float(x) if _is_number(x) else (1.0 if x is True else 0.0)


def f_isnumber(x):
    return _is_number(x)


def f_istext(x):
    return isinstance(x, str)


def f_isblank(x):
    return x is None


def f_len(x):
    return float(len(xl_text(x)))


def f_trim(x):
    return _text(" ".join(p for p in _text(xl_text(x)).split(" ") if p))


def f_clean(x):
    return _text("".join(ch for ch in _text(xl_text(x)) if ord(ch) >= 32))


def f_substitute(text, old, new):
    t, o = xl_text(text), xl_text(old)
    if not o:
        return _text(t)
    w = xl_text(new)
    if len(w) > len(o) and len(t) + t.count(o) * (len(w) - len(o)) > Limits.TEXT_CHARS:
        raise XlError("#VALUE!")  # refused before it is built: nested, it once asked for gigabytes
    return _text(t.replace(o, w))


def _truth(x: Value) -> bool:
    if x is True or x is False:
        return x
    if x is None:
        return False
    if isinstance(x, bool):
        return x
    if _is_number(x):
        return x != 0
    up = x.strip().upper()
    if up in ("TRUE", "FALSE"):
        return up == "TRUE"
    raise XlError("#VALUE!")


def f_and(*args):
    return all([_truth(v) for v in args])


def f_or(*args):
    return any([_truth(v) for v in args])


def f_not(x):
    return not _truth(x)


# aggregates see (value, came_from_reference) pairs: they skip text only when it is referenced
_AGGREGATES = {"SUM", "COUNT", "MIN", "MAX"}

FUNCTIONS: dict[str, tuple[Callable, int, int]] = {  # name: (function, min args, max args)
    "SUM": (f_sum, 1, 255), "COUNT": (f_count, 1, 255), "MIN": (f_min, 1, 255), "MAX": (f_max, 1, 255),
    "ABS": (f_abs, 1, 1), "ROUND": (f_round, 2, 2), "N": (f_n, 1, 1), "ISNUMBER": (f_isnumber, 1, 1),
    "ISTEXT": (f_istext, 1, 1), "ISBLANK": (f_isblank, 1, 1), "LEN": (f_len, 1, 1), "TRIM": (f_trim, 1, 1),
    "CLEAN": (f_clean, 1, 1), "SUBSTITUTE": (f_substitute, 3, 3), "AND": (f_and, 1, 255),
    "OR": (f_or, 1, 255), "NOT": (f_not, 1, 1),
}


def arith(op: str, a: Value, b: Value) -> float:
    x, y = _num(a), _num(b)
    if op == "+":
        r = x + y
    elif op == "-":
        r = x - y
    elif op == "*":
        r = x * y
    elif y == 0:
        raise XlError("#DIV/0!")
    else:
        r = x / y
    if r - r != 0.0:  # inf or nan: Excel's #NUM!
        raise XlError("#NUM!")
    return r


def concat(a: Value, b: Value) -> str:
    a, b = xl_text(a), xl_text(b)
    if len(a) + len(b) > 64:
        return _text(a + b) if len(a) + len(b) <= Limits.TEXT_CHARS else _raise("#VALUE!")
    return a + b


_CMP = {"=": lambda c: c == 0, "<>": lambda c: c != 0, "<": lambda c: c < 0, ">": lambda c: c > 0,
        "<=": lambda c: c <= 0, ">=": lambda c: c >= 0}


def compare(op: str, a: Value, b: Value) -> bool:
    if type(a) is float and type(b) is float:  # the common case, without Excel's type ordering
        c = (a > b) - (a < b)
    else:
        c = _compare(a, b)
    return _CMP[op](c)


def if_(cond: Value) -> bool:
    return _truth(cond)


# -- parsing to Python source ---------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+)
  | (?P<str>"(?:[^"]|"")*")
  | (?P<ref>\{[^{}]+\})
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op><=|>=|<>|[-+*/&=<>(),])
""", re.VERBOSE)


def tokenize(src: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m:
            raise FormulaError(f"公式 {src} 在第 {pos + 1} 个字符处无法识别：{src[pos:pos + 10]}")
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
    return out


class _Parser:
    """Recursive descent with Excel's precedence: comparison < & < + - < * / < unary minus.

    Each node becomes (python source, is_reference): references matter to SUM and friends,
    which skip text given as a reference but not text given as a literal.
    """

    def __init__(self, src: str):
        if len(src) > Limits.FORMULA_CHARS * 4:  # generated totals are long, but not this long
            raise FormulaError(f"公式 {src[:60]}… 有 {len(src)} 个字符，超过上限 {Limits.FORMULA_CHARS * 4}")
        self.src = src
        self.toks = tokenize(src)
        self.i = 0
        self.refs: list[str] = []
        self.level = 0  # how deep the parser is (each level a few Python frames)
        self.steps = 0  # functions, operators and operands: the work of one evaluation

    def _deeper(self) -> None:
        self.level += 1
        if self.level > Limits.FORMULA_DEPTH:
            raise FormulaError(f"公式 {self._short()} 嵌套超过 {Limits.FORMULA_DEPTH} 层（Excel 也只允许 64 层），请拆分或改用 SUM")

    def _short(self) -> str:
        return self.src if len(self.src) <= 80 else self.src[:60] + "…"

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        t = self.peek()
        if t is None or (value is not None and t[1] != value):
            want = f"“{value}”" if value else "更多内容"
            raise FormulaError(f"公式 {self.src} 不完整：此处应有{want}")
        self.i += 1
        return t

    def parse(self) -> str:
        src = self.comparison()[0]
        if self.peek() is not None:
            raise FormulaError(f"公式 {self._short()} 在“{self.peek()[1]}”处多出内容")
        return src

    def _node(self, left, right, src: str):
        """A binary operator's node: one level deeper than its deeper operand (a long chain
        ``a+b+c+…`` nests in the Python it compiles to)."""
        depth = max(left[2], right[2]) + 1
        if depth > Limits.FORMULA_DEPTH:
            raise FormulaError(f"公式 {self._short()} 嵌套超过 {Limits.FORMULA_DEPTH} 层（连续的运算也算一层），请改用 SUM 或拆分")
        self.steps += 1
        return (src, False, depth)

    def comparison(self):
        self._deeper()
        left = self.concat()
        while (t := self.peek()) and t[1] in _CMP:
            self.take()
            right = self.concat()
            left = self._node(left, right, f"compare({t[1]!r},{left[0]},{right[0]})")
        self.level -= 1
        return left

    def concat(self):
        left = self.additive()
        while (t := self.peek()) and t[1] == "&":
            self.take()
            right = self.additive()
            left = self._node(left, right, f"concat({left[0]},{right[0]})")
        return left

    def additive(self):
        left = self.term()
        while (t := self.peek()) and t[1] in "+-" and t[0] == "op":
            self.take()
            right = self.term()
            left = self._node(left, right, f"arith({t[1]!r},{left[0]},{right[0]})")
        return left

    def term(self):
        left = self.unary()
        while (t := self.peek()) and t[1] in "*/" and t[0] == "op":
            self.take()
            right = self.unary()
            left = self._node(left, right, f"arith({t[1]!r},{left[0]},{right[0]})")
        return left

    def unary(self):
        t = self.peek()
        if t and t[1] in ("-", "+") and t[0] == "op":
            self.take()
            self._deeper()
            inner = self.unary()
            self.level -= 1
            self.steps += 1
            return (f"arith('-',0.0,{inner[0]})" if t[1] == "-" else f"_num({inner[0]})"), False, inner[2] + 1
        return self.primary()

    def primary(self):
        t = self.take()
        kind, text = t
        self.steps += 1
        if kind == "num":
            v = float(text)
            if not math.isfinite(v) or (v != 0 and abs(v) < 1e-300):
                raise FormulaError(f"公式 {self._short()} 中的数字 {text} 超出范围")
            return repr(v), False, 0
        if kind == "str":
            if len(text) - 2 > Limits.TEXT_CHARS:
                raise FormulaError(f"公式 {self._short()} 中的文字超过 {Limits.TEXT_CHARS} 个字")
            return repr(text[1:-1].replace('""', '"')), False, 0
        if kind == "ref":
            key = _key(text[1:-1])  # the layout's Key object: lookups by it are identity hits
            self.refs.append(key)
            return f"g({key!r})", True, 0
        if kind == "op" and text == "(":
            inner = self.comparison()
            self.take(")")
            return inner[0], False, inner[2]
        if kind == "name":
            up = text.upper()
            if up in ("TRUE", "FALSE") and not (self.peek() and self.peek()[1] == "("):
                return repr(up == "TRUE"), False, 0
            return self.call(up)
        raise FormulaError(f"公式 {self._short()} 在“{text}”处无法识别")

    def call(self, name: str):
        self.take("(")
        args: list[tuple[str, bool, int]] = []
        if self.peek() and self.peek()[1] != ")":
            while True:
                args.append(self.comparison())
                if self.peek() and self.peek()[1] == ",":
                    self.take()
                    continue
                break
        self.take(")")
        # AND/OR and IF wrap their arguments in two levels of Python parentheses
        depth = max((a[2] for a in args), default=0) + (2 if name in ("IF", "AND", "OR") else 1)
        if depth > Limits.FORMULA_DEPTH:
            raise FormulaError(f"公式 {self._short()} 嵌套超过 {Limits.FORMULA_DEPTH} 层（Excel 也只允许 64 层），请拆分")
        if name == "IF":
            if not 2 <= len(args) <= 3:
                raise FormulaError(f"公式 {self._short()} 中 IF 需要 2 或 3 个参数")
            other = args[2][0] if len(args) == 3 else "False"
            return f"({args[1][0]} if if_({args[0][0]}) else {other})", False, depth
        if name not in FUNCTIONS:
            raise FormulaError(f"公式 {self._short()} 使用了不支持的函数 {name[:40]}（可用：IF、{'、'.join(sorted(FUNCTIONS))}）")
        _fn, lo, hi = FUNCTIONS[name]
        if not lo <= len(args) <= hi:
            raise FormulaError(f"公式 {self._short()} 中 {name} 的参数个数不对")
        if name == "ROUND":
            _round_decimals(args[1][0], self._short())
        if name == "ISNUMBER":  # inlined: the commonest test of the hint formulas
            return f"(type({args[0][0]}) in _NUMBER_TYPES)", False, depth
        if name in ("AND", "OR"):  # every argument evaluated, as Excel does (no short cut)
            joiner = " & " if name == "AND" else " | "
            return "(" + joiner.join(f"_truth({a[0]})" for a in args) + ")", False, depth
        if name in _AGGREGATES:
            if any(a[0].startswith(("'", '"')) for a in args):
                raise FormulaError(f"公式 {self._short()} 中 {name} 的参数不能是文字（Excel 与 LibreOffice 对此结果不同）")
            inner = ",".join(f"({a[0]},{a[1]})" for a in args)
        else:
            inner = ",".join(a[0] for a in args)
        return f"f_{name.lower()}({inner})", False, depth


def _round_decimals(py: str, formula: str) -> None:
    """ROUND's decimals, when written as a number, within what Excel keeps (15 digits)."""
    neg = py.startswith("arith('-',0.0,") and py.endswith(")")
    lit = py[len("arith('-',0.0,"):-1] if neg else py
    try:
        d = float(lit)
    except ValueError:
        return  # computed: clamped when evaluated
    d = -d if neg else d
    if abs(d) > Limits.ROUND_DECIMALS:
        raise FormulaError(f"公式 {formula} 中 ROUND 的小数位数 {_fmt_decimals(d)} 超出范围"
                           f"（应在 -{Limits.ROUND_DECIMALS} 到 {Limits.ROUND_DECIMALS} 之间）")


def _fmt_decimals(d: float) -> str:
    return str(int(d)) if d == int(d) else repr(d)


_NAMESPACE = {name: obj for name, obj in globals().items()
              if name.startswith("f_") or name in ("arith", "concat", "compare", "if_", "_num", "_truth", "_NUMBER_TYPES")}


def _too_many_steps(steps: int) -> FormulaError:
    return FormulaError(f"一张表的公式共有 {steps} 步运算，超过上限 {Limits.STEPS_PER_SHEET} 步（公式过多或过长）")


def dependency_order(refs: dict[str, tuple[str, ...]]) -> list[str]:
    """Keys ordered so that each comes after the keys of ``refs`` it reads; references to keys
    outside ``refs`` are inputs. A cycle is refused, naming it."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = placed

    def visit(key: str, chain: tuple[str, ...]) -> None:
        st = state.get(key)
        if st == 2:
            return
        if st == 1:
            path = chain[chain.index(key):] + (key,) if key in chain else chain + (key,)
            e = FormulaError("公式循环引用：" + " → ".join(path))
            e.cycle = path  # the keys of the cycle, for a message naming where each is written
            raise e
        state[key] = 1
        for ref in refs[key]:
            if ref in refs:
                visit(ref, chain + (key,))
        state[key] = 2
        order.append(key)

    for key in refs:
        visit(key, ())
    return order


def _key(text: str) -> str:
    """A reference's key as the layout holds it (the same ``Key`` object), else the text."""
    return key_of(text) or text


def _keyed(fn: Callable, keys: set[str]) -> Callable:
    """``fn`` with the keys its code names as constants made the layout's ``Key`` objects.

    Generated code spells keys as string literals; the values it reads and writes are keyed by
    the cells' ``Key`` objects. A literal equal to a key but another object is found through a
    full comparison on every lookup, and mixing the two kinds in one dict slows every lookup of
    it; with the constants being the keys themselves each lookup is an identity hit.
    """
    code = fn.__code__
    fn.__code__ = code.replace(co_consts=tuple(_key(c) if type(c) is str and c in keys else c for c in code.co_consts))
    return fn


class Program:
    """Many formulas compiled into one Python function, evaluated in dependency order.

    Formulas that read other formulas of the program are placed after them once, when the
    program is built; references to anything else (inputs, other programs' results) are
    read from the values as they are. Evaluating a unit is then straight-line code over one
    dict of values. Layouts build one program per sheet and share it between units.
    """

    def __init__(self, formulas: dict[str, str]):
        parsed: dict[str, tuple[str, tuple[str, ...]]] = {}
        steps = 0
        for key, source in formulas.items():
            if not source.startswith("="):
                raise FormulaError(f"公式应以 = 开头：{source[:80]}")
            p = _Parser(source[1:])
            parsed[key] = (p.parse(), tuple(dict.fromkeys(p.refs)))
            steps += p.steps
            if steps > Limits.STEPS_PER_SHEET:
                raise _too_many_steps(steps)
        self.steps = steps
        order = dependency_order({key: refs for key, (_py, refs) in parsed.items()})
        lines = ["def run(v):", "    g = v.get"]
        for key in order:
            lines += ["    try:", f"        x = {parsed[key][0]}", "    except XlError as e:", "        x = e.code",
                      f"    v[{key!r}] = 0.0 if x is None else x"]
        lines.append("    return v")
        ns = dict(_NAMESPACE, XlError=XlError)
        exec(compile("\n".join(lines), "<formulas>", "exec"), ns)  # noqa: S102
        self._run = _keyed(ns["run"], {*parsed, *(r for _py, refs in parsed.values() for r in refs)})
        self.keys = tuple(order)
        # what the program reads that it does not compute itself
        self.external = frozenset(r for _py, refs in parsed.values() for r in refs if r not in parsed)

    def run_into(self, values: dict[str, Any]) -> dict[str, Value]:
        """Add every formula's value to ``values`` (which must already hold what it reads)."""
        _new_run()
        return self._run(values)

    def __call__(self, inputs: dict[str, Any]) -> dict[str, Value]:
        """Inputs and every formula's value in one dict (the inputs are not modified)."""
        _new_run()
        return self._run(dict(inputs))


_SUM_ONLY = re.compile(r"^=SUM\((\{[^{}]+\}(?:,\{[^{}]+\})*)\)$")
_REF_ONLY = re.compile(r"^=\{([^{}]+)\}$")
_ONE: dict[str, tuple[Callable, tuple[str, ...], int]] = {}


def _one(source: str) -> tuple[Callable, tuple[str, ...], int]:
    """One formula as a function of the value getter, and the keys it reads; cached by text.

    The commonest shapes (``=SUM({a},{b},…)``, ``={a}``) get a closure without parsing or
    compiling: a sheet that exists in one unit's shape only (附件1 with that unit's projects)
    then costs microseconds, not the milliseconds of compiling a program for it.
    """
    hit = _ONE.get(source)
    if hit is not None:
        return hit
    m = _SUM_ONLY.match(source)
    if m:
        keys = tuple(_key(k[1:-1]) for k in m.group(1).split(","))

        def fn(g, keys=keys):
            return f_sum(*[(g(k), True) for k in keys])
        hit = (fn, keys, len(keys) + 1)
    elif (m := _REF_ONLY.match(source)):
        key = _key(m.group(1))

        def fn(g, key=key):
            return g(key)
        hit = (fn, (key,), 1)
    else:
        if not source.startswith("="):
            raise FormulaError(f"公式应以 = 开头：{source[:80]}")
        p = _Parser(source[1:])
        py = p.parse()
        hit = (_keyed(eval(compile(f"lambda g: {py}", "<formula>", "eval"), dict(_NAMESPACE)), set(p.refs)),  # noqa: S307
               tuple(dict.fromkeys(p.refs)), p.steps)
    if len(_ONE) > 100_000:  # bounded: texts repeat across units, keys differ across shapes
        _ONE.clear()
    _ONE[source] = hit
    return hit


class LooseProgram:
    """Formulas evaluated one by one from per-formula functions shared by text: for sheets whose
    formulas change with each unit's shape, where compiling a straight-line program per sheet
    would cost more than it saves. Same interface and results as ``Program``."""

    def __init__(self, formulas: dict[str, str]):
        parts, steps = {}, 0
        for key, src in formulas.items():
            parts[key] = _one(src)
            steps += parts[key][2]
            if steps > Limits.STEPS_PER_SHEET:
                raise _too_many_steps(steps)
        self.steps = steps
        order = dependency_order({key: refs for key, (_fn, refs, _n) in parts.items()})
        self.keys = tuple(order)
        self._steps = [(key, parts[key][0]) for key in order]
        self.external = frozenset(r for _fn, refs, _n in parts.values() for r in refs if r not in parts)

    def run_into(self, values: dict[str, Any]) -> dict[str, Value]:
        _new_run()
        g = values.get
        for key, fn in self._steps:
            try:
                x = fn(g)
            except XlError as e:
                x = e.code
            values[key] = 0.0 if x is None else x
        return values


def evaluate(formulas: dict[str, str], inputs: dict[str, Any]) -> dict[str, Value]:
    """Every formula's value, ``formulas`` mapping a key to its formula over ``{key}``
    references to inputs or other formulas. For one-off use; layouts keep their ``Program``."""
    values = Program(formulas)(inputs)
    return {k: values[k] for k in formulas}

"""Find the region's outline (``profile.report.sections``) in a report's paragraphs.

Clerks number headings as they please: “六、” or “6、”, “九、 ” with a space, a dropped “十”,
“1、 部门（单位）基本情况” for 一, a bold line with no number at all. A heading is recognised by
its words — the title without its number, brackets and punctuation — and, where a number is
written, by a number at the top level (一、 / 6、 / 6. — never “（一）”, that is a sub-heading,
even when it repeats the title, as seed 001's “（一）部门（单位）基本情况” does). Sections are
looked for in outline order: one found later in the document than the next one is not taken,
and a section not found is reported missing, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

from .model import Para, Section

_CN = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_NUMBERED = re.compile(r"^(?P<num>[一二三四五六七八九十]{1,3}|\d{1,2})\s*[、.,，:：]\s*(?P<rest>.*)$")
_SUBNUMBERED = re.compile(r"^[(（]\s*(?:[一二三四五六七八九十]{1,3}|\d{1,2})\s*[)）]")
_PUNCT = re.compile(r"[\s()（）【】\[\]、，,。.．:：;；“”\"'‘’《》<>—\-_]+")
# where the report's body ends: the list of attachments, an attachment's own title
STOP = re.compile(r"^\s*(?:附件\s*[：:]?\s*$|附件\s*\d|附件[一二三四五六七八九]|报告应包括以下附件|附\s*件\s*[：:])")
MAX_HEADING = 40  # characters: a longer paragraph is prose, unless it starts with the title


def norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s).strip()


def core(s: str) -> str:
    """A title's words: no number, brackets, punctuation or spaces (部门(单位)基本情况 → 部门单位基本情况)."""
    s = norm(s)
    m = _NUMBERED.match(s)
    if m:
        s = m["rest"]
    return _PUNCT.sub("", s)


def number(s: str) -> int | None:
    """The top-level number a heading is written with (一、 → 1, 6、 → 6, 十 → 10, 十一 → 11)."""
    m = _NUMBERED.match(norm(s))
    if not m:
        return None
    n = m["num"]
    if n.isdigit():
        return int(n)
    if n == "十":
        return 10
    if n.startswith("十"):
        return 10 + _CN.get(n[1:], 0)
    if n.endswith("十"):
        return _CN.get(n[0], 0) * 10
    if "十" in n:
        a, _, b = n.partition("十")
        return _CN.get(a, 0) * 10 + _CN.get(b, 0)
    return _CN.get(n)


def _match(p: Para, title: str, want: int | None, seen: tuple | None = None) -> tuple[float, str] | None:
    """How well paragraph ``p`` is the heading ``title`` (a score, and the text after the title on
    the same line), or None. ``seen``: the paragraph's (text, core, number) and the title's core,
    computed once by ``find_sections`` rather than once per title."""
    if seen is None:
        text = norm(p.text)
        if not text or _SUBNUMBERED.match(text):
            return None
        c, got, body = core(title), number(text), core(text)
    else:
        text, body, got, c = seen
    if not body or not c:
        return None
    lead = ""
    if body.startswith(c):
        score = 1.0
        if len(body) > len(c):
            # “三、政府性基金预算支出情况：无” — the title, then text on the same line
            rest = norm(text)
            at = _position_after(rest, c)
            lead = rest[at:].lstrip("：:。.，, ") if at is not None else ""
            if len(text) > MAX_HEADING and not lead:
                return None
    else:
        if len(text) > MAX_HEADING or 2 * min(len(c), len(body)) < 0.8 * (len(c) + len(body)):
            return None  # (the length bound: no ratio can reach 0.8)
        sm = SequenceMatcher(None, c, body)
        if sm.quick_ratio() < 0.8:
            return None
        score = sm.ratio()
        if score < 0.8:
            return None
    if got is not None and want is not None and got != want:
        score -= 0.3  # a wrong number is a clerk's slip only when the words are right
        if score < 0.7:
            return None
    if got is None and not p.bold and len(body) > len(c) + 2:
        return None  # an unnumbered, plain line that merely mentions the title
    return score, lead


def _position_after(text: str, c: str) -> int | None:
    """Where, in ``text``, the characters of core ``c`` have all been passed."""
    i = 0
    for at, ch in enumerate(text):
        if i < len(c) and ch == c[i]:
            i += 1
            if i == len(c):
                return at + 1
    return None


def find_sections(paras: list[Para], outline) -> dict[str, Section]:
    """{section key: Section} for every section of ``outline`` (``profile.report.sections``),
    found or not (``heading`` None)."""
    titles = [(sec.key, sec.title, number(sec.title)) for sec in outline]
    cores = [core(t) for _, t, _ in titles]
    found: dict[str, tuple[int, str]] = {}  # key → (position in paras, lead)
    nxt = 0  # outline position the next heading may be
    for pos, p in enumerate(paras):
        if not p.text.strip() or len(p.text) > 400:
            continue
        text = norm(p.text)
        if not text or _SUBNUMBERED.match(text):
            continue
        body, got = core(text), number(text)
        best = None
        for k in range(nxt, len(titles)):
            key, title, want = titles[k]
            m = _match(p, title, want, (text, body, got, cores[k]))
            if m and (best is None or m[0] > best[1][0]):
                best = (k, m)
                if m[0] >= 1.0:
                    break
        if best is not None:
            k, (_, lead) = best
            found[titles[k][0]] = (pos, lead)
            nxt = k + 1
    out: dict[str, Section] = {}
    starts = sorted((pos, key) for key, (pos, _) in found.items())
    for i, (pos, key) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(paras)
        body = []
        for q in paras[pos + 1:end]:
            if STOP.match(norm(q.text)):
                break
            body.append(q)
        title = next(t for k, t, _ in titles if k == key)
        out[key] = Section(key, title, paras[pos], body, found[key][1])
    return {key: out.get(key, Section(key, title, None)) for key, title, _ in titles}

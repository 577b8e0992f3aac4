"""Check one returned workbook end to end, as a plain, picklable result for batches.

read (safe) → recompute → checks; the result carries what the coordinator's summary needs:
unit, year, profile, the total as the workbook states it and as recomputed, the grade,
counts by severity, a status, and every flag.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .checks import check
from .forms import keys
from .core.flags import ERROR, INFO, WARNING, Flag
from .outputs import bounded_name, display_path
from .xlsx.read import ReadError, read_workbook

STATUS_OK, STATUS_WARN, STATUS_ERR, STATUS_UNREADABLE = "通过", "有警告", "有错误", "无法读取"
STATUS_BLANK = "未填写"  # a template returned as generated: an error, said as such on the board


def _status(flags: list[dict[str, Any]]) -> str:
    if any(f["code"] == "FILL-101" for f in flags):
        return STATUS_BLANK
    if any(f["severity"] == ERROR for f in flags):
        return STATUS_ERR
    return STATUS_WARN if any(f["severity"] == WARNING for f in flags) else STATUS_OK


def flag_batch_outliers(results: list[dict[str, Any]], expect: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """A batch is one year of one region. Where ``check --year/--profile`` did not say which, the
    batch's own majority does: a 2022 workbook among 2023 ones (or another region's) is flagged,
    never passed without a word."""
    readable = [r for r in results if r.get("status") not in (STATUS_UNREADABLE, None) and "year" in r]
    for field, code, what, given in (("year", "META-208", "年度", (expect or {}).get("year")),
                                     ("profile", "META-209", "地区配置", (expect or {}).get("region"))):
        if given or len(readable) < 3:
            continue
        counts: dict[Any, int] = {}
        for r in readable:
            counts[r[field]] = counts.get(r[field], 0) + 1
        major, n = max(counts.items(), key=lambda kv: kv[1])
        if n * 2 <= len(readable) or len(counts) == 1:
            continue
        for r in readable:
            if r[field] != major:
                f = Flag(code, WARNING, "元数据",
                         f"该工作簿的{what}是 {r[field]}，本批次其他 {n} 个工作簿是 {major}；如非有意，请单位改用正确的模板"
                         f"（或用 check --{'year' if field == 'year' else 'profile'} 指明本批次的{what}）。",
                         r[field], major).as_dict()
                r["flags"] = [f] + r["flags"]
                r["warnings"] += 1
                r["status"] = _status(r["flags"])
    return results


def expectation_flags(profile, year: int, expect: dict[str, Any] | None) -> list[Flag]:
    """What a batch expects (``check --profile P --year Y``) against what the workbook is: a
    workbook of another region or year is an error. (Another version of the same region is
    the reader's to judge: ``xlsx.read.judge_region``.)"""
    if not expect:
        return []
    flags = []
    want_id, want_year = expect.get("region"), expect.get("year")
    if want_id and profile.id != want_id:
        flags.append(Flag("META-205", ERROR, "元数据", f"该工作簿使用地区配置 {profile.id}，本批次要求 {want_id}；"
                          f"请确认单位使用了正确的模板。", profile.id, want_id))
    if want_year and year != want_year:
        flags.append(Flag("META-206", ERROR, "元数据", f"该工作簿是 {year} 年度的，本批次为 {want_year} 年度。",
                          year, want_year))
    return flags


def judging(profile=None, keys=None, **expect) -> dict[str, Any]:
    """What a batch passes to every worker: the coordinator's region (its files, so a worker
    compiles it once per process, whatever folder or workbook it came from), the signing keys
    to verify with, and the year and region the batch expects."""
    out = dict(expect)
    if profile is not None:
        out.update(region=profile.id, digest=profile.digest, judge=tuple(profile.sources))
    if keys is not None:
        out["keys"] = list(keys)
    return out


def _judge(expect: dict[str, Any] | None):
    """The coordinator's region and keys from a batch's ``judging`` (None: installed, machine's)."""
    if not expect:
        return None, None
    judge = None
    if expect.get("judge"):
        from .forms.regions import embedded_profile
        judge = embedded_profile(dict(expect["judge"]), "（协调单位的地区配置）")
    return judge, expect.get("keys")


def check_workbook(path: str | Path, expect: dict[str, Any] | None = None) -> dict[str, Any]:
    """One workbook end to end; ``expect`` = {"region", "digest", "year"} a batch requires."""
    path = Path(path)
    try:
        judge, signing_keys = _judge(expect)
        rr = read_workbook(path, judge=judge, keys=signing_keys)
    except ReadError as e:
        return {"file": display_path(path), "name": display_path(path.name), "status": STATUS_UNREADABLE,
                "reason": display_path(str(e))}
    dept = rr.dept
    layout = rr.book.layout
    result = check(dept, layout.profile, (layout.shape.project_categories, rr.derived))
    flags = expectation_flags(layout.profile, dept.year, expect) + rr.flags + result.flags
    recomputed = result.total
    stated = dept.stated.get(keys.OVERALL_TOTAL_SCORE, recomputed)
    counts = {sev: sum(1 for f in flags if f.severity == sev) for sev in (ERROR, WARNING, INFO)}
    as_dicts = [f.as_dict() for f in flags]
    status = _status(as_dicts)
    return {
        "file": display_path(path), "name": display_path(path.name), "unit_code": dept.code, "unit_name": dept.name, "year": dept.year,
        "profile": dept.profile, "stated_total": stated, "recomputed_total": recomputed, "grade": result.grade,
        "rate": result.derived.get(keys.OVERALL_RATE),
        # the coordinator's 汇总表 shows them beside the rate (None where the region has no overall table)
        "budget": _figure(dept, keys.OVERALL_BUDGET_FULL, result.derived),
        "executed": _figure(dept, keys.OVERALL_EXECUTED, result.derived),
        "errors": counts[ERROR], "warnings": counts[WARNING], "infos": counts[INFO], "status": status,
        "signature": rr.book.signature, "flags": as_dicts,
    }


def _figure(dept, key: str, derived: dict[str, Any]) -> float | None:
    from .forms.binding import value_of

    try:
        v = value_of(dept, key, derived)
    except Exception:  # noqa: BLE001 — a figure for display; a region without it shows none
        return None
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def report_name(path: Path) -> str:
    """{单位编码}_{单位名称}_{年度}年度绩效自评.xlsx → …年度整体支出绩效自评报告.docx; other names keep their stem."""
    stem = path.stem
    stem = stem[: -len("绩效自评")] if stem.endswith("年度绩效自评") else stem
    tail = "整体支出绩效自评报告" if stem.endswith("年度") else "_整体支出绩效自评报告"
    return bounded_name(stem, tail + ".docx")


def report_workbook(item: str | Path | tuple, outdir: str | Path, template: str | None = None,
                    strict: bool = False, expect: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read (workbook or JSON data), recompute, check, and write the unit's Word report.

    ``item`` is a path, or (path, output file name) when the batch has chosen unique names;
    ``expect`` as for ``check_workbook`` (the coordinator's region judges: ``judging``).
    """
    path, out_name = (item if isinstance(item, tuple) else (item, None))
    from .docx.report import TemplateRefused, render_report
    from .core.model import Department
    from .core.region import ProfileError
    from .forms.regions import get_profile
    path = Path(path)
    base = {"file": display_path(path), "name": display_path(path.name)}
    try:
        if path.suffix.lower() == ".json":
            dept = Department.model_validate_json(path.read_text(encoding="utf-8-sig"))
            pre_flags, recomputed = [], None
            profile = get_profile(dept.profile)
        else:
            judge, signing_keys = _judge(expect)
            rr = read_workbook(path, judge=judge, keys=signing_keys)
            dept, pre_flags = rr.dept, rr.flags + expectation_flags(rr.book.layout.profile, rr.dept.year, expect)
            recomputed = (rr.book.layout.shape.project_categories, rr.derived)
            # the coordinator's region where one is known, else the one the workbook carries
            profile = rr.book.layout.profile
    except (ReadError, ProfileError, ValueError) as e:
        return {**base, "status": STATUS_UNREADABLE, "reason": str(e) if isinstance(e, ReadError) else f"{display_path(path.name)}：{e}"}
    result = check(dept, profile, recomputed)
    result.flags = pre_flags + result.flags
    errors = result.count(ERROR)
    out = Path(outdir) / (out_name or report_name(path))
    if strict and errors:
        return {**base, "status": "已跳过", "errors": errors, "unit_name": dept.name,
                "reason": f"{display_path(path.name)}：有 {errors} 个错误，--strict 模式下不生成报告"}
    if strict:
        from .narrative import disagreements
        generated = [sec.key for sec in profile.report.sections if sec.generated]
        wrong = [f for key in generated for f in disagreements(result.flags, key) if f.severity == WARNING]
        if wrong:
            first = wrong[0]
            return {**base, "status": "已跳过", "errors": errors, "unit_name": dept.name,
                    "reason": f"{display_path(path.name)}：报告正文支出情况一节有 {len(wrong)} 处数字与附件不一致，"
                              f"--strict 模式下不生成报告（如 {first.location}：{first.message}）"}
    try:
        render_report(dept, profile, out, template=template, result=result)
    except TemplateRefused as e:
        return {**base, "status": STATUS_UNREADABLE, "errors": errors, "unit_name": dept.name,
                "reason": f"{display_path(path.name)}：{e}"}
    return {**base, "status": STATUS_ERR if errors else STATUS_OK, "errors": errors, "unit_name": dept.name,
            "report": str(out)}

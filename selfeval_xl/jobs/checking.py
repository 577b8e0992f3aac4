"""Check one returned workbook end to end, as a plain, picklable result for batches.

read (safe) → recompute → checks; the result carries what the coordinator's summary needs:
unit, year, profile, the total as the workbook states it and as recomputed, the grade,
counts by severity, a status, and every flag.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..checks import check
from ..forms import keys
from ..core.flags import ERROR, INFO, WARNING, Flag
from ..core.results import (REPORT_KIND, STATUS_BLANK, STATUS_ERR, STATUS_OK, STATUS_UNREADABLE,  # noqa: F401
                           STATUS_WARN, UnitResult, status_of)
from ..files.outputs import bounded_name, display_path
from ..xlsx.read import ReadError, read_workbook



def flag_batch_outliers(results: list[UnitResult], expect: dict[str, Any] | None = None) -> list[UnitResult]:
    """A batch is one year of one region. Where ``check --year/--profile`` did not say which, the
    batch's own majority does: a 2022 workbook among 2023 ones (or another region's) is flagged,
    never passed without a word."""
    # a report checked alone carries no template: its region is guessed from its outline and its
    # year read from its title, so it is not counted among (nor flagged against) the workbooks
    readable = [r for r in results if r.readable and r.kind != REPORT_KIND]
    for field, code, what, given in (("year", "META-208", "年度", (expect or {}).get("year")),
                                     ("profile", "META-209", "地区配置", (expect or {}).get("region"))):
        if given or len(readable) < 3:
            continue
        counts: dict[Any, int] = {}
        for r in readable:
            counts[getattr(r, field)] = counts.get(getattr(r, field), 0) + 1
        major, n = max(counts.items(), key=lambda kv: kv[1])
        if n * 2 <= len(readable) or len(counts) == 1:
            continue
        for r in readable:
            if getattr(r, field) != major:
                r.flags.insert(0, Flag(code, WARNING, "元数据",
                                       f"该工作簿的{what}是 {getattr(r, field)}，本批次其他 {n} 个工作簿是 {major}；如非有意，"
                                       f"请单位改用正确的模板（或用 check --{'year' if field == 'year' else 'profile'} "
                                       f"指明本批次的{what}）。", getattr(r, field), major))
                r.status = status_of(r.flags)
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
        from ..forms.regions import embedded_profile
        judge = embedded_profile(dict(expect["judge"]), "（协调单位的地区配置）")
    return judge, expect.get("keys")


def check_workbook(path: str | Path, expect: dict[str, Any] | None = None, report: str | Path | None = None,
                   workdir: str | Path | None = None) -> dict[str, Any]:
    """``check_unit``'s result as the dict the JSON, the database and the worker pool carry."""
    return check_unit(path, expect, report, workdir).as_dict()


def check_unit(path: str | Path, expect: dict[str, Any] | None = None, report: str | Path | None = None,
               workdir: str | Path | None = None) -> UnitResult:
    """One workbook end to end; ``expect`` = {"region", "digest", "year"} a batch requires.

    ``report``: the unit's own Word/PDF report beside it (``pair_reports``): its sections replace
    the workbook's 报告正文 for the narrative checks, whose flags then point at the report's
    paragraphs (报告!第12段), and its own text checks are added (``wordin.textcheck``).
    ``workdir`` keeps a .doc/.wps report's .docx conversion (for its commented copy)."""
    path = Path(path)
    try:
        judge, signing_keys = _judge(expect)
        rr = read_workbook(path, judge=judge, keys=signing_keys)
    except ReadError as e:
        return UnitResult(display_path(path), display_path(path.name), STATUS_UNREADABLE, reason=display_path(str(e)))
    dept = rr.dept
    layout = rr.book.layout
    rep, report_flags, report_info = None, [], {}
    if report is not None:
        rep, report_flags, report_info = _report_into(dept, layout.profile, report, workdir)
    result = check(dept, layout.profile, (layout.shape.project_categories, rr.derived))
    flags = expectation_flags(layout.profile, dept.year, expect) + rr.flags + result.flags
    if report is not None:
        flags = _onto_report(flags, rep) + report_flags
    recomputed = result.total
    name = display_path(path.name)
    return UnitResult(
        display_path(path), f"{name}（附报告 {display_path(Path(report).name)}）" if report is not None else name,
        status_of(flags), flags, unit_code=dept.code, unit_name=dept.name, year=dept.year, profile=dept.profile,
        region_name=layout.profile.profile.name or None,
        stated_total=dept.stated.get(keys.OVERALL_TOTAL_SCORE, recomputed), recomputed_total=recomputed,
        grade=result.grade, rate=result.derived.get(keys.OVERALL_RATE), rate_places=layout.profile.scoring.rate_places,
        # the coordinator's 汇总表 shows them beside the rate (None where the region has no overall table)
        budget=_figure(dept, keys.OVERALL_BUDGET_FULL, result.derived),
        executed=_figure(dept, keys.OVERALL_EXECUTED, result.derived),
        signature=rr.book.signature, report=report_info.get("report"), report_docx=report_info.get("report_docx"))


def _figure(dept, key: str, derived: dict[str, Any]) -> float | None:
    from ..forms.binding import value_of

    try:
        v = value_of(dept, key, derived)
    except Exception:  # noqa: BLE001 — a figure for display; a region without it shows none
        return None
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def report_name(path: Path, title: str = "整体支出绩效自评报告") -> str:
    """A report's name from its workbook's alone: {单位编码}_{单位名称}_{年度}年度绩效自评.xlsx →
    …年度{title}.docx; other names keep their stem (+ _title). Used where the region is not known
    (a file that cannot be read writes no report, but still gets a name in the batch's plan)."""
    from ..forms.naming import default_parts
    from ..files.roster import _UNSAFE

    # a region's title may hold what a file name cannot (专项/资金): replaced, as in unit names
    stem, tail = default_parts(Path(path).stem, _UNSAFE.sub("_", title).rstrip(". "))
    return bounded_name(stem, tail + ".docx")


def report_file_name(profile, unit_code: str, unit_name: str, year: int | str, path: Path | None = None) -> str:
    """The unit's report file in the region's words (``[report] file_name``, else the workbook's
    name with the region's title), safe for Windows and bounded in bytes."""
    from ..forms.naming import report_stem
    from ..files.roster import safe_filename

    if not profile.report.file_name and path is not None:
        return report_name(Path(path), _title(profile))
    return safe_filename(report_stem(profile, unit_code, unit_name, year), ".docx")


def _title(profile) -> str:
    from ..forms.naming import report_title

    return report_title(profile)


def planned_report_name(path: str | Path, expect: dict[str, Any] | None = None) -> str:
    """The name a batch gives a unit's report before its workers run (so that two inputs never
    write one file, and existing files are refused before anything is written): the metadata
    alone is read (or the JSON data), and the region that will judge the workbook — the
    coordinator's (``expect``), else as ``read_workbook`` picks it — names it."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".json":
            from ..core.model import Department
            from ..forms.regions import get_profile

            dept = Department.model_validate_json(path.read_text(encoding="utf-8-sig"))
            # as report_workbook reads it: a data file is the coordinator's own, by its region
            return report_file_name(get_profile(dept.profile), dept.code, dept.name, dept.year, path)
        from ..xlsx.read import judge_region, metadata_of

        judge, signing_keys = _judge(expect)
        if judge is not None and not judge.report.file_name:
            return report_name(path, _title(judge))  # the coordinator's words, nothing to read
        meta = metadata_of(path)
        profile = judge_region(meta, display_path(path.name), judge, signing_keys)[0]
        return report_file_name(profile, meta.get("unit_code", ""), meta.get("unit_name", ""),
                                meta.get("year", ""), path)
    except Exception:  # noqa: BLE001 — the worker reads it again and says why it cannot be used
        return report_name(path)


def report_workbook(item: str | Path | tuple, outdir: str | Path, template: str | None = None,
                    strict: bool = False, expect: dict[str, Any] | None = None) -> dict[str, Any]:
    """``report_unit``'s result as the dict JSON carries (the Python API's shape)."""
    return report_unit(item, outdir, template, strict, expect).as_dict()


STATUS_SKIPPED = "已跳过"  # ``report --strict``: a unit with errors gets no report


def report_unit(item: str | Path | tuple, outdir: str | Path, template: str | None = None,
                strict: bool = False, expect: dict[str, Any] | None = None) -> UnitResult:
    """Read (workbook or JSON data), recompute, check, and write the unit's Word report.

    ``item`` is a path, or (path, output file name) when the batch has chosen unique names;
    ``expect`` as for ``check_workbook`` (the coordinator's region judges: ``judging``). The
    result is the unit's row of the summary, as ``check`` gives it, with ``report`` (the file
    written) and ``extra["report_notes"]`` (the notes it carries as Word comments).
    """
    path, out_name = (item if isinstance(item, tuple) else (item, None))
    from ..docx.report import TemplateRefused, render_report
    from ..core.model import Department
    from ..core.region import ProfileError
    from ..forms.regions import get_profile
    path = Path(path)
    file, name = display_path(path), display_path(path.name)
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
        return UnitResult(file, name, STATUS_UNREADABLE,
                          reason=str(e) if isinstance(e, ReadError) else f"{display_path(path.name)}：{e}")
    result = check(dept, profile, recomputed)
    result.flags = pre_flags + result.flags
    errors = result.count(ERROR)
    out = Path(outdir) / (out_name or report_file_name(profile, dept.code, dept.name, dept.year, path))
    if strict and errors:
        return UnitResult(file, name, STATUS_SKIPPED, unit_name=dept.name,
                          reason=f"{display_path(path.name)}：有 {errors} 个错误，--strict 模式下不生成报告")
    if strict:
        from ..checks.narrative import disagreements
        generated = [sec.key for sec in profile.report.sections if sec.generated]
        wrong = [f for key in generated for f in disagreements(result.flags, key) if f.severity == WARNING]
        if wrong:
            first = wrong[0]
            return UnitResult(file, name, STATUS_SKIPPED, unit_name=dept.name,
                              reason=f"{display_path(path.name)}：报告正文支出情况一节有 {len(wrong)} 处数字与附件不一致，"
                                     f"--strict 模式下不生成报告（如 {first.location}：{first.message}）")
    try:
        render_report(dept, profile, out, template=template, result=result)
    except TemplateRefused as e:
        return UnitResult(file, name, STATUS_UNREADABLE, unit_name=dept.name, reason=f"{display_path(path.name)}：{e}")
    from ..docx.notes import report_notes
    # the summary's row of the unit, as ``check`` writes it, and the notes its report carries as
    # comments (汇总表 单位报告（问题数）, summary.json ``report``)
    return UnitResult(
        file, name, STATUS_ERR if errors else STATUS_OK, list(result.flags), unit_code=dept.code, unit_name=dept.name,
        year=dept.year, profile=dept.profile, stated_total=dept.stated.get(keys.OVERALL_TOTAL_SCORE, result.total),
        recomputed_total=result.total, grade=result.grade, rate=result.derived.get(keys.OVERALL_RATE),
        rate_places=profile.scoring.rate_places, budget=_figure(dept, keys.OVERALL_BUDGET_FULL, result.derived),
        executed=_figure(dept, keys.OVERALL_EXECUTED, result.derived), report=str(out),
        extra={"report_notes": [f.as_dict() for f in report_notes(result.flags)]})


# -- Word reports (issue #19) ----------------------------------------------------------------------

REPORT_SUFFIXES = (".docx", ".doc", ".wps", ".pdf")


def is_report(path: str | Path) -> bool:
    return Path(path).suffix.lower() in REPORT_SUFFIXES


def _unit_words(workbook: Path) -> list[str]:
    """What a workbook's file name says of its unit: {编码}_{名称}_{年度}年度绩效自评 → [编码, 名称]."""
    parts = [p for p in workbook.stem.split("_") if p]
    words = [p for p in parts if not p.endswith(("年度绩效自评", "绩效自评", "批注"))]
    return [w for w in (words or [workbook.stem]) if len(w) >= 2]


def pair_reports(files: list[Path]) -> list[Path | tuple[Path, Path]]:
    """The batch's items: a workbook with its unit's report as (workbook, report), a workbook or a
    report alone as its path. A report belongs to a workbook of the same folder whose file name
    names the unit (code or name, ``_unit_words``) in the report's file name; otherwise, where a
    folder holds one workbook and one report, those two. The worker confirms the unit against
    the report's cover (RPT-201 where it cannot)."""
    by_folder: dict[Path, tuple[list[Path], list[Path]]] = {}
    for f in files:
        books, reports = by_folder.setdefault(Path(f).parent, ([], []))
        (reports if is_report(f) else books).append(Path(f))
    pairs: dict[Path, Path] = {}
    for books, reports in by_folder.values():
        left = list(reports)
        for b in books:
            words = _unit_words(b)
            hit = next((r for r in left if any(w in r.stem for w in words)), None)
            if hit is not None:
                pairs[b] = hit
                left.remove(hit)
        alone = [b for b in books if b not in pairs]
        if alone and left and not (len(alone) == 1 and len(left) == 1):
            _pair_by_unit(alone, left, pairs)  # file names say nothing: the workbook's unit on the cover
            alone = [b for b in books if b not in pairs]
        if len(alone) == 1 and len(left) == 1:
            pairs[alone[0]] = left.pop()
    paired = set(pairs.values())
    return [(f, pairs[f]) if f in pairs else f for f in files if f not in paired]


def workbook_unit(path: Path) -> tuple[str, str]:
    """(unit code, unit name) from the metadata the writer stamps in a workbook; ("", "") for a
    workbook whose metadata cannot be read (its check says why)."""
    from ..xlsx.read import _load, read_meta
    from ..xlsx.safety import open_checked

    try:
        open_checked(path).close()
        wb = _load(path, True)
        try:
            meta = read_meta(wb, path.name)
        finally:
            wb.close()
    except Exception:  # noqa: BLE001 — pairing is a guess; the workbook's own check reports it
        return "", ""
    return meta.get("unit_code", ""), meta.get("unit_name", "")


def report_cover(path: Path) -> str:
    """A report's file name, title, cover and first tables (a report that opens with 附件1 names its
    unit in 附件2's 部门名称 cell); the file name alone when it cannot be read."""
    from ..wordin import ReportReadError
    from ..wordin.read import read_report

    if path.suffix.lower() not in (".docx",):  # a conversion costs seconds: file names only
        return path.stem
    try:
        return path.stem + "\n" + read_report(path).head_text(300)
    except Exception:  # noqa: BLE001 — ReportReadError or worse: the file name is all there is
        return path.stem


def _pair_by_unit(books: list[Path], reports: list[Path], pairs: dict[Path, Path]) -> None:
    """Pair each workbook with the one report whose cover names the unit its metadata names
    (code or name); ambiguous or unnamed ones stay apart."""
    covers = {r: report_cover(r) for r in reports}
    for b in books:
        code, name = workbook_unit(b)
        words = [w for w in (name, code) if w and len(w) >= 2]
        hits = [r for r in reports if r in covers and any(w in covers[r] for w in words)]
        if len(hits) == 1:
            pairs[b] = hits[0]
            reports.remove(hits[0])
            covers.pop(hits[0])


def _report_into(dept, profile, report: str | Path, workdir) -> tuple[Any, list[Flag], dict[str, Any]]:
    """Read the unit's report and put its sections in place of the workbook's 报告正文. Returns
    (the report or None, its own flags, what the summary row says of it)."""
    from ..wordin import ReportReadError
    from ..wordin.read import read_report
    from ..wordin.textcheck import check_report_text

    report = Path(report)
    info: dict[str, Any] = {"report": display_path(report)}  # the summary row names both files
    try:
        rep = read_report(report, profile, workdir=workdir)
    except ReportReadError as e:
        return None, [Flag("RPT-101", WARNING, "报告", f"同一单位的报告未能读取，正文按工作簿的“报告正文”校验：{e}")], info
    flags = check_report_text(rep) + _table_flags(rep, profile, dept.year, dept)
    dept.narrative.sections = {key: sec.text for key, sec in rep.sections.items()}
    if rep.docx_path:
        info["report_docx"] = rep.docx_path
    head = rep.file + "\n" + rep.head_text()
    named = [w for w in (dept.name, dept.code) if w and w in head]
    if not named:
        flags.insert(0, Flag("RPT-201", WARNING, "报告",
                             f"与工作簿放在一起的报告 {rep.file} 的文件名和封面中找不到单位名称“{dept.name}”或编码"
                             f"“{dept.code}”；请核对这是不是该单位的报告。"))
    return rep, flags, info


def _table_flags(rep, profile, year: int | None, dept=None) -> list[Flag]:
    """The report's tables matched to the region's forms and checked (``wordin.tablecheck``);
    with the unit's workbook (``dept``), each figure also against the workbook's (RPT-601)."""
    from ..wordin.tablecheck import check_report_tables, against_workbook
    from ..wordin.tables import match_tables

    forms = match_tables(rep, profile, year or 2023)
    flags = check_report_tables(rep, profile, year or 2023, forms)
    if dept is not None:
        flags += against_workbook(forms, dept, profile)
    return flags


_QUOTED = re.compile(r"^报告正文“[^”]*”：“(?P<q>.*?)”")


def _onto_report(flags: list[Flag], rep) -> list[Flag]:
    """The narrative flags (key narrative.sections.X) moved onto the report's paragraph their
    sentence stands in — or the section's heading; SEC-301 of a section the report lacks goes
    (RPT-301 says it)."""
    if rep is None:
        return flags
    out = []
    for f in flags:
        key = keys.key_of(f.key)
        name = key.section if key is not None else None
        if name is None:
            out.append(f)
            continue
        sec = rep.sections.get(name)
        if sec is None:
            out.append(f)
            continue
        if sec.heading is None:
            if f.code != "SEC-301":
                out.append(f)
            continue
        m = _QUOTED.match(f.message)
        p = (sec.para_of(m["q"]) if m else None) or sec.heading
        out.append(Flag(f.code, f.severity, p.where, f.message, f.stated, f.expected))  # its place says where
    if any(f.code == "SEC-301" and f.place is not None and f.place.paragraph is not None for f in out):
        seen, dedup = set(), []
        for f in out:  # SEC-301 from the checks and from the report's text: once
            tag = (f.code, f.at)
            if f.code == "SEC-301" and tag in seen:
                continue
            seen.add(tag)
            dedup.append(f)
        out = dedup
    return out


def _guess_profile(rep):
    """For a report alone: the installed region whose outline the report follows best."""
    from ..forms.regions import available_profiles, installed_profile
    from ..wordin.outline import find_sections

    best, score = None, -1
    for rid in available_profiles():
        prof = installed_profile(rid)
        if prof is None:
            continue
        found = sum(1 for s in find_sections(rep.paras, prof.report.sections).values() if s.heading is not None)
        n = len(prof.report.sections)
        sc = found - 0.01 * (n - found)
        if sc > score:
            best, score = prof, sc
    return best


def check_report(path: str | Path, expect: dict[str, Any] | None = None, workdir: str | Path | None = None) -> dict[str, Any]:
    """``check_report_alone``'s result as a dict (for JSON, the database and the worker pool)."""
    return check_report_alone(path, expect, workdir).as_dict()


def check_report_alone(path: str | Path, expect: dict[str, Any] | None = None,
                       workdir: str | Path | None = None) -> UnitResult:
    """A report with no workbook beside it, checked on its text alone (``wordin.textcheck``):
    sections missing or empty, one figure quoted two ways, amounts that exceed their total."""
    from ..wordin import ReportReadError
    from ..wordin.outline import find_sections
    from ..wordin.read import read_report
    from ..wordin.textcheck import check_report_text

    path = Path(path)
    file, name = display_path(path), display_path(path.name)
    try:
        rep = read_report(path, None, workdir=workdir)
        judge, _ = _judge(expect)
        profile = judge or _guess_profile(rep)
    except ReportReadError as e:
        return UnitResult(file, name, STATUS_UNREADABLE, reason=display_path(str(e)), kind=REPORT_KIND)
    if profile is None:
        return UnitResult(file, name, STATUS_UNREADABLE, reason=f"{name}：没有可用的地区配置，无法按提纲读取报告",
                          kind=REPORT_KIND)
    rep.sections = find_sections(rep.paras, profile.report.sections)
    year = re.search(r"(20\d\d)\s*年度", rep.head_text())
    flags = [Flag("RPT-202", INFO, "报告", f"{rep.file} 没有对应的工作簿，只按报告本身校验（提纲、前后数字、列举金额之和、"
                                         f"表格中的合计与得分）；与工作簿数字的核对需要把该单位的工作簿放在同一文件夹。")]
    flags += check_report_text(rep) + _table_flags(rep, profile, int(year[1]) if year else None)
    return UnitResult(file, name, status_of(flags), flags, kind=REPORT_KIND, unit_code="",
                      unit_name=_unit_from_report(rep), year=int(year[1]) if year else None,
                      profile=profile.id, report=display_path(path), report_docx=rep.docx_path)


_UNIT_LINE = re.compile(r"(?:部门[（(]单位[)）]名称|单位名称|填报单位)\s*[：:]\s*(?P<n>[\u4e00-\u9fff][^（(\s]{1,39})")
_TITLE_LINE = re.compile(r"^\s*(?:\d{4}年度?)?(?P<n>[\u4e00-\u9fff]{2,40}?)(?:\d{4}年度?)?(?:部门[（(]单位[)）]|部门)?"
                         r"(?:整体支出绩效(?:评价)?自评报告)?$")
# what a unit's name ends with (局, 馆, 中心 …): a title line's words are a unit only when they end so
_UNIT_END = re.compile(r"(?:局|馆|中心|委员会|委|办公室|办|院|所|站|队|会|部|处|厅|校|学|园|社|台|室|政府|街道|镇|乡|公司|厂|场|协会)$")
_NAME_LABEL = re.compile(r"^(?:市级|县级|区级)?(?:预算)?(?:部门|单位)(?:[（(]单位[)）])?名称$")


def _unit_from_report(rep) -> str:
    """The unit a report is about: its cover (“部门(单位)名称：…”), the name beside 部门名称 in its
    tables, or a title line that names a unit (“2023年度岳阳市档案馆” → 岳阳市档案馆)."""
    head = rep.head_text()
    m = _UNIT_LINE.search(head)
    if m:
        return m["n"]
    for g in rep.grids:
        for row in g.rows:
            for i, cell in enumerate(row):
                if _NAME_LABEL.match(re.sub(r"\s+", "", cell)):
                    name = next((re.sub(r"\s+", "", c) for c in row[i + 1:] if re.sub(r"\s+", "", c) != re.sub(r"\s+", "", cell)), "")
                    if re.fullmatch(r"[\u4e00-\u9fff（）()]{2,40}", name):
                        return name
    for line in head.splitlines():
        t = _TITLE_LINE.match(line.strip())
        if t and not t["n"].startswith(("部门整体", "整体支出")) and _UNIT_END.search(t["n"]):
            return t["n"]
    return ""


def report_copy_name(name: str) -> str:
    """The commented copy of a report is a .docx, whatever it came as (.doc/.wps converted)."""
    return str(Path(name).with_suffix(".docx"))

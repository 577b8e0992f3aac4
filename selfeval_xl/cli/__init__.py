"""Command line: a thin layer over the library. Messages are Chinese; exit codes are stable.

Exit status: 0 done; 1 the data has errors (later: check); 2 usage or unreadable input.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from pydantic import ValidationError

from . import zh

zh.install()  # Click/Typer's own words in Chinese, before the app is built

from ..forms.regions import DEFAULT_PROFILE, available_profiles, get_profile
from ..core.region import ProfileError
from ..jobs.generate import open_region
from ..core.examples import examples_dir
from ..files.outputs import (OutputError, describe_os_error, os_error_in, prepare_folder, refuse_existing, refuse_input,
                      write_text_atomic)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="部门整体支出绩效自评工具：生成 Excel 模板、回读数据、生成报告。",
    rich_markup_mode=None,
)

EXAMPLES = examples_dir()  # examples/ of the repository, or the wheel's packaged copy


FORCE_HELP = "输出位置已有同名文件时覆盖（默认不覆盖，以免冲掉已回收或已修改的文件）"


def _fail(msg: str, code: int = 2) -> None:
    typer.echo(f"错误：{msg}", err=True)
    raise typer.Exit(code)


def _guard(fn, *args, _at: Optional[Path] = None, **kwargs):
    """Run an output step; the user's environment (no permission, disk full, a file where a
    folder should be) becomes a Chinese message and exit 2, never a traceback. ``_at`` is the
    file the step writes: a full disk met while a writer finishes a file carries no file name
    (and the name it may carry is a temp file's), yet the message must say which file it was."""
    try:
        return fn(*args, **kwargs)
    except OutputError as e:
        _fail(str(e))
    except Exception as e:
        os_err = os_error_in(e)
        if os_err is None:
            raise
        _fail(describe_os_error(os_err, _at))


def _profile(name: str):
    try:
        return open_region(name)
    except ProfileError as e:
        _fail(str(e))


KEY_HELP = "签名密钥文件（默认为本机的密钥，首次使用时自动建立；与同事共用时复制此文件）"


def _key(key_file: Optional[Path], create: bool = True):
    """The coordinator's signing key (``xlsx.signing``): the file given, else this machine's."""
    from ..xlsx.signing import SigningKeyError, machine_key

    try:
        key = machine_key(key_file, create=create or key_file is None)
        if key is None:
            _fail(f"找不到签名密钥文件 {key_file}")
        return key
    except SigningKeyError as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"签名密钥：{describe_os_error(e)}")


def _timestamp(value: Optional[str]) -> Optional[dt.datetime]:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        _fail(f"--timestamp 应为 ISO 时间，如 2024-01-01T00:00:00，收到“{value}”")


@app.command("profiles", short_help="列出地区配置", help="列出可用的地区配置（权重、等次、报告提纲）。")
def profiles_cmd() -> None:
    for pid in available_profiles():
        p = get_profile(pid)
        w = "、".join(f"{l1.name}{l1.weight:g}" for l1 in p.level1) if p.weights_fixed_per_level1() else \
            f"绩效指标合计{p.indicator_total():g}（{'、'.join(l1.name for l1 in p.level1)}）"
        ex = f"预算执行率{p.scoring.execution_weight:g}（计分）" if p.scoring.execution_scored else "执行率不计分"
        typer.echo(f"{pid}\t{p.profile.name}\t{w}、{ex}\t报告{len(p.report.sections)}个部分")


@app.command("generate", short_help="按名册生成各单位的模板", help="按名册为每个单位生成一个锁定的自评 Excel 模板。名册为 .xlsx 或 .csv，表头至少含 单位编码、单位名称、项目名称。")
def generate_cmd(
    roster: Path = typer.Argument(..., metavar="名册", help="名册文件（.xlsx 或 .csv，UTF-8/GBK）"),
    out: Path = typer.Option(..., "-o", "--out", help="输出文件夹"),
    profile: str = typer.Option(DEFAULT_PROFILE, "--profile", "-p", help="地区名，或地区文件夹的路径"),
    year: int = typer.Option(dt.date.today().year - 1, "--year", "-y", help="评价年度"),
    timestamp: Optional[str] = typer.Option(None, "--timestamp", help="固定生成时间（用于可重复输出）"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="并行进程数（默认按 CPU）"),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    key_file: Optional[Path] = typer.Option(None, "--key-file", help=KEY_HELP),
) -> None:
    from ..jobs.generate import generate
    from ..files.roster import RosterError, read_roster, workbook_names

    prof = _profile(profile)
    _proven(prof, profile)  # a broken region never reaches a clerk (cached by the region's digest)
    try:
        units = read_roster(roster, prof)
    except RosterError as e:
        _fail(str(e))
    if not 1900 <= year <= 2200:
        _fail(f"--year 应为四位年度，如 2023，收到 {year}")
    names = workbook_names(units, year)
    _guard(prepare_folder, out)
    _guard(refuse_existing, [out / n for n in names], force)
    for unit, name in zip(units, names):
        if name != workbook_names([unit], year)[0]:
            unit.notes.append(f"单位编码 {unit.code} 的文件名与另一单位相同，已改为 {name}")
    ts = _timestamp(timestamp) or dt.datetime.now().replace(microsecond=0)
    t0 = time.monotonic()
    run = generate(units, names, out, profile, year, ts, key=_key(key_file), workers=workers)
    results, failed, interrupted = run.results, run.failed, run.interrupted
    for unit, r in zip(units, results):
        for note in unit.notes:
            typer.echo(f"提示：{unit.name}：{note}")
        if not r.ok:
            typer.echo(f"失败：{r.reason}", err=True)
    typer.echo(f"共 {len(units)} 个单位，生成 {len(results) - len(failed)} 个，失败 {len(failed)} 个，"
               f"用时 {time.monotonic() - t0:.1f} 秒。输出：{out.resolve()}"
               + ("（已中断）" if interrupted else ""))
    if failed or interrupted:
        raise typer.Exit(2 if failed else 130)


def load_department(path: Path, profile: str | None = None):
    """A data JSON as a ``Department``. ``profile`` (``fill -p``) stands in for a file that names
    none: a coordinator writing a new region's data file names the region on the command line,
    and pydantic's "Field required" for it was the only English a coordinator met."""
    import json

    from ..core.model import Department
    from ..core.region import pydantic_message

    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        _fail(f"找不到数据文件 {path}")
    except UnicodeDecodeError:
        _fail(f"{path}：不是 UTF-8 编码的 JSON 文件")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        _fail(f"{path} 不是有效的 JSON：第 {e.lineno} 行第 {e.colno} 列附近有误")
    if isinstance(data, dict) and profile and not data.get("profile"):
        data["profile"] = profile
    region = data.get("profile") if isinstance(data, dict) else None
    if isinstance(region, str) and region:
        _categories(path, data, _profile(profile or region))
    try:
        return Department.model_validate(data)
    except ValidationError as e:
        lines = [f"  {'.'.join(str(x) for x in err['loc']) or '（整个文件）'}：{pydantic_message(err)}"
                 for err in e.errors()[:20]]
        if any(err["loc"] == ("profile",) for err in e.errors()):
            lines.append("  （profile 是地区配置：写在 JSON 中，或在命令行用 -p 指明，如 -p 我的地区/）")
        _fail(f"{path} 数据不符合格式：\n" + "\n".join(lines))


def _categories(path: Path, data: dict, prof) -> None:
    """A project's category may go unsaid where the region has one; where it has several, the
    data file is refused naming each project that says none and the categories to choose from.
    A category the region does not have is refused too: the project would drop out of 附件1."""
    from ..core.model import complete_categories

    missing = complete_categories(data, prof.projects.implied_category)
    cats = prof.projects.categories
    unknown = [(i, str(p.get("name") or "").strip(), p["category"]) for i, p in enumerate(data.get("projects") or [])
               if isinstance(p, dict) and isinstance(p.get("category"), str) and p["category"].strip()
               and p["category"] not in cats] if isinstance(data.get("projects"), list) else []
    if unknown:  # it would fall out of 附件1 without a word
        lines = [f"  第 {i + 1} 个项目" + (f"“{name}”" if name else "") + f"的项目类别“{cat}”不是本地区的类别"
                 for i, name, cat in unknown]
        _fail(f"{path}：地区“{prof.profile.name}”的项目类别是 {'、'.join(cats)}"
              f"（不列入基础数据表的项目写空字符串 \"\"）：\n" + "\n".join(lines))
    if missing:
        cats = "、".join(prof.projects.categories)
        lines = [f"  第 {i + 1} 个项目" + (f"“{name}”" if name else "") + "没有写项目类别（category）" for i, name in missing]
        _fail(f"{path}：地区“{prof.profile.name}”有 {len(prof.projects.categories)} 个项目类别，"
              f"每个项目都要写明属于哪一类（category 写 {cats} 之一）：\n" + "\n".join(lines))


def _print_schema(value: bool) -> None:
    """``fill --schema``: the data file's format, from the installed package (a wheel has no
    templates/ folder)."""
    if value:
        import json

        from ..core.model import Department

        typer.echo(json.dumps(Department.model_json_schema(), ensure_ascii=False, indent=2))
        raise typer.Exit(0)


@app.command("fill", short_help="用 JSON 数据预填模板", help="用 JSON 数据（如财务系统导出的预算数）预填一个模板。")
def fill_cmd(
    data: Path = typer.Argument(..., metavar="数据.json", help="单位数据 JSON（格式用 selfeval-xl fill --schema 打印；"
                                                           "示例数据用 selfeval-xl examples 复制出来）"),
    out: Path = typer.Option(..., "-o", "--out", help="输出的 .xlsx 文件"),
    profile: Optional[str] = typer.Option(None, "--profile", "-p", help="地区配置（默认用 JSON 中的 profile）"),
    timestamp: Optional[str] = typer.Option(None, "--timestamp", help="固定生成时间（用于可重复输出）"),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    key_file: Optional[Path] = typer.Option(None, "--key-file", help=KEY_HELP),
    schema: bool = typer.Option(False, "--schema", is_eager=True, callback=_print_schema,
                                help="打印数据 JSON 的格式（JSON Schema）后退出"),
) -> None:
    from ..forms.binding import BindingError
    from ..xlsx.write import write_workbook

    dept = load_department(data, profile)
    prof = _profile(profile or dept.profile)
    _proven(prof, profile or dept.profile)
    if prof.id != dept.profile:
        dept = dept.model_copy(update={"profile": prof.id})
    _output_file(out, [data], force)
    try:
        _guard(write_workbook, dept, prof, out, generated_at=_timestamp(timestamp), key=_key(key_file))
    except BindingError as e:
        _fail(f"{data}：{e}")
    typer.echo(f"已写入：{out}")


@app.command("key", short_help="显示本机的模板签名密钥", help="显示本机签发模板所用的签名密钥文件的位置和编号（没有时建立）。"
             "生成的模板带有用此密钥计算的签名，单位改动模板中的评分规则或单位信息，回收校验时会被指出“模板被改动”。"
             "与同事共同负责时，把此文件复制给同事，校验时用 --key-file 指明。密钥不要发给填报单位。")
def key_cmd(
    key_file: Optional[Path] = typer.Option(None, "--key-file", help="密钥文件（默认为本机的）"),
) -> None:
    key = _key(key_file)
    typer.echo(f"签名密钥文件：{Path(key.source).resolve()}")
    typer.echo(f"密钥编号：{key.id}（写在每个模板的元数据中，用来识别是哪把密钥签发的；密钥本身不在模板里）")


def _output_file(out: Path, inputs: list[Path], force: bool) -> None:
    """An output file: never an input, never over an existing file without --force, its
    folder writable — all checked before any work."""
    if out.is_dir():
        _fail(f"输出位置 {out} 是一个文件夹，这里需要一个文件名（如 {out / '结果.json'}）。")
    _guard(refuse_input, out, inputs)
    _guard(prepare_folder, out.parent if str(out.parent) else Path("."))
    _guard(refuse_existing, [out], force)


@app.command("extract", short_help="从工作簿读回录入的数据", help="从填好的模板读回录入的数据，写成 JSON（不含任何计算结果）。")
def extract_cmd(
    workbook: Path = typer.Argument(..., metavar="工作簿.xlsx", help="填好的 .xlsx"),
    out: Path = typer.Option(..., "-o", "--out", help="输出的 JSON 文件"),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    import json

    from ..xlsx.read import ReadError
    from ..xlsx.skeleton import extract_data

    if not workbook.exists():
        _fail(f"找不到文件 {workbook}")
    _output_file(out, [workbook], force)
    try:
        data = extract_data(workbook)
    except ReadError as e:
        _fail(str(e))
    _guard(write_text_atomic, out, json.dumps(data, ensure_ascii=False, indent=2))
    typer.echo(f"已写入：{out}")


@app.command("check", short_help="校验回收的工作簿，输出汇总表", help="回读填好的工作簿（文件或文件夹，可多个），按录入数据重算全部合计、执行率、得分，逐格指出问题；单位的 Word/PDF 自评报告（.docx/.doc/.wps/.pdf）可放在同一文件夹：同一单位的报告与工作簿配对核对，单独的报告按其正文和表格校验。输出 汇总表.xlsx 和 summary.json。退出码：0 无错误，1 发现错误，2 有文件无法读取或用法错误。")
def check_cmd(
    inputs: list[Path] = typer.Argument(..., metavar="工作簿或文件夹", help="工作簿、报告或文件夹（递归查找 .xlsx/.xlsm 和 .docx/.doc/.wps/.pdf 报告）"),
    out: Path = typer.Option(..., "-o", "--out", help="输出文件夹"),
    annotate_copies: bool = typer.Option(False, "--annotate", help="同时在 输出文件夹/批注/ 下生成带批注的副本"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="并行进程数（默认按 CPU）"),
    profile: Optional[str] = typer.Option(None, "--profile", "-p",
                                          help="本批次应使用的地区（地区名或文件夹）；其他地区或其他版本的工作簿会被标出"),
    year: Optional[int] = typer.Option(None, "--year", "-y", help="本批次的年度；其他年度的工作簿会被标为错误"),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    key_file: Optional[Path] = typer.Option(None, "--key-file", help="另一份签名密钥文件（同事签发的模板）；本机的密钥总会用到"),
) -> None:
    expect = _judging(profile, year, key_file)
    code = run_check(inputs, out, annotate_copies, workers, expect=expect, force=force)
    raise typer.Exit(code)


def _judging(profile: Optional[str], year: Optional[int], key_file: Optional[Path]) -> Optional[dict]:
    """What every worker of a check or report batch is told: the coordinator's region (which then
    judges every workbook, whatever it carries), the year, and the extra key to verify with."""
    from ..jobs.checking import judging
    from ..xlsx.signing import known_keys

    if not (profile or year or key_file):
        return None
    return judging(_profile(profile) if profile else None,
                   known_keys([_key(key_file, create=False)]) if key_file else None, year=year)


def _collect_inputs(inputs: list[Path], out: Path, with_json: bool = False,
                    with_reports: bool = False) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Workbooks under the inputs (and JSON data files for report), never our own outputs; and
    every other file found, with what to do about it."""
    from ..jobs import batch

    missing = [p for p in inputs if not p.exists()]
    if missing:
        _fail("找不到：" + "、".join(str(p) for p in missing))
    files, others = batch.discover(inputs, with_json=with_json, with_reports=with_reports)
    out_resolved = out.resolve()
    files = [f for f in files if out_resolved not in f.resolve().parents]
    # realpath, not resolve: an entry listed as skipped may be a looping link
    others = [(f, why) for f, why in others if out_resolved not in Path(os.path.realpath(f)).parents]
    if not files and not others:
        _fail("没有找到 .xlsx/.xlsm 工作簿" + ("或 JSON 数据" if with_json else ""))
    return files, others


def _say_undecodable_names(files: list[Path], echo) -> None:
    """Names unzipped from a Windows archive are in its code page (GBK), not UTF-8. They are
    read (and their outputs named) as ``display_path`` decodes them; the coordinator is told,
    since the name on disk is not the one shown."""
    from ..files.outputs import display_path

    for f in files:
        try:
            f.name.encode("utf-8")
        except UnicodeEncodeError:
            echo(f"  提示：文件名 {display_path(f)} 不是 UTF-8 编码（多来自 Windows 压缩包），已按 GBK 读作"
                 f"“{display_path(f.name)}”；建议解压时选用 UTF-8 或把文件改名。")


def run_check(inputs: list[Path], out: Path, annotate_copies: bool = False, workers: Optional[int] = None,
              echo=typer.echo, expect: Optional[dict] = None, force: bool = False) -> int:
    """``check``: find the files, refuse existing outputs, run the check job (``jobs.check``), print."""
    from ..jobs import check as job
    from ..xlsx.summary import region_name

    _guard(prepare_folder, out, inputs, mark=True)
    files, others = _collect_inputs(inputs, out, with_reports=True)
    # Word/PDF reports (issue #19): a unit's report rides with its workbook; a report alone is an item
    plan = job.plan(files)
    files = plan.files
    _say_undecodable_names(files, echo)
    _guard(refuse_existing, [out / "汇总表.xlsx", out / "summary.json"]
           + ([out / "批注" / n for n in plan.copy_names] if annotate_copies else []), force)
    t0 = time.monotonic()
    if annotate_copies:
        _guard(prepare_folder, out / "批注")
    run = _guard(job.check, plan, expect, copies=out / "批注" if annotate_copies else None, summary=out,
                 others=others, workers=workers)
    results, interrupted, unwritten = run.results, run.interrupted, run.unwritten
    for note in run.notes:
        echo(f"  {note}")
    unreadable = sum(1 for r in results if not r.readable)
    with_errors = sum(1 for r in results if r.count("error"))
    regions: dict[str, int] = {}
    for r in results:
        if r.readable and r.profile:
            name = region_name(r.profile, r.region_name)
            regions[name] = regions.get(name, 0) + 1
    written = sum(1 for r in results if r.extra.get("annotated"))
    echo(f"校验完成：{len(results)} 个文件，{with_errors} 个有错误，{unreadable} 个无法读取"
         + (f"，批注副本 {written} 个" if annotate_copies else "")
         + f"，用时 {time.monotonic() - t0:.1f} 秒（含汇总表" + ("和批注副本" if annotate_copies else "") + "）"
         + (f"，{len(unwritten)} 个批注副本未写入" if unwritten else "")
         + (f"（已中断：完成 {len(results) - len(others)}/{len(files)} 个）" if interrupted else ""))
    if regions:
        echo("地区配置：" + "、".join(f"{name}（{n} 个）" for name, n in regions.items()))
    for r in results:
        if not r.readable:
            echo(f"  无法读取：{r.reason}")
    for r in unwritten:
        echo(f"  未写入：{r.reason}")
    for r in results:
        if r.extra.get("no_copy"):
            echo(f"  未加批注：{r.name}：{r.extra['no_copy']}")
    echo(f"汇总表：{(out / '汇总表.xlsx').resolve()}")
    echo(f"明细 JSON：{(out / 'summary.json').resolve()}")
    if annotate_copies:
        echo(f"批注副本：{(out / '批注').resolve()}")
    if interrupted:
        return 130
    return 2 if unreadable or unwritten else (1 if with_errors else 0)


@app.command("annotate", short_help="生成带批注的副本", help="生成带批注的副本：每个问题写成单元格批注并标色，便于退回单位修改。原文件不会被修改。")
def annotate_cmd(
    workbook: Path = typer.Argument(..., metavar="工作簿.xlsx", help="填好的 .xlsx"),
    out: Path = typer.Option(..., "-o", "--out", help="输出的批注副本 .xlsx"),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    from ..xlsx.annotate import annotate
    from ..jobs.checking import check_unit
    from ..jobs.check import stored_flags

    if not workbook.exists():
        _fail(f"找不到文件 {workbook}")
    _output_file(out, [workbook], force)
    r = check_unit(workbook)
    if not r.readable:
        _fail(r.reason)
    try:
        _guard(annotate, workbook, stored_flags(r), out)
    except ValueError as e:
        _fail(str(e))
    typer.echo(f"已写入批注副本：{out}（错误 {r.count('error')}，警告 {r.count('warning')}，提示 {r.count('info')}）")


@app.command("report", short_help="生成 Word 自评报告", help="按填好的工作簿（或 JSON 数据）为每个单位生成 Word 自评报告；数字一律按录入数据重算。有错误的单位仍生成报告，错误和正文与附件不符的数字以 Word 批注标在所在格子或句子旁（--strict 则跳过）；输出文件夹中另有 汇总表.xlsx 和 summary.json。")
def report_cmd(
    inputs: list[Path] = typer.Argument(..., metavar="工作簿或文件夹", help="工作簿文件或文件夹（递归查找 .xlsx/.xlsm），或单位数据 .json"),
    out: Path = typer.Option(..., "-o", "--out", help="输出文件夹"),
    pdf: bool = typer.Option(False, "--pdf", help="同时用 LibreOffice 转为 PDF"),
    template: Optional[Path] = typer.Option(None, "--template", "-t", help="自定义报告模板 .docx（变量见 README）"),
    strict: bool = typer.Option(False, "--strict", help="有错误、或报告正文支出情况一节的数字与附件不一致的单位不生成报告，只列出原因"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="并行进程数（默认按 CPU）"),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    pdf_timeout: float = typer.Option(120, "--pdf-timeout", help="每份报告转 PDF 最多等待的秒数；超时的跳过并列出"),
    profile: Optional[str] = typer.Option(None, "--profile", "-p",
                                          help="按此地区配置（地区名或文件夹）计分和评定等次，不采用工作簿携带的规则"),
    key_file: Optional[Path] = typer.Option(None, "--key-file", help="另一份签名密钥文件（同事签发的模板）"),
) -> None:
    raise typer.Exit(run_report(inputs, out, pdf, template, strict, workers, force=force, pdf_timeout=pdf_timeout,
                                expect=_judging(profile, None, key_file)))


def run_report(inputs: list[Path], out: Path, pdf: bool = False, template: Optional[Path] = None,
               strict: bool = False, workers: Optional[int] = None, echo=typer.echo, force: bool = False,
               pdf_timeout: float = 120, expect: Optional[dict] = None) -> int:
    """``report``: find the inputs, name the reports, refuse existing outputs, run the report job
    (``jobs.report``), print."""
    from ..jobs.checking import STATUS_SKIPPED
    from ..jobs import report as job

    if template is not None and not template.exists():
        _fail(f"找不到报告模板 {template}")
    _guard(prepare_folder, out, inputs, mark=True)
    files, others = _collect_inputs(inputs, out, with_json=True)
    _say_undecodable_names(files, echo)
    # one report per input file: two workbooks of one unit must not overwrite each other; named
    # in the region's words (its [report] file_name / title) from each workbook's metadata
    names = job.names(files, expect, workers)
    _guard(refuse_existing, [out / n for n in names] + ([(out / n).with_suffix(".pdf") for n in names] if pdf else [])
           + [out / "汇总表.xlsx", out / "summary.json"], force)
    t0 = time.monotonic()
    run = _guard(job.report, list(zip(files, names)), out, str(template) if template else None, strict, expect,
                 pdf=pdf, pdf_timeout=pdf_timeout, summary=out, others=others, workers=workers)
    results, written, interrupted = run.results, run.written, run.interrupted
    for r in results:
        if not r.readable or r.status == STATUS_SKIPPED:
            echo(f"  {'无法读取' if not r.readable else '已跳过'}：{r.reason}")
    for f, why in run.pdf_failed.items():
        echo(f"  未生成 PDF：{f.name}（{why}）；Word 报告已生成，可用 Word 或 WPS 另存为 PDF")
    if run.pdf_missing:
        echo(f"未生成 PDF：{run.pdf_missing}")
    echo(f"报告：生成 {len(written)} 份" + (f"，PDF {len(run.pdfs)} 份" if pdf else "")
         + f"，失败或跳过 {len(results) - len(written)} 份，用时 {time.monotonic() - t0:.1f} 秒"
         + ("（含转换 PDF）" if pdf and written else "") + f"，输出：{out.resolve()}"
         + (f"（已中断：完成 {len(results)}/{len(files)} 个）" if interrupted else ""))
    if interrupted:
        return 130
    if run.pdf_failed or any(not r.readable for r in results):
        return 2
    return 1 if any(r.status == STATUS_SKIPPED for r in results) else 0


DEFAULT_PORT = 8765  # the workbench's address stays the same from day to day: http://127.0.0.1:8765/


@app.command("serve", short_help="打开协调人工作台（网页）", help="打开协调人工作台：本机网页，管理年度任务、名册与模板、回收与校验、退回与确认、汇总与报告。"
                          "数据保存在工作区文件夹（SQLite 数据库和收到的文件）。")
def serve_cmd(
    workspace: Path = typer.Argument(Path("工作区"), metavar="工作区", help="工作区文件夹（不存在时自动建立）"),
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址；默认只允许本机访问。局域网地址必须同时设置密码"),
    port: Optional[int] = typer.Option(None, "--port", help=f"端口（默认 {DEFAULT_PORT}，被占用时自动改用一个空闲端口并打印；"
                                                             f"0 = 任选一个空闲端口）"),
    password_file: Optional[Path] = typer.Option(None, "--password-file",
                                                 help="密码文件（第一行为密码）；设置后需登录，每个决定记录人员"),
    no_browser: bool = typer.Option(False, "--no-browser", help="不自动打开浏览器"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="校验、生成时的并行进程数（默认按 CPU）"),
) -> None:
    import errno
    import socket
    import webbrowser

    from ..web.app import ServeError, create_app
    from ..web.store import WorkspaceError

    # the server answers on several threads; a worker pool forked from a threaded process can
    # inherit a lock another thread held. forkserver starts workers from a clean single-threaded
    # process (spawn on Windows and macOS already does).
    if sys.platform.startswith("linux"):
        os.environ.setdefault("SELFEVAL_START_METHOD", "forkserver")

    password = None
    if password_file is not None:
        try:
            password = password_file.read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, IndexError, UnicodeDecodeError):
            _fail(f"无法读取密码文件 {password_file}（第一行应为密码）")
        if len(password) < 8:
            _fail("密码至少 8 个字符")
    try:
        app_ = create_app(workspace, password=password, host=host, workers=workers)
    except (ServeError, WorkspaceError) as e:
        _fail(str(e))
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.bind((host, DEFAULT_PORT if port is None else port))
    except OSError as e:
        if port is not None or e.errno not in (errno.EADDRINUSE, errno.EACCES):
            _fail(f"无法在 {host}:{DEFAULT_PORT if port is None else port} 上提供服务：{e.strerror or e}")
        sock.close()  # the default port is taken (another workbench?): any free one, said below
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        try:
            sock.bind((host, 0))
        except OSError as e2:
            _fail(f"无法在 {host} 上提供服务：{e2.strerror or e2}")
        typer.echo(f"端口 {DEFAULT_PORT} 已被占用（可能已有一个工作台在运行），改用端口 {sock.getsockname()[1]}。")
    sock.listen(64)
    real_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{real_port}/"
    typer.echo(f"工作台已启动：{url}\n工作区：{workspace.resolve()}\n按 Ctrl-C 停止。")
    if not no_browser:
        try:
            webbrowser.open(url)
        except Exception:  # noqa: BLE001 — no browser on this machine: the address is printed
            pass
    from waitress import serve

    serve(app_, sockets=[sock], threads=8, ident="selfeval-xl", _quiet=True)


def _demo_help() -> str:
    data = sorted((EXAMPLES / "data").glob("*.json"))
    try:
        with open(EXAMPLES / "roster.csv", encoding="utf-8-sig") as f:
            roster = len({line.split(",")[0] for line in f.read().splitlines()[1:] if line.strip()})
    except OSError:
        roster = 0
    return (f"用安装包自带的示例演示全过程，输出到 ./demo-output/：按示例名册生成 {roster} 个单位的空白模板；"
            f"用 {len(data)} 个示例单位的数据（从真实报告转录，含原报告中的错误）预填工作簿，"
            f"校验（含带批注的副本）并生成 Word 报告（装有 LibreOffice 时同时转 PDF）。")


@app.command("examples", short_help="把自带的示例名册和数据复制出来",
             help="把安装包自带的示例名册（roster.csv）和五个示例单位的数据（data/*.json）复制到一个文件夹，"
                  "供 generate、fill 等命令试用（例如 selfeval-xl generate 示例/roster.csv -o 模板）。")
def examples_cmd(
    out: Path = typer.Option(Path("示例"), "-o", "--out", help="复制到的文件夹（默认 ./示例）"),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    import shutil

    files = [EXAMPLES / "roster.csv", *sorted((EXAMPLES / "data").glob("*.json"))]
    if not files[0].is_file():
        _fail(f"找不到示例名册 {files[0]}（安装包不完整，请重新安装）")
    targets = [out / f.relative_to(EXAMPLES) for f in files]
    if not force:
        there = [t for t in targets if t.exists()]
        if there:
            _fail(f"{there[0]} 已存在，未复制任何文件（加 --force 覆盖）")
    try:
        for f, t in zip(files, targets):
            t.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, t)
    except OSError as e:
        _fail(f"无法写入 {out}：{describe_os_error(e, out)}")
    typer.echo(f"已复制示例名册和 {len(files) - 1} 个示例单位的数据到 {out.resolve()}")


@app.command("demo", short_help="用自带示例演示全过程", help=_demo_help())
def demo_cmd(
    out: Path = typer.Option(Path("demo-output"), "-o", "--out", help="输出文件夹"),
) -> None:
    from ..core.model import Department
    from ..files.roster import read_roster, workbook_name
    from ..xlsx.write import write_workbook

    prof = get_profile(DEFAULT_PROFILE)
    roster = EXAMPLES / "roster.csv"
    if not roster.exists():
        _fail(f"找不到示例名册 {roster}")
    ts = dt.datetime(2024, 6, 1, 9, 0, 0)
    key = _key(None)
    blank_dir, filled_dir = out / "1-空白模板", out / "2-预填示例"
    units = read_roster(roster, prof)
    for unit in units:
        year = 2023
        write_workbook(unit.department(year, prof), prof, blank_dir / workbook_name(unit.code, unit.name, year),
                       generated_at=ts, key=key)
    typer.echo(f"① 空白模板（按名册生成 {len(units)} 个）：{blank_dir.resolve()}")
    n = 0
    for path in sorted((EXAMPLES / "data").glob("*.json")):
        dept = Department.model_validate_json(path.read_text(encoding="utf-8"))
        p = get_profile(dept.profile)
        write_workbook(dept, p, filled_dir / workbook_name(dept.code, dept.name, dept.year), generated_at=ts,
                       key=key)
        n += 1
    typer.echo(f"② 预填了种子报告数据的工作簿（{n} 个）：{filled_dir.resolve()}")
    typer.echo("③ 回读并校验预填的工作簿（种子报告中的错误会被逐格指出）：")
    run_check([filled_dir], out / "3-校验结果", annotate_copies=True, workers=1,
              echo=lambda s: typer.echo("   " + s), force=True)  # the demo's own outputs: rerunning replaces them
    from ..files.libreoffice import soffice_path

    typer.echo("④ 合成 Word 自评报告" + ("（并转为 PDF）：" if soffice_path() else "（未安装 LibreOffice，不转 PDF）："))
    run_report([filled_dir], out / "4-自评报告", pdf=bool(soffice_path()), echo=lambda s: typer.echo("   " + s),
               force=True)
    typer.echo("用 Excel、WPS 或 LibreOffice 打开即可查看。")


# -- regions -----------------------------------------------------------------------------------

region_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="地区配置：试算一个地区文件夹，确认能生成、回读、校验和出报告。")
app.add_typer(region_app, name="region", short_help="地区配置的试算", help="地区配置：试算一个地区文件夹，确认能生成、回读、校验和出报告。")


def _proven(prof, display: str) -> None:
    """Refuse a region that fails its proof (exit 2), before any file is written."""
    from ..jobs.proving import RegionRefused, prove

    try:
        prove(prof, display)
    except RegionRefused as e:
        _fail(str(e))


@region_app.command("check", short_help="试算一个地区配置",
                    help="编译地区文件夹，用一组有效的试算数据生成工作簿、重算、写出并读回、校验、生成报告；"
                         "任何一步失败都指出文件、行号和键。退出码：0 通过，2 不能使用。")
def region_check_cmd(
    folder: str = typer.Argument(..., metavar="地区文件夹", help="地区文件夹（内有 region.toml），或已带的地区名"),
) -> None:
    from ..forms.binding import form_name
    from ..jobs.proving import RegionRefused, prove

    prof = _profile(folder)
    try:
        prove(prof, folder, force=True)
    except RegionRefused as e:
        _fail(str(e))
    sheets = [form_name(prof, sd.role) or sd.name for sd in prof.forms.sheets]
    typer.echo(f"地区配置 {prof.id}（{prof.profile.name}）通过试算：生成、重算、回读、校验、报告均正常。"
               f"表：{'、'.join(sheets)}。")


def main() -> None:
    import signal

    def _terminated(signum, frame):  # SIGTERM as Ctrl-C: temp files are removed on the way out
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminated)
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("已中断。", err=True)
        sys.exit(130)
    except OutputError as e:
        typer.echo(f"错误：{e}", err=True)
        sys.exit(2)
    except OSError as e:  # the user's environment, not a bug: say what and where
        typer.echo(f"错误：{describe_os_error(e)}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()

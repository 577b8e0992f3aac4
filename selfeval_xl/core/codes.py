"""Every problem code the tool raises, in one registry (issue #18, part 1).

Each code says what it means, the severities it is raised with, and what the clerk (or the
coordinator) should do. The README's list of codes is generated from here
(``python -m selfeval_xl.core.codes --readme``) and ``tests/test_codes.py`` holds the registry,
the code the package raises, the shipped regions' declarations and the README equal.

Core: pure data, no I/O beyond the README rewrite the command line asks for.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .flags import ERROR, INFO, WARNING

SEVERITIES = (ERROR, WARNING, INFO)
SEVERITY_CN = {ERROR: "错误", WARNING: "警告", INFO: "提示"}

# the groups, in the order the README lists them
GROUPS = ("合计与计算格", "执行率与得分", "跨表", "指标", "填写与完整性", "读取", "表格结构与公式",
          "元数据与模板", "正文", "地区配置")

START, END = "<!-- codes:start -->", "<!-- codes:end -->"


@dataclass(frozen=True)
class Code:
    code: str  # SUM-101: stable, the summary filters and counts by it
    severities: tuple[str, ...]  # what it may be raised with: error | warning | info
    title: str  # what it means, in the coordinator's words
    advice: str  # what the clerk (or the coordinator) should do
    group: str  # one of GROUPS
    # declared in the shipped regions' files (a form's [block.checks], a region's [[checks]]),
    # not raised by a literal in the package's Python code
    region: bool = False


def _c(code: str, severities: str | tuple[str, ...], group: str, title: str, advice: str,
       region: bool = False) -> Code:
    sev = (severities,) if isinstance(severities, str) else tuple(severities)
    return Code(code, sev, title, advice, group, region)


_S, _R, _X, _I, _F, _D, _L, _M, _N, _G = GROUPS
def _formula(what: str = "该格") -> str:
    return f"{what}是公式（灰色格），不要手工改写"


_ALL = (
    # -- 合计与计算格 ------------------------------------------------------------------------
    _c("SUM-101", ERROR, _S, "年度资金总额不等于各来源之和（当年财政拨款 + 上年结转资金 + 其他资金，各地区按其表样）",
       f"核对各资金来源的录入数；{_formula()}", region=True),
    _c("SUM-102", ERROR, _S, "三公经费不等于其分项之和（公务用车 = 购置 + 运行维护）",
       f"核对三公经费各分项（湖南：附件1）；{_formula()}", region=True),
    _c("SUM-103", ERROR, _S, "项目支出合计不等于各类别、各项目之和（项目行的本年数取自各项目表；湖南：附件1 取自附件3）",
       f"在各项目表核对全年预算数和执行数；{_formula('项目支出合计')}"),
    _c("SUM-104", ERROR, _S, "全年执行数不等于 基本支出 + 项目支出",
       f"核对基本支出和项目支出；{_formula()}", region=True),
    _c("SUM-105", ERROR, _S, "按收入性质分的合计（一般公共预算 + 政府性基金 + 专户非税 + 其他）不等于全年执行数",
       "核对整体表（湖南：附件2）各项收入来源的金额"),
    _c("CALC-101", ERROR, _S, "计算格的数字与按录入数据重算的结果不同（表样没有为该格另定代码）",
       "公式被改成了常数或抄入了别处的数：核对录入数据，在下发的模板中填写，不要改写灰色格"),
    # -- 执行率与得分 ------------------------------------------------------------------------
    _c("RATE-101", ERROR, _R, "预算执行率不等于 全年执行数 ÷ 全年预算数",
       f"核对全年预算数和执行数；{_formula('执行率')}"),
    _c("RATE-102", ERROR, _R, "人员控制率不等于 实际在职人数 ÷ 编制数",
       f"核对编制数和实际在职人数（湖南：附件1）；{_formula()}", region=True),
    _c("RATE-103", ERROR, _R, "楼堂馆所控制率不等于 实际 ÷ 批复（预算）",
       f"核对批复规模、实际规模及投资额；{_formula()}", region=True),
    _c("RATE-104", ERROR, _R, "某资金来源（其中一行）的预算执行率不等于 该行执行数 ÷ 预算数（四川：调整后预算数；安徽金寨：全年预算数）",
       f"核对该资金来源的预算数和执行数；{_formula()}", region=True),
    _c("RATE-201", WARNING, _R, "超预算执行：全年执行数超过全年预算数",
       "核实执行数和预算数；确属超预算执行的，写明原因"),
    _c("RATE-203", WARNING, _R, "预算执行率未达到规定比例而未说明原因（四川：低于 90% 须在“原因”栏说明）",
       "在该项目表的“原因”栏说明预算执行率偏低的原因", region=True),
    _c("RATE-202", WARNING, _R, "实际在职人数超过编制数（控制率超过 100%）",
       "核实编制数和实际在职人数；确属超编的，在报告中说明"),
    _c("SCORE-101", ERROR, _R, "预算执行率得分不等于 分值 × 执行率（最高 100%）",
       f"核对全年预算数和执行数；{_formula('得分')}"),
    _c("SCORE-102", ERROR, _R, "总分不等于 执行率得分与各指标得分之和",
       f"核对各指标得分；{_formula('总分')}"),
    _c("SCORE-103", ERROR, _R, "指标得分超过分值", "改正该行得分，不得超过分值"),
    _c("SCORE-104", ERROR, _R, "评价等次与总分不对应",
       "等次按协调单位的规则由总分评定，不要手工改写等次格"),
    _c("SCORE-105", ERROR, _R, "指标填了分值（表样没有分值列的：填了名称）但没有填得分", "填写该行得分"),
    _c("SCORE-106", ERROR, _R, "指标得分不等于按表样公式计算的结果（如 得分 = 得分系数 × 权重）",
       f"核对该行的得分系数和权重；{_formula('得分')}", region=True),
    _c("SCORE-107", ERROR, _R, "一级指标下各行得分合计超过该一级的分值（表样没有分值列，分值只印在一级指标中，如 产出指标（50分））",
       "改正该一级指标下各行得分，使合计不超过该一级的分值"),
    _c("SCORE-108", ERROR, _R, "二级指标下各行得分合计超过该二级的分值（表样没有分值列，分值印在二级指标中，如 数量指标（20分））",
       "改正该二级指标下各行得分，使合计不超过该二级的分值"),
    _c("WEIGHT-101", ERROR, _R, "一级指标下各行分值合计与规则规定的分值不符",
       "调整各行分值，使合计等于规定的分值"),
    _c("WEIGHT-102", ERROR, _R, "分值合计不等于各行分值之和",
       f"核对各行分值；{_formula('合计')}"),
    _c("WEIGHT-103", ERROR, _R, "各行分值合计与规则规定的绩效指标合计不符（规则只规定合计）",
       "调整各行分值，使合计等于规定的分值；各一级指标之间可自行分配"),
    _c("WEIGHT-104", ERROR, _R, "指标填了名称但没有填分值", "填写该行分值"),
    _c("WEIGHT-105", ERROR, _R, "二级指标下各行分值合计与规则规定的该二级分值不符（表样按二级印分值，如 数量指标（20分））",
       "调整该二级指标下各行分值，使合计等于规定的分值"),
    # -- 跨表 --------------------------------------------------------------------------------
    _c("XATT-101", ERROR, _X, "整体表的项目支出不等于基础数据表的项目支出本年决算数（湖南：附件2 ≠ 附件1）",
       f"核对基础数据表的项目支出和各项目表；{_formula('整体表该格')}", region=True),
    _c("XATT-102", ERROR, _X, "项目行中项目的本年预算数、决算数（或名称）与对应的项目表不一致（湖南：附件1 与附件3）",
       "项目行取自项目表：在项目表中改正，不要改写项目行的灰色格"),
    _c("XATT-103", ERROR, _X, "项目表中的项目没有列入项目行（湖南：附件3 的项目不在附件1 中）",
       "在项目行所在的表相应类别下填写该项目，名称与项目表一致"),
    _c("XATT-104", ERROR, _X, "项目行中填写的项目本年预算数或决算数与项目表不一致（湖南：附件1 与附件3）",
       "核对后改正项目行或项目表中填错的数"),
    _c("XATT-105", ERROR, _X, "地区规定必须相等的两个数不相等（如衡阳 2022：附件1 基本支出本年决算数 ≠ 附件2 基本支出）",
       "核对说明中列出的两个单元格，改正填错的一处", region=True),
    _c("HINT-101", WARNING, _G, "地区在表中画出的提示（[block.warn]）出现：表格右侧的提示文字所说的情况",
       "按表格右侧的提示核对所指的单元格；确属实际情况的，在说明或原因栏中写明"),
    _c("HINT-201", ERROR, _G, "地区在表中画出的错误提示（[block.error]）出现：表格右侧的提示文字所说的错误",
       "按表格右侧的提示改正所指的单元格"),
    # -- 指标 --------------------------------------------------------------------------------
    _c("IND-201", WARNING, _I, "得分与按指标值、完成值推算的建议得分不符",
       "复核得分；确有理由的，在偏差原因栏（表样没有这一栏的，在报告中）说明"),
    _c("IND-202", WARNING, _I, "得分低于分值（表样没有分值列的：完成值未达到指标值），但没有写偏差原因",
       "填写偏差原因分析及改进措施"),
    _c("IND-203", WARNING, _I, "实际完成值带 ≥、≤ 等符号，或照抄了指标值",
       "填写实际达到的数，如 98%"),
    _c("IND-204", WARNING, _I, "年度指标值为空或只写“定性”，无法衡量",
       "写明可衡量的目标值，如 ≥95%、≤100万元、12月31日前"),
    _c("IND-205", WARNING, _I, "是否核心指标填的不是“是”或“否”（偏差原因的下拉列表只是建议，填写其他文字不报）",
       "从下拉列表选择“是”或“否”"),
    _c("IND-301", INFO, _I, "有二级指标没有细化到三级指标（湖南的评分表附件5 按“细化到三级指标”扣分）",
       "在该二级指标下补充三级指标"),
    # -- 填写与完整性 ------------------------------------------------------------------------
    _c("FILL-101", ERROR, _F, "工作簿未填写（原样交回的空白模板），状态为“未填写”",
       "退回单位，填写后重新提交"),
    _c("FILL-102", ERROR, _F, "全年预算数未填写，或全年执行数为 0（执行率和得分无法计算）",
       "填写全年预算数和执行数（有基本支出、项目支出栏的，分别填写）"),
    _c("FILL-201", WARNING, _F, "填写格的内容不在表样规定的可选项中（地区在 [block.choices] 中给出的选项，如项目类别）",
       "从下拉列表中选择；确需填写其他内容的，与下发单位确认"),
    _c("ATT-301", INFO, _F, "某张表（湖南：某张附件）未填写", "补填该表"),
    _c("SEC-301", INFO, _F, "报告正文某部分为空", "填写该部分；没有内容的写“无”"),
    _c("PRE-301", INFO, _F, "“完整性”预评分（湖南评分表附件5 的做法，地区在 [report.completeness] 中声明时）：正文、"
       "各表按缺一部分扣分估算",
       "仅供参考；补齐缺少的正文和表"),
    # -- 读取 --------------------------------------------------------------------------------
    _c("READ-101", (WARNING, INFO), _D,
       "数字格的内容经整理后读取（以文本形式存储的数字、只有空格或“无”等按空白）；以文本存储的数字 Excel/WPS "
       "的合计不计入，表中合计因此偏小时为警告",
       "改为纯数字（删去逗号、单位、空格），不填的格留空"),
    _c("READ-102", ERROR, _D, "数字格中的内容无法识别为数字，已按空白处理",
       "只填写数字（金额以万元为单位，如 103.86）"),
    _c("READ-103", ERROR, _D, "金额、人数或分值为负数，已按空白处理", "填写不带负号的数"),
    _c("READ-104", ERROR, _D, "人数不是整数，已按空白处理", "填写整数人数"),
    _c("READ-105", INFO, _D, "填写格中是公式，已按其结果读取", "建议直接填写数字"),
    _c("READ-106", WARNING, _D, "填写格中的公式无法得出值，已按空白处理", "直接填写数字"),
    _c("READ-107", INFO, _D, "以“=”开头的文字被表格软件当成了公式，已按所写文字读取",
       "一般不需处理；核对该格文字"),
    _c("READ-108", WARNING, _D, "金额格被设成了百分比格式", "把单元格格式改回数字，并核对数值"),
    _c("READ-109", ERROR, _D, "数值超出合理范围，已按空白处理", "核对该数（金额以万元为单位）"),
    _c("READ-110", INFO, _D, "内容中有看不见的控制字符（多为复制粘贴带入），已删除后读取",
       "一般不需处理"),
    _c("READ-111", WARNING, _D, "合并单元格被拆开，内容填在了合并区域的其他格，已按它读取",
       "把内容移回合并区域左上角的格，或恢复合并"),
    _c("READ-112", (ERROR, WARNING), _D,
       "有内容不在填写位置，没有被读取（在被拆开的合并区域内为错误；在表中不需填写处或表格以外为警告）",
       "把数据移到对应的填写格中，删除其余内容"),
    _c("READ-113", WARNING, _D, "百分比格中填的是百分数的数字（如 95），已按该百分比（95%）读取",
       "核对该数；在百分比格中直接输入 95% 即可"),
    _c("READ-114", ERROR, _D, "百分比格中的数无论按小数还是按百分数都超出范围，已按空白处理",
       "填写 0% 到 100% 之间的百分比，如 95%"),
    _c("READ-115", WARNING, _D, "日期格中的内容无法识别为日期（已按所写文字保留），或日期不在 2000 年至 2100 年之间",
       "填写日期，如 2024-3-5 或 2024年3月5日"),
    _c("READ-201", ERROR, _D, "缺少工作表（被删除或改名），该表的数据无法读取",
       "恢复该工作表，或用下发的模板重新填写"),
    _c("READ-202", INFO, _D, "工作表被改名，已按位置读取", "一般不需处理"),
    _c("READ-203", (WARNING, INFO), _D, "工作簿中有模板以外的工作表，其中内容没有被读取（空白的为提示）",
       "数据填在这张表里的，移到原表中，再删除这张表"),
    _c("READ-204", INFO, _D, "备用的空白项目表（湖南：附件3）被删除", "不需处理，不影响校验"),
    # -- 表格结构与公式 ----------------------------------------------------------------------
    _c("LAYOUT-201", WARNING, _L, "表头文字被改动", "恢复原表头；请在下发的模板中填写"),
    _c("LAYOUT-202", ERROR, _L, "表中插入或删除了行，此后的内容无法按位置读取（按空白处理）",
       "在下发的模板中填写，不要插入或删除行；需要更多指标行时联系下发单位"),
    _c("FORMULA-101", ERROR, _L, "公式被改成了固定值", "使用原模板或恢复公式；本程序已按录入数据重算"),
    _c("FORMULA-102", WARNING, _L, "公式被修改", "使用原模板；本程序不使用表内公式，按录入数据重算"),
    _c("FORMULA-103", WARNING, _L, "计算格显示错误值（如 #DIV/0!、#REF!）",
       "核对该格引用的录入格：多为填入了文字或删除了单元格"),
    # -- 元数据与模板 ------------------------------------------------------------------------
    _c("META-201", WARNING, _M, "工作簿由其他模板版本生成，版式可能不同", "核对版式，或改用新模板"),
    _c("META-202", WARNING, _M, "版式指纹与本程序按同一配置生成的不同（模板由其他版本或配置生成）",
       "确认单位使用的是本批次下发的模板"),
    _c("META-203", INFO, _M, "文件名不含元数据中的单位编码（按工作簿中记录的单位编码对应单位，不看文件名）",
       "一般不需处理；如非有意，确认文件没有交错单位"),
    _c("META-204", WARNING, _M, "本机签发的较早版本模板（签名有效）与现在的配置不同",
       "评分规则改过时，重新下发模板"),
    _c("META-205", ERROR, _M, "工作簿的地区配置不是本批次要求的（check --profile）",
       "确认单位使用了正确的模板，必要时重新下发"),
    _c("META-206", ERROR, _M, "工作簿的年度不是本批次的年度（check --year）", "请单位改用本年度的模板"),
    _c("META-207", WARNING, _M, "元数据中的地区名与工作簿携带的地区配置不符（元数据被改动）",
       "核实文件来源；请单位用下发的模板填写"),
    _c("META-208", WARNING, _M, "年度与本批次多数工作簿不同", "如非有意，请单位改用正确的模板；或用 check --year 指明本批次的年度"),
    _c("META-209", WARNING, _M, "地区配置与本批次多数工作簿不同",
       "如非有意，请单位改用正确的模板；或用 check --profile 指明本批次的地区配置"),
    _c("META-210", ERROR, _M, "模板被改动：签名与携带的配置或单位、年度信息不符",
       "请单位用下发的模板重新填写，或核实后按协调单位的配置处理"),
    _c("META-211", WARNING, _M, "本机没有该地区配置，签名也无法验证：按工作簿携带的规则校验，等次未经核实",
       "用 `--profile` 指明本批次的地区配置，或用 `--key-file` 提供签发模板的密钥"),
    _c("META-212", ERROR, _M, "元数据中的配置摘要与携带的配置不符（元数据被改动）", "同 META-210"),
    _c("META-213", ERROR, _M, "携带的配置与协调单位的不同，已按协调单位的配置计分",
       "核对说明中列出的不同之处；确需使用新规则时重新下发模板"),
    _c("META-214", ERROR, _M, "携带的配置根本无法使用（多为被改动过），已按协调单位的配置读取和计分", "同 META-210"),
    _c("META-301", INFO, _M, "工作表保护已被取消", "不需处理；本程序不信任表内公式，按录入数据全部重算"),
    # -- 正文 --------------------------------------------------------------------------------
    _c("NARR-301", INFO, _N, "“报告正文”表中引用的数字（基本支出、公用经费、项目支出、支出合计）与按各表重算的不同（湖南：第二部分）",
       f"核对各表中的数；{_formula()}", region=True),
    _c("NARR-401", (WARNING, INFO), _N,
       "正文引用的数字（金额、人数、执行率、得分等）与表中不一致；要靠上下文判断时为提示",
       "核对后改正正文或表"),
    _c("NARR-402", WARNING, _N, "正文中的比重不等于同句所写金额之比", "按所写金额重算比重后改正"),
    _c("NARR-403", WARNING, _N, "同一总额的几个比重合计不是 100%", "核对各比重"),
    _c("NARR-404", WARNING, _N, "正文中的得分率不等于 得分 ÷ 分值", "重算得分率后改正"),
    _c("NARR-405", WARNING, _N, "“元”与“万元”写混（表中以万元为单位）", "改正金额的单位"),
    _c("NARR-406", (WARNING, INFO), _N, "正文引用的绩效指标值或完成值与表中不同；要靠上下文判断时为提示",
       "核对后改正正文或表"),
    _c("NARR-407", WARNING, _N, "正文的说法与表中数字矛盾（如“支出控制在预算以内”而执行率超过 100%，“在职人数少于编制”而两者相等）",
       "改正说法，或改正表中的数字"),
    # Word reports (issue #19): a unit's own 自评报告, read and checked on its text
    _c("RPT-101", WARNING, _N, "与工作簿放在一起的同一单位的 Word/PDF 报告未能读取，正文按工作簿的“报告正文”校验",
       "按说明中的原因处理（另存为 .docx、提供带文字的 PDF 等）后重新校验"),
    _c("RPT-201", WARNING, _N, "与工作簿配对的报告，文件名和封面中找不到该单位的名称或编码",
       "核对是否放错了报告；报告文件名写上单位名称可避免误配"),
    _c("RPT-202", INFO, _N, "报告没有对应的工作簿，只按报告文字校验", "与表中数字的核对需要把该单位的工作簿放在同一文件夹"),
    _c("RPT-301", WARNING, _N, "报告中找不到提纲中的某一部分（标题）", "按本地区的报告提纲补写；没有内容的部分写“无”"),
    _c("RPT-401", WARNING, _N, "报告中“其中”列举的各项金额之和超过所说的总额", "核对各项金额和总额"),
    _c("RPT-403", WARNING, _N, "报告中“其中”列举的各项金额之和少于所说的总额，而报告又写明其余为 0",
       "核对各项金额和总额，或补列遗漏的项目"),
    _c("RPT-402", INFO, _N, "报告中同一个数（基本支出、项目支出等）前后写法不一", "核对后统一为表中的数"),
    # what only a document can get wrong: its tables are typed, not computed
    _c("RPT-501", WARNING, _N, "报告表格中一级指标标注的分值（如“效益指标（30分）”）与其下各行分值之和不同",
       "改正标题中的分值或各行分值"),
    _c("RPT-502", WARNING, _N, "报告表格中的分值或得分格不是数字（如“00”、文字），按空白处理",
       "填写数字；消息中给出按各行应有的数"),
    _c("RPT-503", WARNING, _N, "报告正文的附件清单与表格上标注的附件编号不一致", "统一附件清单和表格上的编号"),
    _c("RPT-504", WARNING, _N, "同一个数在报告中写了两种单位（如表中 1200㎡、正文 1200㎥）", "核对并统一单位"),
    _c("RPT-601", WARNING, _N, "报告表格中的数与同一单位工作簿中的数不同", "核对后统一：以工作簿（或报告）中正确的数为准改正另一处"),
    # -- 地区配置 ----------------------------------------------------------------------------
    _c("REG-301", INFO, _G, "本地区的表样没有某些部分（如部门整体表），相应各项不校验（每个工作簿说明一次）",
       "不需处理；说明本地区的校验范围"),
)

CODES: dict[str, Code] = {c.code: c for c in _ALL}
if len(CODES) != len(_ALL):
    raise ValueError("a code is registered twice")


# the codes that say a required input is blank: the workbook is not finished, so its score and
# grade mean nothing yet (the workspace's board shows such a unit as 未完成, with no grade)
INCOMPLETE_CODES = frozenset({"FILL-101", "FILL-102"})


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def readme_table() -> str:
    """The README's list of codes: one table per group (代码 | 级别 | 含义 | 怎么办)."""
    lines = [f"全部问题代码（共 {len(CODES)} 个；本表由 `python -m selfeval_xl.core.codes --readme` 按 "
             "`selfeval_xl/core/codes.py` 生成，请勿手改；地区在表样中声明的代码见下文 `[block.checks]`）："]
    for group in GROUPS:
        members = [c for c in CODES.values() if c.group == group]
        if not members:
            continue
        lines += ["", f"**{group}**", "", "| 代码 | 级别 | 含义 | 怎么办 |", "|---|---|---|---|"]
        for c in members:
            sev = "、".join(SEVERITY_CN[s] for s in SEVERITIES if s in c.severities)
            lines.append(f"| {c.code} | {sev} | {_cell(c.title)} | {_cell(c.advice)} |")
    return "\n".join(lines) + "\n"


def readme_block(text: str) -> str | None:
    """What stands between the markers in ``text`` (None when they are missing)."""
    i, j = text.find(START), text.find(END)
    if i < 0 or j < i:
        return None
    return text[i + len(START):j].strip("\n") + "\n"


def with_table(text: str) -> str:
    """``text`` with the block between the markers replaced by ``readme_table()``."""
    i, j = text.find(START), text.find(END)
    if i < 0 or j < i:
        raise ValueError(f"README 中没有 {START} … {END} 标记")
    return text[:i + len(START)] + "\n\n" + readme_table() + "\n" + text[j:]


def rewrite_readme(path: str | Path) -> bool:
    """Rewrite the README's block from the registry, atomically (a temporary file beside it,
    then replaced). Returns whether anything changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    new = with_table(text)
    if new == text:
        return False
    fd, tmp = tempfile.mkstemp(prefix=".README.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(new)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


README = Path(__file__).resolve().parents[2] / "README.md"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("--readme", "--table"):
        print("用法：python -m selfeval_xl.core.codes --readme [README.md]   （重写 README 中的代码表）\n"
              "      python -m selfeval_xl.core.codes --table                （打印代码表）", file=sys.stderr)
        return 2
    if args[0] == "--table":
        sys.stdout.write(readme_table())
        return 0
    target = Path(args[1]) if len(args) > 1 else README
    try:
        changed = rewrite_readme(target)
    except (OSError, ValueError) as e:
        print(f"错误：{e}", file=sys.stderr)
        return 1
    print(f"{target}：{'已更新' if changed else '无需更新'}（{len(CODES)} 个代码）")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

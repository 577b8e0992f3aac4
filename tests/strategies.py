"""Hypothesis strategies: random *valid* departments for a profile."""

from __future__ import annotations

from hypothesis import strategies as st

from selfeval_xl.core.model import Department
from selfeval_xl.core.region import Profile

# clerks' text: Chinese, digits, the symbols of targets, XML/formula specials, line breaks
ALPHABET = "档案项目经费万元个次≥≤＜＞%％０１２abcXYZ 0123456789.=+-@&<>\"'{}#/\n，。；：（）"
text = st.text(alphabet=ALPHABET, max_size=40)
nonblank = st.text(alphabet=ALPHABET, min_size=1, max_size=30).filter(lambda s: s.strip() != "")
money = st.one_of(st.none(), st.decimals(min_value=0, max_value=99999, places=2).map(float))
small = st.one_of(st.none(), st.decimals(min_value=0, max_value=20, places=1).map(float))


def triple():
    return st.fixed_dictionaries({"prior": money, "budget": money, "final": money})


def fund_row():
    return st.fixed_dictionaries({"initial": money, "full": money, "executed": money})


def indicators(profile: Profile, max_rows: int = 3):
    """Indicators in profile order, never more than the slots offer."""
    parts = []
    for l1, l2 in profile.level2_all():
        row = st.fixed_dictionaries({
            "level1": st.just(l1.name), "level2": st.just(l2.name), "name": nonblank, "target": text,
            "actual": text, "weight": small, "score": small, "deviation": text,
        })
        parts.append(st.lists(row, max_size=min(max_rows, l2.rows)))
    return st.tuples(*parts).map(lambda groups: [i for g in groups for i in g])


@st.composite
def departments(draw, profile: Profile, max_projects: int = 3) -> Department:
    cats = list(profile.projects.categories)
    n = draw(st.integers(0, max_projects))
    projects = [{
        "name": draw(nonblank), "category": (cat := draw(st.sampled_from(cats + [""]))),
        "competent_dept": draw(text), "implementing_unit": draw(text),
        "prior_year_final": draw(money) if cat else None,  # only a 附件1-linked project has that cell
        "funds": {"current": draw(fund_row()), "carryover": draw(fund_row()), "other": draw(fund_row())},
        "goal_expected": draw(text), "goal_actual": draw(text), "indicators": draw(indicators(profile)),
    } for _ in range(n)]
    other = []
    for cat in cats:
        for _ in range(draw(st.integers(0, profile.projects.free_rows_per_category))):
            other.append({"category": cat, "name": draw(nonblank), "prior": draw(money), "budget": draw(money),
                          "final": draw(money)})
    sections = {s.key: draw(nonblank) for s in profile.report.sections if draw(st.booleans())}
    data = {
        "code": draw(st.from_regex(r"[0-9]{6,9}", fullmatch=True)),
        "name": draw(st.sampled_from(["测试单位", "某某局", "A&B<局>", "=单位"])),
        "competent_dept": draw(text), "year": draw(st.integers(2020, 2030)), "profile": profile.id,
        "basic": {
            "staff_authorized": draw(st.one_of(st.none(), st.integers(0, 500))),
            "staff_actual": draw(st.one_of(st.none(), st.integers(0, 500))),
            "car_purchase": draw(triple()), "car_operation": draw(triple()), "overseas": draw(triple()),
            "reception": draw(triple()), "other_projects": other, "public_funds": draw(triple()),
            "office": draw(triple()), "utilities_travel": draw(triple()), "meetings_training": draw(triple()),
            "procurement": {"budget": draw(money), "final": draw(money)},
            "basic_adjustment": {"budget": draw(money), "final": draw(money)},
            "buildings": {"approved_area": draw(money), "actual_area": draw(money),
                          "budget_investment": draw(money), "actual_investment": draw(money)},
            "frugality_measures": draw(text),
        },
        "overall": {
            "budget_initial": draw(money), "budget_full": draw(money),
            "income": {"general": draw(money), "gov_fund": draw(money), "special_account": draw(money),
                       "other": draw(money)},
            "expense_basic": draw(money), "goal_expected": draw(text), "goal_actual": draw(text),
            "indicators": draw(indicators(profile)),
        },
        "projects": projects,
        "narrative": {"sections": sections, "personnel_expense": draw(money)},
        "signoff": {"preparer": draw(text), "date": draw(text), "phone": draw(text), "head": draw(text)},
    }
    return Department.model_validate(data)


# -- any region: random inputs drawn cell by cell from the compiled form ---------------------------

def _random_value(rnd, vtype: str):
    """One cell's value by its type, from a seeded Random (a form has ~800 cells: drawing each
    from a strategy exceeds Hypothesis' entropy budget)."""
    if vtype in ("money", "area"):
        return round(rnd.uniform(0, 99999), rnd.choice((0, 1, 2)))
    if vtype == "int":
        return rnd.randint(0, 500)
    if vtype in ("weight", "score"):
        return round(rnd.uniform(0, 20), 1)
    n = rnd.randint(1, 30)
    t = "".join(rnd.choice(ALPHABET) for _ in range(n))
    return t if t.strip() else "x"


@st.composite
def layout_departments(draw, profile: Profile, max_projects: int = 3) -> Department:
    """A valid unit for any region, drawn from what its form offers: a shape (projects and
    their 附件1 categories, if the region has 附件3), then a value for every input cell by
    its type, read back into the model as the reader would (``binding.unflatten``)."""
    from selfeval_xl.forms.binding import unflatten
    from selfeval_xl.forms.cells import Shape
    from selfeval_xl.forms.layout import compile_layout

    import random

    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))  # one draw: reproducible from Hypothesis' seed
    has_projects = any(s.repeat == "projects" for s in profile.forms.sheets)
    n = rnd.randint(0, max_projects) if has_projects else 0
    cats = list(profile.projects.categories) + [None]
    shape = Shape(year=rnd.randint(2020, 2030), unit_code=str(rnd.randint(100000, 999999999)),
                  unit_name=rnd.choice(["测试单位", "某某局", "A&B<局>", "=单位"]),
                  project_categories=tuple(rnd.choice(cats) for _ in range(n)))
    layout = compile_layout(profile, shape)
    blank_share = rnd.choice((0.1, 0.5, 0.9))
    values = {cell.key: None if rnd.random() < blank_share else _random_value(rnd, cell.vtype)
              for _sh, cell in layout.inputs()}
    meta = {"unit_code": shape.unit_code, "unit_name": shape.unit_name, "year": shape.year, "profile": profile.id}
    return unflatten(values, layout, meta)

"""招商引资工作进度 (the monthly progress report): per planning unit, for a month and the year to
date, the approved projects signed, started and producing, with their amounts, above a threshold
the reader sets. The figures are those of the SQL function monthly_progress(), the one
definition (report_monthly_progress is the same for every recent month); the page and the office
workbook read them through `progress`."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import text
from sqlalchemy.orm import Session

# The stages the report counts, with their columns' prefix in monthly_progress().
STAGES = (("signed", "签约"), ("started", "开工"), ("producing", "投产"))
STAGE_TITLES = {
    "signed": _l("Signed (签约)"),
    "started": _l("Construction started (开工)"),
    "producing": _l("Production started (投产)"),
}
PERIODS = ("month", "ytd")
MEASURES = ("count", "agreed", "arrived")


@dataclass(frozen=True)
class Line:
    """One planning unit's row (or the total): figures[(stage, period, measure)]."""

    district_id: int | None
    name: str
    unit_name: str | None
    figures: dict[tuple[str, str, str], Any]


def _column(stage: str, period: str, measure: str) -> str:
    suffix = {"count": "", "agreed": "_agreed_cny_100m", "arrived": "_arrived_cny_100m"}[measure]
    return f"{stage}_{period}{suffix}"


def progress(
    session: Session,
    *,
    month: date,
    threshold: Decimal,
    approved: bool = True,
    district_id: int | None = None,
) -> tuple[list[Line], Line]:
    """The rows of the report (one per planning unit, or only `district_id`'s) and their total.
    The database's row-level security leaves out the projects the reader may not see."""
    rows = session.execute(
        text(
            "SELECT f.*, d.sort_order FROM monthly_progress(:month, :threshold, :approved) AS f "
            "JOIN district AS d ON d.id = f.district_id "
            "WHERE CAST(:district AS bigint) IS NULL OR f.district_id = :district "
            "ORDER BY d.sort_order, d.code"
        ),
        {"month": month, "threshold": threshold, "approved": approved, "district": district_id},
    ).mappings()
    lines = []
    totals: dict[tuple[str, str, str], Any] = {}
    for row in rows:
        figures = {}
        for stage, _zh in STAGES:
            for period in PERIODS:
                for measure in MEASURES:
                    key = (stage, period, measure)
                    figures[key] = row[_column(stage, period, measure)]
                    totals[key] = totals.get(key, 0) + figures[key]
        lines.append(
            Line(row["district_id"], row["district_name_zh"], row["unit_name_zh"], figures)
        )
    total = Line(None, str(_l("Total")), None, totals)
    return lines, total


def workbook(
    lines: list[Line],
    total: Line,
    *,
    month: date,
    threshold: Decimal,
    approved: bool,
    unit_name: str,
    reported_on: date,
) -> bytes:
    """The report as an office workbook: the title, 填报单位 and 报送日期, the header in three
    rows (stage, period, measure with its unit), a row per planning unit and the total; amounts
    in 亿元 with two decimals, ready to forward."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "招商引资工作进度"
    width = 1 + len(STAGES) * len(PERIODS) * len(MEASURES)
    title = f"招商引资工作进度表（{month.year}年{month.month}月）"
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    basis = "审核通过数" if approved else "填报数（含未审核）"
    above = f"协议投资 ≥ {threshold:g} 亿元" if threshold else "全部项目"
    sheet.append(
        [f"填报单位：{unit_name}", None, None, None, f"报送日期：{reported_on.isoformat()}",
         None, None, None, f"口径：{basis}；{above}", None, None, None, "单位：个、亿元"]
    )  # fmt: skip
    header_rows = (3, 4, 5)
    stage_row: list[Any] = ["单位"]
    period_row: list[Any] = [None]
    measure_row: list[Any] = [None]
    for _stage, zh in STAGES:
        for period in PERIODS:
            for index, measure in enumerate(MEASURES):
                stage_row.append(zh if period == "month" and index == 0 else None)
                period_row.append(
                    ("本月" if period == "month" else "本年累计") if index == 0 else None
                )
                measure_row.append(
                    {"count": "项目数（个）", "agreed": "协议投资（亿元）",
                     "arrived": "到位资金（亿元）"}[measure]
                )  # fmt: skip
    for row in (stage_row, period_row, measure_row):
        sheet.append(row)
    sheet.merge_cells(start_row=3, start_column=1, end_row=5, end_column=1)
    column = 2
    for _stage in STAGES:
        span = len(PERIODS) * len(MEASURES)
        sheet.merge_cells(start_row=3, start_column=column, end_row=3, end_column=column + span - 1)
        for offset in range(len(PERIODS)):
            start = column + offset * len(MEASURES)
            sheet.merge_cells(
                start_row=4, start_column=start, end_row=4, end_column=start + len(MEASURES) - 1
            )
        column += span
    thin = Side(style="thin")
    for line in [*lines, total]:
        values: list[Any] = [line.unit_name or line.name]
        for stage, _zh in STAGES:
            for period in PERIODS:
                for measure in MEASURES:
                    value = line.figures.get((stage, period, measure), 0)
                    values.append(int(value) if measure == "count" else float(value or 0))
        sheet.append(values)
    last = sheet.max_row
    for row in sheet.iter_rows(min_row=header_rows[0], max_row=last, max_col=width):
        for cell in row:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            if cell.row in header_rows:
                cell.font = Font(bold=True)
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            elif cell.column > 1 and isinstance(cell.value, float):
                cell.number_format = "#,##0.00"
    for cell in sheet[last]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 28
    for index in range(2, width + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 11
    sheet.freeze_panes = "B6"
    sheet.print_title_rows = "3:5"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

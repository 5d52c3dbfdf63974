"""The targets domain's vocabularies: the label of each value, as the pages, the exports and
the error messages name it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from chaindb.targets.models import Metric, Scope, Unit
from chaindb.vocab import vocabulary

SCOPE_LABELS = vocabulary(
    Scope,
    {
        "city": _l("the city"),
        "chain": _l("a chain"),
        "district": _l("a planning unit"),
        "unit": _l("an office"),
    },
)

METRIC_LABELS = vocabulary(
    Metric,
    {
        "industrial_revenue": _l("industrial revenue (规上工业营收)"),
        "iconic_chains_revenue": _l("revenue of the iconic chains (标志性产业链营收)"),
        "chain_revenue": _l("chain revenue (产业链营收)"),
        "industrial_profit": _l("industrial profit (规上工业利润)"),
        "projects_signed": _l("projects signed (签约项目数)"),
        "investment_signed": _l("investment signed (签约投资额)"),
        "projects_started": _l("projects started (开工项目数)"),
        "funds_arrived": _l("funds arrived (到位资金)"),
        "foreign_capital_used": _l("foreign capital used (实际使用外资)"),
    },
)

UNIT_LABELS = vocabulary(
    Unit,
    {
        "cny_100m": _l("亿元"),
        "usd_10k": _l("万美元"),
        "count": _l("count"),
        "percent": _l("percent (%)"),
    },
)

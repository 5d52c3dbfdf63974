"""The projects domain's vocabularies: the label of each value, as the pages, the exports and
the error messages name it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from chaindb.projects.models import (
    CapitalOrigin,
    Channel,
    ProjectKind,
    ReviewStatus,
    SizeClass,
    Stage,
)
from chaindb.vocab import vocabulary

STAGE_LABELS = vocabulary(
    Stage,
    {
        "lead": _l("lead"),
        "negotiating": _l("negotiating"),
        "signed": _l("signed"),
        "under_construction": _l("under construction"),
        "in_production": _l("in production"),
        "at_capacity": _l("at capacity"),
        "dropped": _l("dropped"),
    },
)

KIND_LABELS = vocabulary(
    ProjectKind,
    {
        "new": _l("new project"),
        "expansion": _l("expansion"),
        "capital_increase": _l("capital increase"),
    },
)

CHANNEL_LABELS = vocabulary(
    Channel,
    {
        "chain_master": _l("through a chain master"),
        "business_referral": _l("business referral"),
        "fund": _l("through a fund"),
        "entrusted": _l("entrusted"),
        "direct": _l("direct"),
        "other": _l("other"),
    },
)

REVIEW_STATUS_LABELS = vocabulary(
    ReviewStatus,
    {
        "draft": _l("draft"),
        "submitted": _l("submitted for review"),
        "approved": _l("approved"),
        "returned": _l("returned"),
    },
)

CAPITAL_ORIGIN_LABELS = vocabulary(
    CapitalOrigin,
    {
        "local": _l("local (本地)"),
        "province": _l("elsewhere in the province (省内市外)"),
        "domestic": _l("other provinces (省外)"),
        "foreign": _l("abroad (境外)"),
    },
)

SIZE_CLASS_LABELS = vocabulary(
    SizeClass,
    {
        "one_yi": _l("1 亿元 and above (亿元以上)"),
        "ten_yi": _l("10 亿元 and above (10亿元以上)"),
        "fifty_yi": _l("50 亿元 and above (50亿元以上)"),
        "hundred_yi": _l("100 亿元 and above (百亿级)"),
    },
)

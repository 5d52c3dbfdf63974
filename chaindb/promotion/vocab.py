"""The promotion domain's vocabularies: the label of each value, as the pages, the exports and
the error messages name it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from chaindb.promotion.models import LeadSource, LeadStatus, TripKind
from chaindb.vocab import vocabulary

SOURCE_LABELS = vocabulary(
    LeadSource,
    {
        "gap_candidate": _l("gap candidate (补链招商名单)"),
        "trip": _l("promotion trip (外出招商)"),
        "event": _l("promotion event (招商推介会)"),
        "referral": _l("referral (推荐)"),
        "investor": _l("an investor here (以商招商)"),
        "fund": _l("fund (基金招商)"),
        "other": _l("other"),
    },
)

STATUS_LABELS = vocabulary(
    LeadStatus,
    {
        "new": _l("new (新线索)"),
        "contacted": _l("contacted (已接触)"),
        "negotiating": _l("negotiating (洽谈中)"),
        "signed": _l("signed as a project (已签约)"),
        "dropped": _l("dropped (已放弃)"),
    },
)

TRIP_KIND_LABELS = vocabulary(
    TripKind, {"trip": _l("promotion trip (外出招商)"), "event": _l("promotion event (推介会)")}
)

"""The supply domain's vocabularies: the label of each value, as the pages, the exports and
the error messages name it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from chaindb.supply.models import LinkStatus
from chaindb.vocab import vocabulary

STATUS_LABELS = vocabulary(
    LinkStatus,
    {
        "proposed": _l("proposed (matched, not yet supplying)"),
        "active": _l("active"),
        "ended": _l("ended"),
    },
)

NEW_STATUS_LABELS = {key: STATUS_LABELS[key] for key in ("active", "proposed")}

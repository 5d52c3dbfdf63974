"""The districts domain's vocabularies: the label of each value, as the pages, the exports and
the error messages name it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from chaindb.districts.models import DistrictKind
from chaindb.vocab import vocabulary

KIND_LABELS = vocabulary(
    DistrictKind,
    {
        "district": _l("district (区)"),
        "county": _l("county (县)"),
        "zone": _l("functional zone (功能区)"),
    },
)

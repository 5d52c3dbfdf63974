from __future__ import annotations

from flask_babel import lazy_gettext as _l

from chaindb.units.models import UnitKind
from chaindb.vocab import vocabulary

KIND_LABELS = vocabulary(
    UnitKind,
    {
        "city": _l("city bureau (市投资促进局)"),
        "chain_office": _l("chain office (链长办)"),
        "district_office": _l("district office (区县招商部门)"),
    },
)

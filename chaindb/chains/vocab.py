"""The chains domain's vocabularies: the label of each value, as the pages, the exports and
the error messages name it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from chaindb.chains.models import ChainGroup, ChainTier, RoleKind, SegmentBasis, SegmentPosition
from chaindb.vocab import vocabulary

TIER_LABELS = vocabulary(
    ChainTier, {"iconic": _l("iconic chain (标志性)"), "key": _l("key chain (重点)")}
)

GROUP_LABELS = vocabulary(
    ChainGroup,
    {
        "advantage": _l("advantage (优势)"),
        "characteristic": _l("characteristic (特色)"),
        "emerging": _l("emerging (新兴)"),
    },
)

BASIS_LABELS = vocabulary(
    SegmentBasis,
    {
        "general": _l("general structure of the industry, to be checked"),
        "confirmed": _l("confirmed by the chain office"),
    },
)

POSITION_LABELS = vocabulary(
    SegmentPosition,
    {
        "upstream": _l("upstream (上游)"),
        "midstream": _l("midstream (中游)"),
        "downstream": _l("downstream (下游)"),
    },
)

ROLE_LABELS = vocabulary(
    RoleKind,
    {
        "chain_master": _l("chain master (链主)"),
        "backbone": _l("backbone enterprise (龙头骨干)"),
        "supplier": _l("supplier (配套)"),
    },
)
# The columns of the chain map.
POSITION_HEADINGS = {
    "upstream": _l("Upstream (上游)"),
    "midstream": _l("Midstream (中游)"),
    "downstream": _l("Downstream (下游)"),
}

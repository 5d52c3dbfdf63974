from __future__ import annotations

import re
from datetime import date

from flask_openapi3 import OpenAPI
from sqlalchemy import or_

from chaindb.api.resource import CITY_ONLY, Resource, by_unit
from chaindb.api.writes import Ref
from chaindb.chains.models import Chain
from chaindb.districts.models import District, DistrictKind, LeadingChain
from chaindb.districts.schemas import (
    DistrictCreate,
    DistrictRead,
    LeadingChainCreate,
    LeadingChainRead,
)
from chaindb.errors import N_

# A district or a development zone, as a target or an enterprise names it (both are planning units).
PLANNING_UNIT = (
    N_("no planning unit with %(key)s %(value)r"),
    N_("no planning unit with id %(value)s"),
)

resource = Resource(
    changes=lambda: by_unit(CITY_ONLY),
    name="districts",
    messages=(
        N_("no district %(key)r"),
        N_("district %(id)s is still referenced by %(referrers)s"),
    ),
    ref_messages=(N_("no district with %(key)s %(value)r"), N_("no district with id %(value)s")),
    model=District,
    read=DistrictRead,
    create=DistrictCreate,
    description="Planning units (区县(功能区)): districts, counties and functional zones; "
    "addressed by id or code",
    filters={
        "code": str,
        "kind": DistrictKind,
        "is_official_code": bool,
        "name_zh": str,
        "name_en": str,
    },
    ordering=("id", "code", "name_zh", "sort_order", "kind"),
    default_ordering=("sort_order", "code"),
    search=lambda q: or_(
        District.name_zh.contains(q), District.name_en.ilike(f"%{q}%"), District.code == q
    ),
    key="code",
    key_matches=lambda k: bool(re.fullmatch(r"[0-9]{6}|[A-Z][A-Z0-9-]{1,15}", k)),
    import_key=("code",),
)


leading_chains = Resource(
    changes=lambda: by_unit(CITY_ONLY),
    name="leading-chains",
    messages=(
        N_("no leading chain %(key)r"),
        N_("leading chain %(id)s is still referenced by %(referrers)s"),
    ),
    model=LeadingChain,
    read=LeadingChainRead,
    create=LeadingChainCreate,
    description="The leading chains (主导产业, 一区一主业) of each planning unit, with their "
    "period: a project in another chain is flagged, not refused",
    refs=[
        Ref("district_id", District, "code", "district"),
        Ref("chain_id", Chain, "code", "chain"),
    ],
    filters={"district_id": int, "chain_id": int, "since": date, "until": date},
    ordering=("id", "district_id", "chain_id", "since"),
    default_ordering=("district_id", "chain_id", "id"),
)


def register(app: OpenAPI) -> None:
    app.register_api(resource.blueprint())
    app.register_api(leading_chains.blueprint())

"""The units (offices) as a JSON resource: everyone signed in reads them; the city bureau
changes them."""

from __future__ import annotations

import re

from flask_openapi3 import OpenAPI
from sqlalchemy import or_

from chaindb.api.resource import CITY_ONLY, Resource, by_unit
from chaindb.api.writes import Ref
from chaindb.chains.models import Chain
from chaindb.districts.api import PLANNING_UNIT
from chaindb.districts.models import District
from chaindb.errors import N_
from chaindb.units.models import Unit, UnitKind
from chaindb.units.schemas import UnitCreate, UnitRead

resource = Resource(
    name="units",
    messages=(N_("no unit %(key)r"), N_("unit %(id)s is still referenced by %(referrers)s")),
    ref_messages=(N_("no unit with %(key)s %(value)r"), N_("no unit with id %(value)s")),
    model=Unit,
    read=UnitRead,
    create=UnitCreate,
    description="The offices that use chaindb (units): the city bureau, a chain office per "
    "iconic chain, an office per planning unit; each user belongs to one, which says what they "
    "may see and change. Addressed by id or code",
    refs=[
        Ref("parent_id", Unit, "code", "unit"),
        Ref("chain_id", Chain, "code", "chain"),
        Ref("district_id", District, "code", "planning unit", PLANNING_UNIT),
    ],
    filters={"code": str, "kind": UnitKind, "parent_id": int, "chain_id": int, "district_id": int,
             "name_zh": str},
    ordering=("id", "code", "name_zh", "kind", "sort_order"),
    default_ordering=("sort_order", "code"),
    search=lambda q: or_(Unit.name_zh.contains(q), Unit.name_en.ilike(f"%{q}%"), Unit.code == q),
    key="code",
    key_matches=lambda k: bool(re.fullmatch(r"[a-z0-9][a-z0-9-]{1,39}", k)) and not k.isdigit(),
    import_key=("code",),
    changes=lambda: by_unit(CITY_ONLY),
)  # fmt: skip


def register(app: OpenAPI) -> None:
    app.register_api(resource.blueprint())

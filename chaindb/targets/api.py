from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_openapi3 import OpenAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from chaindb.api.resource import Ref, Resource
from chaindb.chains.models import Chain
from chaindb.districts.models import District
from chaindb.errors import Invalid
from chaindb.targets.models import Metric, Scope, Target, Unit
from chaindb.targets.schemas import TargetCreate, TargetRead

# scope -> the key it needs; the others must be empty (the database's ck_target_scope_matches_keys)
NEEDS = {Scope.CITY: None, Scope.CHAIN: "chain_id", Scope.DISTRICT: "district_id"}


def _target_rules(_session: Session, values: dict[str, Any], _current: Any) -> None:
    """Scope and keys agree; at least one value. Said per field, before the database says it."""
    scope = values.get("scope")
    details: list[dict[str, str]] = []
    if scope in NEEDS:
        needed = NEEDS[Scope(scope)]
        for key, what in (("chain_id", "chain"), ("district_id", "planning unit")):
            given = values.get(key) is not None
            if key == needed and not given:
                details.append(
                    {"field": key, "message": f"a {scope} target needs its {what} ({key})"}
                )
            elif key != needed and given:
                details.append(
                    {
                        "field": key,
                        "message": f"a {scope} target names no {what}; leave {key} empty "
                        "(or change scope)",
                    }
                )
    if values.get("target_value") is None and values.get("actual_value") is None:
        details.append(
            {"field": "target_value", "message": "give target_value, actual_value or both"}
        )
    if details:
        raise Invalid("; ".join(d["message"] for d in details), details=details)


def _chain_code():
    return select(Chain.code).where(Chain.id == Target.chain_id).scalar_subquery()


def _district_code():
    return select(District.code).where(District.id == Target.district_id).scalar_subquery()


resource = Resource(
    name="targets",
    model=Target,
    read=TargetRead,
    create=TargetCreate,
    description="Targets and actual values of metrics (e.g. industrial revenue, 亿元) for the "
    "city, a chain or a planning unit, by year",
    refs=[
        Ref("chain_id", Chain, "code", "chain"),
        Ref("district_id", District, "code", "planning unit"),
    ],
    filters={
        "scope": Scope,
        "chain_id": int,
        "district_id": int,
        "year": int,
        "metric": Metric,
        "unit": Unit,
        "target_value": Decimal,
        "actual_value": Decimal,
    },
    expressions={
        "chain": (str, _chain_code),  # filter by the chain's code
        "district": (str, _district_code),  # filter by the planning unit's code
    },
    ordering=(
        "id",
        "year",
        "metric",
        "scope",
        "chain_id",
        "district_id",
        "target_value",
        "actual_value",
    ),
    default_ordering=("year", "scope", "metric"),
    check=_target_rules,
)


def register(app: OpenAPI) -> None:
    app.register_api(resource.blueprint())

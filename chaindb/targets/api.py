from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_openapi3 import OpenAPI
from sqlalchemy import any_, select
from sqlalchemy.orm import Session

from chaindb.api.resource import CITY_ONLY, Resource, by_unit
from chaindb.api.writes import Ref
from chaindb.chains.models import Chain
from chaindb.districts.api import PLANNING_UNIT
from chaindb.districts.models import District
from chaindb.errors import N_, Invalid, Message
from chaindb.targets.models import ChainRevenue, Metric, Scope, Target, Unit
from chaindb.targets.schemas import (
    ChainRevenueCreate,
    ChainRevenueRead,
    TargetCreate,
    TargetRead,
)
from chaindb.units.models import Unit as Office

# scope -> the key it needs; the others must be empty (the database's ck_target_scope_matches_keys)
NEEDS = {
    Scope.CITY: None,
    Scope.CHAIN: "chain_id",
    Scope.DISTRICT: "district_id",
    Scope.UNIT: "unit_id",
}
# Keys a scope may name beside the one it needs: an office's target in one chain.
MAY = {Scope.UNIT: {"chain_id"}}
# (scope, key) -> what is wrong: the key is missing (the scope needs it), or given (it needs none).
# Whole sentences, for the translations.
MISSING = {
    (Scope.CHAIN, "chain_id"): N_("a chain target needs its chain (chain_id)"),
    (Scope.DISTRICT, "district_id"): N_("a district target needs its planning unit (district_id)"),
    (Scope.UNIT, "unit_id"): N_("an office's target needs its office (unit_id)"),
}
NOT_WANTED = {
    (Scope.CITY, "chain_id"): N_("a city target names no chain; leave chain_id empty (or change scope)"),
    (Scope.CITY, "district_id"): N_(
        "a city target names no planning unit; leave district_id empty (or change scope)"),
    (Scope.CHAIN, "district_id"): N_(
        "a chain target names no planning unit; leave district_id empty (or change scope)"),
    (Scope.DISTRICT, "chain_id"): N_(
        "a district target names no chain; leave chain_id empty (or change scope)"),
    (Scope.UNIT, "district_id"): N_(
        "an office's target names no planning unit (its office answers for one); leave "
        "district_id empty"),
    **{
        (scope, "unit_id"): N_("only an office's target names an office (scope unit); leave "
                               "unit_id empty")
        for scope in (Scope.CITY, Scope.CHAIN, Scope.DISTRICT)
    },
}  # fmt: skip


def _target_rules(_session: Session, values: dict[str, Any], _current: Any) -> None:
    """Scope and keys agree; at least one value. Said per field, before the database says it."""
    scope = values.get("scope")
    details: list[dict[str, Any]] = []
    if scope in NEEDS:
        needed = NEEDS[Scope(scope)]
        for key in ("chain_id", "district_id", "unit_id"):
            given = values.get(key) is not None
            if key == needed and not given:
                details.append({"field": key, "message": Message(MISSING[Scope(scope), key])})
            elif key != needed and given and key not in MAY.get(Scope(scope), ()):
                details.append({"field": key, "message": Message(NOT_WANTED[Scope(scope), key])})
    if values.get("target_value") is None and values.get("actual_value") is None:
        details.append(
            {
                "field": "target_value",
                "message": Message(N_("give target_value, actual_value or both")),
            }
        )
    if details:
        # Every fault in one message: the sentences joined (each translated on its own).
        joined = "; ".join(f"%(m{i})s" for i in range(len(details)))
        params = {f"m{i}": d["message"] for i, d in enumerate(details)}
        raise Invalid(joined, params=params, details=details)


def _chain_code():
    return select(Chain.code).where(Chain.id == Target.chain_id).scalar_subquery()


def _district_code():
    return select(District.code).where(District.id == Target.district_id).scalar_subquery()


resource = Resource(
    changes=lambda: by_unit(CITY_ONLY),
    name="targets",
    messages=(N_("no target %(key)r"), N_("target %(id)s is still referenced by %(referrers)s")),
    model=Target,
    read=TargetRead,
    create=TargetCreate,
    description="Targets and actual values of metrics (e.g. industrial revenue, 亿元) for the "
    "city, a chain, a planning unit or an office (unit), by year. The actuals of the project "
    "metrics (签约, 开工, 到位资金, 实际使用外资) are measured from the approved projects, and "
    "of a chain's revenue from /chain-revenues: report_target_progress",
    refs=[
        Ref("chain_id", Chain, "code", "chain"),
        Ref("district_id", District, "code", "planning unit", PLANNING_UNIT),
        Ref("unit_id", Office, "code", "unit"),
    ],
    filters={
        "scope": Scope,
        "chain_id": int,
        "district_id": int,
        "unit_id": int,
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


chain_revenues = Resource(
    # Entered by the chain's office (an iconic chain's and the key chains' under it) or the
    # city bureau; the database's row-level security says the same.
    changes=lambda: by_unit(
        N_("%(unit)s enters the revenue of its own chains only"),
        chains=lambda chains: ChainRevenue.chain_id == any_(chains),
    ),
    name="chain-revenues",
    messages=(
        N_("no chain revenue %(key)r"),
        N_("chain revenue %(id)s is still referenced by %(referrers)s"),
    ),
    model=ChainRevenue,
    read=ChainRevenueRead,
    create=ChainRevenueCreate,
    description="Each chain's revenue per year (产业链营收, 亿元), entered by its chain office: the "
    "actual of the chain's revenue targets and, summed over the iconic chains, of the city's "
    "goal for the 13 chains",
    refs=[Ref("chain_id", Chain, "code", "chain")],
    filters={"chain_id": int, "year": int},
    ordering=("id", "year", "chain_id", "revenue_cny_100m"),
    default_ordering=("-year", "chain_id"),
    import_key=("chain_id", "year"),
)


def register(app: OpenAPI) -> None:
    app.register_api(resource.blueprint())
    app.register_api(chain_revenues.blueprint())

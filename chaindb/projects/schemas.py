"""What the projects API reads and writes.

A project is created at any stage (a lead, or a signed project entered after the fact); after
that its stage moves only through POST /projects/{id}/stage, which records the move's date,
reason and note in the stage history.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from chaindb.api.schemas import (
    Confirmable,
    IdOrKey,
    LongText,
    ReadSchema,
    Schema,
    ShortText,
    partial,
)
from chaindb.db import comment_of
from chaindb.projects.models import (
    CapitalOrigin,
    Channel,
    Project,
    ProjectKind,
    ReviewStatus,
    SizeClass,
    Stage,
)

Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]


class ProjectFields(Schema):
    """The columns a client writes, other than references given by natural key."""

    name: ShortText = Field(min_length=1, description="Project name, as the offices write it")
    segment_id: int | None = Field(None, description="A segment (环节) of the project's chain")
    investor_name: ShortText | None = Field(
        None, description="Investor's name when it is not (yet) an enterprise in chaindb"
    )
    kind: ProjectKind = Field(
        ProjectKind.NEW,
        description="new, or a follow-on (expansion 增资扩产, capital_increase 增资) that names "
        "its parent and counts only the increment",
    )
    parent_id: int | None = Field(
        None, description="For an expansion or capital increase: the original project's id"
    )
    lead_id: int | None = Field(
        None,
        description="The lead (招商线索) it is converted from: an open lead, which it signs; the "
        "link counts in the conversion rates",
    )
    channel: Channel | None = Field(
        None,
        description="Attraction channel: chain_master (链主招商), business_referral (以商招商), "
        "fund (基金招商), entrusted (委托招商), direct or other",
    )
    agreed_investment_cny_100m: Amount | None = Field(
        None, description="Agreed investment (协议投资), 亿元"
    )
    funds_arrived_cny_100m: Amount | None = Field(
        None, description="Funds arrived to date (到位资金), 亿元"
    )
    capital_origin: CapitalOrigin | None = Field(
        None, description=comment_of(Project.capital_origin)
    )
    foreign_capital_usd_10k: Amount | None = Field(
        None, description=comment_of(Project.foreign_capital_usd_10k)
    )
    first_phase_investment_cny_100m: Amount | None = Field(
        None, description=comment_of(Project.first_phase_investment_cny_100m)
    )
    fixed_asset_investment_cny_100m: Amount | None = Field(
        None, description=comment_of(Project.fixed_asset_investment_cny_100m)
    )
    stage: Stage = Field(
        Stage.LEAD,
        description="On creation, the stage the project starts at (default lead). Afterwards "
        "the stage moves only through POST /api/v1/projects/{id}/stage",
    )
    signed_on: dt.date | None = Field(None, description="Date signed (签约)")
    agreed_start_on: dt.date | None = Field(
        None, description="Construction start agreed at signing (for the fulfilment rate)"
    )
    construction_started_on: dt.date | None = Field(None, description="Construction start (开工)")
    production_started_on: dt.date | None = Field(None, description="Production start (投产)")
    capacity_reached_on: dt.date | None = Field(None, description="Full capacity reached (达产)")
    dropped_on: dt.date | None = Field(None, description="Date dropped (终止)")
    is_key: bool = Field(False, description="City key project (市级重点项目)")
    responsible_unit: ShortText | None = Field(
        None, description=comment_of(Project.responsible_unit)
    )
    responsible_person: ShortText | None = Field(
        None, description=comment_of(Project.responsible_person)
    )
    contact_phone: ShortText | None = Field(None, description=comment_of(Project.contact_phone))
    source: LongText | None = Field(None, description=comment_of(Project.source))
    notes: LongText | None = Field(None, description=comment_of(Project.notes))


class ProjectWrite(ProjectFields, Confirmable):
    """Every column a client may write: the body of PUT."""

    chain_id: IdOrKey = Field(description="The chain (id or code)")
    district_id: IdOrKey = Field(description="The planning unit where it lands (id or code)")
    investor_id: IdOrKey | None = Field(
        None, description="The investing enterprise (id or credit code); else investor_name"
    )
    chain_master_id: IdOrKey | None = Field(
        None,
        description="The chain master the project serves (id or credit code); must hold the "
        "chain-master role in the project's chain",
    )


class ProjectCreate(ProjectWrite):
    """A new project; the reason and note go into its first stage-history entry."""

    stage_reason: LongText | None = Field(
        None, description="Why it starts at this stage; required when it starts as dropped"
    )
    stage_note: LongText | None = Field(None, description="A note for the first history entry")


# PATCH: any column, none required. `stage` is accepted only unchanged (the answer to a change
# names the stage endpoint), so that a client may send back what it read.
ProjectUpdate = partial(ProjectWrite, "ProjectUpdate")


class ProjectRead(ReadSchema, ProjectFields):
    chain_id: int
    district_id: int
    investor_id: int | None
    chain_master_id: int | None
    size_class: SizeClass | None = Field(description=comment_of(Project.size_class))
    review_status: ReviewStatus = Field(
        description="draft (已保存), submitted (审核中), approved (审核通过) or returned (退回): "
        "moved by POST /api/v1/projects/{id}/review; only approved figures count in the reports"
    )


class StageMove(Schema):
    """One move of a project to another stage."""

    stage: Stage = Field(description="The stage to move to")
    date: dt.date = Field(
        description="When it happened; also the date of the stage (signed_on, "
        "construction_started_on, production_started_on, capacity_reached_on, dropped_on) "
        "unless the project already holds one from reaching that stage before"
    )
    reason: LongText | None = Field(
        None, description="Why; required when moving backwards, dropping or reviving"
    )
    note: LongText | None = None


class StageEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    project_id: int
    from_stage: Stage | None = Field(description="Stage before; null for the creation")
    to_stage: Stage
    occurred_on: dt.date | None
    reason: str | None
    note: str | None
    actor: str = Field(description="Who moved it (the chaindb user)")
    created_at: dt.datetime
    review_status: ReviewStatus | None = Field(
        None,
        description="The move's review: approved once the project is approved after it, else "
        "where the project stands (a move is reviewed with the project's next submission)",
    )

"""What the review API reads and writes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from chaindb.api.schemas import LongText, Schema
from chaindb.projects.models import ReviewStatus, Stage
from chaindb.reviews.models import EvidenceKind, MediaType, ReviewAction


class ReviewGiven(Schema):
    """One review action on a project."""

    action: ReviewAction = Field(
        description="submit (提交; the project's unit, from draft or returned), withdraw (撤回; "
        "the unit, while submitted), approve (审核通过) or return (退回; the reviewer: the city "
        "bureau, or the chain's office where it reviews its chain)"
    )
    opinion: LongText | None = Field(
        None, description="The reviewer's opinion (审核意见); required when returning"
    )


class ReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    project_id: int
    action: ReviewAction
    opinion: str | None
    from_status: ReviewStatus
    to_status: ReviewStatus
    stage: Stage = Field(description="The stage the project stood at, as reported")
    actor: str = Field(description="Who acted")
    unit_id: int | None = Field(description="The unit acted for")
    unit_name: str | None = None
    created_at: dt.datetime


class WaitingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="The project")
    name: str
    chain_id: int
    chain_name: str
    district_id: int
    district_name: str
    stage: Stage
    review_status: ReviewStatus
    agreed_investment_cny_100m: float | None
    at: dt.datetime | None = Field(description="When the last review step happened")
    actor: str | None = Field(description="Who took it")
    opinion: str | None = Field(description="Its opinion (a returned project's)")


class EvidenceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    project_id: int
    stage: Stage | None = Field(description="The stage it is evidence of")
    kind: EvidenceKind
    file_name: str
    media_type: MediaType = Field(description="Found from the content")
    size_bytes: int
    sha256: str = Field(description="SHA-256 of the file, hex")
    note: str | None
    uploaded_by: str
    created_at: dt.datetime

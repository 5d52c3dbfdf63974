"""The rules of the chain map that other domains ask about: whether a segment is one of a
chain's. (The database says it too, by the composite foreign keys *_segment_same_chain; this is
the one place the application asks, so that each caller can say it in its own words first.)"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chaindb.chains.models import ChainSegment

SegmentFault = Literal["no_segment", "other_chain"]


def segment_fault(
    session: Session, segment_id: int | None, chain_id: int | None
) -> SegmentFault | None:
    """Why `segment_id` cannot be a segment of chain `chain_id`: there is no such segment, or it
    is another chain's; None when it can (or when no segment is named)."""
    if segment_id is None:
        return None
    found = session.scalar(select(ChainSegment.chain_id).where(ChainSegment.id == segment_id))
    if found is None:
        return "no_segment"
    return "other_chain" if found != chain_id else None

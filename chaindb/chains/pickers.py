"""The chain and segment pickers of the pages' forms (options of a RefSelectField)."""

from __future__ import annotations

from sqlalchemy import select

from chaindb.chains.models import Chain, ChainSegment
from chaindb.db import db


def chain_options() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(Chain.id, Chain.code, Chain.name_zh).order_by(Chain.tier, Chain.sort_order, Chain.id)
    )
    return [(id_, f"{name} ({code})") for id_, code, name in rows]


def segment_options() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(ChainSegment.id, Chain.name_zh, ChainSegment.name_zh)
        .join(Chain, Chain.id == ChainSegment.chain_id)
        .order_by(Chain.sort_order, Chain.id, ChainSegment.sort_order, ChainSegment.id)
    )
    return [(id_, f"{chain} · {name}") for id_, chain, name in rows]

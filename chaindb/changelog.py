"""The change log: every insert, update and delete of the recorded tables, written by the
database's trigger record_change() (so that SQL an analyst runs is recorded too). Infrastructure
below the API, the pages and every domain: any record's history reads from here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import BigInteger, DateTime, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from chaindb.db import Base, id_column, one_of


class Change(Base):
    """One write to a recorded table, written by the trigger record_change()."""

    __tablename__ = "change_log"
    __table_args__ = (
        one_of("action", ("insert", "update", "delete"), name="action"),
        Index("ix_change_log_table_name_record_id", "table_name", "record_id"),
        Index("ix_change_log_occurred_at", "occurred_at"),
        Index("ix_change_log_request_id", "request_id"),
        {
            "comment": "Every insert, update and delete of the recorded tables, with the values "
            "before and after, the actor and the request id (written by trigger record_change)"
        },
    )

    id: Mapped[int] = id_column()
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        server_default=func.clock_timestamp(),
        comment="When the write happened",
    )
    table_name: Mapped[str] = mapped_column(String(63), comment="The table written")
    record_id: Mapped[int] = mapped_column(BigInteger, comment="id of the row written")
    action: Mapped[str] = mapped_column(String(6), comment="insert, update or delete")
    before: Mapped[dict[str, Any] | None] = mapped_column(
        JSONB, comment="The row before (update, delete); secrets left out"
    )
    after: Mapped[dict[str, Any] | None] = mapped_column(
        JSONB, comment="The row after (insert, update); secrets left out"
    )
    actor: Mapped[str] = mapped_column(
        Text, comment="The chaindb user (setting chaindb.actor), else the database user"
    )
    request_id: Mapped[str | None] = mapped_column(
        Text, comment="The API request (X-Request-ID) that made the write, when there was one"
    )
    transaction_id: Mapped[int] = mapped_column(
        BigInteger,
        server_default=func.txid_current(),
        comment="Database transaction id: writes of one request share it",
    )


class ChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    table_name: str
    record_id: int
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    actor: str
    request_id: str | None
    transaction_id: int

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, DateTime, Numeric, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from chaindb.db import Base


class ReportRefresh(Base):
    """The last refresh of each materialized reporting view (not in change_log: it is a log
    itself, rewritten by every refresh)."""

    __tablename__ = "report_refresh"
    __table_args__ = (
        CheckConstraint("seconds IS NULL OR seconds >= 0", name="seconds_non_negative"),
        {
            "comment": "When each materialized reporting view was last refreshed (one row per "
            "view): its rows are the figures as of then. Written by chaindb.reports.refresh"
        },
    )

    view_name: Mapped[str] = mapped_column(
        Text, primary_key=True, comment="The materialized view, e.g. report_chain_overview"
    )
    refreshed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        server_default=func.now(),
        comment="When its last refresh (or its creation) began: its rows are the data as of then",
    )
    seconds: Mapped[Decimal | None] = mapped_column(
        Numeric,
        comment="How long that refresh took, in seconds; NULL when not measured (created by a "
        "migration)",
    )

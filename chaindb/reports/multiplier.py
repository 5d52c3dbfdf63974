"""带动配套, the multiplier of chain-master projects, as the pages show it: the rows of
report_project_multiplier (the one definition) for a project or for a chain master."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

COLUMNS = (
    "project_id, project_name, chain_id, chain_name_zh, chain_master_id, chain_master_name_zh, "
    "signed_on, local_suppliers, local_links, local_value_cny_10k, suppliers, value_cny_10k"
)


def of_project(session: Session, project_id: int) -> dict[str, Any] | None:
    """The project's multiplier; None when it serves no chain master or was never approved
    signed on a known day."""
    row = (
        session.execute(
            text(f"SELECT {COLUMNS} FROM report_project_multiplier WHERE project_id = :p"),
            {"p": project_id},
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def of_chain_master(session: Session, enterprise_id: int) -> list[dict[str, Any]]:
    """The approved, signed projects that serve the chain master, with their multipliers,
    the latest signing first."""
    return [
        dict(r)
        for r in session.execute(
            text(
                f"SELECT {COLUMNS} FROM report_project_multiplier WHERE chain_master_id = :m "
                "ORDER BY signed_on DESC, project_id"
            ),
            {"m": enterprise_id},
        ).mappings()
    ]

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


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

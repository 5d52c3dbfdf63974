"""Building blocks shared by every resource's schemas."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model

T = TypeVar("T")

IdOrKey = Annotated[
    int | str,
    Field(description="An id, or the natural key (a chain's code, a district's code, "
          "an enterprise's credit code)"),
]  # fmt: skip


class Schema(BaseModel):
    """Inputs refuse unknown fields, so that a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    updated_at: datetime


class CachedSchema(BaseModel):
    """flask-openapi3 asks a query model for its JSON schema on every request: compute it once."""

    model_config = ConfigDict(extra="allow")

    @classmethod
    @cache
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        return super().model_json_schema(*args, **kwargs)


class Page(BaseModel, Generic[T]):
    count: int | None = Field(description="Rows matching the filters; null in cursor (keyset) mode")
    next: str | None = Field(description="URL of the next page, or null")
    previous: str | None = Field(description="URL of the previous page, or null")
    results: list[T]


class PathId(BaseModel):
    id: str = Field(description="The record's id, or its natural key where it has one")


def partial(model: type[BaseModel], name: str) -> type[BaseModel]:
    """The same fields, all optional: the body of a PATCH."""
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        annotation: Any = info.annotation
        if info.metadata:  # keep constraints such as ge=0 on the value when one is given
            annotation = Annotated.__class_getitem__((annotation, *info.metadata))  # type: ignore[attr-defined]
        fields[field_name] = (annotation | None, Field(None, description=info.description))
    return create_model(
        name, __base__=Schema, __doc__=f"Partial update of {model.__name__}", **fields
    )

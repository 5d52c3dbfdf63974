"""The API's blueprint: flask-openapi3's, which writes each route's part of the OpenAPI document
as the route is declared. That is most of the time an app takes to build (~1.5 of ~2 s, pydantic
making JSON schemas), and most apps never serve the document: a command, a test run, a worker
until someone opens /api/v1/docs. So an app declares its routes undocumented and builds the
document when it is first asked for (chaindb.app.App.api_doc), from a twin app that is documented."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import flask_openapi3

_documented: ContextVar[bool] = ContextVar("chaindb_api_documented", default=True)


@contextmanager
def documented(value: bool) -> Iterator[None]:
    """Whether the blueprints made inside the block write the OpenAPI document."""
    token = _documented.set(value)
    try:
        yield
    finally:
        _documented.reset(token)


class APIBlueprint(flask_openapi3.APIBlueprint):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("doc_ui", _documented.get())
        super().__init__(*args, **kwargs)

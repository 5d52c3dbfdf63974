"""The API's responses: rows as JSON, ETags from the representation, If-Match. One job of a
resource (its detail response), written as a mixin of it, and helpers every route uses."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson
from flask import Response, request, url_for
from pydantic import TypeAdapter

from chaindb.errors import PreconditionFailed


class Responses:
    """A record as the API answers it: one representation, one ETag computed from it."""

    def dump(self, row: dict[str, Any]) -> bytes:
        return to_json(row)

    def etag(self, row: dict[str, Any]) -> str:
        return etag_of(self.dump(row))

    def check_if_match(self, row: dict[str, Any]) -> None:
        check_if_match(self.etag(row))

    def detail_response(self, row: dict[str, Any], status: int = 200) -> Response:
        body = self.dump(row)
        response = Response(body, status=status, mimetype="application/json")
        response.headers["ETag"] = etag_of(body)
        if status == 201:
            response.headers["Location"] = url_for(f"{self.singular}.read", id=row["id"])
        return response


def typed_json(adapter: TypeAdapter, value: Any, status: int = 200) -> Response:
    """`value` as JSON through a read model's adapter (validated, as a route's own answer
    should be)."""
    return Response(
        adapter.dump_json(adapter.validate_python(value)),
        status=status,
        mimetype="application/json",
    )


def to_json(value: Any) -> bytes:
    """Rows as the API's JSON, straight from the database's values.

    The rows hold exactly the read model's columns, already of its types, so they are written
    without validating them again (which cost more than the query on a page of 50); decimals
    as strings and times in UTC with a Z, as pydantic writes them. A key that is a str subclass
    (a column name SQLAlchemy quotes, such as "group") is refused by orjson's fast path and
    written by its slower one (OPT_NON_STR_KEYS, a third of a page's time when always on).
    """
    try:
        return orjson.dumps(value, default=_json_default, option=orjson.OPT_UTC_Z)
    except orjson.JSONEncodeError:
        return orjson.dumps(
            value, default=_json_default, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
        )


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):  # a database row
        return dict(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def json_body() -> Any:
    """The request's JSON (checked for media type and syntax by the API's before_request)."""
    return request.get_json(silent=True)


def etag_of(body: bytes) -> str:
    """A strong ETag from the representation itself: any change of any field changes it."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def check_if_match(current: str) -> None:
    if (
        request.if_match
        and not request.if_match.star_tag
        and not request.if_match.contains(current.strip('"'))
    ):
        raise PreconditionFailed(
            "the record changed since you read it (If-Match does not match its ETag); read it again",
            field="If-Match",
        )

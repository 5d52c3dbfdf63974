"""Building blocks shared by every resource's schemas."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from werkzeug.routing import BaseConverter

from chaindb.db import LONG_TEXT, SHORT_TEXT

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

IdOrKey = Annotated[
    int | str,
    Field(description="An id, or the natural key (a chain's code, a district's code, "
          "an enterprise's credit code)"),
]  # fmt: skip

# Text written into a limited column (chaindb.db.text_limit): a name, a person, a unit, a
# product ... or prose (notes, descriptions, sources, reasons). Combine with a Field of the
# field's own (a description, a least length) as usual.
ShortText = Annotated[str, Field(max_length=SHORT_TEXT)]
LongText = Annotated[str, Field(max_length=LONG_TEXT)]


def _null_means_default(schema: dict[str, Any]) -> None:
    """In the document: an optional field with a default also takes null (or empty text),
    which means that default (parse_body's blank_as_absent)."""
    required = set(schema.get("required", ()))
    for name, node in schema.get("properties", {}).items():
        if name in required:
            continue
        options = node.get("anyOf")
        if options is not None:
            if not any(o.get("type") == "null" for o in options):
                options.append({"type": "null"})
            continue
        keep = {
            k: node.pop(k) for k in ("title", "description", "default", "examples") if k in node
        }
        inner = dict(node)
        node.clear()
        node.update(keep, anyOf=[inner, {"type": "null"}])


class Schema(BaseModel):
    """Inputs refuse unknown fields, so that a typo is an error rather than silently ignored."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_null_means_default
    )


class Confirmable(Schema):
    """A write that warnings may stop until the client confirms it has checked them."""

    confirm: list[Literal["large_amount", "possible_duplicate"]] = Field(
        default_factory=list,
        description="Warnings checked and confirmed: large_amount (an amount far beyond the "
        "usual range, answered 422 confirm_required), possible_duplicate (a record like existing "
        "ones, answered 409 possible_duplicate with the candidates). Not stored",
    )


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    updated_at: datetime


# JSON bodies are typed: each value must have the JSON type the document gives its field, so 0 is
# no boolean, false no number, 0 no date (pydantic alone would convert all three). Spreadsheet
# cells are all text: an import turns the check off for its rows, so that "12" may be a number.
strict_input: ContextVar[bool] = ContextVar("strict_input", default=True)


@contextmanager
def lax_input() -> Iterator[None]:
    """Values that are not JSON (spreadsheet cells, form fields) are checked by type only."""
    token = strict_input.set(False)
    try:
        yield
    finally:
        strict_input.reset(token)


JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
              dict: "object", type(None): "null"}  # fmt: skip


def parse_body(schema: type[M], body: Any, **dump: Any) -> dict[str, Any]:
    """Validate a JSON body against `schema`; its values, as pydantic dumps them.

    Blank is blank: an optional field given as null or as empty text is no value (NULL), and one
    that has a default instead of NULL (sort_order 0, active true) takes its default."""
    from chaindb.errors import Invalid, from_validation_error

    wrong: dict[str, str] = {}
    if isinstance(body, dict):
        cleaned = blank_as_absent(schema, body)
        if strict_input.get():
            given = {k: v for k, v in body.items() if k in cleaned and cleaned[k] is v}
            wrong = _wrong_json_types(schema, given)
        body = cleaned
    details = [{"field": f, "message": m} for f, m in sorted(wrong.items())]
    try:
        parsed = schema.model_validate(body)
    except ValidationError as exc:
        others = [d for d in from_validation_error(exc).details if d["field"] not in wrong]
        details += others
    if len(details) > 0:
        fields = ", ".join(sorted({d["field"] for d in details}))
        raise Invalid("invalid values: %(fields)s", params={"fields": fields}, details=details)
    return parsed.model_dump(**dump)


_NO_DEFAULT = object()


def blank_as_absent(schema: type[BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    """The body with every optional field left empty (null, "", whitespace) as no value: NULL
    where the field takes null, else the field's default (in a PATCH: left as it is). Required
    fields keep what was sent, so that their refusal says they are required."""
    rules = _blank_rules(schema)
    partial = hasattr(schema, "__partial_of__")
    # In JSON, empty text is blank where the document lets a field be text of any form; a
    # field that takes only some text (a pattern, at least a character) must be given null.
    texts = free_text(schema) if strict_input.get() else None
    cleaned = dict(body)
    for name, value in body.items():
        empty_text = isinstance(value, str) and not value.strip()
        if empty_text and texts is not None and name not in texts:
            continue
        blank = value is None or empty_text
        if not blank or name not in rules or rules[name] is _NO_DEFAULT:
            continue  # a value, an unknown field, or a required one (refused as required)
        default = rules[name]
        if default is None:
            cleaned[name] = None
        elif partial:
            del cleaned[name]  # PATCH: a field that cannot be NULL left empty stays as it is
        else:
            cleaned[name] = default() if callable(default) else default
    return cleaned


@cache
def _blank_rules(schema: type[BaseModel]) -> dict[str, Any]:
    """field -> what an empty value means: None (NULL), a default (or its factory), or
    _NO_DEFAULT for a required field. A partial model (PATCH) follows the model it was made from."""
    source = getattr(schema, "__partial_of__", schema)
    rules: dict[str, Any] = {}
    for name, info in source.model_fields.items():
        nullable = _admits_none(info.annotation)
        if nullable:
            rules[name] = None
        elif info.default_factory is not None:
            rules[name] = info.default_factory
        elif info.is_required():
            rules[name] = _NO_DEFAULT
        else:
            rules[name] = info.default
    return {name: rule for name, rule in rules.items() if name in schema.model_fields}


@cache
def free_text(schema: type[BaseModel]) -> frozenset[str]:
    """The fields whose document admits any text (no pattern, format or least length)."""
    document = schema.model_json_schema()
    found = set()
    for name, node in document.get("properties", {}).items():
        options = node.get("anyOf", [node])
        for option in options:
            if option.get("type") == "string" and not {"pattern", "minLength", "format"} & set(
                option
            ):
                found.add(name)
    return frozenset(found)


def _admits_none(annotation: Any) -> bool:
    args = get_args(annotation)
    if get_origin(annotation) is Annotated:
        return _admits_none(args[0])
    return annotation is None or type(None) in args


def _wrong_json_types(schema: type[BaseModel], body: dict[str, Any]) -> dict[str, str]:
    allowed = _allowed_types(schema)
    wrong = {}
    for name, value in body.items():
        types = allowed.get(name)
        if not types:
            continue  # unknown fields are pydantic's to refuse; untyped ones take anything
        given = JSON_TYPES.get(type(value), "object")
        if given in types or (given == "integer" and "number" in types):
            continue
        wrong[name] = f"expected {' or '.join(sorted(types))}, got {given}"
    return wrong


@cache
def _allowed_types(schema: type[BaseModel]) -> dict[str, set[str]]:
    """field -> the JSON types its schema admits (empty: anything)."""
    document = schema.model_json_schema()
    definitions = document.get("$defs", {})

    def types_of(node: dict[str, Any]) -> set[str]:
        if "$ref" in node:
            target = definitions.get(node["$ref"].rsplit("/", 1)[-1], {})
            return types_of(target) or {"object"}
        if "enum" in node:
            return {JSON_TYPES.get(type(v), "object") for v in node["enum"]}
        if "const" in node:
            return {JSON_TYPES.get(type(node["const"]), "object")}
        if "type" in node:
            kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
            return set(kinds)
        found: set[str] = set()
        for key in ("anyOf", "oneOf"):
            for option in node.get(key, []):
                option_types = types_of(option)
                if not option_types:
                    return set()
                found |= option_types
        return found

    return {name: types_of(node) for name, node in document.get("properties", {}).items()}


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


FIELDS_HELP = (
    "Sparse fieldset: the comma-separated fields to answer with (id always comes); "
    "without it, the whole record"
)


class FieldsQuery(CachedSchema):
    """The query of a read: which fields to answer with."""

    fields: str | None = Field(None, description=FIELDS_HELP)


def sparse_model(read: type[BaseModel]) -> type[BaseModel]:
    """The read model as a sparse fieldset answers it: its fields, each one there only when
    asked for (id always)."""
    fields: dict[str, Any] = {
        name: (info.annotation, ...) if name == "id" else (info.annotation | None, None)
        for name, info in read.model_fields.items()
    }
    return create_model(f"{read.__name__.removesuffix('Read')}Fields", **fields)


class KeyConverter(BaseConverter):
    """A record's id or natural key in a URL: any segment but the collection's own verbs."""

    regex = r"(?!import$)[^/]+"


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
    made = create_model(
        name, __base__=Schema, __doc__=f"Partial update of {model.__name__}", **fields
    )
    made.__partial_of__ = model  # type: ignore[attr-defined]  # what an empty value means
    return made

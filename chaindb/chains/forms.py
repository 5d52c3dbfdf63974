from __future__ import annotations

import re
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, NumberRange, Optional

from chaindb.chains.models import (
    Chain,
    ChainTier,
    SegmentBasis,
)
from chaindb.chains.pickers import chain_options, segment_options
from chaindb.chains.vocab import (
    BASIS_LABELS,
    GROUP_LABELS,
    POSITION_LABELS,
    ROLE_LABELS,
    TIER_LABELS,
)
from chaindb.db import LONG_TEXT, db, is_id
from chaindb.enterprises.pickers import EnterpriseField
from chaindb.web.forms import DecimalField, Form, RecordForm, RefSelectField, choices_of

ALIAS_SEPARATORS = re.compile(r"[,，、;；\n]+")


def iconic_chain_options() -> list[tuple[int, str]]:
    """The chains a key chain may sit under."""
    rows = db.session.execute(
        select(Chain.id, Chain.code, Chain.name_zh)
        .where(Chain.tier == ChainTier.ICONIC)
        .order_by(Chain.sort_order, Chain.id)
    )
    return [(id_, f"{name} ({code})") for id_, code, name in rows]


class AliasesField(StringField):
    """A list of names typed on one line, separated by commas or 、."""

    max_length = LONG_TEXT  # the line; the API refuses a name longer than text_limit("aliases")

    def process_data(self, value: Any) -> None:
        if isinstance(value, list | tuple):
            self.data = "、".join(value)
        else:
            self.data = value

    def api_value(self) -> list[str]:
        return [part.strip() for part in ALIAS_SEPARATORS.split(self.data or "") if part.strip()]


class PrefilledForm(RecordForm):
    """A create form whose listed fields take their first values from the query string
    (?chain_id=...&role=chain_master), so that other pages can link to a prepared form."""

    prefill: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if request.method == "GET" and "data" not in kwargs and "obj" not in kwargs:
            data: dict[str, Any] = {}
            for name in self.prefill:
                value = request.args.get(name, "").strip()
                if value:
                    data[name] = int(value) if is_id(value) and len(value) < 18 else value
            kwargs["data"] = data
        super().__init__(*args, **kwargs)


class ChainForm(RecordForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired()],
        description=_l("Lower-case letters, digits and dashes, e.g. automotive"),
    )
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired()])
    name_en = StringField(_l("English name"), validators=[Optional()])
    tier = SelectField(
        _l("Tier"), choices=choices_of(TIER_LABELS, blank=True), validators=[DataRequired()]
    )
    group = SelectField(
        _l("Group"), choices=choices_of(GROUP_LABELS, blank=True), validators=[Optional()]
    )
    chief = StringField(
        _l("Chain chief (链长)"),
        validators=[Optional()],
        description=_l("The city leader in charge"),
    )
    parent_id = RefSelectField(
        _l("Iconic chain above it"),
        options=iconic_chain_options,
        validators=[Optional()],
        description=_l("Only for a key chain: the iconic chain it belongs to"),
    )
    target_2030_cny_100m = DecimalField(
        _l("2030 target (亿元)"), places=2, validators=[Optional(), NumberRange(min=0)]
    )
    target_2030_scope = StringField(
        _l("What the 2030 target measures"),
        validators=[Optional()],
        description=_l("When not the whole chain, e.g. 核心产业"),
    )
    aliases = AliasesField(
        _l("Other names"),
        validators=[Optional()],
        description=_l("Separated by commas or 、"),
    )
    sort_order = IntegerField(_l("Sort order"), default=0, validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional()])


class SegmentForm(PrefilledForm):
    prefill = ("chain_id", "parent_id", "position")

    chain_id = RefSelectField(_l("Chain"), options=chain_options, validators=[DataRequired()])
    parent_id = RefSelectField(
        _l("Parent segment"),
        options=segment_options,
        validators=[Optional()],
        description=_l("Empty for a top-level segment; otherwise a segment of the same chain"),
        render_kw={"data-segments-of": "chain_id"},
    )
    code = StringField(
        _l("Code"),
        validators=[DataRequired()],
        description=_l("Unique within the chain: lower-case letters, digits, dots and dashes, "
                       "e.g. battery.cell"),
    )  # fmt: skip
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired()])
    name_en = StringField(_l("English name"), validators=[Optional()])
    position = SelectField(
        _l("Position"), choices=choices_of(POSITION_LABELS, blank=True), validators=[DataRequired()]
    )
    sort_order = IntegerField(
        _l("Sort order"),
        default=0,
        validators=[Optional()],
        description=_l("Order among its siblings on the map"),
    )
    description = TextAreaField(_l("What the segment covers"), validators=[Optional()])
    basis = SelectField(
        _l("Basis"),
        choices=choices_of(BASIS_LABELS),
        default=SegmentBasis.CONFIRMED.value,
        validators=[DataRequired()],
        description=_l("A seeded map follows the industry's general structure; the chain office "
                       "corrects it and marks each segment confirmed"),
    )  # fmt: skip


class ChainRoleForm(PrefilledForm):
    prefill = ("enterprise_id", "chain_id", "segment_id", "role")

    enterprise_id = EnterpriseField(_l("Enterprise"), validators=[DataRequired()])
    chain_id = RefSelectField(_l("Chain"), options=chain_options, validators=[DataRequired()])
    segment_id = RefSelectField(
        _l("Segment"),
        options=segment_options,
        validators=[Optional()],
        description=_l("When the role is specific to one segment of the chain"),
        render_kw={"data-segments-of": "chain_id"},
    )
    role = SelectField(
        _l("Role"), choices=choices_of(ROLE_LABELS, blank=True), validators=[DataRequired()]
    )
    since = DateField(
        _l("Since"), validators=[Optional()], description=_l("First day the role holds")
    )
    until = DateField(
        _l("Until"),
        validators=[Optional()],
        description=_l("Last day the role holds; empty while it holds"),
    )
    source = StringField(
        _l("Source"), validators=[Optional()], description=_l("Where the fact comes from")
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional()])


class ChainFilters(Form):
    q = StringField(_l("Search"), validators=[Optional()])
    tier = SelectField(
        _l("Tier"), choices=choices_of(TIER_LABELS, blank=True), validators=[Optional()]
    )
    group = SelectField(
        _l("Group"), choices=choices_of(GROUP_LABELS, blank=True), validators=[Optional()]
    )


class SegmentFilters(Form):
    q = StringField(_l("Search"), validators=[Optional()])
    chain_id = RefSelectField(_l("Chain"), options=chain_options, validators=[Optional()])
    position = SelectField(
        _l("Position"), choices=choices_of(POSITION_LABELS, blank=True), validators=[Optional()]
    )
    basis = SelectField(
        _l("Basis"), choices=choices_of(BASIS_LABELS, blank=True), validators=[Optional()]
    )


class ChainRoleFilters(Form):
    enterprise_id = EnterpriseField(_l("Enterprise"), validators=[Optional()])
    chain_id = RefSelectField(_l("Chain"), options=chain_options, validators=[Optional()])
    role = SelectField(
        _l("Role"), choices=choices_of(ROLE_LABELS, blank=True), validators=[Optional()]
    )

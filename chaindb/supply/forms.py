"""Forms of the supply pages: a supply link, the 关联配套企业 form, ending a link, the filters."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError

from chaindb.chains.pickers import chain_options, segment_options
from chaindb.db import db
from chaindb.enterprises.models import Enterprise
from chaindb.enterprises.pickers import EnterpriseField
from chaindb.supply.vocab import NEW_STATUS_LABELS, STATUS_LABELS
from chaindb.web.forms import (
    YES_NO,
    DecimalField,
    Form,
    RecordForm,
    RefSelectField,
    choices_of,
)

# A new link supplies now, or is a match that does not supply yet (匹配清单).
PAIR = re.compile(r"^\s*(\d{1,18}):(\d{1,18})\s*$")


def _value_field() -> DecimalField:
    return DecimalField(
        _l("Annual value (万元)"),
        places=2,
        validators=[Optional(), NumberRange(min=0)],
        description=_l("Annual supply value in 万元, when known"),
    )


class SupplyLinkForm(RecordForm):
    """A supply link as the /supply-links resource writes it (the edit page)."""

    supplier_id = EnterpriseField(_l("Supplier (配套企业)"), validators=[DataRequired()])
    buyer_id = EnterpriseField(_l("Chain master (链主)"), validators=[DataRequired()])
    chain_id = RefSelectField(_l("Chain"), options=chain_options, validators=[DataRequired()])
    segment_id = RefSelectField(
        _l("Segment"),
        options=segment_options,
        validators=[Optional()],
        render_kw={"data-segments-of": "chain_id"},
    )
    product = StringField(_l("Product"), validators=[Optional()])
    annual_value_cny_10k = _value_field()
    since = DateField(_l("Supplying since"), validators=[Optional()])
    until = DateField(
        _l("Supplying until"),
        validators=[Optional()],
        description=_l("Last day of supply; required once the link has ended"),
    )
    status = SelectField(
        _l("Status"),
        choices=choices_of(STATUS_LABELS),
        default="active",
        validators=[DataRequired()],
    )
    reported_by = StringField(
        _l("Reported by"),
        validators=[Optional()],
        description=_l("Who reported the link: office, survey, the enterprise"),
    )
    verified = BooleanField(_l("Verified"))
    # Kept as it was, so that saving a verified link does not move its verification time.
    verified_at = HiddenField()
    notes = TextAreaField(_l("Notes"), validators=[Optional()])


class MasterField(SelectField):
    """A chain master in one of its chains, as "buyer_id:chain_id".

    The choices are today's chain masters; another pair is let through to the service, whose
    refusal ("not a chain master of that chain") is the one worth reading.
    """

    def __init__(self, label: Any = None, validators: Any = None, **kw: Any) -> None:
        super().__init__(label, validators, choices=[], **kw)

    @property
    def pair(self) -> tuple[int, int] | None:
        return parse_pair(self.data)

    def pre_validate(self, form: Any) -> None:
        if not self.data:
            return
        pair = self.pair
        if pair is None:
            raise ValidationError(_l("Not a valid choice."))
        if db.session.scalar(select(Enterprise.id).where(Enterprise.id == pair[0])) is None:
            raise ValidationError(_l("That enterprise no longer exists."))


def parse_pair(value: Any) -> tuple[int, int] | None:
    """(buyer_id, chain_id) from "buyer_id:chain_id"."""
    found = PAIR.match(str(value or ""))
    return (int(found[1]), int(found[2])) if found else None


class LinkSupplierForm(Form):
    """关联配套企业: link a supplier to a chain master in one of its chains."""

    master = MasterField(
        _l("Chain master · chain"),
        validators=[DataRequired()],
        description=_l("The chain master (链主) and the chain the supply is for"),
    )
    supplier = EnterpriseField(_l("Supplier (配套企业)"), validators=[DataRequired()])
    segment_id = RefSelectField(
        _l("Segment"),
        options=segment_options,
        validators=[Optional()],
        render_kw={"data-segments-of": "master"},
        description=_l("The segment of the chain map the supply belongs to, when known"),
    )
    product = StringField(_l("Product"), validators=[Optional()])
    annual_value_cny_10k = _value_field()
    since = DateField(_l("Supplying since"), validators=[Optional()])
    status = SelectField(
        _l("Status"),
        choices=choices_of(NEW_STATUS_LABELS),
        default="active",
        validators=[DataRequired()],
    )
    reported_by = StringField(
        _l("Reported by"),
        validators=[Optional()],
        description=_l("Who reported the link: office, survey, the enterprise"),
    )
    verified = BooleanField(_l("Verified"))
    notes = TextAreaField(_l("Notes"), validators=[Optional()])


class EndLinkForm(Form):
    until = DateField(
        _l("Last day of supply"),
        validators=[Optional()],
        description=_l("Today when empty; never in the future"),
    )
    reason = StringField(
        _l("Reason"), validators=[Optional()], description=_l("Kept in the link's notes")
    )
    next = HiddenField()


class SupplyLinkFilters(Form):
    supplier = StringField(
        _l("Supplier"),
        validators=[Optional()],
        render_kw={"data-picker": "enterprises", "autocomplete": "off"},
    )
    buyer = StringField(
        _l("Chain master"),
        validators=[Optional()],
        render_kw={"data-picker": "enterprises", "autocomplete": "off"},
    )
    chain_id = RefSelectField(_l("Chain"), options=chain_options, validators=[Optional()])
    status = SelectField(
        _l("Status"), choices=choices_of(STATUS_LABELS, blank=True), validators=[Optional()]
    )
    verified = SelectField(
        _l("Verified"), choices=choices_of(YES_NO, blank=True), validators=[Optional()]
    )
    supplier_local = SelectField(
        _l("Local supplier"), choices=choices_of(YES_NO, blank=True), validators=[Optional()]
    )


class MasterFilters(Form):
    chain = RefSelectField(_l("Chain"), options=chain_options, validators=[Optional()])

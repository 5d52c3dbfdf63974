from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from chaindb.chains.pickers import chain_options
from chaindb.districts.pickers import district_options
from chaindb.targets.vocab import METRIC_LABELS, SCOPE_LABELS, UNIT_LABELS
from chaindb.units.pickers import unit_options
from chaindb.web.forms import DecimalField, Form, RecordForm, RefSelectField, choices_of

YEARS = NumberRange(min=2000, max=2100)


class ValueField(DecimalField):
    """A decimal shown as written: 1000, not 1000.0000 as numeric(16, 4) returns it."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, Decimal):
            return format(self.data.normalize(), "f")
        return "" if self.data is None else str(self.data)


class TargetForm(RecordForm):
    scope = SelectField(
        _l("For"),
        choices=choices_of(SCOPE_LABELS),
        validators=[DataRequired()],
        description=_l(
            "The city as a whole, one chain, one planning unit, or one office (in one chain, "
            "when a chain is chosen too)."
        ),
    )
    unit_id = RefSelectField(
        _l("Office"), options=unit_options, description=_l("Only for an office's target.")
    )
    chain_id = RefSelectField(
        _l("Chain"),
        options=chain_options,
        description=_l("For a chain's target, or an office's target in that chain."),
    )
    district_id = RefSelectField(
        _l("Planning unit"),
        options=district_options,
        description=_l("Only for a planning unit's target."),
    )
    year = IntegerField(_l("Year"), validators=[InputRequired(), YEARS])
    metric = SelectField(
        _l("Metric"), choices=choices_of(METRIC_LABELS), validators=[DataRequired()]
    )
    unit = SelectField(
        _l("Unit"),
        choices=choices_of(UNIT_LABELS),
        default="cny_100m",
        validators=[DataRequired()],
        description=_l("The unit of both values."),
    )
    target_value = ValueField(_l("Target"), validators=[Optional()])
    actual_value = ValueField(_l("Actual"), validators=[Optional()])
    source = StringField(_l("Source"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional()])


class TargetFilters(Form):
    scope = SelectField(
        _l("For"), choices=choices_of(SCOPE_LABELS, blank=True), validators=[Optional()]
    )
    chain_id = RefSelectField(_l("Chain"), options=chain_options, validators=[Optional()])
    district_id = RefSelectField(
        _l("Planning unit"), options=district_options, validators=[Optional()]
    )
    unit_id = RefSelectField(_l("Office"), options=unit_options, validators=[Optional()])
    year = IntegerField(_l("Year"), validators=[Optional(), YEARS])
    metric = SelectField(
        _l("Metric"), choices=choices_of(METRIC_LABELS, blank=True), validators=[Optional()]
    )


class ChainRevenueForm(RecordForm):
    chain_id = RefSelectField(_l("Chain"), [DataRequired()], options=chain_options)
    year = IntegerField(_l("Year"), validators=[InputRequired(), YEARS])
    revenue_cny_100m = ValueField(_l("Revenue (亿元)"), validators=[InputRequired()])
    source = StringField(_l("Source"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional()])


class ChainRevenueFilters(Form):
    chain_id = RefSelectField(_l("Chain"), options=chain_options, validators=[Optional()])
    year = IntegerField(_l("Year"), validators=[Optional(), YEARS])

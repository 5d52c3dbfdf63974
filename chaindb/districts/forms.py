from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from chaindb.chains.pickers import chain_options
from chaindb.districts.pickers import district_options
from chaindb.districts.vocab import KIND_LABELS
from chaindb.web.forms import Form, RecordForm, RefSelectField, choices_of


class DistrictForm(RecordForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(min=2, max=16)],
        description=_l("6-digit official code, or an upper-case local code for a zone"),
    )
    is_official_code = BooleanField(_l("The code is an official (GB/T 2260) code"))
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired()])
    name_en = StringField(_l("English name"), validators=[Optional()])
    kind = SelectField(_l("Kind"), choices=choices_of(KIND_LABELS), validators=[DataRequired()])
    sort_order = IntegerField(_l("Sort order"), default=0, validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional()])


class DistrictFilters(Form):
    q = StringField(_l("Search"), validators=[Optional()])
    kind = SelectField(
        _l("Kind"), choices=choices_of(KIND_LABELS, blank=True), validators=[Optional()]
    )


class LeadingChainForm(RecordForm):
    district_id = RefSelectField(_l("Planning unit"), [DataRequired()], options=district_options)
    chain_id = RefSelectField(_l("Chain"), [DataRequired()], options=chain_options)
    since = DateField(_l("Since"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])
    source = StringField(_l("Source"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional()])


class LeadingChainFilters(Form):
    district_id = RefSelectField(_l("Planning unit"), [Optional()], options=district_options)
    chain_id = RefSelectField(_l("Chain"), [Optional()], options=chain_options)

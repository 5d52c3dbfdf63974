from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from chaindb.chains.pickers import chain_options
from chaindb.districts.pickers import district_options
from chaindb.units.vocab import KIND_LABELS
from chaindb.web.forms import Form, RecordForm, RefSelectField, choices_of


class UnitForm(RecordForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(min=2, max=40)],
        description=_l("Lower-case letters, digits and dashes, e.g. district-370102"),
    )
    kind = SelectField(_l("Kind"), choices=choices_of(KIND_LABELS), validators=[DataRequired()])
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired()])
    name_en = StringField(_l("English name"), validators=[Optional()])
    chain_id = RefSelectField(
        _l("Chain"), options=chain_options, description=_l("Only for a chain office.")
    )
    district_id = RefSelectField(
        _l("Planning unit"),
        options=district_options,
        description=_l("Only for a district office."),
    )
    parent_id = StringField(
        _l("Reports to"),
        default="city",
        validators=[Optional()],
        description=_l("The code of the office it reports to: city, the city bureau."),
    )
    reviews_chain_projects = BooleanField(
        _l("Reviews its chains' projects"),
        description=_l(
            "Only for a chain office: it approves or returns its chains' projects, "
            "beside the city bureau."
        ),
    )
    sort_order = IntegerField(_l("Sort order"), default=0, validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional()])


class UnitFilters(Form):
    q = StringField(_l("Search"), validators=[Optional()])
    kind = SelectField(
        _l("Kind"), choices=choices_of(KIND_LABELS, blank=True), validators=[Optional()]
    )

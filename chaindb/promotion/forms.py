from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from chaindb.chains.pickers import chain_options, segment_options
from chaindb.districts.pickers import district_options
from chaindb.enterprises.pickers import EnterpriseField
from chaindb.promotion.vocab import SOURCE_LABELS, STATUS_LABELS, TRIP_KIND_LABELS
from chaindb.web.forms import (
    DecimalField,
    Form,
    RecordForm,
    RefSelectField,
    choices_of,
    int_or_none,
)

# The statuses a person sets on a lead's form: signed comes from converting it into a project.
SETTABLE = {k: v for k, v in STATUS_LABELS.items() if k != "signed"}


class LeadForm(RecordForm):
    enterprise_id = EnterpriseField(
        _l("Enterprise"),
        [DataRequired()],
        allow_new=True,
        description=_l("One in chaindb, or the name of one that is not (yet)"),
    )
    region = StringField(_l("Located in"), validators=[Optional()])
    industry = StringField(_l("Industry"), validators=[Optional()])
    chain_id = RefSelectField(_l("Chain"), [DataRequired()], options=chain_options)
    segment_id = RefSelectField(
        _l("Segment"),
        [Optional()],
        options=segment_options,
        render_kw={"data-segments-of": "chain_id"},
    )
    district_id = RefSelectField(_l("Would land in"), [Optional()], options=district_options)
    source = SelectField(
        _l("Source"), choices=choices_of(SOURCE_LABELS, blank=True), validators=[DataRequired()]
    )
    source_detail = StringField(_l("Source detail"), validators=[Optional()])
    status = SelectField(
        _l("Status"), choices=choices_of(SETTABLE), default="new", validators=[DataRequired()]
    )
    next_follow_up_on = DateField(_l("Next follow-up"), validators=[Optional()])
    dropped_reason = TextAreaField(
        _l("Why dropped"), validators=[Optional()], description=_l("Needed when it is dropped")
    )
    expected_investment_cny_100m = DecimalField(
        _l("Investment hoped for (亿元)"), validators=[Optional()]
    )
    contact_name = StringField(_l("Their contact"), validators=[Optional()])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        data = kwargs.get("data") or {}
        super().__init__(*args, **kwargs)
        if not self.enterprise_id.data and data.get("enterprise_name"):
            self.enterprise_id.data = data["enterprise_name"]
        if data.get("status") == "signed" or self.status.data == "signed":
            # A signed lead stays signed while its project names it: shown, kept as it is.
            self.status.choices = choices_of(STATUS_LABELS)


class LeadFilters(Form):
    q = StringField(_l("Search"), validators=[Optional()])
    status = SelectField(
        _l("Status"), choices=choices_of(STATUS_LABELS, blank=True), validators=[Optional()]
    )
    source = SelectField(
        _l("Source"), choices=choices_of(SOURCE_LABELS, blank=True), validators=[Optional()]
    )
    chain_id = RefSelectField(_l("Chain"), [Optional()], options=chain_options)


class NegotiationForm(Form):
    lead_id = HiddenField(filters=[int_or_none])
    project_id = HiddenField(filters=[int_or_none])
    held_on = DateField(_l("Date"), validators=[DataRequired()])
    place = StringField(_l("Place"), validators=[Optional()])
    our_participants = StringField(_l("Our side"), validators=[Optional()])
    their_participants = StringField(
        _l("Their side"),
        validators=[Optional()],
        description=_l("Names with titles, e.g. 张三（投资总监）"),
    )
    content = TextAreaField(_l("What was discussed"), validators=[DataRequired()])
    outcome = TextAreaField(_l("Outcome"), validators=[Optional()])
    next_step = StringField(_l("Next step"), validators=[Optional()])
    next_follow_up_on = DateField(_l("Follow up on"), validators=[Optional()])


class TripForm(RecordForm):
    kind = SelectField(_l("Kind"), choices=choices_of(TRIP_KIND_LABELS), default="trip")
    title = StringField(_l("Title"), validators=[DataRequired()])
    starts_on = DateField(_l("First day"), validators=[DataRequired()])
    ends_on = DateField(_l("Last day"), validators=[Optional()])
    destination = StringField(_l("Destination"), validators=[Optional()])
    leader = StringField(_l("Led by"), validators=[Optional()])
    participants = TextAreaField(_l("Participants"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional()])


class TripFilters(Form):
    q = StringField(_l("Search"), validators=[Optional()])
    kind = SelectField(
        _l("Kind"), choices=choices_of(TRIP_KIND_LABELS, blank=True), validators=[Optional()]
    )


class VisitForm(Form):
    enterprise_id = EnterpriseField(_l("Enterprise"), [DataRequired()], allow_new=True)
    visited_on = DateField(_l("Visited on"), validators=[Optional()])
    chain_id = RefSelectField(
        _l("Open or move a lead in chain"),
        [Optional()],
        options=chain_options,
        description=_l("Leave empty when the visit leads to nothing to pursue"),
    )
    next_follow_up_on = DateField(_l("Follow up on"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional()])


class FromGapForm(Form):
    segment_id = HiddenField(filters=[int_or_none], validators=[DataRequired()])
    supplier_id = HiddenField(filters=[int_or_none], validators=[DataRequired()])

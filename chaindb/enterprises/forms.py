"""Forms of the enterprise and designation pages, and the labels of their vocabularies."""

from __future__ import annotations

import re
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from chaindb.chains.pickers import chain_options
from chaindb.chains.vocab import ROLE_LABELS
from chaindb.db import LONG_TEXT, is_id
from chaindb.districts.pickers import district_options, own_district
from chaindb.enterprises.pickers import EnterpriseField
from chaindb.enterprises.vocab import (
    DESIGNATION_LEVEL_LABELS,
    DESIGNATION_TYPE_LABELS,
    INVESTOR_ATTRIBUTE_LABELS,
    OWNERSHIP_LABELS,
    SIZE_LABELS,
)
from chaindb.web.forms import YES_NO, Form, RecordForm, RefSelectField, choices_of

# Names are typed on one line: commas (half or full width), 、 or semicolons between them.
NAME_SEPARATORS = re.compile(r"[,，、;；\n]+")


def any_of(labels: dict[str, Any]) -> list[SelectChoice]:
    """A filter's options: any value (empty) first."""
    return [SelectChoice("", _l("— any —")), *choices_of(labels)]


class NamesField(StringField):
    """A list of names typed as one line, separated by commas or 、."""

    max_length = LONG_TEXT  # the line; the API refuses a name longer than text_limit("aliases")

    def process_data(self, value: Any) -> None:
        if isinstance(value, (list, tuple)):
            self.data = "、".join(str(v) for v in value)
        else:
            self.data = value

    def api_value(self) -> list[str]:
        names: list[str] = []
        for name in NAME_SEPARATORS.split(self.data or ""):
            name = name.strip()
            if name and name not in names:
                names.append(name)
        return names


class EnterpriseForm(RecordForm):
    uscc = StringField(
        _l("Unified social credit code"),
        validators=[Optional(), Length(max=40)],
        description=_l(
            "18 characters (统一社会信用代码, GB 32100-2015). Leave empty when the enterprise is "
            "not registered or the code is not known."
        ),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    uscc_check_override = BooleanField(
        _l("Accept this code although it fails the check character (a genuine early code)")
    )
    uscc_override_reason = StringField(
        _l("Reason for accepting the code"),
        validators=[Optional()],
        description=_l("Why the code is accepted, and who granted it; needed with the override."),
    )
    name_zh = StringField(_l("Registered Chinese name"), validators=[DataRequired()])
    short_name = StringField(
        _l("Short name"), validators=[Optional()], description=_l("简称, e.g. 比亚迪")
    )
    name_en = StringField(_l("English name"), validators=[Optional()])
    aliases = NamesField(
        _l("Other names"),
        validators=[Optional()],
        description=_l("Former and other names, separated by commas or 、"),
    )
    district_id = RefSelectField(
        _l("Planning unit"),
        options=district_options,
        default=own_district,  # a district office enters its own unit's enterprises
        description=_l("Where a local enterprise sits; empty for an enterprise outside the city."),
    )
    region_code = StringField(
        _l("Region code"),
        validators=[
            Optional(),
            Regexp(r"^[0-9]{6}$", message=_l("Six digits (GB/T 2260), e.g. 320100.")),
        ],
        description=_l(
            "For an enterprise outside the city: the 6-digit code of where it is. "
            "Leave empty for a local enterprise."
        ),
    )
    size = SelectField(
        _l("Size"), choices=choices_of(SIZE_LABELS, blank=True), validators=[Optional()]
    )
    ownership = SelectField(
        _l("Ownership"), choices=choices_of(OWNERSHIP_LABELS, blank=True), validators=[Optional()]
    )
    founded_on = DateField(_l("Founded on"), validators=[Optional()])
    active = BooleanField(_l("Active (not deregistered or closed)"), default=True)
    notes = TextAreaField(_l("Notes"), validators=[Optional()])


class EnterpriseFilters(Form):
    q = StringField(
        _l("Search"),
        validators=[Optional()],
        render_kw={"placeholder": _l("Name, pinyin initials or credit code")},
    )
    district_id = RefSelectField(_l("Planning unit"), options=district_options)
    local = SelectField(_l("Local"), choices=any_of(YES_NO), validators=[Optional()])
    # size__in rather than size: one lookup the API takes for a vocabulary.
    size__in = SelectField(_l("Size"), choices=any_of(SIZE_LABELS), validators=[Optional()])
    active = SelectField(_l("Active"), choices=any_of(YES_NO), validators=[Optional()])
    chain_id = RefSelectField(_l("Holds a role in chain"), options=chain_options)
    role = SelectField(_l("Role"), choices=any_of(ROLE_LABELS), validators=[Optional()])


class DesignationForm(RecordForm):
    enterprise_id = EnterpriseField(_l("Enterprise"), validators=[DataRequired()])
    type = SelectField(
        _l("Designation"),
        choices=choices_of(DESIGNATION_TYPE_LABELS, blank=True),
        validators=[DataRequired()],
    )
    level = SelectField(
        _l("Level"),
        choices=choices_of(DESIGNATION_LEVEL_LABELS, blank=True),
        validators=[DataRequired()],
    )
    year = IntegerField(
        _l("Year granted"), validators=[InputRequired(), NumberRange(min=1980, max=2100)]
    )
    valid_until = DateField(
        _l("Valid until"),
        validators=[Optional()],
        description=_l("The last day it is valid; empty when open-ended or not known."),
    )
    issuer = StringField(_l("Granting authority"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "Add a designation" on an enterprise's page opens this form with that enterprise.
        given = request.args.get("enterprise_id", "")
        wanted = is_id(given)
        if wanted and not self.is_submitted() and not self.enterprise_id.data:
            self.enterprise_id.process_data(int(given))


class DesignationFilters(Form):
    enterprise = EnterpriseField(_l("Enterprise"))
    type = SelectField(
        _l("Designation"), choices=any_of(DESIGNATION_TYPE_LABELS), validators=[Optional()]
    )
    level = SelectField(
        _l("Level"), choices=any_of(DESIGNATION_LEVEL_LABELS), validators=[Optional()]
    )
    year = StringField(_l("Year granted"), validators=[Optional()], render_kw={"size": 6})
    valid = SelectField(_l("Valid today"), choices=any_of(YES_NO), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Links from an enterprise's page filter by ?enterprise_id=: show whose list it is.
        given = request.args.get("enterprise_id", "")
        if not self.enterprise.data and is_id(given):
            self.enterprise.process_data(int(given))


class InvestorAttributeForm(RecordForm):
    enterprise_id = EnterpriseField(_l("Enterprise"), validators=[DataRequired()])
    attribute = SelectField(
        _l("Attribute"),
        choices=choices_of(INVESTOR_ATTRIBUTE_LABELS, blank=True),
        validators=[DataRequired()],
    )
    year = IntegerField(
        _l("Year of the list"), validators=[InputRequired(), NumberRange(min=1980, max=2100)]
    )
    list_rank = IntegerField(_l("Place on the list"), validators=[Optional(), NumberRange(min=1)])
    source = StringField(_l("Source"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "Add an investor attribute" on an enterprise's page opens this form with it.
        given = request.args.get("enterprise_id", "")
        if is_id(given) and not self.is_submitted() and not self.enterprise_id.data:
            self.enterprise_id.process_data(int(given))


class InvestorAttributeFilters(Form):
    enterprise = EnterpriseField(_l("Enterprise"))
    attribute = SelectField(
        _l("Attribute"), choices=any_of(INVESTOR_ATTRIBUTE_LABELS), validators=[Optional()]
    )
    year = StringField(_l("Year of the list"), validators=[Optional()], render_kw={"size": 6})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        given = request.args.get("enterprise_id", "")
        if not self.enterprise.data and is_id(given):
            self.enterprise.process_data(int(given))


class MergeForm(Form):
    """合并重复企业: the duplicate to merge into the enterprise whose page this is."""

    duplicate = EnterpriseField(
        _l("Duplicate to merge into this enterprise"),
        [DataRequired()],
        description=_l(
            "Its roles, supply links, projects and designations move to this enterprise, its "
            "names become this one's other names, and it is deleted."
        ),
    )
    checked = HiddenField()  # set once the person has seen what would move

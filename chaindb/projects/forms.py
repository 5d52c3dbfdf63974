"""The forms of the project pages: 新增项目 (add), edit, the stage move and the list's filters."""

from __future__ import annotations

import re
from datetime import date
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
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError

from chaindb.chains.pickers import chain_options, segment_options
from chaindb.chains.queries import chain_masters
from chaindb.db import db, is_id, label_of
from chaindb.districts.pickers import district_options, own_district
from chaindb.enterprises.pickers import PICKED_MAX_LENGTH, EnterpriseField, enterprise_label
from chaindb.projects.models import Project
from chaindb.projects.service import needs_reason
from chaindb.projects.vocab import (
    CAPITAL_ORIGIN_LABELS,
    CHANNEL_LABELS,
    KIND_LABELS,
    REVIEW_STATUS_LABELS,
    SIZE_CLASS_LABELS,
    STAGE_LABELS,
)
from chaindb.web.forms import (
    YES_NO,
    DecimalField,
    Form,
    RecordForm,
    RefSelectField,
    choices_of,
    int_or_none,
)

PICKED = re.compile(r"#(\d{1,18})\s*$")
AMOUNT_HINT = _l("In 亿元 (100 million yuan), e.g. 12.5")


def chain_master_options() -> list[tuple[int, str]]:
    """The enterprises holding the chain-master role today: "master name · chain, chain"."""
    chains = dict(chain_options())
    masters: dict[int, tuple[str, list[str]]] = {}
    for role in chain_masters(db.session, chain=None):
        _, served = masters.setdefault(role["enterprise_id"], (role["name_zh"], []))
        label = chains.get(role["chain_id"], role["chain_code"]).split(" (")[0]
        if label not in served:
            served.append(label)
    return [(id_, f"{name} · {'、'.join(served)}") for id_, (name, served) in masters.items()]


class ChainMasterField(SelectField):
    """The chain master a project serves, chosen among the current chain masters.

    Whether the enterprise is a chain master of the project's chain is the service's (and the
    database's) rule, so any enterprise id passes here and a refusal lands beside this field; a
    value that is no longer among the current masters (an edited project) stays selectable.
    """

    def __init__(self, label: Any = None, validators: Any = None, **kw: Any) -> None:
        super().__init__(label, validators, coerce=int_or_none, choices=self._masters, **kw)

    def _masters(self) -> list[SelectChoice]:
        options = chain_master_options()
        if self.data is not None and all(self.data != id_ for id_, _ in options):
            options.append((self.data, enterprise_label(self.data) or f"#{self.data}"))
        return [
            SelectChoice("", _l("— none —")),
            *(SelectChoice(str(id_), label) for id_, label in options),
        ]

    def pre_validate(self, form: Any) -> None:
        return None


def project_label(project_id: int) -> str | None:
    name = db.session.scalar(select(Project.name).where(Project.id == project_id))
    return None if name is None else f"{name} #{project_id}"


class ProjectField(StringField):
    """A project typed by its exact name, its id, or picked from the suggestions ("name #id")."""

    max_length = PICKED_MAX_LENGTH

    def __init__(self, label: Any = None, validators: Any = None, **kw: Any) -> None:
        render_kw = {
            "data-picker": "projects",
            "autocomplete": "off",
            "placeholder": _l("Project name or number"),
            **kw.pop("render_kw", {}),
        }
        super().__init__(label, validators, render_kw=render_kw, **kw)
        self.resolved: int | None = None

    def process_data(self, value: Any) -> None:
        if isinstance(value, int):
            self.resolved = value
            self.data = project_label(value) or str(value)
        else:
            self.data = value

    def pre_validate(self, form: Any) -> None:
        text = (self.data or "").strip()
        self.resolved = None
        if not text:
            return
        session = db.session
        picked = PICKED.search(text)
        if picked or (is_id(text)):
            wanted = int(picked[1]) if picked else int(text)
            found = session.scalar(select(Project.id).where(Project.id == wanted))
            if found is None:
                raise ValidationError(_l("No project has this number."))
            self.resolved = found
            return
        matches = session.scalars(select(Project.id).where(Project.name == text).limit(2)).all()
        if len(matches) == 1:
            self.resolved = matches[0]
        elif matches:
            raise ValidationError(
                _l("Several projects have this name: pick one from the suggestions.")
            )
        else:
            raise ValidationError(
                _l("No project has this name: pick one from the suggestions or give its number.")
            )

    def api_value(self) -> int | None:
        return self.resolved


def _amount(label: Any, hint: Any = None) -> DecimalField:
    return DecimalField(
        label,
        places=None,
        # Also a CHECK in the database; here too, so that it shows with the other mistakes.
        validators=[Optional(), NumberRange(min=0)],
        description=hint or AMOUNT_HINT,
        render_kw={"min": "0", "step": "any"},
    )


def _day(label: Any, description: Any = None) -> DateField:
    return DateField(label, validators=[Optional()], description=description)


class ProjectEditForm(RecordForm):
    """Every field of a project but its stage, which moves only through the stage form."""

    name = StringField(_l("Project name"), validators=[DataRequired()])
    chain_id = RefSelectField(_l("Chain"), [DataRequired()], options=chain_options)
    segment_id = RefSelectField(
        _l("Segment"),
        [Optional()],
        options=segment_options,
        render_kw={"data-segments-of": "chain_id"},
        description=_l("A segment of the chosen chain, when known"),
    )
    district_id = RefSelectField(
        _l("Planning unit"),
        [DataRequired()],
        options=district_options,
        default=own_district,  # a district office enters its own unit's projects
    )
    investor_id = EnterpriseField(
        _l("Investor"),
        [DataRequired()],
        allow_new=True,
        description=_l(
            "An enterprise in chaindb (pick it from the suggestions), or the name of an investor "
            "not in chaindb yet"
        ),
    )
    chain_master_id = ChainMasterField(
        _l("Chain master served (链主)"),
        [Optional()],
        description=_l("The chain master this project serves; it must be a 链主 of the chain"),
    )
    kind = SelectField(
        _l("Kind"), choices=choices_of(KIND_LABELS), default="new", validators=[DataRequired()]
    )
    parent_id = ProjectField(
        _l("Original project"),
        description=_l("For an expansion or capital increase: the project it adds to"),
    )
    channel = SelectField(
        _l("Attraction channel"),
        choices=choices_of(CHANNEL_LABELS, blank=True),
        validators=[Optional()],
    )
    is_key = BooleanField(_l("City key project"))
    agreed_investment_cny_100m = _amount(_l("Agreed investment (亿元)"))
    funds_arrived_cny_100m = _amount(_l("Funds arrived (亿元)"))
    first_phase_investment_cny_100m = _amount(label_of(Project.first_phase_investment_cny_100m))
    fixed_asset_investment_cny_100m = _amount(label_of(Project.fixed_asset_investment_cny_100m))
    capital_origin = SelectField(
        label_of(Project.capital_origin),
        choices=choices_of(CAPITAL_ORIGIN_LABELS, blank=True),
        validators=[Optional()],
    )
    foreign_capital_usd_10k = _amount(
        label_of(Project.foreign_capital_usd_10k), _l("Only for capital from abroad (境外)")
    )
    signed_on = _day(_l("Signed on"))
    agreed_start_on = _day(
        _l("Agreed construction start"), _l("The start of construction agreed at signing")
    )
    construction_started_on = _day(_l("Construction started on"))
    production_started_on = _day(_l("Production started on"))
    capacity_reached_on = _day(_l("Full capacity reached on"))
    dropped_on = _day(_l("Dropped on"))
    responsible_unit = StringField(label_of(Project.responsible_unit), validators=[Optional()])
    responsible_person = StringField(label_of(Project.responsible_person), validators=[Optional()])
    contact_phone = StringField(label_of(Project.contact_phone), validators=[Optional()])
    source = StringField(label_of(Project.source), validators=[Optional()])
    notes = TextAreaField(label_of(Project.notes), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        data = kwargs.get("data") or {}
        # An investor not in chaindb is kept by name: show the name in the investor field.
        if not self.investor_id.data and data.get("investor_name"):
            self.investor_id.data = data["investor_name"]


class ProjectAddForm(ProjectEditForm):
    """新增项目: a new project, at the stage it has reached, with that stage's dates."""

    stage = SelectField(
        _l("Stage"),
        choices=choices_of(STAGE_LABELS),
        default="lead",
        validators=[DataRequired()],
        description=_l("Give the date of every stage the project has reached"),
    )
    stage_reason = StringField(
        _l("Reason"),
        validators=[Optional()],
        description=_l("Needed when the project is entered as dropped"),
    )
    stage_note = StringField(_l("Note on the stage"), validators=[Optional()])
    # The lead it is converted from (a lead's "Convert into a project" fills it in).
    lead_id = HiddenField(filters=[int_or_none])


# The add form in groups, as the page shows it.
ADD_GROUPS = [
    (
        _l("The project"),
        ("name", "chain_id", "segment_id", "district_id", "investor_id", "chain_master_id"),
    ),
    (_l("Kind and channel"), ("kind", "parent_id", "channel", "is_key")),
    (
        _l("Investment (亿元)"),
        (
            "agreed_investment_cny_100m",
            "funds_arrived_cny_100m",
            "first_phase_investment_cny_100m",
            "fixed_asset_investment_cny_100m",
        ),
    ),
    (_l("Capital"), ("capital_origin", "foreign_capital_usd_10k")),
    (
        _l("Stage and dates"),
        (
            "stage",
            "signed_on",
            "agreed_start_on",
            "construction_started_on",
            "production_started_on",
            "capacity_reached_on",
            "dropped_on",
            "stage_reason",
            "stage_note",
        ),
    ),
    (
        _l("Responsibility"),
        ("responsible_unit", "responsible_person", "contact_phone", "source", "notes"),
    ),
]


class StageForm(Form):
    """Move a project to another stage: the same service as POST /api/v1/projects/{id}/stage."""

    stage = SelectField(_l("Move to"), validators=[DataRequired()])
    date = DateField(_l("On"), validators=[InputRequired()], default=date.today)
    reason = StringField(
        _l("Reason"),
        validators=[Optional()],
        description=_l("Needed when moving backwards, dropping or reviving"),
    )
    note = StringField(_l("Note"), validators=[Optional()])

    def for_stage(self, current: str) -> StageForm:
        """Offer every stage but the current one; those that need a reason say so."""
        choices = []
        for value, label in STAGE_LABELS.items():
            if value == current:
                continue
            if needs_reason(current, value):
                label = _l("%(stage)s — needs a reason", stage=label)
            choices.append(SelectChoice(value, label))
        self.stage.choices = choices
        if self.stage.data is None and not self.is_submitted():  # offer the next stage forward
            self.stage.data = next(
                (c.value for c in choices if not needs_reason(current, c.value)),
                choices[0].value,
            )
        return self


class ProjectFilters(Form):
    q = StringField(_l("Search"), validators=[Optional()])
    chain_id = RefSelectField(_l("Chain"), [Optional()], options=chain_options)
    district_id = RefSelectField(_l("Planning unit"), [Optional()], options=district_options)
    stage = SelectField(
        _l("Stage"), choices=choices_of(STAGE_LABELS, blank=True), validators=[Optional()]
    )
    review_status = SelectField(
        _l("Review"), choices=choices_of(REVIEW_STATUS_LABELS, blank=True), validators=[Optional()]
    )
    size_class = SelectField(
        label_of(Project.size_class),
        choices=choices_of(SIZE_CLASS_LABELS, blank=True),
        validators=[Optional()],
    )
    capital_origin = SelectField(
        label_of(Project.capital_origin),
        choices=choices_of(CAPITAL_ORIGIN_LABELS, blank=True),
        validators=[Optional()],
    )
    kind = SelectField(
        _l("Kind"), choices=choices_of(KIND_LABELS, blank=True), validators=[Optional()]
    )
    channel = SelectField(
        _l("Channel"), choices=choices_of(CHANNEL_LABELS, blank=True), validators=[Optional()]
    )
    is_key = SelectField(
        _l("City key project"), choices=choices_of(YES_NO, blank=True), validators=[Optional()]
    )

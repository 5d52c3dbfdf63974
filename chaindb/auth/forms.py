from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, Regexp

from chaindb.auth.service import MIN_PASSWORD
from chaindb.web import ROLE_LABELS
from chaindb.web.forms import Form, RecordForm


class LoginForm(Form):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class LanguageForm(Form):
    lang = SelectField(choices=[SelectChoice("zh", "中文"), SelectChoice("en", "English")])
    next = HiddenField()


class PasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)]
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
    )


# --- user administration -------------------------------------------------------------------------

USERNAME = Regexp(
    r"^[A-Za-z0-9_.@-]{2,64}$",
    message=_l("2 to 64 letters, digits or _ . @ - (no spaces)."),
)
NEW_PASSWORD = Length(
    min=MIN_PASSWORD,
    max=1024,
    message=_l("A password needs at least %(min)d characters."),
)


def role_choices() -> list[SelectChoice]:
    return [
        SelectChoice(role, ROLE_LABELS[role]) for role in ("viewer", "editor", "reviewer", "admin")
    ]


def unit_choices() -> list[SelectChoice]:
    """The units an administrator may put a user in: the city bureau's, every unit; another
    unit's, its own."""
    from flask import g

    from chaindb.db import db
    from chaindb.units.models import Unit

    stmt = select(Unit.code, Unit.name_zh).order_by(Unit.sort_order, Unit.code)
    scope = getattr(g.get("principal"), "scope", None)
    if scope is not None and not scope.everything:
        stmt = stmt.where(Unit.id == scope.unit_id)
    return [SelectChoice(code, name) for code, name in db.session.execute(stmt)]


class UserForm(RecordForm):
    username = StringField(
        _l("User name"),
        validators=[DataRequired(), USERNAME],
        description=_l("Used to sign in; unique regardless of case."),
    )
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=200)])
    unit = SelectField(
        _l("Unit"),
        choices=unit_choices,
        validators=[Optional()],
        description=_l(
            "The office the user works for: what they may see and change (empty: your own)."
        ),
    )
    role = SelectField(
        _l("Role"),
        choices=role_choices,
        default="viewer",
        validators=[DataRequired()],
        description=_l(
            "Viewers read; editors also change the data; administrators also manage users."
        ),
    )
    password = PasswordField(
        _l("Initial password"),
        validators=[Optional(), NEW_PASSWORD],
        description=_l(
            "At least %(min)d characters; tell it to the user, who can change it after signing "
            "in. Leave it empty for a user of API tokens only.",
            min=MIN_PASSWORD,
        ),
    )


class UserEditForm(RecordForm):
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=200)])
    unit = SelectField(
        _l("Unit"),
        choices=unit_choices,
        validators=[Optional()],
        description=_l("The office the user works for: what they may see and change."),
    )
    role = SelectField(_l("Role"), choices=role_choices, validators=[DataRequired()])
    active = BooleanField(
        _l("Active"), description=_l("An inactive user can neither sign in nor use API tokens.")
    )


class ResetPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[DataRequired(), NEW_PASSWORD])
    repeat = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class TokenForm(Form):
    name = StringField(_l("What the token is for"), validators=[Optional(), Length(max=200)])
    expires_in_days = IntegerField(
        _l("Days until it expires"),
        validators=[Optional(), NumberRange(min=1, max=3650)],
        description=_l("Empty: it never expires."),
    )


class UserFilters(Form):
    q = StringField(_l("Search"), validators=[Optional()])
    role = SelectField(
        _l("Role"),
        choices=lambda: [SelectChoice("", _l("— choose —")), *role_choices()],
        validators=[Optional()],
    )
    active = SelectField(
        _l("Active"),
        choices=[
            SelectChoice("", _l("— choose —")),
            SelectChoice("true", _l("yes")),
            SelectChoice("false", _l("no")),
        ],
        validators=[Optional()],
    )

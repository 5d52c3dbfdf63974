"""What every form of the pages shares: the language of WTForms' own messages, the select of a
reference (RefSelectField, its options given by the domain: chaindb.chains.pickers, say),
decimal amounts as offices type them, vocabularies and their labels."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import flask_babel
import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, StopValidation, ValidationError

from chaindb.db import text_limit
from chaindb.errors import N_

THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?:\D|$))")


class CatalogTranslations:
    """WTForms' own messages (required, not a number ...) from chaindb's catalogs, in the
    language of the request: one place for every message a page shows."""

    def gettext(self, string: str) -> str:
        return flask_babel.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        # Unfilled: WTForms fills it (%(max)d ...); flask_babel.ngettext would fill %(num)d
        # only, and fail on the others.
        return flask_babel.get_translations().ungettext(singular, plural, n)


def plural_(singular: str, plural: str) -> str:
    """Marks a message with a plural form for the catalogs (as N_ does a plain one)."""
    return singular


# WTForms' messages that chaindb's forms can show, marked here for the catalogs.
WTFORMS_MESSAGES = (
    N_("This field is required."),
    N_("Not a valid decimal value."),
    N_("Not a valid integer value."),
    N_("Not a valid float value."),
    N_("Not a valid date value."),
    N_("Not a valid datetime value."),
    N_("Not a valid choice."),
    N_("Invalid Choice: could not coerce."),
    N_("Number must be at least %(min)s."),
    N_("Number must be at most %(max)s."),
    N_("Number must be between %(min)s and %(max)s."),
    plural_(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
    ),
    plural_(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
    ),
    N_("Field must be between %(min)d and %(max)d characters long."),
    N_("Field must be equal to %(other_name)s."),
    N_("Invalid input."),
    N_("The CSRF token is missing."),
    N_("The CSRF token is invalid."),
    N_("The CSRF token has expired."),
    N_("The CSRF tokens do not match."),
)
CATALOG = CatalogTranslations()


class Form(FlaskForm):
    """A form whose built-in messages (required, not a number ...) speak the reader's language,
    from chaindb's own catalogs, and whose text fields take no more than their column holds."""

    class Meta:
        def get_translations(self, form: Any) -> CatalogTranslations:
            return CATALOG

        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
            """A text field without a Length of its own gets Length(max=...): its class's
            max_length, else text_limit of its name (the column it writes); the input shows it
            as maxlength. Hidden fields carry the page's own values, passwords their own rules."""
            field = super().bind_field(form, unbound_field, options)  # type: ignore[misc]
            if (
                isinstance(field, StringField)
                and not isinstance(field, (HiddenField, PasswordField))
                and not any(isinstance(v, Length) for v in field.validators)
            ):
                limit = getattr(field, "max_length", None) or text_limit(field.short_name)
                # A new list: the unbound field's list is shared by every form of the class.
                field.validators = [*field.validators, Length(max=limit)]
                field.flags.maxlength = limit
            return field


class RecordForm(Form):
    """A create/edit form: its field names are the API's field names."""

    version = HiddenField()  # the record's ETag when the form was opened

    # Fields that are part of the form but not of the record written.
    not_written: tuple[str, ...] = ()


YES_NO = {"true": _l("yes"), "false": _l("no")}


def choices_of(labels: dict[str, Any], *, blank: bool = False) -> list[SelectChoice]:
    """A vocabulary's options for a SelectField, optionally with an empty one first."""
    options = [SelectChoice(value, label) for value, label in labels.items()]
    return [SelectChoice("", _l("— choose —")), *options] if blank else options


def int_or_none(value: Any) -> int | None:
    """A form's id as an int (None when empty); a ValueError, which the form reports, when it is
    not a number."""
    if value in (None, "", "None"):
        return None
    return int(value)


class DecimalField(wtforms.DecimalField):
    """An amount as people type it: empty is no value (NULL, never 0), full-width digits and
    thousands separators are read (１２.５, 1,200), and only finite numbers pass: NaN and
    Infinity are not amounts (and would pass a CHECK (x >= 0) in PostgreSQL, where NaN sorts
    above every number)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = unicodedata.normalize("NFKC", str(valuelist[0])).strip()
        text = THOUSANDS.sub("", text)
        if not text:
            self.data = None
            return
        super().process_formdata([text])
        if isinstance(self.data, Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise StopValidation()  # the other checks would only repeat the message


class RefSelectField(SelectField):
    """A reference to a small table (chains, districts, segments) as a select of names."""

    def __init__(
        self, label: Any = None, validators: Any = None, *, options: Callable[[], Iterable], **kw
    ) -> None:
        super().__init__(label, validators, coerce=int_or_none, choices=self.option_choices, **kw)
        self._options = options

    # Not `_choices`: WTForms keeps its own attribute of that name.
    def option_choices(self) -> list[SelectChoice]:
        return [
            SelectChoice("", _l("— choose —")),
            *(SelectChoice(str(value), label) for value, label in self._options()),
        ]

    def pre_validate(self, form: Any) -> None:
        if self.data is None:
            return
        if not any(self.data == int_or_none(value) for value, *_ in self.option_choices()):
            raise ValidationError(_l("Not a valid choice."))

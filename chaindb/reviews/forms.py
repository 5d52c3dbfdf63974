from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional

from chaindb.projects.vocab import STAGE_LABELS
from chaindb.reviews.models import ReviewAction
from chaindb.reviews.vocab import EVIDENCE_KIND_LABELS
from chaindb.web.forms import Form, choices_of


class ReviewForm(Form):
    """A review action on a project's page: the button pressed names the action."""

    action = SelectField(
        _l("Action"),
        choices=[SelectChoice(a.value, a.value) for a in ReviewAction],
        validators=[DataRequired()],
    )
    # The last review step the page showed: a review made since refuses the action.
    seen = HiddenField()
    opinion = TextAreaField(
        _l("Opinion"),
        validators=[Optional()],
        description=_l("Required when returning: what the unit should correct."),
    )


class EvidenceUploadForm(Form):
    file = FileField(
        _l("File (PDF, JPEG or PNG, at most 10 MiB)"),
        validators=[FileRequired()],
        render_kw={"accept": "application/pdf,image/jpeg,image/png"},
    )
    kind = SelectField(
        _l("Kind"),
        choices=choices_of(EVIDENCE_KIND_LABELS),
        default="contract",
        validators=[DataRequired()],
    )
    stage = SelectField(
        _l("Evidence of the stage"),
        choices=choices_of(STAGE_LABELS, blank=True),
        validators=[Optional()],
    )
    note = StringField(_l("Note"), validators=[Optional()])

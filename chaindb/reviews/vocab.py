"""The review domain's vocabularies: the label of each value, as the pages and exports name it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from chaindb.projects.vocab import REVIEW_STATUS_LABELS
from chaindb.reviews.models import EvidenceKind, ReviewAction
from chaindb.vocab import vocabulary

STATUS_LABELS = REVIEW_STATUS_LABELS

ACTION_LABELS = vocabulary(
    ReviewAction,
    {
        "submit": _l("submitted"),
        "withdraw": _l("withdrew"),
        "approve": _l("approved"),
        "return": _l("returned"),
    },
)

# What the button of each action says.
ACTION_BUTTONS = {
    ReviewAction.SUBMIT: _l("Submit for review"),
    ReviewAction.WITHDRAW: _l("Withdraw"),
    ReviewAction.APPROVE: _l("Approve"),
    ReviewAction.RETURN: _l("Return"),
}

EVIDENCE_KIND_LABELS = vocabulary(
    EvidenceKind,
    {
        "contract": _l("contract"),
        "licence": _l("business licence"),
        "permit": _l("construction permit"),
        "photo": _l("photo"),
        "production": _l("proof of production"),
        "other": _l("other"),
    },
)

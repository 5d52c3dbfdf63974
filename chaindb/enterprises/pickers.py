"""The enterprise picker of the pages' forms: a field that takes a name, a credit code or a
pick from the suggestions, the suggestions themselves (/pick/enterprises, asked as one types),
and a list filter's enterprise as typed."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import case, func, or_, select
from wtforms import StringField
from wtforms.validators import ValidationError

from chaindb.db import SHORT_TEXT, db, is_id
from chaindb.districts.models import District
from chaindb.enterprises.models import Enterprise
from chaindb.enterprises.search import search_clause

USCC = re.compile(r"^[0-9A-HJ-NP-RT-UWXY]{18}$")
PICKED = re.compile(r"#(\d{1,18})\s*$")

# A picker holds a name typed, or one picked from the suggestions with its id ("name #id",
# an id of at most 18 digits).
PICKED_MAX_LENGTH = SHORT_TEXT + len(" #") + 18


def enterprise_label(enterprise_id: int) -> str | None:
    name = db.session.scalar(select(Enterprise.name_zh).where(Enterprise.id == enterprise_id))
    return None if name is None else f"{name} #{enterprise_id}"


class EnterpriseField(StringField):
    """An enterprise typed by name, credit code or picked from the suggestions ("name #id").

    Works without JavaScript: the typed text is resolved on the server. With it, suggestions
    appear as one types (chinese name, pinyin initials or credit-code prefix). With
    `allow_new`, a name that matches no enterprise is kept as text (a new investor, say).
    """

    max_length = PICKED_MAX_LENGTH

    def __init__(self, label: Any = None, validators: Any = None, *, allow_new: bool = False, **kw):
        render_kw = {
            "data-picker": "enterprises",
            "autocomplete": "off",
            "placeholder": _l("Name, pinyin initials or credit code"),
            **kw.pop("render_kw", {}),
        }
        super().__init__(label, validators, render_kw=render_kw, **kw)
        self.allow_new = allow_new
        self.resolved: int | str | None = None

    def process_data(self, value: Any) -> None:
        if isinstance(value, int):
            self.resolved = value
            self.data = enterprise_label(value) or str(value)
        else:
            self.data = value

    def pre_validate(self, form: Any) -> None:
        text = (self.data or "").strip()
        self.resolved = None
        if not text:
            return
        session = db.session
        picked = PICKED.search(text)
        if picked:
            found = session.scalar(select(Enterprise.id).where(Enterprise.id == int(picked[1])))
            if found is None:
                raise ValidationError(_l("That enterprise no longer exists."))
            self.resolved = found
            return
        if USCC.match(text.upper()):
            found = session.scalar(select(Enterprise.id).where(Enterprise.uscc == text.upper()))
            if found is not None:
                self.resolved = found
                return
        matches = session.scalars(
            select(Enterprise.id)
            .where(
                or_(
                    Enterprise.name_zh == text,
                    func.lower(Enterprise.short_name) == text.lower(),
                    func.lower(Enterprise.name_en) == text.lower(),
                )
            )
            .limit(2)
        ).all()
        if len(matches) == 1:
            self.resolved = matches[0]
        elif len(matches) > 1:
            raise ValidationError(
                _l("Several enterprises have this name: pick one from the suggestions.")
            )
        elif self.allow_new:
            self.resolved = text
        else:
            raise ValidationError(
                _l("No enterprise has this name or credit code: pick one from the suggestions.")
            )

    def api_value(self) -> int | str | None:
        return self.resolved


# A typed enterprise filter matching more enterprises than this is read as "these first ones".
FILTER_MATCHES = 1000


def typed_enterprise_ids(text: str) -> str:
    """A list filter's enterprise as typed, as the API's `__in` value: the pick from the
    suggestions ("name #id"), an id, or every enterprise the name, pinyin initials or
    credit-code prefix finds ("0", which matches nothing, when none does)."""
    picked = PICKED.search(text)
    if picked:
        return picked[1]
    if is_id(text) and len(text) < 18:  # 18 digits may be a credit code
        return text
    ids = db.session.scalars(
        select(Enterprise.id)
        .where(or_(Enterprise.name_zh == text, search_clause(text)))
        .order_by(Enterprise.id)
        .limit(FILTER_MATCHES)
    )
    return ",".join(str(i) for i in ids) or "0"


def picker_hint() -> Markup:
    return Markup('<span class="hint">{}</span>').format(
        _l("Type part of the Chinese name, the pinyin initials (e.g. byd) or the credit code.")
    )


bp = Blueprint("pick", __name__, url_prefix="/pick")

PICK_LIMIT = 12


@bp.get("/enterprises")
def enterprises():
    """Up to 12 enterprises matching ?q= (name, pinyin initials, credit-code prefix)."""
    q = request.args.get("q", "").strip()[:100]
    if not q:
        return jsonify(results=[])
    rows = db.session.execute(
        select(Enterprise.id, Enterprise.name_zh, Enterprise.uscc, District.name_zh)
        .outerjoin(District, District.id == Enterprise.district_id)
        .where(search_clause(q))
        .order_by(
            case((Enterprise.name_zh.startswith(q, autoescape=True), 0), else_=1),
            func.length(Enterprise.name_zh),
            Enterprise.id,
        )
        .limit(PICK_LIMIT)
    )
    return jsonify(
        results=[
            {
                "id": id_,
                "value": f"{name} #{id_}",
                "name": name,
                "uscc": uscc,
                "district": district,
            }
            for id_, name, uscc, district in rows
        ]
    )


def register(app: Flask) -> None:
    app.register_blueprint(bp)

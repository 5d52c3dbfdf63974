"""The web pages: sign-in, the gate in front of every page, CSRF, language and formatting.

The pages call the same resources and services as the JSON API: one set of rules, two faces.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, current_app, g, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from chaindb.access import Principal, Role, may
from chaindb.db import db
from chaindb.errors import N_, VALUE_LABELS, BadRequest, Forbidden

csrf = CSRFProtect()
login_manager = LoginManager()

PUBLIC_ENDPOINTS = {"static", "auth.login", "home.healthz", "home.readyz", "auth.language"}
# What any signed-in user may POST, whatever their role.
SELF_SERVICE = {"auth.logout", "auth.language", "auth.password"}
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


class PagesSessionInterface(SecureCookieSessionInterface):
    """The signed session cookie is for the pages: an API request authenticates by its bearer
    token, so it neither reads nor writes the cookie (nor pays for signing it)."""

    def open_session(self, app, request):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return self.null_session_class()
        return super().open_session(app, request)


def init_web(app: Flask) -> None:
    app.session_interface = PagesSessionInterface()
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked in _gate: the API has none
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    # An import of 5,000 rows (chaindb.api.tables) is a few MB; nothing larger is read.
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = 32 * 1024 * 1024
    app.config.setdefault("WTF_I18N_ENABLED", False)  # WTForms' own catalogs, see web.forms
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    app.register_error_handler(CSRFError, _csrf_refused)
    app.before_request(_gate)
    app.after_request(_no_store)
    app.context_processor(_template_globals)
    for name, function in FILTERS.items():
        app.add_template_filter(function, name)
    # Globals, not context: macros imported without context see them too.
    app.jinja_env.globals.update(action_labels=ACTION_LABELS, role_labels=ROLE_LABELS, href=href)


def _principal(user: Any) -> Principal:
    """The principal of an app whose auth registered no richer one (no unit: no scope)."""
    return Principal(user_id=user.id, username=user.username, role=Role(user.role))


def _gate():
    """Every page but sign-in and health needs a signed-in user; changes need a role."""
    if request.path.startswith("/api/"):
        return None  # the API checks its bearer tokens itself
    if request.method not in READ_METHODS:
        csrf.protect()
    if any("\x00" in value for source in (request.args, request.form) for value in source.values()):
        # PostgreSQL text cannot hold NUL; no person types one.
        raise BadRequest(N_("The request contains a NUL character."), field="body")
    if not current_user.is_authenticated:
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        return redirect(url_for("auth.login", next=_here()))
    principal_of = current_app.extensions.get("chaindb.web.principal", _principal)
    g.principal = principal_of(current_user._get_current_object())
    # Loading the user opened a handle before anyone knew who asks: it acts for them now.
    db.act_now()
    if (
        request.method not in READ_METHODS
        and request.endpoint not in SELF_SERVICE | PUBLIC_ENDPOINTS
        and not g.principal.may(Role.EDITOR)
    ):
        raise Forbidden(
            N_("Your role (%(role)s) may look but not change."),
            params={"role": current_user.role},
        )
    return None


def _csrf_refused(exc: CSRFError):
    from chaindb.errors import respond, translate

    message = N_(
        "The form has expired or did not come from this site. Reload the page and submit it again."
    )
    return respond(400, "csrf_failed", message, localized=translate(message, {}))


def _no_store(response):
    # Pages, exports and suggestions show data behind a sign-in: no shared cache may keep them.
    if not request.path.startswith(("/api/", "/static/")):
        response.headers.setdefault("Cache-Control", "no-store")
    if not request.path.startswith(("/api/", "/static/")) and response.mimetype == "text/html":
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
    return response


def _here() -> str:
    return request.full_path.rstrip("?") if request.query_string else request.path


def safe_next(target: str | None, default: str = "/") -> str:
    """A redirect target only when it stays on this site: a path, never a URL elsewhere."""
    if not target or any(ord(c) < 32 for c in target) or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def url_with(path: str, args: MultiDict) -> str:
    """path?args, every value kept: query keys never become url_for's own arguments."""
    query = urlencode(list(args.items(multi=True)))
    return f"{path}?{query}" if query else path


def href(endpoint: str, **values: Any) -> str | None:
    """The URL of a page, or None when the app has no page of that name (a table without
    pages, say): links to it are left out rather than broken."""
    from flask import current_app

    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


# The navigation: (endpoint, label, role needed); entries whose pages do not exist are left out.
NAV = [
    ("home.index", _l("Overview"), Role.VIEWER),
    ("chains.list", _l("Chains"), Role.VIEWER),
    ("enterprises.list", _l("Enterprises"), Role.VIEWER),
    ("supply.masters", _l("Chain masters & suppliers"), Role.VIEWER),
    ("supply_links.list", _l("Supply links"), Role.VIEWER),
    ("projects.list", _l("Projects"), Role.VIEWER),
    ("reviews.index", _l("Review"), Role.EDITOR),
    ("leads.list", _l("Investment leads"), Role.VIEWER),
    ("trips.list", _l("Trips"), Role.VIEWER),
    ("promotion.follow_ups", _l("Follow-ups"), Role.EDITOR),
    ("progress.progress_page", _l("Progress"), Role.VIEWER),
    ("targets.list", _l("Targets"), Role.VIEWER),
    ("districts.list", _l("Districts"), Role.VIEWER),
    ("reports.index", _l("Reports"), Role.VIEWER),
    ("changes.list", _l("Changes"), Role.VIEWER),
    ("units.list", _l("Units"), Role.ADMIN),
    ("users.list", _l("Users"), Role.ADMIN),
]
ROLE_LABELS = {
    "admin": _l("administrator"),
    "reviewer": _l("reviewer"),
    "editor": _l("editor"),
    "viewer": _l("viewer"),
}
ACTION_LABELS = {"insert": _l("created"), "update": _l("changed"), "delete": _l("deleted")}
VALUE_LABELS.update(ROLE_LABELS)


NAV_COUNTS = "chaindb.web.nav_counts"


def register_nav_count(app: Flask, endpoint: str, count: Callable[[], int | None]) -> None:
    """A domain's count beside its entry in the navigation (the projects waiting for review):
    asked for as a page is drawn, None or 0 shows nothing."""
    app.extensions.setdefault(NAV_COUNTS, {})[endpoint] = count


def nav_count(endpoint: str) -> int | None:
    from flask import current_app

    count = current_app.extensions.get(NAV_COUNTS, {}).get(endpoint)
    return count() if count is not None else None


def _template_globals() -> dict[str, Any]:
    from flask import current_app

    nav = [
        (endpoint, label)
        for endpoint, label, role in NAV
        if endpoint in current_app.view_functions and may(role)
    ]
    return {
        "may": may,
        "current_user": current_user,
        "nav_items": nav,
        "nav_count": nav_count,
        "role_labels": ROLE_LABELS,
        "action_labels": ACTION_LABELS,
        "now": datetime.now(UTC),  # the time a printed page says it was printed
    }


# --- formatting: numbers, amounts and dates as the offices write them ----------------------------


def _decimal(value: Any, digits: int = 2) -> str:
    if value is None or value == "":
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(Decimal(str(value)), format=pattern)


def yi(value: Any) -> str:
    """An amount in 亿元 (project investment)."""
    if value is None:
        return "—"
    return str(_l("%(amount)s 亿元", amount=_decimal(value)))


def yi_big(value: Any) -> str:
    """A large sum as a 局长 reads it: 1.1 万亿元 from 10,000 亿元 on, else in 亿元."""
    if value is None:
        return "—"
    amount = Decimal(value)
    if abs(amount) >= 10_000:
        return str(
            _l("%(amount)s 万亿元", amount=format_decimal(amount / 10_000, format="#,##0.##"))
        )
    return yi(value)


def wan(value: Any) -> str:
    """An amount in 万元 (enterprise figures, supply values)."""
    if value is None:
        return "—"
    return str(_l("%(amount)s 万元", amount=_decimal(value)))


def day(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return format_date(value, "medium")


def moment(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_datetime(value, "medium")


def number(value: Any) -> str:
    if value is None:
        return "—"
    return format_decimal(value)


def percent(value: Any) -> str:
    if value is None:
        return "—"
    return format_decimal(Decimal(str(value)) * 100, format="#,##0.0") + "%"


def yes_no(value: Any) -> Markup | str:
    if value is None:
        return "—"
    return str(_l("yes")) if value else str(_l("no"))


def lang_name(code: str) -> str:
    return {"zh": "中文", "en": "English"}.get(code, code)


def locale_code() -> str:
    return str(get_locale() or "zh")


def value_label(value: Any) -> str:
    """A vocabulary value (a stage, a role, a status) by its name in the reader's language."""
    from chaindb.errors import VALUE_LABELS

    return str(VALUE_LABELS.get(value, value)) if value is not None else ""


FILTERS = {
    "value_label": value_label,
    "yi": yi,
    "wan": wan,
    "day": day,
    "yi_big": yi_big,
    "moment": moment,
    "number": number,
    "percent": percent,
    "yes_no": yes_no,
    "lang_name": lang_name,
}

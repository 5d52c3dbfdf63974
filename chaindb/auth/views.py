"""Sign-in, sign-out, the language switch, a user's own password; and the users' administration."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.security import generate_password_hash

from chaindb.api.schemas import lax_input, parse_body
from chaindb.auth.api import TOKEN_STATUS, create_in_scope, revoke, update_user, users
from chaindb.auth.forms import (
    LanguageForm,
    LoginForm,
    PasswordForm,
    ResetPasswordForm,
    TokenForm,
    UserEditForm,
    UserFilters,
    UserForm,
)
from chaindb.auth.models import ApiToken, User
from chaindb.auth.schemas import TokenCreate, UserCreate, UserUpdate
from chaindb.auth.service import create_token, end_session, sign_in, start_session
from chaindb.changelog import Change
from chaindb.db import db
from chaindb.errors import N_, Conflict, DomainError, Forbidden, NotFound, PreconditionFailed
from chaindb.web import may, safe_next, url_with
from chaindb.web.forms import Form
from chaindb.web.pages import form_body, show_errors

bp = Blueprint("auth", __name__)

LANG_COOKIE_DAYS = 365


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
        if current_user.is_authenticated:
            return redirect(form.next.data)
    status = 200
    if form.validate_on_submit():
        dbs = db.session
        try:
            user = sign_in(
                session=dbs,
                username=form.username.data,
                password=form.password.data,
                remote_addr=request.remote_addr,
            )
        except DomainError as exc:
            dbs.commit()  # the failed attempt counts towards the limit
            form.password.errors = [exc.localized()]
            status = exc.status
        else:
            start_session(dbs, user)
            dbs.commit()
            session.clear()  # a new session for the signed-in user: no fixation
            login_user(user)
            response = redirect(safe_next(form.next.data))
            if user.locale:
                response.set_cookie(
                    "lang", user.locale, max_age=LANG_COOKIE_DAYS * 86400, samesite="Lax"
                )
            return response
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    end_session(db.session, session.get("_user_id"))
    db.session.commit()
    logout_user()
    session.clear()
    return redirect("/login")


@bp.post("/language")
def language():
    form = LanguageForm()
    lang = form.lang.data if form.validate_on_submit() else "zh"
    if current_user.is_authenticated:
        current_user.locale = lang  # loaded by this request's session
        db.session.commit()
    response = make_response(redirect(safe_next(form.next.data)))
    response.set_cookie("lang", lang, max_age=LANG_COOKIE_DAYS * 86400, samesite="Lax")
    return response


@bp.route("/account/password", methods=["GET", "POST"])
def password():
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        dbs = db.session
        try:
            # Through the sign-in's rate limit: a left-open session must not allow guessing.
            user = sign_in(
                session=dbs,
                username=current_user.username,
                password=form.current.data,
                remote_addr=request.remote_addr,
            )
        except DomainError as exc:
            dbs.commit()  # the failure counts towards the limit
            form.current.errors = [
                _("The current password is wrong.") if exc.status == 401 else exc.localized()
            ]
            status = exc.status
        else:
            user.password_hash = generate_password_hash(form.new.data)
            dbs.commit()
            # The session cookie carries the password's fingerprint: renew this one.
            start_session(db.session, user)
            db.session.commit()
            login_user(user)
            flash(_("Your password has been changed."), "ok")
            return redirect("/")
    elif request.method == "POST":
        status = 422
    return render_template("auth/password.html", form=form), status


# --- users and their API tokens (administrators only) --------------------------------------------

users_bp = Blueprint("users", __name__, url_prefix="/users")
USERS_PAGE = 50


@users_bp.before_request
def _admins_only() -> None:
    if not may("admin"):
        raise Forbidden(N_("This page is for the %(role)s role."), params={"role": "admin"})


@users_bp.get("", endpoint="list")
def users_list():
    filters = UserFilters(request.args, meta={"csrf": False})
    page_no = request.args.get("page", "")
    page_no = (
        max(1, int(page_no))
        if page_no.isascii() and page_no.isdigit() and 0 < len(page_no) < 7
        else 1
    )
    args = MultiDict(
        (k, v.strip())
        for k, v in request.args.items(multi=True)
        if k not in ("page", "lang") and v.strip()
    )
    args["limit"] = str(USERS_PAGE)
    args["offset"] = str((page_no - 1) * USERS_PAGE)
    error = None
    try:
        page = users.list_page(db.session, args)
    except DomainError as exc:
        error, page = exc, {"count": 0, "results": []}
    count = page["count"] or 0
    return render_template(
        "auth/users.html",
        filters=filters,
        rows=[dict(r) for r in page["results"]],
        count=count,
        page_no=page_no,
        pages_total=max(1, -(-count // USERS_PAGE)),
        size=USERS_PAGE,
        page_url=_users_page_url,
        error=error,
    ), (error.status if error else 200)


def _users_page_url(**changes: Any) -> str:
    args = request.args.copy()
    for key, value in changes.items():
        args[key] = str(value)
    return url_with(url_for("users.list"), args)


@users_bp.route("/new", methods=["GET", "POST"], endpoint="new")
def user_new():
    form = UserForm()
    status = 200
    if form.validate_on_submit():
        session = db.session
        try:
            with lax_input():
                values = parse_body(UserCreate, form_body(form))
            user = create_in_scope(session, values)
        except DomainError as exc:
            session.rollback()
            show_errors(form, exc)
            status = exc.status
        else:
            session.commit()
            flash(_("Saved: %(name)s", name=user.username), "ok")
            return redirect(url_for("users.detail", id=user.id))
    elif request.method == "POST":
        status = 422
    return render_template("auth/user_form.html", form=form, title=_("New user")), status


@users_bp.get("/<key:id>", endpoint="detail")
def user_detail(id: str):
    return _detail_page(users.get(db.session, id))


def _detail_page(row: dict[str, Any], *, token_form: TokenForm | None = None,
                 new_token: str | None = None, status: int = 200):  # fmt: skip
    tokens = db.session.execute(
        select(
            ApiToken.id,
            ApiToken.name,
            ApiToken.token_prefix,
            ApiToken.created_at,
            ApiToken.expires_at,
            ApiToken.last_used_at,
            ApiToken.revoked_at,
            TOKEN_STATUS,
        )
        .where(ApiToken.user_id == row["id"])
        .order_by(ApiToken.id.desc())
    ).mappings()
    history = db.session.scalars(
        select(Change)
        .where(Change.table_name == "app_user", Change.record_id == row["id"])
        .order_by(Change.id.desc())
        .limit(20)
    )
    return render_template(
        "auth/user.html",
        row=row,
        tokens=list(tokens),
        token_form=token_form or TokenForm(formdata=None),
        new_token=new_token,
        history=list(history),
    ), status


@users_bp.route("/<key:id>/edit", methods=["GET", "POST"], endpoint="edit")
def user_edit(id: str):
    session = db.session
    current = users.get(session, id, lock=request.method == "POST")  # see Pages.edit_view
    version = users.etag(current).strip('"')
    if request.method == "GET":
        form = UserEditForm(data=current)
        form.version.data = version
    else:
        form = UserEditForm()
    status = 200
    if form.validate_on_submit():
        try:
            if form.version.data != version:
                raise PreconditionFailed(
                    N_(
                        "Someone changed this record after you opened the form. "
                        "Reload the page to see their change, then edit again."
                    )
                )
            with lax_input():
                changes = parse_body(UserUpdate, form_body(form), exclude_unset=True)
            row = update_user(session, str(current["id"]), changes)
        except DomainError as exc:
            session.rollback()
            show_errors(form, exc)
            status = exc.status
        else:
            session.commit()
            flash(_("Saved: %(name)s", name=row["username"]), "ok")
            if row["id"] == current_user.id and row["role"] != "admin":
                return redirect("/")  # no longer an administrator: these pages are closed
            return redirect(url_for("users.detail", id=row["id"]))
    elif request.method == "POST":
        status = 422
    return render_template(
        "auth/user_form.html",
        form=form,
        row=current,
        title=_("Edit %(name)s", name=current["username"]),
    ), status


@users_bp.route("/<key:id>/password", methods=["GET", "POST"], endpoint="password")
def user_password(id: str):
    session = db.session
    current = users.get(session, id)
    form = ResetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            with lax_input():
                changes = parse_body(UserUpdate, {"password": form.password.data})
            update_user(session, str(current["id"]), {"password": changes["password"]})
        except DomainError as exc:
            session.rollback()
            show_errors(form, exc)
            status = exc.status
        else:
            session.commit()
            if current["id"] == current_user.id:
                # The session cookie carries the password's fingerprint: renew this one.
                me = session.get(User, current["id"])
                start_session(session, me)
                session.commit()
                login_user(me)
            flash(_("The password of %(name)s has been set.", name=current["username"]), "ok")
            return redirect(url_for("users.detail", id=current["id"]))
    elif request.method == "POST":
        status = 422
    return render_template("auth/user_password.html", form=form, row=current), status


@users_bp.post("/<key:id>/tokens", endpoint="token_new")
def token_new(id: str):
    session = db.session
    row = users.get(session, id)
    form = TokenForm()
    if not form.validate_on_submit():
        return _detail_page(row, token_form=form, status=422)
    try:
        with lax_input():
            values = parse_body(TokenCreate, form_body(form))
        user = session.get(User, row["id"])
        assert user is not None
        if not user.active:
            raise Conflict(
                N_("%(name)s is deactivated; activate the user first."),
                params={"name": user.username},
            )
        _, plain = create_token(session=session, user=user, **values)
    except DomainError as exc:
        session.rollback()
        show_errors(form, exc)
        return _detail_page(row, token_form=form, status=exc.status)
    session.commit()
    # Shown in this answer only: never stored, never put in the session or a redirect.
    return _detail_page(users.by_id(session, row["id"]), new_token=plain)


@users_bp.post("/<key:id>/tokens/<int:token_id>/revoke", endpoint="token_revoke")
def token_revoke(id: str, token_id: int):
    session = db.session
    row = users.get(session, id)
    form = Form()
    if not form.validate_on_submit():
        return _detail_page(row, status=400)
    owner = session.scalar(select(ApiToken.user_id).where(ApiToken.id == token_id))
    if owner != row["id"]:
        raise NotFound(N_("There is no such token."))
    token = revoke(session, str(token_id))
    session.commit()
    flash(_("Token %(prefix)s… revoked.", prefix=token["token_prefix"]), "ok")
    return redirect(url_for("users.detail", id=row["id"]))


def register(app) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(users_bp)

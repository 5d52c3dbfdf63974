"""Sign-in, sign-out, the language switch and a user's own password."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.security import generate_password_hash

from chaindb.auth.forms import LanguageForm, LoginForm, PasswordForm
from chaindb.auth.service import check_password, sign_in
from chaindb.db import db
from chaindb.errors import DomainError
from chaindb.web import safe_next

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
        user = check_password(
            session=dbs, username=current_user.username, password=form.current.data
        )
        if user is None:
            form.current.errors = [_("The current password is wrong.")]
            status = 422
        else:
            user.password_hash = generate_password_hash(form.new.data)
            dbs.commit()
            # The session cookie carries the password's fingerprint: renew this one.
            login_user(user)
            flash(_("Your password has been changed."), "ok")
            return redirect("/")
    elif request.method == "POST":
        status = 422
    return render_template("auth/password.html", form=form), status


def register(app) -> None:
    app.register_blueprint(bp)

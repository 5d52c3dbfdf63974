"""/api/v1/docs: the interactive documentation (Swagger UI served from the installed package)."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for

bp = Blueprint("docs", __name__)


@bp.get("/api/v1/docs")
def docs():
    return redirect(url_for("swagger.swagger"))

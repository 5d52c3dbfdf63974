"""/api/v1/docs: the interactive documentation, Swagger UI served from the installed package.

The page itself holds no data: it asks for an API token and sends it with every request Swagger
UI makes, the OpenAPI document included, which stays behind authentication like the rest.
"""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("docs", __name__)

# The page and Swagger UI's own files are public; everything they fetch needs a token.
PUBLIC_PREFIXES = ("/api/v1/docs", "/api/v1/swagger/")


@bp.get("/api/v1/docs")
def docs() -> str:
    return render_template("api_docs.html")

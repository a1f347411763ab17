from flask import Blueprint

bp = Blueprint("appeals", __name__, url_prefix="/appeals")

from . import routes  # noqa: E402,F401

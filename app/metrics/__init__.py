from flask import Blueprint

bp = Blueprint("metrics", __name__, url_prefix="/metrics")

from . import routes  # noqa: E402,F401

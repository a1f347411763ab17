from flask import Blueprint

bp = Blueprint("qa", __name__, url_prefix="/qa")

from . import routes  # noqa: E402,F401

from flask import Blueprint

bp = Blueprint("models_admin", __name__, url_prefix="/models")

from . import routes  # noqa: E402,F401

from flask import Blueprint

bp = Blueprint("queue", __name__, url_prefix="/queue")

from . import routes  # noqa: E402,F401

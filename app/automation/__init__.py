from flask import Blueprint

bp = Blueprint("automation", __name__)

from . import routes  # noqa: E402,F401

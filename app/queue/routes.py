from flask import current_app, render_template

from ..db import get_session
from ..services import queue
from . import bp


@bp.route("/")
def index():
    data = queue.summary(get_session(), limit=current_app.config["QUEUE_PAGE_SIZE"])
    return render_template("queue/index.html", queue=data)

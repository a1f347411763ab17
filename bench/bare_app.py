"""The bare page of the console benchmark: a separate, minimal Flask + Jinja app serving a
byte-identical static copy of the queue page (no database, no login, no session, none of
the console's middleware). ``bench/console_latency.py`` runs it under the same gunicorn
settings as the console and compares every console page with it.

    BARE_HTML=/path/to/queue.html gunicorn --workers 2 'bare_app:create_app()'

The saved HTML is the template's body inside ``{% raw %}``, so Jinja renders it per request
(as the console renders its pages) and the output is the saved bytes, unchanged.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, render_template
from jinja2 import DictLoader


def create_app() -> Flask:
    html = Path(os.environ["BARE_HTML"]).read_text(encoding="utf-8")
    if "{% endraw %}" in html:
        raise ValueError("the saved page contains '{% endraw %}'")
    app = Flask(__name__)
    app.jinja_env.keep_trailing_newline = True  # the saved bytes, to the last one
    app.jinja_loader = DictLoader({"queue.html": "{% raw %}" + html + "{% endraw %}"})

    @app.get("/")
    def page() -> str:
        return render_template("queue.html")

    return app

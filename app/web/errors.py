"""Error pages: full pages for browsers, small fragments for htmx requests."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, current_app, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..services.transactions import lost_race

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to do that.",
    404: "There is nothing here.",
    405: "That method is not allowed here.",
    409: ("Someone else changed this at the same moment. Nothing was done; reload the page "
          "to see it as it is now."),
    413: "The request is too large.",
    429: "Too many attempts. Please wait a few minutes and try again.",
    500: "Something went wrong on our side. The error has been logged.",
}


def _render(code: int, message: str):
    return render_template("errors/error.html", code=code, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return _render(400, "Your form expired or was not sent from this site. "
                            "Reload the page and try again.")

    @app.errorhandler(429)
    def too_many(exc: HTTPException):
        # flask-limiter describes the limit ("5 per 5 minute"); say what it means instead
        # (Retry-After is added by flask-limiter: RATELIMIT_HEADERS_ENABLED)
        return _render(429, MESSAGES[429])

    @app.errorhandler(sa.exc.DBAPIError)
    def lost_race_error(exc: sa.exc.DBAPIError):
        # a deadlock or serialization failure anywhere else than a decision (decisions
        # answer these as a stale case themselves): rolled back, so a 409, not a 500
        if not lost_race(exc):
            raise exc
        current_app.logger.info("request lost a race: %s", exc.orig)
        if request.headers.get("HX-Request"):  # a notice on top of the page, not a page
            response = make_response(render_template(
                "_notice.html", message=MESSAGES[409], level="conflict"), 409)
            response.headers.update({"HX-Retarget": "#main", "HX-Reswap": "afterbegin"})
            return response
        return _render(409, MESSAGES[409])

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        custom = exc.description != type(exc).description  # abort(code, description=...)
        message = exc.description if custom else MESSAGES.get(code, exc.description)
        return _render(code, message or "Error")

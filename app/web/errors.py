"""Error pages: full pages for browsers, small fragments for htmx requests."""
from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to do that.",
    404: "There is nothing here.",
    405: "That method is not allowed here.",
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

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        custom = exc.description != type(exc).description  # abort(code, description=...)
        message = exc.description if custom else MESSAGES.get(code, exc.description)
        return _render(code, message or "Error")

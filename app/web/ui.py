"""Small helpers the console's views share (Contact.app pattern: one URL, full page or
the fragment htmx targets)."""
from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any, NamedTuple

from flask import abort, flash, make_response, render_template, request, url_for
from flask_login import current_user

from models import Role

from ..extensions import htmx
from ..services import Conflict, NotFound, ServiceError
from ..services.audit import Actor

VARY = "HX-Request, HX-Target"


def actor() -> Actor:
    return Actor.of(current_user)


def is_admin() -> bool:
    return current_user.is_authenticated and current_user.role == Role.admin


def can_act() -> bool:
    return current_user.is_authenticated and current_user.role != Role.analyst


def target() -> str | None:
    """The id of the element htmx will swap (None for a normal browser request and for
    htmx history restores, which need the full page)."""
    return htmx.target if htmx else None


def render(page_template: str, fragments: dict[str, str], *, status: int = 200,
           headers: dict[str, str] | None = None, **context: Any):
    """The full ``page``, or the fragment registered for the requested HX-Target. An answer
    that ``headers`` retarget (``HX-Retarget: #id``, e.g. a panel's form whose answer
    replaces the whole case) is the fragment of that id: htmx swaps it in there."""
    key = target()
    retarget = (headers or {}).get("HX-Retarget", "")
    if key is not None and retarget.startswith("#"):
        key = retarget[1:]
    template = fragments.get(key or "", page_template)
    response = make_response(render_template(template, **context), status)
    response.headers["Vary"] = VARY
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def form_int(name: str, *, required: bool = True) -> int | None:
    raw = request.form.get(name, "")
    if not raw and not required:
        return None
    try:
        return int(raw)
    except ValueError:
        abort(400, description=f"The form field {name!r} is missing or not a number. "
                               "Reload the page and try again.")


def notify(message: str, category: str = "success") -> None:
    """A flash message (shown by the next full page: base.html)."""
    flash(message, category)


def fixed_url(endpoint: str, filename: str | None = None) -> str:
    """``url_for(endpoint)`` (or a static file's URL) for an endpoint without variable
    parts, built once per script root: the URL map does not change after start-up. Every
    console page links its stylesheets, scripts and menu; url_for is ~5 us a call."""
    return _fixed_url(request.script_root, endpoint, filename)


@functools.lru_cache(maxsize=256)
def _fixed_url(_script_root: str, endpoint: str, filename: str | None) -> str:
    return url_for(endpoint, filename=filename) if filename else url_for(endpoint)


class ChromeUrls(NamedTuple):
    """The URLs every console page's chrome links (templates/_chrome.html)."""
    favicon: str
    pico: str
    css: str
    htmx: str
    console_js: str
    home: str
    queue: str
    audit: str
    system: str
    logout: str
    metrics: str
    qa: str
    appeals: str
    models: str


def chrome_urls() -> ChromeUrls:
    """The chrome's URLs for this request's script root, built once per root."""
    return _chrome_urls(request.script_root)


@functools.lru_cache(maxsize=16)
def _chrome_urls(script_root: str) -> ChromeUrls:
    static = ("favicon.svg", "vendor/pico/pico.min.css", "css/app.css",
              "vendor/htmx/htmx.min.js", "js/console.js")
    return ChromeUrls(*(_fixed_url(script_root, "static", f) for f in static),
                      *(_fixed_url(script_root, e, None) for e in (
                          "auth.home", "queue.index", "audit.index", "system.index",
                          "auth.logout", "metrics.index", "qa.index", "appeals.index",
                          "models_admin.index")))


def id_url(endpoint: str, name: str, value: int) -> str:
    """``url_for(endpoint, **{name: value})`` for an integer ``value`` (a case page's
    action URLs), from a ``url_builder`` made once per script root and endpoint."""
    return _id_url(request.script_root, endpoint, name)(value)


@functools.lru_cache(maxsize=256)
def _id_url(_script_root: str, endpoint: str, name: str) -> Callable[..., str]:
    return url_builder(endpoint, name)


def url_builder(endpoint: str, *names: str) -> Callable[..., str]:
    """``url_for(endpoint, **values)`` for many rows of one page, as ``build(*values)``
    with the values of ``names`` in that order (integers only): one ``url_for`` with a
    numeric marker per name, then string formatting per row. Falls back to ``url_for``
    if a marker does not come out verbatim."""
    markers = [7_000_000_001 + i * 1_000_003 for i in range(len(names))]
    template = url_for(endpoint, **dict(zip(names, markers))).replace("{", "{{").replace(
        "}", "}}")
    for i, marker in enumerate(markers):
        if template.count(str(marker)) != 1:
            return lambda *values: url_for(endpoint, **dict(zip(names, values, strict=True)))
        template = template.replace(str(marker), "{%d}" % i)
    fill = template.format

    def build(*values: int) -> str:
        if len(values) != len(names):
            raise TypeError(f"{endpoint} takes {names}, got {len(values)} values")
        return fill(*map(int, values))
    return build


def form_token() -> str:
    """A one-off token for a form whose submission creates something (a note): the service
    keeps the first submission that carries it, so the same form sent again adds nothing."""
    return secrets.token_urlsafe(16)


def answer(call):  # noqa: ANN001, ANN201
    """Run one service call; its refusals are the HTTP answers (404 no such thing, 409
    someone got there first, 422 a bad choice)."""
    try:
        return call()
    except NotFound as exc:
        abort(404, description=str(exc))
    except Conflict as exc:
        abort(409, description=str(exc))
    except ServiceError as exc:
        abort(422, description=str(exc))

"""The small pieces of markup every console page repeats (badges, scores, yes/no), in
Python rather than as Jinja macros: a macro call builds a new context and a frame (~10 us
each, a dozen a case page); these are a string format. Every value is escaped
(``Markup.format``): reasons and statuses come from the database."""
from __future__ import annotations

from markupsafe import Markup

_BADGE = Markup('<span class="badge {0}-{1}">{2}</span>')
_CHECK = Markup('<span class="check check-{0}">{1}</span>')


def reason_badge(reason: str) -> Markup:
    return _BADGE.format("reason", reason, str(reason).replace("_", " "))


def status_badge(status: str) -> Markup:
    return _BADGE.format("status", status, str(status).replace("_", " "))


def score(value: float | None) -> str:
    """A score to two decimals, or a dash."""
    return "—" if value is None else f"{value:.2f}"


def yesno(value: object, yes: str, no: str) -> Markup:
    return _CHECK.format("yes", yes) if value else _CHECK.format("no", no)


GLOBALS = {"reason_badge": reason_badge, "status_badge": status_badge, "score": score,
           "yesno": yesno}

"""The small pieces of markup every console page repeats (badges, scores, yes/no), in
Python rather than as Jinja macros: a macro call builds a new context and a frame (~10 us
each, a dozen a case page); these are one f-string each. Every value is escaped
(``escape``): reasons and statuses come from the database."""
from __future__ import annotations

from markupsafe import Markup, escape


def _badge(kind: str, value: str) -> Markup:
    value = str(value)
    return Markup(f'<span class="badge {kind}-{escape(value)}">'
                  f'{escape(value.replace("_", " "))}</span>')


def reason_badge(reason: str) -> Markup:
    return _badge("reason", reason)


def status_badge(status: str) -> Markup:
    return _badge("status", status)


def score(value: float | None) -> str:
    """A score to two decimals, or a dash."""
    return "—" if value is None else f"{value:.2f}"


def amount(value: float | None) -> str:
    """A budget with thousands separators: whole amounts without decimals ("2,500"), others
    to the cent ("12.50", not "12"), or a dash."""
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def yesno(value: object, yes: str, no: str) -> Markup:
    return Markup(f'<span class="check check-yes">{escape(yes)}</span>' if value else
                  f'<span class="check check-no">{escape(no)}</span>')


def plural(count: object, singular: str, plural_form: str | None = None) -> str:
    """``{{ n|plural('post') }}``: "1 post", "0 posts", "3 posts" (a count and its noun, in
    the singular for exactly one); irregular nouns name their plural
    (``plural('feedback entry', 'feedback entries')``). A plain string: Jinja escapes it."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


GLOBALS = {"reason_badge": reason_badge, "status_badge": status_badge, "score": score,
           "amount": amount, "yesno": yesno}

"""The console's small markup helpers (app/markup.py): what they print, and that every
value from the database is escaped."""
from __future__ import annotations

from markupsafe import Markup

from app.web.markup import amount, reason_badge, score, status_badge, yesno


def test_badges():
    assert reason_badge("negative_client") == \
        '<span class="badge reason-negative_client">negative client</span>'
    assert status_badge("live") == '<span class="badge status-live">live</span>'
    assert isinstance(status_badge("live"), Markup)


def test_badges_escape_what_they_print():
    hostile = '"><script>alert(1)</script>'
    escaped = "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    assert reason_badge(hostile) == \
        f'<span class="badge reason-{escaped}">{escaped}</span>'
    assert status_badge(hostile) == \
        f'<span class="badge status-{escaped}">{escaped}</span>'


def test_score_and_yesno():
    assert score(None) == "—"
    assert score(0.8765) == "0.88"
    assert score(1) == "1.00"
    assert yesno(True, "verified", "not verified") == \
        '<span class="check check-yes">verified</span>'
    assert yesno(0, "verified", "<b>not</b>") == \
        '<span class="check check-no">&lt;b&gt;not&lt;/b&gt;</span>'


def test_templates_use_them(app):
    """Registered as template globals (the pages no longer import macros for them)."""
    for name in ("reason_badge", "status_badge", "score", "yesno"):
        assert name in app.jinja_env.globals
    with app.app_context():
        html = app.jinja_env.from_string("{{ status_badge(s) }} {{ score(v) }}").render(
            s="<i>x</i>", v=None)
    assert html == '<span class="badge status-&lt;i&gt;x&lt;/i&gt;">&lt;i&gt;x&lt;/i&gt;</span> —'


def test_amount_keeps_the_cents_and_groups_thousands():
    assert amount(None) == "—"
    assert amount(2500.0) == "2,500"
    assert amount(0.0) == "0"
    assert amount(12.5) == "12.50"  # was printed "12": '%.0f' rounds half to even
    assert amount(1234567.891) == "1,234,567.89"
    assert amount(40) == "40"

"""The metrics dashboard in Chromium against gunicorn on PostgreSQL: the charts render with
no console errors, the filters redraw them through htmx, each CSV equals its table."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS, log_in, screenshot, start_server

pytestmark = pytest.mark.e2e
CHARTS = 9


@pytest.fixture
def server(tmp_path, pg_url):
    srv = start_server(tmp_path, {"DATABASE_URL": pg_url})
    try:
        for role in ("admin", "moderator", "analyst"):
            srv.create_user(role)
        yield srv
    finally:
        srv.stop()


def seed(url: str) -> None:
    from sqlmodel import Session, select

    from app.db import make_engine
    from app.services import rollups
    from models import Client, Decision, Flag, JobPost, ModelVersion, Moderator, utcnow

    engine = make_engine(url)
    now = utcnow()
    with Session(engine) as s:
        mod = s.exec(select(Moderator).where(Moderator.role == "moderator")).one()
        client = Client(external_id="c1", name="Acme <b>bold</b>")
        s.add(client)
        s.flush()
        for i in range(12):
            post = JobPost(external_id=f"p{i}", client_id=client.id, title=f"Post {i}",
                           description="d", content_hash=f"h{i}")
            s.add(post)
            s.flush()
            reason = ("scam", "policy", "miscategorised")[i % 3]
            created = now - timedelta(days=i % 5, hours=3)
            flag = Flag(subject_type="post", subject_id=post.id, client_id=client.id,
                        post_id=post.id, reason=reason, score=0.9, created_at=created,
                        policy_types=["off_platform"] if reason == "policy" else [])
            s.add(flag)
            s.flush()
            if i % 2:
                flag.status, flag.closed_at = "resolved", created + timedelta(hours=i)
                s.add(Decision(flag_id=flag.id, subject_type="post", subject_id=post.id,
                               client_id=client.id, post_id=post.id, moderator_id=mod.id,
                               action="remove" if i % 3 else "dismiss",
                               created_at=created + timedelta(hours=i)))
        for i, version in enumerate(("v1", "v2", "v3")):
            s.add(ModelVersion(name="scam", version=version, artifact=f"a{i}", active=i == 2,
                               created_at=now - timedelta(days=20 - 8 * i)))
        s.add(ModelVersion(name="policy", version="p1", artifact="p", active=True,
                           created_at=now - timedelta(days=9)))
        s.commit()
        rollups.rebuild(s)  # rows written here, not by the services: counted from them
    engine.dispose()


def screenshot_path(name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def table_rows(page, name: str) -> list[list[str]]:
    return page.eval_on_selector(
        f"#t-{name}", "t => [...t.rows].map(r => [...r.cells].map(c => c.innerText.trim()))")


def fits_1280(page) -> None:
    """At 1280 x 800 the page has no horizontal scroll: the wide per-day table scrolls
    inside its own box, its first column (the day) sticky."""
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(page.url.split("/queue/")[0] + "/metrics/")
    expect(page.locator("#t-inbound")).to_be_visible()
    page.locator("#metric-inbound").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_path("metrics-inbound-1280")))
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    box = page.evaluate("""() => { const t = document.querySelector('#t-inbound');
        const s = t.closest('.table-scroll'); const r = s.getBoundingClientRect();
        return {right: r.right, wide: t.scrollWidth > s.clientWidth,
                sticky: getComputedStyle(t.querySelector('tbody th')).position}; }""")
    assert box["right"] <= 1280 and box["wide"] and box["sticky"] == "sticky"
    page.evaluate("document.querySelector('#t-inbound').closest('.table-scroll').scrollLeft = 400")
    page.screenshot(path=str(screenshot_path("metrics-inbound-1280-scrolled")))
    page.locator("#metric-models").scroll_into_view_if_needed()
    expect(page.locator("#metric-models svg.timeline circle")).to_have_count(4)
    page.screenshot(path=str(screenshot_path("metrics-model-timeline-1280")))
    page.set_viewport_size({"width": 1280, "height": 900})


def drawn(page) -> int:
    return page.locator("canvas[data-metrics-chart][data-drawn]").count()


def test_dashboard_charts_filters_and_csv(browser, server):
    seed(server.env["DATABASE_URL"])
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, server, "analyst")
    fits_1280(page)
    page.get_by_role("link", name="Metrics").click()
    page.wait_for_url("**/metrics/")
    expect(page.locator("canvas[data-drawn]")).to_have_count(CHARTS)
    assert all(page.evaluate("[...document.querySelectorAll('canvas[data-drawn]')]"
                             ".map(c => !!Chart.getChart(c) && c.width > 0)"))
    screenshot(page, "metrics-dashboard")
    all_rows = table_rows(page, "inbound")
    assert all_rows[0][:5] == ["day", "scam", "miscategorised", "policy", "negative_client"]
    assert sum(int(r[1]) for r in all_rows[1:]) == 4  # 12 posts, every third a scam flag

    # the reason filter: htmx swaps the results, the charts are drawn again, the URL follows
    page.select_option("#m-reason", "scam")
    expect(page.locator("#t-inbound thead th")).to_have_count(2)
    expect(page.locator("canvas[data-drawn]")).to_have_count(CHARTS)
    assert "reason=scam" in page.url
    assert table_rows(page, "inbound")[0] == ["day", "scam"]

    # every CSV equals its table
    for name in ("inbound", "precision", "decisions", "time_to_decision", "backlog"):
        href = page.locator(f"#metric-{name} a[download]").get_attribute("href")
        body = page.request.get(server.url + href).text()
        assert list(csv.reader(io.StringIO(body))) == table_rows(page, name), name

    # keyboard: a chart takes the focus and names its table
    page.locator("#metric-inbound canvas").focus()
    assert page.evaluate("document.activeElement.getAttribute('aria-describedby')") == "t-inbound"
    assert errors == []
    context.close()

"""The dashboard's aggregates against hand-computed values on a fixed data set."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from app.services import ServiceError, metrics, rollups
from models import Decision, ModelVersion, Outreach
from tests.unit.console_fixtures import as_user, db, make_client, make_flag, make_post, staff  # noqa: F401

UTC = timezone.utc
NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def decide(db, flag, who, action, when, **kw):
    db.add(Decision(flag_id=flag.id, subject_type="post", subject_id=flag.post_id,
                    client_id=flag.client_id, post_id=flag.post_id, moderator_id=who.moderator_id,
                    action=action, created_at=when, **kw))
    flag.status = "dismissed" if action == "dismiss" else "resolved"
    flag.closed_at = when


@pytest.fixture
def dataset(db, staff):
    """Flags 1 and 2 (scam) straddle UTC midnight of 1-2 March; flag 3 (policy,
    off-platform) on 3 March; flag 4 opened in February and closed by the system on 2 March;
    flags 5 and 6 still open. Decisions: m1 dismisses 1 after 2 h, m2 removes 2 after 4 h,
    m1 removes 3 after 10 h; an undone decision and a note do not count as verdicts."""
    m1, m2 = staff["moderator"], staff["moderator2"]
    client = make_client(db)
    post = make_post(db, client)
    f1 = make_flag(db, post, reason="scam", created_at=at(1, 23, 30))
    db.commit()  # one open flag per (subject, reason): close it before the next
    decide(db, f1, m1, "dismiss", f1.created_at + timedelta(hours=2))
    db.commit()
    f2 = make_flag(db, post, reason="scam", created_at=at(2, 0, 30))
    decide(db, f2, m2, "remove", f2.created_at + timedelta(hours=4))
    db.add(Decision(flag_id=f2.id, subject_type="post", subject_id=post.id, client_id=client.id,
                    post_id=post.id, moderator_id=m1.moderator_id, action="dismiss",
                    created_at=f2.created_at + timedelta(hours=1), undone_at=f2.created_at
                    + timedelta(hours=1, seconds=5)))
    db.commit()
    f3 = make_flag(db, post, reason="policy", created_at=at(3, 10), policy_types=["off_platform"])
    decide(db, f3, m1, "note", f3.created_at + timedelta(hours=1))
    decide(db, f3, m1, "remove", f3.created_at + timedelta(hours=10))
    db.commit()
    f4 = make_flag(db, post, reason="miscategorised", created_at=datetime(2026, 2, 27, tzinfo=UTC))
    f4.status, f4.closed_at = "dismissed", at(2, 12)
    db.commit()
    make_flag(db, post, reason="scam", created_at=NOW - timedelta(hours=5))
    make_flag(db, post, reason="policy", created_at=NOW - timedelta(minutes=30),
              policy_types=["unpaid_work"])
    for outcome, rechecked, outcome_at in (("improved", at(4, 12), at(4, 12)),
                                           ("pending", at(4, 12), None), ("pending", None, None)):
        db.add(Outreach(client_id=client.id, moderator_id=m1.moderator_id, template="t", body="b",
                        follow_up_due_at=at(4, 12), outcome=outcome, rechecked_at=rechecked,
                        outcome_at=outcome_at, created_at=at(1, 12)))
    db.add(ModelVersion(name="scam", version="v1", artifact="a", created_at=at(1, 0)))
    db.commit()
    rollups.rebuild(db)  # rows written here, not by the services: counted from the raw rows
    return db


def filters(tz="UTC", reason="", **kw):
    args = {"date_from": "2026-03-01", "date_to": "2026-03-04", "tz": tz, "reason": reason, **kw}
    return metrics.MetricsFilters.from_args(args)


def test_inbound_per_local_day_with_empty_days(dataset):
    utc = metrics.inbound(dataset, filters())
    assert utc.days == [date(2026, 3, d) for d in (1, 2, 3, 4)]
    assert utc.lines["scam"] == [1, 1, 0, 0]
    assert utc.lines["policy"] == [0, 0, 1, 0]
    assert utc.lines["policy: off_platform"] == [0, 0, 1, 0]
    assert utc.lines["policy: unpaid_work"] == [0, 0, 0, 0]  # opened 5 March: outside
    assert utc.lines["miscategorised"] == [0, 0, 0, 0]
    # New York is UTC-5 in early March: both scam flags fall on the evening of 1 March
    new_york = metrics.inbound(dataset, filters("America/New_York"))
    assert new_york.lines["scam"] == [2, 0, 0, 0]
    assert new_york.lines["policy"] == [0, 0, 1, 0]
    # Kolkata is UTC+5:30 (a half-hour offset): both on the morning of 2 March
    kolkata = metrics.inbound(dataset, filters("Asia/Kolkata"))
    assert kolkata.lines["scam"] == [0, 2, 0, 0]


def test_time_to_decision_quantiles(dataset):
    got = {q.reason: q for q in metrics.time_to_decision(dataset, filters())}
    # scam: 2 h and 4 h (exactly: p50 3, p90 2 + 0.9 * 2 = 3.8); the histogram places them
    # mid-bucket, 2 h in [120, 150) min -> 135 min, 4 h in [240, 300) min -> 270 min, and
    # interpolates as numpy: p50 (135 + 270) / 2 = 202.5 min, p90 135 + 0.9 * 135 = 256.5 min;
    # the undone dismissal of flag 2 (after 1 h) and the note on flag 3 are not decisions
    assert got["scam"].n == 2
    assert got["scam"].p50_hours == pytest.approx(3.375) and got["scam"].p90_hours == pytest.approx(4.275)
    # policy: 10 h in [600, 720) min -> 660 min (exactly 10 h: within the bucket)
    assert (got["policy"].n, got["policy"].p50_hours) == (1, 11.0)
    assert got["negative_client"].n == 0 and got["negative_client"].p50_hours is None


def test_precision_with_wilson_interval(dataset):
    got = {p.reason: p for p in metrics.precision(dataset, filters())}
    scam = got["scam"]
    assert (scam.n, scam.upheld, scam.precision) == (2, 1, 0.5)
    # Wilson, z = 1.96, 1 of 2: 0.5 +- 1.96 * sqrt(0.125 + 0.2401) / 2.9207 = 0.5 +- 0.4055
    assert scam.low == pytest.approx(0.0945, abs=5e-4)
    assert scam.high == pytest.approx(0.9055, abs=5e-4)
    # 1 of 1: (1 + 1.9207 - 1.96 * 0.98) / 4.8415 = 1 / (1 + z^2) = 0.2065
    assert got["policy"].precision == 1.0 and got["policy"].low == pytest.approx(0.2065, abs=5e-4)
    assert got["miscategorised"].n == 0 and got["miscategorised"].low is None


def test_decisions_per_moderator_and_automation(dataset):
    by = metrics.decisions_by_moderator(dataset, filters())
    assert by.actions == ["dismiss", "remove", "note"]
    assert by.rows == [("moderator2@example.com", [0, 1, 0]),
                       ("moderator@example.com", [1, 1, 1])]
    auto = metrics.automation(dataset, filters())
    assert (auto.human, auto.automated) == (3, 1)  # flag 4 closed by the system
    scam_only = metrics.decisions_by_moderator(dataset, filters(reason="scam"))
    assert scam_only.rows == [("moderator2@example.com", [0, 1]), ("moderator@example.com", [1, 0])]


def test_backlog_ages_sla_and_trend(dataset):
    b = metrics.backlog(dataset, filters(), now=NOW)
    assert b.ages["scam"] == [0, 0, 1, 0, 0, 0]      # 5 h old: 4-12 h
    assert b.ages["policy"] == [1, 0, 0, 0, 0, 0]    # 30 min old
    assert b.over_sla == {"scam": 1, "miscategorised": 0, "policy": 0, "negative_client": 0}
    assert b.sla_hours["scam"] == 4
    # flag 4 open at the start; 1 March +1 (flag 1); 2 March +1 -3 (flags 1, 2, 4 closed);
    # 3 March +1 -1; 4 March nothing
    assert b.trend.lines["open at end of day"] == [2, 0, 0, 0]


def test_outcomes_after_contact(dataset):
    o = metrics.outcomes(dataset, filters())
    # contacted 1 March 12:00, improved 4 March 12:00: 3 days, in the table and its CSV
    assert metrics.table(metrics.dashboard(dataset, filters()), "outcomes")[1][0] == ["improved", 1, "3.0"]
    assert (o.improved, o.not_improved, o.pending) == (1, 1, 1)
    assert o.median_days_to_improvement == 3.0
    assert metrics.outcomes(dataset, filters(reason="scam")).improved == 0


def test_empty_database(db):
    d = metrics.dashboard(db, filters(), now=NOW)
    assert d.inbound.lines["scam"] == [0, 0, 0, 0]
    assert d.automation.human_share is None
    assert metrics.export_csv(d, "precision").splitlines()[1] == "scam,0,0,,,"


@pytest.mark.parametrize("args, message", [
    ({"tz": "Mars/Olympus"}, "unknown time zone"),
    ({"date_from": "2026-13-01"}, "must be a date"),
    ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "not be after"),
    ({"date_from": "2020-01-01", "date_to": "2026-03-01"}, "at most"),
    ({"reason": "bogus"}, "unknown reason"),
])
def test_bad_filters_are_refused(args, message):
    with pytest.raises(ServiceError, match=message):
        metrics.MetricsFilters.from_args(args)


def test_csv_matches_table(dataset):
    d = metrics.dashboard(dataset, filters(), now=NOW)
    header, rows = metrics.table(d, "inbound")
    lines = metrics.export_csv(d, "inbound").splitlines()
    assert lines[0].split(",") == header
    assert lines[1].split(",") == [str(v) for v in rows[0]]


# --- the page ----------------------------------------------------------------------------

RANGE = "date_from=2026-03-01&date_to=2026-03-04"


@pytest.mark.parametrize("role, status", [("admin", 200), ("analyst", 200), ("moderator", 403)])
def test_page_roles(client, dataset, role, status):
    as_user(client, f"{role}@example.com")
    assert client.get(f"/metrics/?{RANGE}").status_code == status
    assert client.get(f"/metrics/export/inbound.csv?{RANGE}").status_code == status


def test_page_has_charts_tables_and_exports(client, dataset):
    as_user(client, "analyst@example.com")
    html = client.get(f"/metrics/?{RANGE}").get_data(as_text=True)
    for name in ("inbound", "backlog", "time_to_decision", "precision", "decisions", "automation",
                 "outcomes"):
        assert f'id="t-{name}"' in html and f"/metrics/export/{name}.csv?" in html
    assert html.count("data-metrics-chart=") == 9
    assert "vendor/chartjs/chart.umd.min.js" in html
    # the model versions on a timeline (SVG, labelled: readable without colour)
    assert '<svg class="timeline"' in html and 'aria-describedby="t-models"' in html
    assert '<text x="0" y="28" class="lane">scam</text>' in html
    assert "<title>scam v1, 2026-03-01 00:00 UTC</title>" in html


def test_htmx_filter_answers_the_fragment(client, dataset):
    as_user(client, "admin@example.com")
    response = client.get(f"/metrics/?{RANGE}&reason=scam&tz=America/New_York",
                          headers={"HX-Request": "true", "HX-Target": "metrics-results"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and not html.lstrip().startswith("<!doctype")
    assert html.lstrip().startswith('<div id="metrics-results"')
    assert "<th scope=\"row\">2026-03-01</th><td>2</td>" in html  # both scam flags, local day
    assert "HX-Target" in response.headers["Vary"]


def test_csv_export_over_http_matches_the_table(client, dataset):
    as_user(client, "admin@example.com")
    body = client.get(f"/metrics/export/precision.csv?{RANGE}").get_data(as_text=True)
    assert body.splitlines()[0] == "reason,decided,upheld,precision,wilson_low,wilson_high"
    assert body.splitlines()[1] == "scam,2,1,0.500,0.095,0.905"


@pytest.mark.parametrize("query", ["tz=Nowhere/Else", "date_from=yesterday", "reason=x",
                                   "date_from=2026-03-05&date_to=2026-03-01", "date_from=0",
                                   "date_to=0001-01-01", "date_to=9999-12-31"])
def test_bad_filters_are_400(client, dataset, query):
    as_user(client, "admin@example.com")
    page = client.get(f"/metrics/?{query}")
    assert page.status_code == 400 and "parameter" in page.text  # says what was wrong
    assert client.get(f"/metrics/export/inbound.csv?{query}").status_code == 400


def test_unknown_export_is_404(client, dataset):
    as_user(client, "admin@example.com")
    assert client.get("/metrics/export/secrets.csv").status_code == 404

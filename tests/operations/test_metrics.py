"""/metrics: Prometheus text, not public, with what operators watch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.clock import utcnow
from backend.extensions import db
from backend.notifications.models import (
    Announcement,
    Audience,
    DeliveryCounter,
    OutboxMessage,
)
from tests.fixtures.identity import PASSWORD


def _scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/plain"
    values = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def _value(values, name: str, **labels) -> float:
    return values.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_by_route_and_status(client):
    before = _scrape(client)
    client.get("/healthz")
    client.get("/api/v1/projects/nothing-here")  # 401: no token
    after = _scrape(client)
    key = {"route": "/healthz", "method": "GET", "status": "200"}
    assert _value(after, "coproduction_http_requests_total", **key) == (
        _value(before, "coproduction_http_requests_total", **key) + 1
    )
    denied = {"route": "/api/v1/projects/<project_id>", "method": "GET", "status": "401"}
    assert _value(after, "coproduction_http_requests_total", **denied) >= 1
    count = _value(
        after, "coproduction_http_request_duration_seconds_count", route="/healthz", method="GET"
    )
    assert count >= 1
    assert ("coproduction_http_request_duration_seconds_bucket", ()) not in after


def test_failed_and_locked_logins_are_counted(app, client, create_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 2)
    user = create_user("citizen")
    before = _scrape(client)
    for _ in range(2):
        wrong = client.post(
            "/api/v1/auth/login", json={"identifier": user.email, "password": "wrong-password-0"}
        )
        assert wrong.status_code == 401
    locked = client.post(
        "/api/v1/auth/login", json={"identifier": user.email, "password": PASSWORD}
    )
    assert locked.status_code == 429
    after = _scrape(client)
    assert _value(after, "coproduction_logins_failed_total") == (
        _value(before, "coproduction_logins_failed_total") + 2
    )
    assert _value(after, "coproduction_logins_locked_total") == (
        _value(before, "coproduction_logins_locked_total") + 1
    )
    assert _value(after, "coproduction_accounts_locked") == 1


def test_verifications_are_counted_by_result(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFICATE_VERIFY_FAST_PATH", False)
    before = _scrape(client)
    answer = client.post("/api/v1/certificates/verify", json={"text": "not a certificate"})
    assert answer.status_code == 200
    result = answer.json["status"]
    after = _scrape(client)
    name = "coproduction_certificate_verifications_total"
    assert _value(after, name, result=result) == _value(before, name, result=result) + 1


def test_outbox_depth_age_and_push_totals_come_from_the_database(client, municipality):
    announcement = Announcement(
        municipality_id=municipality.id,
        audience=Audience.MUNICIPALITY,
        title="공지",
        body="내용",
    )
    db.session.add(announcement)
    db.session.flush()
    now = utcnow()
    db.session.add_all(
        [
            OutboxMessage(
                announcement_id=announcement.id, topic="t1", due_at=now - timedelta(seconds=90)
            ),
            OutboxMessage(
                announcement_id=announcement.id, topic="t2", due_at=now + timedelta(hours=1)
            ),
            DeliveryCounter(day=datetime.now(UTC).date(), metric="sent", count=7),
            DeliveryCounter(day=datetime.now(UTC).date(), metric="tokens_pruned", count=2),
        ]
    )
    db.session.commit()
    values = _scrape(client)
    assert _value(values, "coproduction_outbox_pending") == 2
    assert _value(values, "coproduction_outbox_due") == 1
    assert 89 <= _value(values, "coproduction_outbox_oldest_due_age_seconds") < 600
    assert _value(values, "coproduction_pushes_total", outcome="sent") == 7
    assert _value(values, "coproduction_notification_events_pending") == 0
    assert _value(values, "coproduction_pushes_total", outcome="tokens_pruned") == 2


def test_metrics_are_refused_from_outside_without_the_token(app, client, monkeypatch):
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    refused = client.get("/metrics", environ_overrides=outside)
    assert refused.status_code == 403
    assert set(refused.json["error"]) == {"code", "message", "fields"}
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-token-0123456789")
    wrong = client.get(
        "/metrics", environ_overrides=outside, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 403
    allowed = client.get(
        "/metrics",
        environ_overrides=outside,
        headers={"Authorization": "Bearer scrape-token-0123456789"},
    )
    assert allowed.status_code == 200 and b"coproduction_outbox_pending" in allowed.data


def test_a_forged_forwarded_address_does_not_open_the_metrics(app, client, monkeypatch):
    from werkzeug.middleware.proxy_fix import ProxyFix

    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1))
    forged = client.get(
        "/metrics",
        environ_overrides={"REMOTE_ADDR": "203.0.113.9"},
        headers={"X-Forwarded-For": "127.0.0.1"},
    )
    assert forged.status_code == 403
    through_local_proxy = client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
    assert through_local_proxy.status_code == 200


@pytest.mark.real_commits  # the gauges count the app's own pool, which isolation bypasses
def test_pool_gauges_follow_checkouts(app, client):
    from backend.operations.metrics import DB_CONNECTIONS_IN_USE

    inside = DB_CONNECTIONS_IN_USE._value.get()
    with db.engine.connect():
        assert DB_CONNECTIONS_IN_USE._value.get() == inside + 1
    assert DB_CONNECTIONS_IN_USE._value.get() == inside

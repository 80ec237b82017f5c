"""Prometheus metrics at /metrics: requests, the database pool, the push outbox, verifications,
logins and rate limits.

Counters and histograms live in prometheus_client. Under gunicorn, set `PROMETHEUS_MULTIPROC_DIR`
(an empty directory the workers can write, see deploy/gunicorn.conf.py) before start: every
worker then writes its values to files there and a scrape adds them up across workers. What
every server shares (the outbox, pushes sent, locked accounts) is read from the database at
scrape time, so any one server's /metrics gives the same, whole picture.

/metrics is not public: it answers callers from `METRICS_ALLOWED_NETWORKS` (loopback by
default) or with `Authorization: Bearer <METRICS_TOKEN>`.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from backend.api.auth import public
from backend.api.errors import error_response
from backend.clock import utcnow
from backend.extensions import db
from backend.operations.request_log import error_code_of, request_duration, route_of_request

HTTP_REQUESTS = Counter(
    "coproduction_http_requests",
    "HTTP requests answered, by route pattern, method and status.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "coproduction_http_request_duration_seconds",
    "Time from the first hook to the answer, by route pattern and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DB_CONNECTIONS_IN_USE = Gauge(
    "coproduction_db_pool_connections_in_use",
    "Database connections checked out of the pools of live workers.",
    multiprocess_mode="livesum",
)
DB_CONNECTIONS_OPEN = Gauge(
    "coproduction_db_pool_connections_open",
    "Database connections the pools of live workers hold open.",
    multiprocess_mode="livesum",
)
VERIFICATIONS = Counter(
    "coproduction_certificate_verifications",
    "Certificate verifications answered by the API, by result.",
    ["result"],
)
LOGINS_FAILED = Counter(
    "coproduction_logins_failed", "Logins refused for a wrong identifier or password."
)
LOGINS_LOCKED = Counter(
    "coproduction_logins_locked", "Logins refused because the account is locked."
)
LOGIN_ROUTE = "/api/v1/auth/login"
VERIFY_ROUTE = "/api/v1/certificates/verify"


def multiprocess_dir() -> str | None:
    """The directory of gunicorn's workers' metric files, when multi-process mode is on."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def observe_response(response: Response) -> None:
    """Count one answered request (called from the request log's after-request hook)."""
    route = route_of_request()
    HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
    HTTP_LATENCY.labels(route, request.method).observe(request_duration())
    if route == LOGIN_ROUTE:
        code = error_code_of(response)
        if code == "invalid_credentials":
            LOGINS_FAILED.inc()
        elif code == "account_locked":
            LOGINS_LOCKED.inc()
    elif route == VERIFY_ROUTE:
        # Set by the view: reading it back from the answer would parse the body once more.
        result = g.get("verification_result")
        if result is not None:
            VERIFICATIONS.labels(result).inc()


class DatabaseCollector(Collector):
    """What all servers share, read from the database at scrape time (a few small queries)."""

    def collect(self) -> Iterator[Metric]:
        from backend.identity.models import User
        from backend.notifications.models import (
            DeliveryCounter,
            NotificationEvent,
            OutboxMessage,
            OutboxStatus,
        )

        now = utcnow()
        claimed = sa.and_(
            OutboxMessage.claimed_until.is_not(None), OutboxMessage.claimed_until > now
        )
        queued, due, in_flight, oldest_due = db.session.execute(
            sa.select(
                sa.func.count(),
                sa.func.count(sa.case((sa.and_(OutboxMessage.due_at <= now, ~claimed), 1))),
                sa.func.count(sa.case((claimed, 1))),
                sa.func.min(sa.case((OutboxMessage.due_at <= now, OutboxMessage.due_at))),
            ).where(OutboxMessage.status == OutboxStatus.PENDING)
        ).one()
        yield GaugeMetricFamily(
            "coproduction_outbox_pending", "Pushes waiting in the outbox (due or not).", queued
        )
        yield GaugeMetricFamily(
            "coproduction_outbox_due", "Pushes due now and not claimed by a worker.", due
        )
        yield GaugeMetricFamily(
            "coproduction_outbox_in_flight", "Pushes claimed by a worker right now.", in_flight
        )
        yield GaugeMetricFamily(
            "coproduction_outbox_oldest_due_age_seconds",
            "How long the oldest due, unsent push has been due (0 when none).",
            _age_seconds(oldest_due, now),
        )
        events, oldest_event = db.session.execute(
            sa.select(sa.func.count(), sa.func.min(NotificationEvent.created_at))
        ).one()
        yield GaugeMetricFamily(
            "coproduction_notification_events_pending",
            "Domain events not yet fanned out into inbox entries and pushes by a worker.",
            events,
        )
        yield GaugeMetricFamily(
            "coproduction_notification_events_oldest_age_seconds",
            "How long the oldest event has waited for fan-out (0 when none).",
            _age_seconds(oldest_event, now),
        )
        pushes = CounterMetricFamily(
            "coproduction_pushes",
            "Push outcomes recorded by the notification workers (sent, retried, dead, "
            "tokens_pruned, skipped), all servers together.",
            labels=["outcome"],
        )
        for metric, count in db.session.execute(
            sa.select(DeliveryCounter.metric, sa.func.sum(DeliveryCounter.count)).group_by(
                DeliveryCounter.metric
            )
        ):
            pushes.add_metric([str(metric)], float(count or 0))
        yield pushes
        locked = db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.locked_until > now)
        )
        yield GaugeMetricFamily(
            "coproduction_accounts_locked", "Accounts locked after failed logins now.", locked or 0
        )


def _age_seconds(moment: datetime | None, now: datetime) -> float:
    if moment is None:
        return 0.0
    return max(0.0, (now - moment).total_seconds())


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    # The direct peer, not the proxy-corrected client (ProxyFix, TRUSTED_PROXY_COUNT): an
    # X-Forwarded-For a caller wrote itself must not open the metrics.
    original = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")
    try:
        address = ipaddress.ip_address(original or request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in _networks(current_app))


def _networks(app: Flask) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    cached = app.extensions.get("metrics_networks")
    if cached is None:
        text = app.config.get("METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128")
        cached = [ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip()]
        app.extensions["metrics_networks"] = cached
    return cached


@public
def metrics_view() -> Response:
    """The metrics in Prometheus' text format (loopback or a token only)."""
    # Behind nginx the direct peer is nginx itself, so the site in deploy/ answers 404 for
    # /metrics and Prometheus scrapes each server's own port.
    if not _allowed():
        return error_response(403, "permission_denied", "Metrics are not public.")
    directory = multiprocess_dir()
    if directory:
        from prometheus_client import multiprocess

        process_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_registry, path=directory)
    else:
        process_registry = REGISTRY
    shared = CollectorRegistry(auto_describe=False)
    shared.register(DatabaseCollector())
    body = generate_latest(process_registry) + generate_latest(shared)
    db.session.rollback()  # the scrape's reads end here; nothing was written
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def _track_pool(app: Flask) -> None:
    """Keep the pool gauges current from SQLAlchemy's pool events."""
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "connect", lambda *_: DB_CONNECTIONS_OPEN.inc())
    sa.event.listen(engine, "close", lambda *_: DB_CONNECTIONS_OPEN.dec())
    sa.event.listen(engine, "checkout", lambda *_: DB_CONNECTIONS_IN_USE.inc())
    sa.event.listen(engine, "checkin", lambda *_: DB_CONNECTIONS_IN_USE.dec())


def register_metrics(app: Flask) -> None:
    """Serve /metrics and count every request."""
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
    _track_pool(app)

"""The push delivery worker: claims due outbox rows, sends them through FCM, records outcomes.

Run it with `flask notifications deliver` (long-running) or `--once` (until nothing is due).
Several workers may run at once on PostgreSQL: a claim takes rows with `FOR UPDATE SKIP
LOCKED` and stamps them with a lease (`claimed_until`) and a claim id in one short committed
transaction, so no two workers hold the same row, and the rows of a worker killed mid-batch
become claimable again when its lease runs out. On SQLite (one writer at a time) the same
UPDATE ... RETURNING claims atomically.

Sending happens outside any transaction; outcomes are then recorded by the claim that sent the
rows only. Delivery is at least once: a worker that outlives its lease (FCM hanging longer than
the lease allows) may see its rows sent again by another; the push's collapse key (the
notification id) lets the phone show it once. Size the lease with `minimum_lease_seconds`.
"""

from __future__ import annotations

import logging
import math
import random
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from backend.clock import utcnow
from backend.extensions import db
from backend.ids import new_id
from backend.notifications.claimed import (
    ClaimedPush,
    clip,
    count_pushes,
    finish_claimed,
    in_transaction,
    load_claimed,
    push_message,
    update_each_claimed,
)
from backend.notifications.fanout import fan_out
from backend.notifications.fcm import (
    MAX_BATCH_SIZE,
    FcmSender,
    Outcome,
    PushMessage,
    SendResult,
    retry_delay,
)
from backend.notifications.models import (
    Device,
    OutboxMessage,
    OutboxStatus,
)
from backend.operations.request_log import bind_request_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerSettings:
    """How a worker claims and retries; `from_config` reads the NOTIFICATIONS_* keys."""

    batch_size: int = 500
    lease_seconds: float = 120.0
    max_attempts: int = 10
    retry_base_seconds: float = 5.0
    retry_cap_seconds: float = 3600.0
    #: Pushes older than this are not worth sending any more (the inbox still has them).
    max_age_seconds: float = 72 * 3600.0
    idle_seconds: float = 2.0

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 10 * MAX_BATCH_SIZE:
            raise ValueError(f"batch_size must be between 1 and {10 * MAX_BATCH_SIZE}")
        if self.lease_seconds <= 0 or self.idle_seconds < 0:
            raise ValueError("lease_seconds must be positive and idle_seconds not negative")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> WorkerSettings:
        """Settings from the app config, with command-line overrides (None means "not given")."""
        keys = {
            "batch_size": ("NOTIFICATIONS_BATCH_SIZE", int),
            "lease_seconds": ("NOTIFICATIONS_LEASE_SECONDS", float),
            "max_attempts": ("NOTIFICATIONS_MAX_ATTEMPTS", int),
            "retry_base_seconds": ("NOTIFICATIONS_RETRY_BASE_SECONDS", float),
            "max_age_seconds": ("NOTIFICATIONS_MAX_AGE_SECONDS", float),
            "idle_seconds": ("NOTIFICATIONS_IDLE_SECONDS", float),
        }
        values: dict[str, Any] = {}
        for name, (key, kind) in keys.items():
            if config.get(key) is not None:
                values[name] = kind(config[key])
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)


def minimum_lease_seconds(*, batch_size: int, max_connections: int, timeout: float) -> float:
    """How long one batch may take to send when FCM hangs: every request waits out its timeout.

    send_each sends a chunk of up to 500 messages over `max_connections` pooled connections,
    so a chunk takes ceil(chunk / max_connections) timeouts, and a batch one chunk after another.
    """
    chunks = math.ceil(batch_size / MAX_BATCH_SIZE)
    rounds = math.ceil(min(batch_size, MAX_BATCH_SIZE) / max(1, max_connections))
    return chunks * rounds * timeout


@dataclass
class BatchReport:
    """What one batch (or a run of batches) did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    pruned: int = 0
    skipped: int = 0
    #: Rows whose outcome was not recorded because another claim took them (lease ran out).
    lost_lease: int = 0
    #: Domain events turned into inbox entries and pushes (backend.notifications.fanout).
    events: int = 0

    def add(self, other: BatchReport) -> None:
        """Accumulate another report into this one."""
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    def summary(self) -> str:
        """One line for logs and the command line."""
        return ", ".join(f"{item.name} {getattr(self, item.name)}" for item in fields(self))


@dataclass
class _Outcomes:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: (outbox id, due at, error code, message)
    retry: list[tuple[str, datetime, str | None, str | None]] = field(default_factory=list)
    #: (outbox id, error code, message)
    dead: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    #: (outbox id, device id, token sent to)
    prune: list[tuple[str, str, str]] = field(default_factory=list)


def claim_batch(*, limit: int, lease_seconds: float) -> tuple[str, list[str]]:
    """Claim up to `limit` due rows for this worker and commit; returns the claim id and row ids."""
    now = utcnow()
    claim_id = new_id()
    outbox = OutboxMessage.__table__
    claimable = sa.and_(
        outbox.c.status == OutboxStatus.PENDING.value,
        outbox.c.due_at <= now,
        sa.or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
    )
    due = sa.select(outbox.c.id).where(claimable).order_by(outbox.c.due_at).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    statement = (
        sa.update(outbox)
        .where(outbox.c.id.in_(due.scalar_subquery()), claimable)
        .values(
            claimed_until=now + timedelta(seconds=lease_seconds),
            claim_id=claim_id,
            attempts=outbox.c.attempts + 1,
        )
        .returning(outbox.c.id)
    )
    try:
        ids = list(db.session.execute(statement).scalars())
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return claim_id, ids


class DeliveryWorker:
    """Fans out events (inbox entries, pushes) and sends the push outbox through a sender.

    Without a sender (no Firebase credentials) it still fans out, so the inbox fills, but it
    claims no push: they stay queued for a worker that can send (they used to be marked
    skipped, and were lost), and it says so at start.
    """

    def __init__(
        self,
        *,
        sender: FcmSender | None,
        settings: WorkerSettings | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.sender = sender
        self.settings = settings or WorkerSettings()
        self.rand = rand
        if sender is None:
            log.error(
                "push is off (no Firebase credentials): queued pushes stay queued, none is "
                "sent; set FIREBASE_CREDENTIALS_FILE or GOOGLE_APPLICATION_CREDENTIALS to send"
            )

    # -- loops ------------------------------------------------------------------------------

    def drain(self) -> BatchReport:
        """Send batches until nothing is due (the one-shot mode)."""
        total = BatchReport()
        while True:
            report = self.run_batch()
            total.add(report)
            if report.claimed == 0 and report.events == 0:
                return total

    def run(
        self, *, stop: threading.Event, on_idle: Callable[[], None] | None = None
    ) -> BatchReport:
        """Send batches until `stop` is set, waiting `idle_seconds` whenever nothing is due.

        A batch under way is finished (sent and recorded) before the loop looks at `stop`.
        """
        total = BatchReport()
        while not stop.is_set():
            try:
                report = self.run_batch()
            except Exception:
                # The claimed rows come back when the lease runs out; keep the worker alive.
                log.exception("push delivery batch failed")
                db.session.rollback()
                report = None
            if report is not None:
                total.add(report)
            if report is None or (report.claimed == 0 and report.events == 0):
                if on_idle is not None:
                    on_idle()
                stop.wait(self.settings.idle_seconds)
        return total

    # -- one batch --------------------------------------------------------------------------

    def run_batch(self) -> BatchReport:
        """Fan out waiting events (their inbox entries and pushes), then claim one batch of
        pushes, send it, record every outcome."""
        fanned = fan_out(limit=self.settings.batch_size)
        if self.sender is None:
            return BatchReport(events=fanned)
        claim_id, ids = claim_batch(
            limit=self.settings.batch_size, lease_seconds=self.settings.lease_seconds
        )
        if not ids:
            return BatchReport(events=fanned)
        rows = load_claimed(ids)
        db.session.commit()  # no transaction stays open while we wait for FCM
        outcomes = _Outcomes()
        self._send(rows, outcomes)
        report = BatchReport(claimed=len(ids), events=fanned)
        self._record(claim_id, outcomes, report)
        if outcomes.prune:
            self._prune(claim_id, outcomes.prune, report)
        _log_outcomes(claim_id, rows, outcomes)
        return report

    def _send(self, rows: Sequence[ClaimedPush], outcomes: _Outcomes) -> None:
        assert self.sender is not None
        now = utcnow()
        max_age = timedelta(seconds=self.settings.max_age_seconds)
        messages: list[PushMessage] = []
        by_id = {row.id: row for row in rows}
        for row in rows:
            age = now - row.created_at
            if age > max_age:
                outcomes.dead.append((row.id, "expired", "older than the push age limit"))
                continue
            try:
                messages.append(push_message(row, ttl=max_age - age))
            except ValueError as error:
                with bind_request_id(row.request_id):
                    log.warning("push %s has an invalid payload: %s", row.id, error)
                outcomes.dead.append((row.id, "invalid_payload", str(error)[:500]))
        if not messages:
            return
        try:
            results = self.sender.send(messages)
        except Exception as error:  # the sender classifies FCM errors; this is anything else
            # Pushes of several requests: name them all rather than stamp the line with one.
            log.exception(
                "sending a batch of %d pushes failed",
                len(messages),
                extra={"request_ids": _request_ids(by_id[m.message_id] for m in messages)},
            )
            results = [
                SendResult(m.message_id, Outcome.RETRY, "worker_error", None, None, str(error))
                for m in messages
            ]
        for result in results:
            self._classify(by_id[result.message_id], result, outcomes)

    def _classify(self, row: ClaimedPush, result: SendResult, outcomes: _Outcomes) -> None:
        if result.outcome is Outcome.SENT:
            outcomes.sent.append(row.id)
        elif result.outcome is Outcome.PRUNE_TOKEN and row.device_id is not None:
            outcomes.prune.append((row.id, row.device_id, row.token))
        elif result.outcome is Outcome.RETRY and row.attempts < self.settings.max_attempts:
            delay = retry_delay(
                row.attempts,
                retry_after=result.retry_after,
                base=self.settings.retry_base_seconds,
                cap=self.settings.retry_cap_seconds,
                rand=self.rand,
            )
            due_at = utcnow() + timedelta(seconds=delay)
            outcomes.retry.append((row.id, due_at, result.error_code, result.error_message))
        else:
            with bind_request_id(row.request_id):
                if result.outcome is Outcome.RETRY:
                    log.warning(
                        "push %s dead after %d attempts: %s",
                        row.id,
                        row.attempts,
                        result.error_code,
                    )
                else:
                    log.warning(
                        "push %s dead: %s %s", row.id, result.error_code, result.error_message
                    )
            outcomes.dead.append((row.id, result.error_code, result.error_message))

    # -- recording --------------------------------------------------------------------------

    def _record(self, claim_id: str, outcomes: _Outcomes, report: BatchReport) -> None:
        def record() -> BatchReport:
            done = BatchReport()
            now = utcnow()
            done.sent = finish_claimed(claim_id, outcomes.sent, OutboxStatus.SENT, sent_at=now)
            done.skipped = finish_claimed(
                claim_id, outcomes.skipped, OutboxStatus.SKIPPED, last_error_code="push_off"
            )
            done.dead = update_each_claimed(
                claim_id,
                [
                    {"b_id": oid, "b_code": clip(code, 40), "b_error": clip(error)}
                    for oid, code, error in outcomes.dead
                ],
                status=OutboxStatus.DEAD.value,
                last_error_code=sa.bindparam("b_code"),
                last_error=sa.bindparam("b_error"),
            )
            done.retried = update_each_claimed(
                claim_id,
                [
                    {"b_id": oid, "b_due": due, "b_code": clip(code, 40), "b_error": clip(error)}
                    for oid, due, code, error in outcomes.retry
                ],
                due_at=sa.bindparam("b_due", type_=OutboxMessage.__table__.c.due_at.type),
                last_error_code=sa.bindparam("b_code"),
                last_error=sa.bindparam("b_error"),
            )
            count_pushes(
                sent=done.sent, retried=done.retried, dead=done.dead, inbox_only=done.skipped
            )
            return done

        done = in_transaction(record)
        expected = len(outcomes.sent) + len(outcomes.skipped)
        expected += len(outcomes.dead) + len(outcomes.retry)
        recorded = done.sent + done.skipped + done.dead + done.retried
        report.add(done)
        report.lost_lease += expected - recorded
        if expected != recorded:
            log.warning(
                "%d pushes of claim %s were taken over by another worker before their outcome "
                "was recorded (lease %.0f s too short?)",
                expected - recorded,
                claim_id,
                self.settings.lease_seconds,
            )

    def _prune(self, claim_id: str, prune: list[tuple[str, str, str]], report: BatchReport) -> None:
        def delete_devices() -> tuple[int, int]:
            pruned = refreshed = 0
            for outbox_id, device_id, token in prune:
                # Only the token we sent to: a device that re-registered meanwhile keeps its row,
                # and this push is retried at once with the new token.
                deleted = db.session.execute(
                    sa.delete(Device.__table__).where(
                        Device.__table__.c.id == device_id, Device.__table__.c.token == token
                    )
                ).rowcount
                if deleted:
                    pruned += 1
                else:
                    refreshed += update_each_claimed(
                        claim_id,
                        [{"b_id": outbox_id}],
                        due_at=utcnow(),
                    )
            count_pushes(tokens_pruned=pruned)
            return pruned, refreshed

        pruned, refreshed = in_transaction(delete_devices)
        report.pruned += pruned
        report.retried += refreshed


# ---- log lines ------------------------------------------------------------------------------


def _log_outcomes(claim_id: str, rows: Sequence[ClaimedPush], outcomes: _Outcomes) -> None:
    """One line per request whose pushes were in this batch, stamped with that request's id:
    how many of its pushes were sent, retried, dead or pruned (pushes caused by no request,
    such as a scheduled reminder, share one line without an id).

    The outcomes as the sender reported them; a row another worker took over meanwhile is
    counted here and reported by `_record` as lost.
    """
    outcome_of: dict[str, str] = {}
    for name in ("sent", "skipped", "retry", "dead", "prune"):
        for item in getattr(outcomes, name):
            outcome_of[item if isinstance(item, str) else item[0]] = name
    by_request: dict[str | None, Counter[str]] = {}
    for row in rows:
        outcome = outcome_of.get(row.id)
        if outcome is not None:
            by_request.setdefault(row.request_id, Counter())[outcome] += 1
    for request_id, counts in sorted(by_request.items(), key=lambda item: item[0] or ""):
        with bind_request_id(request_id):
            log.info(
                "pushes of claim %s: %s",
                claim_id,
                ", ".join(f"{name} {count}" for name, count in sorted(counts.items())),
                extra={"claim_id": claim_id, **{f"pushes_{k}": v for k, v in counts.items()}},
            )


def _request_ids(rows: Iterable[ClaimedPush]) -> list[str]:
    """The distinct request ids of these pushes, sorted (for a line about a whole batch)."""
    return sorted({row.request_id for row in rows if row.request_id is not None})


def install_stop_signals(stop: threading.Event) -> Callable[[], None]:
    """Make SIGTERM and SIGINT set `stop` (finish the batch, then exit); returns an undo."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def request_stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping after the current batch", signum)
        stop.set()

    for sig in previous:
        signal.signal(sig, request_stop)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore

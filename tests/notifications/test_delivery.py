"""The delivery worker end to end: outbox rows -> real firebase-admin SDK -> fake FCM on 127.0.0.1.

Time is the test's clock (no sleeping): retries and quiet hours are reached by moving it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from backend.clock import SEOUL, utcnow
from backend.extensions import db
from backend.identity.models import AuthSession, User
from backend.ids import new_id
from backend.notifications import services, texts
from backend.notifications.fcm import FcmSender, Outcome, SendResult, StaticTokenCredentials
from backend.notifications.models import (
    DeliveryCounter,
    Device,
    Notification,
    OutboxMessage,
    OutboxStatus,
)
from backend.notifications.worker import (
    BatchReport,
    DeliveryWorker,
    WorkerSettings,
    claim_batch,
    install_stop_signals,
    minimum_lease_seconds,
)
from backend.permissions import Role
from tests.fakes.fake_fcm import FakeFcmServer, Reply
from tests.fixtures.notifications import FCM_BEARER, FCM_PROJECT


def counters() -> dict[str, int]:
    db.session.rollback()
    rows = db.session.execute(sa.select(DeliveryCounter.metric, DeliveryCounter.count))
    return {metric: int(count) for metric, count in rows}


def only(items: list[Any]) -> Any:
    assert len(items) == 1, items
    return items[0]


# ---- what the SDK sends -----------------------------------------------------------------------


def test_push_carries_the_texts_the_deep_link_and_the_notification_id(
    clock, create_user, create_device, notify, deliver, fake_fcm: FakeFcmServer, outbox_rows
):
    user = create_user()
    device = create_device(user, locale="ko-KR")
    notify(user, hours=3.0, participation_id="01JD8X7Q2M4N5P6R7S8T9V0W1X")

    report = deliver()

    assert (report.claimed, report.sent) == (1, 1)
    notification = db.session.scalar(sa.select(Notification))
    request = only(fake_fcm.requests_for(device.token))
    assert request.path == f"/v1/projects/{FCM_PROJECT}/messages:send"
    assert request.headers["authorization"] == f"Bearer {FCM_BEARER}"
    message = request.body["message"]
    assert message["notification"] == {
        "title": "참여가 확인되었습니다",
        "body": "활동 참여 3시간이 인정되었습니다.",
    }
    assert message["data"] == {
        "notification_id": notification.id,
        "kind": "participation.confirmed",
        "category": "participation",
        "participation_id": "01JD8X7Q2M4N5P6R7S8T9V0W1X",
        "project_id": "01JD8X7Q2M4N5P6R7S8T9V0W1Y",
        "activity_id": "01JD8X7Q2M4N5P6R7S8T9V0W1Z",
        "link": "coproduction://participations/01JD8X7Q2M4N5P6R7S8T9V0W1X",
    }
    # At least once: the phone collapses a repeated push by the notification id.
    assert message["android"]["collapse_key"] == notification.id
    assert message["apns"]["headers"]["apns-collapse-id"] == notification.id
    assert message["android"]["ttl"] == f"{72 * 3600}s"
    row = only(outbox_rows())
    assert (row.status, row.attempts, row.sent_at) == (OutboxStatus.SENT, 1, clock.now)
    assert row.claimed_until is None
    assert counters() == {"sent": 1}


def test_each_device_gets_one_push_in_its_own_language(
    clock, create_user, create_device, notify, deliver, fake_fcm: FakeFcmServer
):
    user = create_user()
    korean = create_device(user, locale="ko-KR")
    english = create_device(user, locale="en-US")
    notify(user, hours=2.5)

    assert deliver().sent == 2

    assert only(fake_fcm.requests_for(korean.token)).body["message"]["notification"] == {
        "title": "참여가 확인되었습니다",
        "body": "활동 참여 2.5시간이 인정되었습니다.",
    }
    assert only(fake_fcm.requests_for(english.token)).body["message"]["notification"] == {
        "title": "Participation confirmed",
        "body": "2.5 hours of your activity were recognised.",
    }


def test_municipality_announcement_is_one_topic_push(
    clock, create_user, create_device, deliver, fake_fcm: FakeFcmServer, municipality
):
    official = create_user(Role.OFFICIAL)
    for _ in range(3):
        create_device(create_user())
    announcement = services.create_announcement(actor=official, title="주민 설명회", body="내일")
    db.session.commit()

    assert deliver().sent == 1

    request = only(fake_fcm.requests)
    message = request.body["message"]
    assert message["topic"] == f"municipality-{municipality.id}"
    assert "token" not in message
    assert message["notification"] == {"title": "주민 설명회", "body": "내일"}
    assert message["data"] == {
        "announcement_id": announcement.id,
        "kind": "announcement",
        "category": "announcements",
        "link": f"coproduction://announcements/{announcement.id}",
    }
    assert message["android"]["collapse_key"] == announcement.id


# ---- outcomes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reply", [Reply.UNREGISTERED, Reply.SENDER_ID_MISMATCH])
def test_unregistered_or_mismatched_token_is_deleted_with_its_pending_pushes(
    clock, create_user, create_device, notify, deliver, fake_fcm, outbox_rows, count_rows, reply
):
    user = create_user()
    stale = create_device(user).token
    fresh = create_device(user)
    fake_fcm.script(stale, reply)
    notify(user)
    assert len(outbox_rows()) == 2

    report = deliver()

    assert (report.sent, report.pruned) == (1, 1)
    assert count_rows(Device) == 1
    assert db.session.get(Device, fresh.id) is not None
    remaining = only(outbox_rows())
    assert (remaining.device_id, remaining.status) == (fresh.id, OutboxStatus.SENT)
    assert counters() == {"sent": 1, "tokens_pruned": 1}
    # Later notifications go to the remaining device only.
    notify(user)
    assert deliver().sent == 1
    assert len(fake_fcm.requests_for(stale)) == 1


def test_token_refreshed_while_sending_is_not_pruned_but_retried(
    app, clock, create_user, create_device, notify, fcm_sender, fake_fcm, outbox_rows
):
    user = create_user()
    device = create_device(user, token="old-token")
    fake_fcm.script("old-token", Reply.UNREGISTERED)
    notify(user)
    real_send = fcm_sender.send

    def send_while_the_app_refreshes(messages):
        results = real_send(messages)
        with app.app_context():  # the app re-registers its new token meanwhile
            db.session.get(Device, device.id).token = "new-token"
            db.session.commit()
        return results

    fcm_sender.send = send_while_the_app_refreshes
    worker = DeliveryWorker(sender=fcm_sender, rand=lambda: 1.0)
    first = worker.run_batch()

    assert (first.pruned, first.retried) == (0, 1)
    row = only(outbox_rows())
    assert (row.status, row.due_at) == (OutboxStatus.PENDING, clock.now)
    fcm_sender.send = real_send
    assert worker.drain().sent == 1
    assert len(fake_fcm.requests_for("new-token")) == 1


def test_invalid_payload_is_dead_and_logged(
    clock, create_user, create_device, notify, deliver, fake_fcm, outbox_rows, caplog
):
    user = create_user()
    device = create_device(user)
    fake_fcm.script(device.token, Reply.INVALID_ARGUMENT)
    notify(user)

    with caplog.at_level(logging.WARNING, logger="backend.notifications.worker"):
        report = deliver()

    assert (report.sent, report.dead, report.retried) == (0, 1, 0)
    row = only(outbox_rows())
    assert (row.status, row.last_error_code) == (OutboxStatus.DEAD, "INVALID_ARGUMENT")
    assert row.last_error
    assert row.id in caplog.text and "INVALID_ARGUMENT" in caplog.text
    assert counters() == {"dead": 1}
    assert db.session.get(Device, device.id) is not None  # the token is fine; the payload is not


def test_quota_exceeded_waits_for_retry_after_plus_backoff(
    clock, create_user, create_device, notify, deliver, fake_fcm, outbox_rows
):
    user = create_user()
    device = create_device(user)
    fake_fcm.retry_after = 60
    fake_fcm.script(device.token, Reply.QUOTA_EXCEEDED, Reply.SUCCESS)
    notify(user)

    report = deliver()

    assert (report.sent, report.retried) == (0, 1)
    row = only(outbox_rows())
    # Retry-After 60 s plus the first backoff step (5 s, jitter fixed at its maximum).
    assert row.status == OutboxStatus.PENDING
    assert row.due_at == clock.now + timedelta(seconds=65)
    assert (row.attempts, row.last_error_code) == (1, "QUOTA_EXCEEDED")
    assert deliver().claimed == 0  # not due yet
    clock.advance(seconds=64)
    assert deliver().claimed == 0
    clock.advance(seconds=1)
    assert deliver().sent == 1
    assert len(fake_fcm.requests_for(device.token)) == 2
    row = only(outbox_rows())
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)
    assert counters() == {"retried": 1, "sent": 1}


@pytest.mark.parametrize("reply", [Reply.UNAVAILABLE, Reply.INTERNAL])
def test_transient_errors_back_off_exponentially_then_die(
    clock, create_user, create_device, notify, deliver, fake_fcm, outbox_rows, reply
):
    user = create_user()
    device = create_device(user)
    fake_fcm.script(device.token, reply)
    notify(user)
    waits = []

    for _ in range(3):
        deliver(max_attempts=4)
        row = only(outbox_rows())
        waits.append((row.due_at - clock.now).total_seconds())
        clock.set(row.due_at)
    final = deliver(max_attempts=4)

    assert waits == [5, 10, 20]
    assert final.dead == 1
    row = only(outbox_rows())
    assert (row.status, row.attempts, row.last_error_code) == (OutboxStatus.DEAD, 4, reply.value)
    assert len(fake_fcm.requests_for(device.token)) == 4
    assert counters() == {"retried": 3, "dead": 1}
    assert deliver(max_attempts=4).claimed == 0


def test_a_sender_crash_retries_the_whole_batch(
    clock, create_user, create_device, notify, fcm_sender, outbox_rows
):
    for _ in range(2):
        user = create_user()
        create_device(user)
        notify(user)

    def broken_send(messages):
        raise RuntimeError("connection pool exploded")

    fcm_sender.send = broken_send
    report = DeliveryWorker(sender=fcm_sender, rand=lambda: 1.0).drain()

    assert (report.claimed, report.retried) == (2, 2)
    assert {(r.status, r.last_error_code) for r in outbox_rows()} == {
        (OutboxStatus.PENDING, "worker_error")
    }


def test_too_old_pushes_are_not_sent(
    clock, create_user, create_device, notify, deliver, fake_fcm, outbox_rows
):
    user = create_user()
    create_device(user)
    notify(user)
    clock.advance(hours=72, seconds=1)

    report = deliver()

    assert (report.dead, fake_fcm.request_count) == (1, 0)
    assert only(outbox_rows()).last_error_code == "expired"


def test_without_credentials_the_worker_fills_only_the_inbox(
    clock, create_user, create_device, notify, deliver, fake_fcm, outbox_rows, caplog
):
    user = create_user()
    create_device(user)
    notify(user)

    with caplog.at_level(logging.WARNING, logger="backend.notifications.worker"):
        report = deliver(sender=None)

    assert (report.skipped, fake_fcm.request_count) == (1, 0)
    assert "push is off" in caplog.text
    row = only(outbox_rows())
    assert (row.status, row.last_error_code) == (OutboxStatus.SKIPPED, "push_off")
    assert services.count_unread(user=user) == 1
    assert counters() == {"inbox_only": 1}


# ---- preferences at delivery time -------------------------------------------------------------


def test_quiet_hours_hold_the_push_but_not_the_inbox(
    clock, create_user, create_device, notify, deliver, fake_fcm, set_preferences
):
    user = create_user()
    device = create_device(user)
    set_preferences(user, quiet_start_minute=22 * 60, quiet_end_minute=7 * 60)
    clock.set(datetime(2026, 3, 2, 23, 30, tzinfo=SEOUL))

    notify(user)

    assert services.count_unread(user=user) == 1
    assert deliver().claimed == 0
    clock.set(datetime(2026, 3, 3, 6, 59, tzinfo=SEOUL))
    assert deliver().claimed == 0
    clock.set(datetime(2026, 3, 3, 7, 0, tzinfo=SEOUL))
    assert deliver().sent == 1
    assert len(fake_fcm.requests_for(device.token)) == 1


def test_a_category_switched_off_is_not_pushed(
    clock, create_user, create_device, notify, deliver, fake_fcm, set_preferences, outbox_rows
):
    user = create_user()
    create_device(user)
    set_preferences(user, participation=False)

    notify(user)

    assert outbox_rows() == []
    assert services.count_unread(user=user) == 1
    assert deliver().claimed == 0


# ---- leases and several workers ---------------------------------------------------------------


def test_rows_of_a_killed_worker_come_back_after_its_lease(
    app, clock, create_user, create_device, notify, deliver, fake_fcm, outbox_rows
):
    user = create_user()
    create_device(user)
    notify(user)
    # A worker claims the row and dies before sending (or before recording).
    _claim, ids = claim_batch(limit=10, lease_seconds=120)
    assert len(ids) == 1

    assert deliver().claimed == 0
    clock.advance(seconds=119)
    assert deliver().claimed == 0
    clock.advance(seconds=2)
    report = deliver()

    assert report.sent == 1
    assert fake_fcm.request_count == 1
    row = only(outbox_rows())
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)


@pytest.mark.real_commits  # a second connection plays the other worker
def test_claims_skip_rows_another_worker_is_claiming(
    app, clock, create_user, create_device, notify
):
    user = create_user()
    create_device(user)
    create_device(user)
    notify(user)
    first, second = sorted(db.session.scalars(sa.select(OutboxMessage.id)))
    if db.engine.dialect.name != "postgresql":
        # SQLite has one writer at a time: a claim is a single atomic UPDATE ... RETURNING.
        _claim, ids = claim_batch(limit=1, lease_seconds=60)
        assert claim_batch(limit=10, lease_seconds=60)[1] == [second if ids == [first] else first]
        return
    with db.engine.connect() as other_worker:
        other_worker.execute(
            sa.text("SELECT id FROM notification_outbox WHERE id = :id FOR UPDATE"), {"id": first}
        )
        # Not blocked by the lock, and not given the locked row (FOR UPDATE SKIP LOCKED).
        _claim, ids = claim_batch(limit=10, lease_seconds=60)
        other_worker.rollback()
    assert ids == [second]


def test_a_worker_that_outlives_its_lease_does_not_overwrite_the_next_claim(
    app, clock, create_user, create_device, notify, fcm_sender, fake_fcm, outbox_rows, caplog
):
    user = create_user()
    create_device(user)
    notify(user)
    real_send = fcm_sender.send
    second: list[BatchReport] = []

    def hung_send(messages):
        clock.advance(seconds=121)  # FCM hung past the lease: another worker takes over
        with (
            app.app_context(),
            FcmSender(
                project_id=FCM_PROJECT,
                credentials=StaticTokenCredentials(FCM_BEARER),
                endpoint=fake_fcm.endpoint,
            ) as other_sender,
        ):
            second.append(DeliveryWorker(sender=other_sender).drain())
        return real_send(messages)

    fcm_sender.send = hung_send
    with caplog.at_level(logging.WARNING, logger="backend.notifications.worker"):
        first = DeliveryWorker(sender=fcm_sender, settings=WorkerSettings(lease_seconds=120))
        report = first.run_batch()

    assert (report.sent, report.lost_lease) == (0, 1)
    assert only(second).sent == 1
    assert "taken over by another worker" in caplog.text
    # At least once, as documented: both sends reached FCM, with one collapse key.
    assert fake_fcm.request_count == 2
    assert len({r.body["message"]["android"]["collapse_key"] for r in fake_fcm.requests}) == 1
    row = only(outbox_rows())
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)


def _recipients(count: int, municipality_id: str) -> list[str]:
    """Insert `count` citizens with one device each, quickly (Core, no password hashing)."""
    now = utcnow()
    users, sessions, devices = [], [], []
    for number in range(count):
        user_id, session_id = new_id(), new_id()
        users.append(
            {
                "id": user_id,
                "role": Role.CITIZEN,
                "municipality_id": municipality_id,
                "email": f"bulk{number}-{user_id.lower()}@example.test",
                "password_hash": "x",
                "display_name": f"시민{number}",
                "locale": "ko",
                "is_active": True,
                "failed_logins": 0,
                "created_at": now,
            }
        )
        sessions.append(
            {
                "id": session_id,
                "user_id": user_id,
                "created_at": now,
                "expires_at": now + timedelta(days=1),
            }
        )
        devices.append(
            {
                "id": new_id(),
                "user_id": user_id,
                "session_id": session_id,
                "token": f"bulk-token-{number}",
                "platform": "android",
                "app_version": "1.0.0",
                "locale": "ko-KR",
                "created_at": now,
                "updated_at": now,
            }
        )
    db.session.execute(sa.insert(User), users)
    db.session.execute(sa.insert(AuthSession), sessions)
    db.session.execute(sa.insert(Device), devices)
    db.session.commit()
    return [user["id"] for user in users]


@pytest.mark.real_commits  # threads: each has its own connection
def test_several_workers_never_send_the_same_push_twice(
    app, clock, fake_fcm: FakeFcmServer, municipality, outbox_rows
):
    count = 600
    workers = 4 if db.engine.dialect.name == "postgresql" else 2
    user_ids = _recipients(count, municipality.id)
    content = texts.render(
        "meeting.reminder",
        {"meeting_id": "M1", "title": "정기회의", "starts_at": utcnow(), "user_ids": user_ids},
    )
    services.notify_users(user_ids=user_ids, content=content, municipality_id=municipality.id)
    db.session.commit()
    start = threading.Barrier(workers)
    reports: list[BatchReport | None] = [None] * workers
    errors: list[BaseException] = []

    def work(index: int) -> None:
        with app.app_context():
            try:
                with FcmSender(
                    project_id=FCM_PROJECT,
                    credentials=StaticTokenCredentials(FCM_BEARER),
                    endpoint=fake_fcm.endpoint,
                    max_connections=20,
                ) as sender:
                    worker = DeliveryWorker(sender=sender, settings=WorkerSettings(batch_size=25))
                    start.wait()
                    reports[index] = worker.drain()
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    per_token = Counter(request.token for request in fake_fcm.requests)
    assert len(per_token) == count
    assert set(per_token.values()) == {1}, "a push reached FCM twice"
    assert sum(report.sent for report in reports) == count
    assert sum(1 for report in reports if report.sent) >= 2, "the workers did not share the work"
    assert {row.status for row in outbox_rows()} == {OutboxStatus.SENT}
    assert counters() == {"sent": count}


# ---- the loop, signals and sizing -------------------------------------------------------------


def test_run_sends_then_waits_until_stopped(clock, create_user, create_device, notify, fcm_sender):
    user = create_user()
    create_device(user)
    notify(user)
    stop = threading.Event()

    report = DeliveryWorker(sender=fcm_sender).run(stop=stop, on_idle=stop.set)

    assert (report.claimed, report.sent) == (1, 1)


def test_run_survives_a_failing_batch(clock, create_user, create_device, notify, fcm_sender):
    user = create_user()
    create_device(user)
    notify(user)
    stop = threading.Event()
    worker = DeliveryWorker(sender=fcm_sender)
    real_batch = worker.run_batch
    calls = []

    def flaky_batch() -> BatchReport:
        calls.append(1)
        if len(calls) == 1:
            raise sa.exc.OperationalError("claim", {}, Exception("database went away"))
        return real_batch()

    worker.run_batch = flaky_batch
    worker.settings = WorkerSettings(idle_seconds=0)
    idles = []

    def idle() -> None:
        idles.append(1)
        if len(idles) == 2:  # once after the failure, once when the push has gone
            stop.set()

    report = worker.run(stop=stop, on_idle=idle)

    assert (report.sent, len(calls)) == (1, 3)


def test_sigterm_asks_the_worker_to_stop_after_its_batch():
    stop = threading.Event()
    before = signal.getsignal(signal.SIGTERM)
    restore = install_stop_signals(stop)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(5)
    finally:
        restore()
    assert signal.getsignal(signal.SIGTERM) is before


def test_lease_must_cover_a_hung_fcm():
    assert minimum_lease_seconds(batch_size=500, max_connections=100, timeout=10) == 50
    assert minimum_lease_seconds(batch_size=1000, max_connections=100, timeout=10) == 100
    assert minimum_lease_seconds(batch_size=50, max_connections=100, timeout=10) == 10
    with pytest.raises(ValueError):
        WorkerSettings(batch_size=0)
    settings = WorkerSettings.from_config(
        {"NOTIFICATIONS_BATCH_SIZE": "200", "NOTIFICATIONS_LEASE_SECONDS": "90"}, batch_size=None
    )
    assert (settings.batch_size, settings.lease_seconds) == (200, 90.0)


def test_send_result_shape_used_for_crashes_matches_the_sender():
    # The worker builds SendResult positionally when the sender itself crashes.
    result = SendResult("m", Outcome.RETRY, "worker_error", None, None, "boom")
    assert (result.error_code, result.error_message) == ("worker_error", "boom")


# ---- the commands -----------------------------------------------------------------------------


def test_deliver_once_command_pushes_through_the_configured_fcm(
    app, clock, create_user, create_device, notify, fcm_config, fake_fcm
):
    user = create_user()
    device = create_device(user)
    notify(user)

    result = app.test_cli_runner().invoke(args=["notifications", "deliver", "--once"])

    assert result.exit_code == 0, result.output
    assert f"Firebase project {FCM_PROJECT}" in result.output
    assert "claimed 1, sent 1" in result.output
    assert len(fake_fcm.requests_for(device.token)) == 1


def test_deliver_command_without_credentials_says_push_is_off(
    app, clock, create_user, create_device, notify, monkeypatch, fake_fcm
):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    user = create_user()
    create_device(user)
    notify(user)

    result = app.test_cli_runner().invoke(args=["notifications", "deliver", "--once"])

    assert result.exit_code == 0, result.output
    assert "Push is off" in result.output
    assert "skipped 1" in result.output
    assert fake_fcm.request_count == 0


def test_deliver_command_refuses_a_lease_shorter_than_a_hung_batch(app, fcm_config):
    result = app.test_cli_runner().invoke(
        args=["notifications", "deliver", "--once", "--lease-seconds", "60"]
    )

    assert result.exit_code != 0
    assert "too short" in result.output


def test_purge_command_deletes_old_finished_rows_only(
    app, clock, create_user, create_device, create_session, notify, deliver, outbox_rows
):
    user = create_user()
    create_device(user, session=create_session(user, expires_in=timedelta(days=60)))
    notify(user)
    deliver()
    clock.advance(days=31)
    notify(user)  # pending, and recent

    result = app.test_cli_runner().invoke(args=["notifications", "purge", "--days", "30"])

    assert result.exit_code == 0, result.output
    assert "Purged 1 outbox rows" in result.output
    assert [row.status for row in outbox_rows()] == [OutboxStatus.PENDING]


def test_long_error_codes_and_messages_fit_their_columns(
    clock, create_user, create_device, notify, fcm_sender, outbox_rows
):
    user = create_user()
    create_device(user)
    notify(user)
    fcm_sender.send = lambda messages: [
        SendResult(m.message_id, Outcome.DEAD, "E" * 60, None, None, "x" * 900) for m in messages
    ]

    report = DeliveryWorker(sender=fcm_sender).drain()

    assert report.dead == 1
    row = only(outbox_rows())
    assert (len(row.last_error_code), len(row.last_error)) == (40, 500)

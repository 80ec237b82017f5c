"""No log line holds personal data or a secret: a run through the demo users' logins, a
registration with a phone, tokens, a device, a calendar feed, a verification and failures, with
every log record of every logger captured, then searched for what must not be there."""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa

from backend.certification.models import Certificate
from backend.cli import DEMO_PASSWORD, DEMO_USERS, seed_demo_data
from backend.extensions import db
from backend.identity.models import Municipality
from backend.operations.request_log import JsonFormatter
from tests.privacy.signup import signup_fields

API = "/api/v1"
PHONE = "010-2345-6789"
FCM_TOKEN = "fcm-registration-token-not-for-logs-0123456789"


def test_logs_of_a_busy_run_hold_no_personal_data_or_secret(app, client, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    seed_demo_data()
    forbidden = {DEMO_PASSWORD, PHONE, PHONE.replace("-", ""), "+82" + PHONE[1:].replace("-", "")}
    forbidden |= {email for _role, email, _name, _code in DEMO_USERS}
    forbidden |= {app.config["SECRET_KEY"], app.config["CERTIFICATE_KEY_SECRET"], FCM_TOKEN}

    tokens = {}
    for _role, email, _name, _code in DEMO_USERS:
        login = client.post(
            f"{API}/auth/login",
            json={"identifier": email, "password": DEMO_PASSWORD},
            headers={"User-Agent": "test"},
        )
        assert login.status_code == 200, login.json
        tokens[email] = login.json
        forbidden |= {login.json["access_token"], login.json["refresh_token"]}
    wrong = client.post(
        f"{API}/auth/login", json={"identifier": "admin@demo.example", "password": "Wrong-pw-42"}
    )
    assert wrong.status_code == 401
    forbidden.add("Wrong-pw-42")

    gangnam = db.session.scalar(sa.select(Municipality.id).where(Municipality.code == "11680"))
    registered = client.post(
        f"{API}/auth/register",
        json={
            "email": "new.citizen@private.example",
            "phone": PHONE,
            "password": "New-citizen-pw-77",
            "display_name": "박민수",
            "municipality_id": gangnam,
            **signup_fields(),
        },
    )
    assert registered.status_code == 201, registered.json
    forbidden |= {"new.citizen@private.example", "New-citizen-pw-77", "박민수"}
    again = client.post(
        f"{API}/auth/register",
        json={
            "email": "new.citizen@private.example",
            "password": "New-citizen-pw-77",
            "display_name": "박민수",
            "municipality_id": gangnam,
            **signup_fields(),
        },
    )
    assert again.status_code in (409, 422)

    citizen = tokens["citizen1@gangnam.example"]
    bearer = {"Authorization": f"Bearer {citizen['access_token']}"}
    assert client.get(f"{API}/me", headers=bearer).status_code == 200
    refreshed = client.post(
        f"{API}/auth/refresh", headers={"Authorization": f"Bearer {citizen['refresh_token']}"}
    )
    assert refreshed.status_code == 200
    forbidden.add(refreshed.json["access_token"])
    device = client.post(
        f"{API}/me/devices",
        json={"token": FCM_TOKEN, "platform": "android", "app_version": "1.0.0"},
        headers=bearer,
    )
    assert device.status_code in (200, 201), device.json
    feed = client.post(f"{API}/me/calendar-feed", headers=bearer)
    assert feed.status_code == 201
    feed_path = feed.json["url"].split("://", 1)[1].split("/", 1)[1]
    feed_token = feed_path.rsplit("/", 1)[1].removesuffix(".ics")
    forbidden.add(feed_token)
    assert client.get("/" + feed_path).status_code == 200
    certificate = db.session.scalars(sa.select(Certificate)).first()
    forbidden.add(certificate.qr_text)
    client.post(f"{API}/certificates/verify", json={"text": certificate.qr_text})
    client.get(f"{API}/me", headers={"Authorization": "Bearer " + citizen["refresh_token"]})
    assert client.post(f"{API}/auth/logout", headers=bearer).status_code in (200, 204)

    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    out, err = capfd.readouterr()
    text = "\n".join(lines) + out + err
    request_lines = [json.loads(line) for line in lines if '"coproduction.request"' in line]
    assert len(request_lines) >= len(DEMO_USERS) + 8  # the run really was logged
    leaks = sorted(secret for secret in forbidden if secret and secret in text)
    assert leaks == []


def test_a_logged_exception_keeps_its_type_and_frames_but_not_its_message():
    # A database's refusal can quote the value (PostgreSQL: "Key (email)=(...) already exists").
    logger = logging.getLogger("backend.test_exception_log")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    # The frames show source lines: the values come from variables, as they would at run time.
    mailbox, refusal = "hong.gildong@example.test", "홍길동 010-2345-6789 already exists"
    try:
        try:
            try:
                raise KeyError(mailbox)
            except KeyError as inner:
                raise ValueError(refusal) from inner
        except ValueError:
            logger.exception("fan-out rule failed")
    finally:
        logger.removeHandler(handler)
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["message"] == "fan-out rule failed"
    assert "builtins.ValueError" in line["exception"] and "builtins.KeyError" in line["exception"]
    assert "test_logs_hold_no_secrets.py" in line["exception"]  # the frames are there
    assert "홍길동" not in line["exception"] and "010-2345-6789" not in line["exception"]
    assert "hong.gildong" not in line["exception"]

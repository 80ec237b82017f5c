"""The whole chain across the merged domains, over HTTP and with no stand-ins: a citizen joins
activities, an official confirms the participations, the reward rules grant points, the third
confirmation completes the municipality's criteria and issues the certificate in that same
transaction, the inbox tells the citizen each step, and the certificate's QR verifies."""

from __future__ import annotations

from datetime import timedelta

from backend.clock import SEOUL
from backend.notifications.fanout import fan_out
from backend.permissions import Role

API = "/api/v1"


def _iso(moment) -> str:
    return moment.astimezone(SEOUL).isoformat()


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.json
    return response.json


def test_confirmations_grant_points_issue_the_certificate_and_notify(app, client, clock, as_role):
    official, staff = as_role(Role.OFFICIAL)
    citizen, mine = as_role(Role.CITIZEN, municipality=official.municipality)

    _ok(
        client.post(
            f"{API}/reward-rules",
            headers=staff,
            json={"name": "참여 포인트", "incentive": "points", "amount": 100},
        ),
        201,
    )
    _ok(
        client.post(
            f"{API}/certification-criteria",
            headers=staff,
            json={
                "min_participations": 3,
                "min_stages": 2,
                "window_months": 12,
                "validity_months": 24,
            },
        ),
        201,
    )
    project = _ok(
        client.post(
            f"{API}/projects",
            headers=staff,
            json={
                "title": "안심 귀갓길 만들기",
                "field": "safety",
                "starts_on": "2026-01-01",
                "ends_on": "2026-12-31",
                "status": "active",
            },
        ),
        201,
    )
    start = clock.now + timedelta(hours=1)
    participation_ids = []
    for stage in ("plan", "plan", "decide"):
        activity = _ok(
            client.post(
                f"{API}/projects/{project['id']}/activities",
                headers=staff,
                json={
                    "stage": stage,
                    "kind": "workshop",
                    "title": f"{stage} 워크숍",
                    "starts_at": _iso(start),
                    "ends_at": _iso(start + timedelta(hours=2)),
                },
            ),
            201,
        )
        joined = _ok(
            client.post(f"{API}/activities/{activity['id']}/participations", headers=mine, json={}),
            201,
        )
        participation_ids.append(joined["id"])
    clock.advance(hours=4)  # every activity has taken place

    def confirm(participation_id: str) -> None:
        confirmed = _ok(
            client.post(
                f"{API}/participations/{participation_id}/confirm",
                headers=staff,
                json={"hours": 2},
            )
        )
        assert confirmed["status"] == "confirmed"

    confirm(participation_ids[0])
    confirm(participation_ids[1])
    assert _ok(client.get(f"{API}/me/certificates", headers=mine))["items"] == []
    confirm(participation_ids[2])  # the third, in a second stage: the criteria are met

    rewards = _ok(client.get(f"{API}/me/rewards", headers=mine))
    balances = {row["incentive"]: row["amount"] for row in rewards["balances"]}
    assert balances["points"] == 300
    assert not any(amount for incentive, amount in balances.items() if incentive != "points")
    assert [(e["amount"], e["source"]) for e in rewards["items"]] == [(100, "participation")] * 3

    [certificate] = _ok(client.get(f"{API}/me/certificates", headers=mine))["items"]
    assert (certificate["kind"], certificate["status"]) == ("model_citizen", "active")

    # The notification worker turns the events into inbox entries (a moment later).
    with app.app_context():
        assert fan_out() >= 7
    inbox = _ok(client.get(f"{API}/me/notifications", headers=mine))["items"]
    kinds = [item["kind"] for item in inbox]
    assert kinds.count("participation.confirmed") == 3
    assert kinds.count("reward.granted") == 3
    assert kinds.count("certificate.issued") == 1

    detail = _ok(client.get(f"{API}/me/certificates/{certificate['id']}", headers=mine))
    verified = _ok(client.post(f"{API}/certificates/verify", json={"text": detail["qr_text"]}))
    assert verified["status"] == "valid"
    assert verified["kind"] == "model_citizen"

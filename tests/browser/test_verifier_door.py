"""Door check-in in the verifier app: a scheduler logs in, picks today's meeting, scans tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.api import DEMO_PASSWORD, Api
from tests.browser.conftest import assert_accessible, save_screenshot

SCHEDULER = "scheduler@gangnam.example"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def make_meeting(live_server: str, title: str) -> dict:
    """A meeting of the demo committee starting soon, two confirmed registrants with tickets."""
    scheduler = Api(live_server, SCHEDULER)
    committee = scheduler.call("GET", "/api/v1/committees")["items"][0]
    now = datetime.now(UTC)

    def meeting(title: str) -> dict:
        return scheduler.call(
            "POST",
            f"/api/v1/committees/{committee['id']}/meetings",
            {
                "title": title,
                "place": "강남구청 2층",
                "starts_at": _iso(now + timedelta(minutes=20)),
                "ends_at": _iso(now + timedelta(hours=2)),
                "capacity": 10,
                "reserved_seats": 0,
                "priority_opens_at": _iso(now - timedelta(minutes=1)),
                "general_opens_at": _iso(now - timedelta(minutes=1)),
            },
        )

    door, other = meeting(title), meeting(f"{title} (다른 회의)")
    tickets = {}
    for email in ("citizen1@gangnam.example", "citizen2@gangnam.example"):
        citizen = Api(live_server, email)
        registration = citizen.call("POST", f"/api/v1/meetings/{door['id']}/registrations", {})
        assert registration["status"] == "confirmed", registration
        tickets[email] = registration["ticket"]
    wrong = Api(live_server, "citizen2@gangnam.example").call(
        "POST", f"/api/v1/meetings/{other['id']}/registrations", {}
    )
    return {"meeting": door, "tickets": tickets, "wrong_ticket": wrong["ticket"]}


@pytest.fixture
def meeting_now(live_server: str) -> dict:
    return make_meeting(live_server, "입장 확인 시험 회의")


def open_door(page, meeting: dict) -> None:
    """Log in as the demo scheduler and open the meeting's door screen."""
    page.goto("/verify/#door")
    page.wait_for_selector("#door-login:not([hidden])")
    page.fill("#door-email", SCHEDULER)
    page.fill("#door-password", DEMO_PASSWORD)
    page.click("#door-login button[type=submit]")
    button = f"[data-meeting-id='{meeting['id']}']"
    page.wait_for_selector(button)
    page.click(button)
    page.wait_for_function("document.getElementById('door-count').textContent.includes('확정 2')")


def _scan(page, ticket: str) -> str:
    page.fill("#door-ticket", ticket)
    page.click("#door-ticket-form button[type=submit]")
    page.wait_for_function("document.getElementById('door-outcome').hidden === false")
    outcome = page.get_attribute("#door-outcome", "data-outcome")
    page.evaluate("document.getElementById('door-outcome').hidden = true")
    return outcome


def test_door_check_in_online(page, meeting_now) -> None:
    page.goto("/verify/#door")
    page.wait_for_selector("#door-login:not([hidden])")
    assert_accessible(page)
    page.fill("#door-email", SCHEDULER)
    page.fill("#door-password", DEMO_PASSWORD)
    page.click("#door-login button[type=submit]")
    button = f"[data-meeting-id='{meeting_now['meeting']['id']}']"
    page.wait_for_selector(button)
    assert_accessible(page)
    page.click(button)
    page.wait_for_selector("#door-meeting:not([hidden])")
    page.wait_for_function("document.getElementById('door-count').textContent.includes('확정 2')")
    assert page.inner_text("#door-count") == "입장 0 / 확정 2"
    # Staff see the one masking rule's names, at the door too.
    assert sorted(page.inner_text("#door-expected").split("\n")) == ["김*희", "홍*동"]

    first = meeting_now["tickets"]["citizen1@gangnam.example"]
    assert _scan(page, first) == "admitted"
    assert page.inner_text("#door-count") == "입장 1 / 확정 2"
    assert page.inner_text("#door-expected") == "김*희"
    page.fill("#door-ticket", first)
    page.click("#door-ticket-form button[type=submit]")
    page.wait_for_selector("#door-outcome[data-outcome=already]:not([hidden])")
    assert "이미 입장" in page.inner_text("#door-outcome")
    assert_accessible(page)
    save_screenshot(page, "verifier-door")
    page.evaluate("document.getElementById('door-outcome').hidden = true")
    assert _scan(page, meeting_now["wrong_ticket"]) == "wrong_meeting"
    assert _scan(page, first[:-3] + "AAA") == "not_valid"
    assert page.inner_text("#door-count") == "입장 1 / 확정 2"


def test_door_check_in_through_an_outage_with_a_conflict(page, live_server) -> None:
    scene = make_meeting(live_server, "정전 시험 회의")
    hong, kim = (scene["tickets"][f"citizen{n}@gangnam.example"] for n in (1, 2))
    open_door(page, scene["meeting"])

    page.context.set_offline(True)
    assert _scan(page, hong) == "admitted"
    assert "오프라인" in page.inner_text("#door-outcome")
    assert _scan(page, hong) == "already"  # the same person twice at this door: once
    assert _scan(page, kim) == "admitted"
    assert page.get_attribute("#door-queue", "data-count") == "2"
    assert page.inner_text("#door-count") == "입장 2 / 확정 2"
    # Offline the app reads the signed ticket itself: genuine, but for another meeting.
    assert _scan(page, scene["wrong_ticket"]) == "wrong_meeting"

    # Meanwhile another door device, online, admitted 김영희 first.
    other_device = Api(live_server, SCHEDULER)
    first = other_device.call(
        "POST",
        f"/api/v1/meetings/{scene['meeting']['id']}/check-in-scans",
        {
            "device_id": "door-2",
            "scans": [
                {
                    "scan_id": "other-device-scan-1",
                    "ticket": kim,
                    "scanned_at": _iso(datetime.now(UTC) - timedelta(minutes=1)),
                }
            ],
        },
    )
    assert first["items"][0]["outcome"] == "admitted"

    page.context.set_offline(False)  # the queue goes by itself
    page.wait_for_function("document.getElementById('door-queue').dataset.count === '0'")
    page.wait_for_selector("#door-conflicts-box:not([hidden])")
    conflicts = page.eval_on_selector_all(
        "#door-conflicts li", "els => els.map(e => [e.dataset.outcome, e.textContent])"
    )
    assert len(conflicts) == 1 and conflicts[0][0] == "conflict_other_device"
    assert "김*희" in conflicts[0][1]
    assert page.inner_text("#door-count") == "입장 2 / 확정 2"
    assert_accessible(page)
    save_screenshot(page, "verifier-door-conflict")

    # Nothing lost, nothing counted twice: the server saw each person admitted once.
    registrations = Api(live_server, SCHEDULER).call(
        "GET", f"/api/v1/meetings/{scene['meeting']['id']}/registrations?status=confirmed"
    )["items"]
    assert all(r["checked_in_at"] for r in registrations) and len(registrations) == 2

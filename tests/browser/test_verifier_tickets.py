"""Signed (MT2) meeting tickets at the verifier's door with no network: the app checks a
ticket's signature, meeting and validity itself, so it admits a genuine ticket that is not on
its saved list and refuses a tampered one; the queue goes to the server when the network
returns, and the attendance list marks the conflicts."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from tests.browser.api import DEMO_PASSWORD, Api
from tests.browser.conftest import assert_accessible, save_screenshot
from tests.browser.test_verifier_door import SCHEDULER, _iso, _scan

HONG, KIM = "citizen1@gangnam.example", "citizen2@gangnam.example"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(ticket: str) -> dict:
    payload = ticket[4:].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _with_claims(ticket: str, **changes: object) -> str:
    """The ticket with other claims and its original signature: a forgery."""
    header, _, signature = ticket[4:].split(".")
    payload = _b64(json.dumps(_claims(ticket) | changes, separators=(",", ":")).encode())
    return f"MT2:{header}.{payload}.{signature}"


def _meetings(live_server: str) -> tuple[dict, dict]:
    scheduler = Api(live_server, SCHEDULER)
    committee = scheduler.call("GET", "/api/v1/committees")["items"][0]
    now = datetime.now(UTC)

    def meeting(title: str) -> dict:
        return scheduler.call(
            "POST",
            f"/api/v1/committees/{committee['id']}/meetings",
            {
                "title": title,
                "place": "강남구청 3층",
                "starts_at": _iso(now + timedelta(minutes=20)),
                "ends_at": _iso(now + timedelta(hours=2)),
                "capacity": 10,
                "reserved_seats": 0,
                "priority_opens_at": _iso(now - timedelta(minutes=1)),
                "general_opens_at": _iso(now - timedelta(minutes=1)),
            },
        )

    return meeting("서명 티켓 시험 회의"), meeting("서명 티켓 시험 회의 (다른 회의)")


def _register(live_server: str, email: str, meeting: dict) -> dict:
    answer = Api(live_server, email).call(
        "POST", f"/api/v1/meetings/{meeting['id']}/registrations", {}
    )
    assert answer["status"] == "confirmed" and answer["ticket"].startswith("MT2:"), answer
    return answer


def test_offline_the_app_checks_signed_tickets_itself(page, live_server) -> None:
    door, other = _meetings(live_server)
    hong = _register(live_server, HONG, door)
    wrong = _register(live_server, KIM, other)["ticket"]

    page.goto("/verify/#door")
    page.wait_for_selector("#door-login:not([hidden])")
    page.fill("#door-email", SCHEDULER)
    page.fill("#door-password", DEMO_PASSWORD)
    page.click("#door-login button[type=submit]")
    page.click(f"[data-meeting-id='{door['id']}']")
    page.wait_for_function("document.getElementById('door-count').textContent.includes('확정 1')")
    # The app has the public keys (saved on first open), among them the tickets' key.
    kid = _kid(hong["ticket"])
    page.wait_for_function(
        "kid => (JSON.parse(localStorage.getItem('verifier.trust.v1') || 'null')?.jwks?.keys"
        " || []).some(k => k.kid === kid)",
        arg=kid,
    )
    # 김영희 registers after the door saved its list: her ticket is not on it.
    kim = _register(live_server, KIM, door)

    page.context.set_offline(True)
    # Forgeries: another person's registration under 김영희's signature, a broken signature.
    assert _scan(page, _with_claims(kim["ticket"], r=hong["id"])) == "not_valid"
    at = len(kim["ticket"]) - 20  # inside the signature
    flipped = "B" if kim["ticket"][at] == "A" else "A"
    assert _scan(page, kim["ticket"][:at] + flipped + kim["ticket"][at + 1 :]) == "not_valid"
    assert _scan(page, _with_claims(kim["ticket"], e=4102444800)) == "not_valid"
    assert _scan(page, wrong) == "wrong_meeting"  # genuine, but for the other meeting
    assert page.get_attribute("#door-queue", "data-count") == "0"

    page.fill("#door-ticket", kim["ticket"])
    page.click("#door-ticket-form button[type=submit]")
    page.wait_for_selector("#door-outcome[data-outcome=admitted]:not([hidden])")
    assert "서명 확인됨" in page.inner_text("#door-outcome")  # admitted on the signature alone
    assert_accessible(page)
    save_screenshot(page, "verifier-door-signed-offline")
    page.evaluate("document.getElementById('door-outcome').hidden = true")
    assert _scan(page, kim["ticket"]) == "already"  # once, even off the saved list
    assert _scan(page, hong["ticket"]) == "admitted"
    assert page.get_attribute("#door-queue", "data-count") == "2"

    # Meanwhile another door device, online, admitted 홍길동 first.
    first = Api(live_server, SCHEDULER).call(
        "POST",
        f"/api/v1/meetings/{door['id']}/check-in-scans",
        {
            "device_id": "door-other",
            "scans": [
                {
                    "scan_id": "tickets-other-device-1",
                    "ticket": hong["ticket"],
                    "scanned_at": _iso(datetime.now(UTC) - timedelta(minutes=1)),
                }
            ],
        },
    )
    assert first["items"][0]["outcome"] == "admitted"

    page.context.set_offline(False)  # the queue goes by itself
    page.wait_for_function("document.getElementById('door-queue').dataset.count === '0'")
    page.wait_for_selector("#door-attended li[data-conflict]")
    marked = page.eval_on_selector_all(
        "#door-attended li", "els => els.map(e => [e.dataset.conflict || '', e.textContent])"
    )
    assert sorted(marked) == [
        ["", "김*희"],
        ["conflict_other_device", "홍*동 — 확인 필요: 다른 기기에서 먼저 입장 처리됨"],
    ]
    assert page.inner_text("#door-count") == "입장 2 / 확정 2"
    assert_accessible(page)

    # The server has each person in once, the signed-only ticket's scan recorded as offline.
    api = Api(live_server, SCHEDULER)
    listed = api.call("GET", f"/api/v1/meetings/{door['id']}/registrations")["items"]
    assert all(r["checked_in_at"] for r in listed) and len(listed) == 2
    by_id = {r["id"]: r for r in listed}
    assert by_id[hong["id"]]["check_in_conflict"]["outcome"] == "conflict_other_device"
    assert by_id[kim["id"]]["check_in_conflict"] is None
    conflicts = api.call("GET", f"/api/v1/meetings/{door['id']}/check-in-conflicts")["items"]
    assert [(c["registration_id"], c["offline"]) for c in conflicts] == [(hong["id"], True)]


CHECK_TICKET = """async ([jwks, text, meetingId, now]) => {
  const v = await import('/verify/verify.js');
  const t = await import('/verify/ticket.js');
  return (await t.checkTicketOffline(text, v.keysByKid(jwks), meetingId, now)).status;
}"""


def test_the_apps_ticket_check_refuses_what_it_must(page, live_server) -> None:
    """ticket.js on its own: waitlisted, outside the window, a certificate passed off as a
    ticket, an unknown key, and an MT1 ticket left to the saved list."""
    door, later = _meetings(live_server)
    hong = _register(live_server, HONG, door)
    page.goto("/verify/")
    jwks = Api(live_server).call("GET", "/.well-known/jwks.json")
    ticket = hong["ticket"]
    claims = _claims(ticket)
    now = claims["nb"] + 3 * 3600

    def check(text: str, meeting_id: str = door["id"], at: int = now) -> str:
        return page.evaluate(CHECK_TICKET, [jwks, text, meeting_id, at])

    assert check(ticket) == "valid"
    assert check(ticket, meeting_id=later["id"]) == "wrong_meeting"
    assert check(ticket, at=claims["nb"] - 301) == "not_open"
    assert check(ticket, at=claims["e"] + 301) == "not_open"
    assert check(ticket, at=claims["e"] + 299) == "valid"  # ±5 minutes for clocks
    assert check(_with_claims(ticket, s="w")) == "invalid_signature"
    assert page.evaluate(CHECK_TICKET, [{"keys": []}, ticket, door["id"], now]) == "unknown_key"
    header = ticket[4:].split(".")[0]
    untyped = _b64(json.dumps({"alg": "ES256", "kid": _kid(ticket)}).encode())
    assert check(ticket.replace(header, untyped)) == "malformed"
    legacy = f"MT1:{hong['id']}:{'A' * 26}"
    assert check(legacy) == "legacy"
    # A waitlisted registrant's genuine ticket says so, and the app does not admit it.
    full = Api(live_server, SCHEDULER).call(
        "PATCH", f"/api/v1/meetings/{later['id']}", {"capacity": 1}
    )
    assert full["capacity"] == 1
    _register(live_server, HONG, later)
    waiting = Api(live_server, KIM).call(
        "POST", f"/api/v1/meetings/{later['id']}/registrations", {}
    )
    assert waiting["status"] == "waitlisted"
    assert check(waiting["ticket"], meeting_id=later["id"]) == "waitlisted"


def _kid(ticket: str) -> str:
    header = ticket[4:].split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]

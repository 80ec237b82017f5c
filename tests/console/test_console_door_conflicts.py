"""The console's door page marks door conflicts (offline scans) in the attendance list."""

from __future__ import annotations

from datetime import timedelta

from backend.committees import services, tickets
from backend.extensions import db
from backend.permissions import Role


def test_the_door_page_marks_a_conflict(
    app, clock, create_user, create_committee, create_meeting, console_login, form_token
):
    scheduler = create_user(Role.SCHEDULER)
    meeting = create_meeting(create_committee(), capacity=3)
    first, second = create_user(Role.CITIZEN), create_user(Role.CITIZEN)
    registrations = [
        services.register_for_meeting(actor=p, meeting=meeting) for p in (first, second)
    ]
    db.session.commit()
    clock.set(meeting.starts_at + timedelta(minutes=5))
    ticket, other_ticket = (tickets.make_ticket(r) for r in registrations)
    for device in ("door-1", "door-2"):
        scan = services.ScanUpload(
            scan_id=f"scan-{device}",
            ticket=ticket,
            scanned_at=clock() - timedelta(minutes=1),
            offline=True,
        )
        services.upload_scans(actor=scheduler, meeting=meeting, scans=[scan], device_id=device)
    db.session.commit()

    client = console_login(scheduler)
    door = client.get(f"/console/meetings/{meeting.id}/door").get_data(as_text=True)
    assert door.count('data-conflict="conflict_other_device"') == 1
    assert "확인 필요: 다른 기기에서 먼저 입장 처리됨" in door
    english = client.get(f"/console/meetings/{meeting.id}/door?lang=en").get_data(as_text=True)
    assert "To check: admitted first on another device" in english
    # A typed MT2 ticket (about 290 characters) fits the field and checks in.
    assert 'maxlength="512"' in door and len(other_ticket) > 200
    token = form_token(client, f"/console/meetings/{meeting.id}/door")
    checked = client.post(
        f"/console/meetings/{meeting.id}/check-in",
        data={"csrf_token": token, "ticket": other_ticket},
    )
    assert checked.status_code == 303, checked.get_data(as_text=True)[:2000]

"""Paper at the venue: the printable attendance sheet and the CSV import with its preview."""

from __future__ import annotations

import io

import sqlalchemy as sa

from backend.extensions import db
from backend.participation import services
from backend.participation.models import Participation, ParticipationStatus
from backend.permissions import Role


def test_import_previews_every_row_then_records_only_the_good_ones(
    app, create_user, create_activity, other_municipality, console_login, form_token
):
    official = create_user(Role.OFFICIAL)
    activity = create_activity()
    known = create_user(Role.CITIZEN, email="known@example.test")
    by_id = create_user(Role.CITIZEN)
    stranger = create_user(Role.CITIZEN, municipality=other_municipality)
    sheet = (
        "\ufeffemail,user_id,attended\n"
        "known@example.test,,1\n"
        f",{by_id.id},0\n"
        f"{stranger.email},,1\n"
        "nobody@example.test,,1\n"
        ",,1\n"
    )
    client = console_login(official)
    url = f"/console/activities/{activity.id}/import"
    token = form_token(client, url)
    preview = client.post(
        url,
        data={
            "csrf_token": token,
            "step": "preview",
            "sheet": (io.BytesIO(sheet.encode()), "s.csv"),
        },
        content_type="multipart/form-data",
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert html.count('data-ok="yes"') == 2 and html.count('data-ok="no"') == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Participation)) == 0

    imported = client.post(url, data={"csrf_token": token, "step": "import", "text": sheet})
    assert imported.status_code == 303 and "imported=2" in imported.headers["Location"]
    db.session.expire_all()
    statuses = dict(
        db.session.execute(sa.select(Participation.user_id, Participation.status)).all()
    )
    assert statuses == {
        known.id: ParticipationStatus.ATTENDED,
        by_id.id: ParticipationStatus.REGISTERED,
    }


def test_the_attendance_sheet_is_a_pdf_with_a_page_per_thirty_rows(
    app, create_user, create_activity, console_login
):
    official = create_user(Role.OFFICIAL)
    activity = create_activity(capacity=100)
    for _ in range(25):
        services.join_activity(actor=create_user(Role.CITIZEN), activity=activity)
    db.session.commit()
    client = console_login(official)
    refused = client.get(f"/console/activities/{activity.id}/sheet.pdf")
    assert refused.status_code == 422  # a printed list of names needs a reason
    answer = client.get(f"/console/activities/{activity.id}/sheet.pdf?reason=현장 출석 확인")
    assert answer.mimetype == "application/pdf"
    assert answer.data.startswith(b"%PDF")
    # 25 registrants and 10 blank rows for walk-ins: two pages of 30 rows.
    assert answer.data.count(b"/Type /Page") - answer.data.count(b"/Type /Pages") == 2


def test_a_walk_in_is_found_by_phone_and_recorded_as_attended(
    app, create_user, create_activity, console_login, form_token
):
    activity = create_activity()
    citizen = create_user(Role.CITIZEN, phone="01012345678")  # stored as sign-up stores it
    client = console_login(create_user(Role.OFFICIAL))
    url = f"/console/activities/{activity.id}"
    token = form_token(client, url)
    answer = client.post(
        f"{url}/walk-ins", data={"csrf_token": token, "user_id": "010-1234-5678", "attended": "1"}
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)[:1500]
    row = db.session.execute(sa.select(Participation.user_id, Participation.status)).one()
    assert tuple(row) == (citizen.id, ParticipationStatus.ATTENDED)


def test_the_console_records_who_saw_which_citizens(
    app, create_user, create_activity, console_login
):
    """Participant list and printed sheet write the API's access records (the sheet with why)."""
    from backend.privacy.models import AccessAction, AccessRecord

    official = create_user(Role.OFFICIAL)
    activity = create_activity()
    services.join_activity(actor=create_user(Role.CITIZEN), activity=activity)
    db.session.commit()
    client = console_login(official)
    assert client.get(f"/console/activities/{activity.id}").status_code == 200
    assert (
        client.get(f"/console/activities/{activity.id}/sheet.pdf?reason=출석 확인").status_code
        == 200
    )
    records = db.session.scalars(
        sa.select(AccessRecord).where(AccessRecord.resource_id == activity.id)
    ).all()
    assert {(r.resource, r.action, r.reason, r.subject_count) for r in records} == {
        ("activity.participations", AccessAction.VIEW, None, 1),
        ("activity.sheet", AccessAction.EXPORT, "출석 확인", 1),
    }

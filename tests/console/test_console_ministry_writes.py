"""The ministry's writes from the console: a dispute's mediator and hearing, the mediation
committee's members, a selected case and its follow-up, a new course; and who is refused."""

from __future__ import annotations

from datetime import timedelta

from backend.clock import seoul_today
from backend.extensions import db
from backend.ministry import services
from backend.ministry.models import (
    Course,
    DisputeState,
    FollowUp,
    MediationMember,
    MemberRole,
    Qualification,
    SelectedCase,
    Source,
)
from backend.permissions import Role


def test_the_ministry_assigns_a_mediator_and_schedules_a_hearing(
    app, analyst, file_dispute, create_member, console_login, form_token, clock
):
    dispute = file_dispute()
    member = create_member()
    client = console_login(analyst)
    url = f"/console/disputes/{dispute.id}"
    token = form_token(client, url)
    assert client.post(f"{url}/accept", data={"csrf_token": token}).status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert f'value="{member.id}"' in page and f"{url}/hearings" in page
    refused = client.post(f"{url}/start-mediation", data={"csrf_token": token})
    assert refused.status_code == 422
    assert "조정위원을 먼저 지정해 주세요." in refused.get_data(as_text=True)

    assigned = client.post(f"{url}/mediators", data={"csrf_token": token, "member_id": member.id})
    assert assigned.status_code == 303, assigned.get_data(as_text=True)[:1500]
    assert client.post(f"{url}/start-mediation", data={"csrf_token": token}).status_code == 303
    hearing = {
        "csrf_token": token,
        "starts_at": "2026-03-10T14:00",
        "ends_at": "2026-03-10T16:00",
        "place": "정부세종청사 조정회의실",
        "agenda": "양측 의견 청취",
    }
    bad = client.post(f"{url}/hearings", data={**hearing, "ends_at": "2026-03-10T13:00"})
    assert bad.status_code == 422 and "ends_at" in bad.get_data(as_text=True)
    scheduled = client.post(f"{url}/hearings", data=hearing)
    assert scheduled.status_code == 303, scheduled.get_data(as_text=True)[:1500]

    db.session.expire_all()
    case = services.get_dispute(viewer=analyst, dispute_id=dispute.id)
    assert case.state == DisputeState.IN_MEDIATION
    assert [m.member_id for m in case.mediators] == [member.id]
    assert case.hearings[0].place == "정부세종청사 조정회의실"
    assert case.hearings[0].starts_at.hour == 5  # 14:00 in Seoul is 05:00 UTC
    page = client.get(url).get_data(as_text=True)
    assert "2026-03-10 14:00" in page and f"{url}/settle" in page and f"{url}/accept" not in page


def test_a_party_official_sees_the_case_but_not_the_committees_forms(
    app, analyst, official, file_dispute, create_member, console_login, form_token
):
    dispute = file_dispute()
    member = create_member()
    services.accept_dispute(actor=analyst, dispute=dispute)
    db.session.commit()
    client = console_login(official)
    url = f"/console/disputes/{dispute.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'data-state="accepted"' in page
    assert f"{url}/mediators" not in page and f"{url}/start-mediation" not in page
    assert f"{url}/withdraw" in page  # the filing side may withdraw
    refused = client.post(
        f"{url}/mediators", data={"csrf_token": form_token(client, url), "member_id": member.id}
    )
    assert refused.status_code == 403
    db.session.expire_all()
    assert services.get_dispute(viewer=analyst, dispute_id=dispute.id).mediators == []


def test_the_ministry_appoints_and_ends_committee_members(
    app, analyst, create_user, console_login, form_token
):
    # Serving since last month: ended today, yesterday is the last day.
    chair = services.add_committee_member(
        actor=analyst,
        user_id=analyst.id,
        role=MemberRole.CHAIR,
        qualification=Qualification.SENIOR_OFFICIAL,
        affiliation="행정안전부",
        appointed_on=seoul_today() - timedelta(days=30),
    )
    db.session.commit()
    client = console_login(analyst)
    url = "/console/ministry/committee"
    token = form_token(client, url)
    second_chair = client.post(
        f"{url}/members",
        data={
            "csrf_token": token,
            "user_id": create_user(Role.ANALYST).id,
            "role": "chair",
            "qualification": "senior_official",
            "affiliation": "행정안전부",
        },
    )
    assert second_chair.status_code == 422
    assert "위원장이 이미 있습니다." in second_chair.get_data(as_text=True)
    practitioner = create_user(Role.CITIZEN)
    too_new = {
        "csrf_token": token,
        "user_id": practitioner.id,
        "qualification": "practitioner",
        "affiliation": "마을공동체지원센터",
        "years_of_experience": "4",
    }
    refused = client.post(f"{url}/members", data=too_new)
    assert refused.status_code == 422
    assert "분쟁조정위원 자격 요건을 충족하지 않습니다." in refused.get_data(as_text=True)
    added = client.post(f"{url}/members", data={**too_new, "years_of_experience": "12"})
    assert added.status_code == 303, added.get_data(as_text=True)[:1500]
    assert "마을공동체지원센터" in client.get(url).get_data(as_text=True)

    ended = client.post(f"{url}/members/{chair.id}/end", data={"csrf_token": token})
    assert ended.status_code == 303
    db.session.expire_all()
    serving = {m.user_id for m in services.committee_members()}
    assert serving == {practitioner.id}
    assert db.session.get(MediationMember, chair.id).ended_on is not None


def test_officials_read_the_committee_but_may_not_change_it(
    app, official, create_member, console_login, form_token, count_rows
):
    member = create_member()
    client = console_login(official)
    url = "/console/ministry/committee"
    page = client.get(url)
    assert page.status_code == 200 and "한국행정연구원" in page.get_data(as_text=True)
    assert f"{url}/members" not in page.get_data(as_text=True)
    token = form_token(client, "/console/ministry")
    assert (
        client.post(f"{url}/members/{member.id}/end", data={"csrf_token": token}).status_code == 403
    )
    before = count_rows(MediationMember)
    added = client.post(
        f"{url}/members",
        data={
            "csrf_token": token,
            "user_id": official.id,
            "qualification": "academic",
            "affiliation": "x",
        },
    )
    assert added.status_code == 403 and count_rows(MediationMember) == before


def test_the_ministry_selects_a_case_and_the_official_files_its_follow_up(
    app, analyst, official, create_project, console_login, form_token, clock
):
    project = create_project()
    client = console_login(analyst)
    token = form_token(client, "/console/ministry")
    assert f'value="{project.id}"' in client.get("/console/ministry").get_data(as_text=True)
    created = client.post(
        "/console/ministry/cases",
        data={
            "csrf_token": token,
            "project_id": project.id,
            "contest_year": "2024",
            "award": "우수상",
            "category": "복지",
            "note": "주민 주도 돌봄",
        },
    )
    assert created.status_code == 303, created.get_data(as_text=True)[:1500]
    case = db.session.query(SelectedCase).filter_by(project_id=project.id).one()
    assert created.headers["Location"].startswith(f"/console/ministry/cases/{case.id}")
    duplicate = client.post(
        "/console/ministry/cases",
        data={
            "csrf_token": token,
            "project_id": project.id,
            "contest_year": "2024",
            "award": "대상",
            "category": "복지",
        },
    )
    assert duplicate.status_code == 422

    town = console_login(official)
    url = f"/console/ministry/cases/{case.id}"
    filed = town.post(
        f"{url}/follow-ups",
        data={
            "csrf_token": form_token(town, url),
            "year": "2025",
            "still_running": "true",
            "note": "오프라인 운영",
        },
    )
    assert filed.status_code == 303, filed.get_data(as_text=True)[:1500]
    follow_up = db.session.query(FollowUp).filter_by(case_id=case.id).one()
    assert follow_up.still_running and follow_up.still_running_source == Source.MUNICIPALITY
    assert "오프라인 운영" in town.get(url).get_data(as_text=True)
    assert (
        town.post(
            "/console/ministry/cases",
            data={
                "csrf_token": form_token(town, url),
                "project_id": project.id,
                "contest_year": "2023",
                "award": "x",
                "category": "y",
            },
        ).status_code
        == 403
    )


def test_the_ministry_adds_a_course_with_the_programme_rules(
    app, analyst, console_login, form_token, count_rows
):
    client = console_login(analyst)
    token = form_token(client, "/console/ministry")
    course = {
        "csrf_token": token,
        "title": "공동생산 기초과정 (상반기)",
        "level": "basic",
        "audience": "officials",
        "host": "ministry",
        "starts_on": "2026-09-01",
        "days": "1",
        "capacity": "40",
        "place": "지방자치인재개발원",
    }
    refused = client.post("/console/ministry/courses", data=course)
    assert refused.status_code == 422 and count_rows(Course) == 0
    assert "기초과정은 상반기 1일" in refused.get_data(as_text=True)
    created = client.post("/console/ministry/courses", data={**course, "starts_on": "2026-05-12"})
    assert created.status_code == 303, created.get_data(as_text=True)[:1500]
    assert "/console/ministry/courses/" in created.headers["Location"]
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "공동생산 기초과정 (상반기)" in page and "지방자치인재개발원" in page


def test_the_console_edit_form_corrects_and_clears_the_note(
    app, analyst, official, create_selected_case, console_login, form_token
):
    case = create_selected_case()
    client = console_login(analyst)
    url = f"/console/ministry/cases/{case.id}"
    token = form_token(client, url)
    saved = client.post(
        f"{url}/edit",
        data={"csrf_token": token, "award": "대상", "category": "안전·재난", "note": "메모"},
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)[:1500]
    assert "대상 · 안전·재난" in client.get(url).get_data(as_text=True)
    cleared = client.post(
        f"{url}/edit", data={"csrf_token": token, "award": "대상", "category": "안전·재난"}
    )
    assert cleared.status_code == 303
    db.session.expire_all()
    assert db.session.get(SelectedCase, case.id).note == ""
    bad = client.post(f"{url}/edit", data={"csrf_token": token, "award": "x" * 101})
    assert bad.status_code == 422

    town = console_login(official)
    page = town.get(url).get_data(as_text=True)
    assert f"{url}/edit" not in page
    refused = town.post(
        f"{url}/edit", data={"csrf_token": form_token(town, url), "award": "남이 고친 상"}
    )
    assert refused.status_code == 403

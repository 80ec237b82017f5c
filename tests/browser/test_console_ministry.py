"""The ministry's console pages in a real browser, on the demo rows: a dispute run through
mediator assignment and a hearing to a settlement, the mediation committee changed, a selected
case corrected, funded and followed up, a good case selected; a municipal official refused; and
an axe-core scan of the dispute, selected case, course and committee pages (screenshots).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.ministry.demo import DISPUTE_IN_HEARING, PAST_COURSE
from tests.browser.api import Api
from tests.browser.conftest import assert_accessible, save_screenshot
from tests.browser.test_console import console_login, local

pytestmark = pytest.mark.browser
SEOUL = ZoneInfo("Asia/Seoul")
ID = r"[0-9A-Z]{26}"


def _ids(live_server: str) -> dict[str, str]:
    """The demo rows' ids, read through the API as the ministry's analyst."""
    analyst = Api(live_server, "analyst@mois.example")
    disputes = analyst.call("GET", "/api/v1/disputes?limit=100")["items"]
    courses = analyst.call("GET", "/api/v1/courses?limit=100")["items"]
    cases = analyst.call("GET", "/api/v1/selected-cases?limit=100")["items"]
    return {
        "dispute": next(d["id"] for d in disputes if d["subject"] == DISPUTE_IN_HEARING),
        "course": next(c["id"] for c in courses if c["title"] == PAST_COURSE),
        "case": next(c["id"] for c in cases if c["award"] == "최우수상"),
    }


def test_the_ministry_runs_a_dispute_through_mediation(tablet_page, live_server):
    page = tablet_page
    official = Api(live_server, "official@gangnam.example")
    project = official.call("GET", "/api/v1/projects")["items"][0]
    filed = official.call(
        "POST",
        "/api/v1/disputes",
        {
            "project_id": project["id"],
            "subject": "브라우저 시험 분쟁",
            "claims": "위탁 운영 범위를 두고 이견이 있습니다.",
            "external_parties": [{"name": "시험 주식회사", "kind": "company"}],
        },
    )

    console_login(page, "analyst@mois.example")
    page.goto("/console/ministry")
    page.get_by_role("link", name="브라우저 시험 분쟁").click()
    page.wait_for_url(re.compile(rf"/console/disputes/{filed['id']}$"))
    assert page.locator('[data-state="filed"]').count() == 1
    assert page.locator("#assign-mediator").count() == 0  # not before the case is accepted
    page.get_by_role("button", name="진행: 수리", exact=True).click()
    page.wait_for_url(re.compile(r"\?saved=1"))
    assert page.locator('[data-state="accepted"]').count() == 1

    page.get_by_role("button", name="진행: 조정 중", exact=True).click()
    assert "조정위원을 먼저 지정해 주세요." in page.locator(".errors").inner_text()
    page.locator("#mediator").select_option(index=0)
    chosen = page.locator("#mediator option").first.inner_text().split(" — ")[0]
    page.get_by_role("button", name="조정위원 지정").click()
    page.wait_for_url(re.compile(r"\?saved=1"))
    assert chosen in page.locator("#mediators").inner_text()
    page.get_by_role("button", name="진행: 조정 중", exact=True).click()
    page.wait_for_url(re.compile(r"\?saved=1"))
    assert page.locator('[data-state="in_mediation"]').count() == 1

    page.get_by_text("조정 기일 지정").click()
    starts = (datetime.now(SEOUL) + timedelta(days=10)).replace(hour=14, minute=0)
    page.get_by_label("시작 일시").fill(local(starts))
    page.get_by_label("종료 일시").fill(local(starts + timedelta(hours=2)))
    page.get_by_label("장소").fill("정부세종청사 6동 회의실")
    page.get_by_label("안건").fill("양측 의견 청취")
    assert_accessible(page)
    page.get_by_role("button", name="기일 지정").click()
    page.wait_for_url(re.compile(r"\?saved=1"))
    hearings = page.locator("#hearings").inner_text()
    assert "정부세종청사 6동 회의실" in hearings and starts.strftime("%Y-%m-%d 14:00") in hearings

    page.get_by_label("조정 내용").fill("위탁 범위를 협약 부속서로 정합니다.")
    page.get_by_role("button", name="진행: 조정 성립", exact=True).click()
    page.wait_for_url(re.compile(r"\?saved=1"))
    assert page.locator('[data-state="settled"]').count() == 1
    case = official.call("GET", f"/api/v1/disputes/{filed['id']}")
    assert case["state"] == "settled" and len(case["mediators"]) == 1
    assert case["hearings"][0]["place"] == "정부세종청사 6동 회의실"


def test_the_ministry_changes_the_committee(tablet_page, live_server):
    page = tablet_page
    newcomer = Api(live_server, "citizen2@gangnam.example").call("GET", "/api/v1/me")["id"]
    console_login(page, "analyst@mois.example")
    page.goto("/console/ministry")
    page.get_by_role("link", name="위원 위촉·해촉").click()
    page.wait_for_url(re.compile(r"/console/ministry/committee$"))
    assert page.locator('#members tr[data-role="chair"]').count() == 1

    form = page.locator("#member-add")
    form.get_by_label("사용자 ID").fill(newcomer)
    form.get_by_label("직위").select_option("chair")
    form.get_by_label("자격").select_option("practitioner")
    form.get_by_label("소속").fill("마을공동체지원센터")
    form.get_by_label("경력 (년)").fill("12")
    form.get_by_label("위촉일").fill(str(datetime.now(SEOUL).date() - timedelta(days=10)))
    form.get_by_role("button", name="위원 위촉").click()
    assert "위원장이 이미 있습니다." in page.locator(".errors").inner_text()
    assert_accessible(page)

    form.get_by_label("직위").select_option("member")
    form.get_by_label("경력 (년)").fill("4")
    form.get_by_role("button", name="위원 위촉").click()
    assert "자격 요건" in page.locator(".errors").inner_text()
    form.get_by_label("경력 (년)").fill("12")
    form.get_by_role("button", name="위원 위촉").click()
    page.wait_for_url(re.compile(r"\?saved=1"))
    row = page.locator("#members tr", has_text="마을공동체지원센터")
    assert row.count() == 1

    row.get_by_role("button", name=re.compile("해촉")).click()
    page.wait_for_url(re.compile(r"\?saved=1"))
    assert page.locator("#members tr", has_text="마을공동체지원센터").count() == 0
    members = Api(live_server, "official@gangnam.example").call(
        "GET", "/api/v1/mediation/committee"
    )["members"]
    assert all(m["user_id"] != newcomer for m in members)


def test_the_ministry_edits_a_case_adds_funding_and_a_follow_up_and_selects_one(
    tablet_page, live_server
):
    page = tablet_page
    ids = _ids(live_server)
    year = datetime.now(SEOUL).year
    suwon = Api(live_server, "official@suwon.example").call("GET", "/api/v1/projects")["items"]
    suwon_project = suwon[0]["id"]
    console_login(page, "analyst@mois.example")
    page.goto(f"/console/ministry/cases/{ids['case']}")
    assert page.locator("#follow-ups tr[data-year]").count() == 1
    page.get_by_text("선정 내용 수정").click()
    edit = page.locator("#case-edit")
    edit.get_by_label("부문").fill("안전·재난")
    edit.get_by_label("비고").fill("주민 순찰대와 구청이 함께 위험 구간을 고친 사례 (정정)")
    edit.get_by_role("button", name="저장").click()
    page.wait_for_url(re.compile(r"\?saved=1"))
    assert "최우수상 · 안전·재난" in page.locator("#case-summary").inner_text()
    funding = page.locator("#funding-new")
    funding.get_by_label("연도").fill(str(year))
    funding.get_by_label("금액 (원)").fill("20000000")
    funding.get_by_label("용도").fill("다른 지자체 전파 교육")
    funding.get_by_role("button", name="지원 기록").click()
    page.wait_for_url(re.compile(r"\?saved=1"))
    assert page.locator("#funding-total").inner_text() == "70,000,000"

    page.get_by_text("사후 관리 제출").first.click()
    follow_up = page.locator("#follow-up-new")
    follow_up.get_by_label("연도").fill(str(year))
    follow_up.get_by_label("사업 지속").select_option("true")
    follow_up.get_by_label("비고").fill("올해도 계속")
    follow_up.get_by_role("button", name="사후 관리 제출").click()
    page.wait_for_url(re.compile(r"\?saved=1"))
    assert "올해도 계속" in page.locator(f'#follow-ups tr[data-year="{year}"]').inner_text()

    page.goto("/console/ministry")
    page.get_by_text("우수사례 선정 등록").click()
    form = page.locator("#case-new")
    form.get_by_label("사업").select_option(suwon_project)
    form.get_by_label("공모 연도").fill(str(year - 1))
    form.get_by_label("시상").fill("우수상")
    form.get_by_label("부문").fill("청년")
    form.get_by_role("button", name="만들기").click()
    page.wait_for_url(re.compile(rf"/console/ministry/cases/{ID}\?saved=1"))
    assert "우수상" in page.locator("#case-summary").inner_text()


def test_a_municipal_official_is_refused_the_ministrys_pages(page, live_server):
    ids = _ids(live_server)
    console_login(page, "official@suwon.example")
    assert page.goto(f"/console/disputes/{ids['dispute']}").status == 404
    assert page.goto(f"/console/ministry/cases/{ids['case']}").status == 404
    assert page.goto(f"/console/ministry/courses/{ids['course']}").status == 403
    assert_accessible(page)
    answer = page.goto("/console/ministry/committee")
    assert answer.status == 200 and page.locator("#member-add").count() == 0
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    refused = page.request.post(
        "/console/ministry/committee/members",
        form={
            "csrf_token": token,
            "user_id": "0" * 26,
            "qualification": "academic",
            "affiliation": "남의 위원회",
        },
    )
    assert refused.status == 403

    # The Gangnam official is a party: reads the case, but the committee's forms are not theirs.
    page.context.clear_cookies()
    console_login(page, "official@gangnam.example")
    page.goto(f"/console/disputes/{ids['dispute']}")
    assert page.locator('[data-state="in_mediation"]').count() == 1
    assert page.locator("#assign-mediator, #schedule-hearing").count() == 0
    assert page.get_by_role("button", name="진행: 조정 성립", exact=True).count() == 0
    refused = page.request.post(
        f"/console/disputes/{ids['dispute']}/settle",
        form={"csrf_token": token_of(page), "terms": "혼자 정한 조정"},
    )
    assert refused.status == 403


def token_of(page) -> str:
    return page.locator('input[name="csrf_token"]').first.get_attribute("value")


def test_the_ministry_pages_pass_axe_with_the_demo_rows(tablet_page, live_server):
    page = tablet_page
    ids = _ids(live_server)
    console_login(page, "analyst@mois.example")
    for path, screenshot in (
        ("/console/ministry", None),
        (f"/console/disputes/{ids['dispute']}", "console-dispute"),
        (f"/console/ministry/cases/{ids['case']}", None),
        (f"/console/ministry/courses/{ids['course']}", None),
        ("/console/ministry/committee", "console-mediation-committee"),
        (f"/console/disputes/{ids['dispute']}?lang=en", None),
    ):
        answer = page.goto(path)
        assert answer.status == 200, path
        for summary in page.locator("details > summary").all():
            summary.click()  # scan the folded forms too
        assert_accessible(page)
        if screenshot:
            save_screenshot(page, screenshot)
    page.goto(f"/console/ministry/courses/{ids['course']}?lang=ko")
    assert page.locator('#roll tr[data-status="completed"]').count() == 1
    assert page.locator('#roll tr[data-status="enrolled"]').count() == 2
    # The last learner has no attendance yet: mark day 1 (the course took place weeks ago).
    last = page.locator('#roll tr[data-status="enrolled"]').last
    assert last.locator("td").nth(2).inner_text() == ""
    last.get_by_role("button", name="출석", exact=True).click()
    page.wait_for_url(re.compile(r"\?saved=1"))
    last = page.locator('#roll tr[data-status="enrolled"]').last
    assert last.locator("td").nth(2).inner_text() == "1"

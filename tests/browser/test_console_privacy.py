"""Personal data in the console, in a real browser: an official's look at a citizen is recorded
and an admin finds it by the citizen; the monthly review, the consent texts, a guardian's
consent, the dormancy policy; refusals; an axe-core scan of every new page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.cli import DEMO_PASSWORD
from backend.privacy.consents import CONSENT_TEXTS
from tests.browser.api import Api
from tests.browser.conftest import assert_accessible
from tests.browser.test_console import console_login

pytestmark = pytest.mark.browser
SEOUL = ZoneInfo("Asia/Seoul")


def _me(live_server: str, email: str) -> dict:
    return Api(live_server, email).call("GET", "/api/v1/me")


def _switch(page, email: str) -> None:
    page.context.clear_cookies()
    console_login(page, email)


def test_an_admin_finds_who_looked_at_a_citizen(tablet_page, live_server):
    page = tablet_page
    citizen = _me(live_server, "citizen1@gangnam.example")
    official = _me(live_server, "official@gangnam.example")
    console_login(page, "official@gangnam.example")
    page.goto(f"/console/citizens/{citizen['id']}")
    # The name as every other view of a person shows it: masked.
    assert page.get_by_role("heading", level=1).inner_text() == "홍*동"
    assert "홍길동" not in page.locator("main").inner_text()
    assert page.locator("#consents tbody tr").count() == len(CONSENT_TEXTS)
    assert page.locator('#consents tr[data-purpose="service"][data-granted="yes"]').count() == 1
    # Officials do not read the access records: no link to them.
    assert page.locator("#who-looked").count() == 0
    assert_accessible(page)

    _switch(page, "admin@demo.example")
    page.get_by_role("link", name="개인정보 접속기록").first.click()
    page.wait_for_url(re.compile(r"/console/admin/access-records$"))
    assert_accessible(page)
    page.get_by_label("대상 시민 (계정 번호)").fill(citizen["id"])
    a_year_ago = datetime.now(SEOUL).date() - timedelta(days=365)
    page.get_by_label("시작일").fill(a_year_ago.isoformat())
    page.get_by_role("button", name="조회").click()
    page.wait_for_url(re.compile(rf"subject_id={citizen['id']}"))
    rows = page.locator('#access-records tr[data-resource="user.rewards"]')
    assert rows.count() >= 1
    assert official["id"][-6:] in rows.first.inner_text()
    assert "공무원" in rows.first.inner_text()
    assert page.locator('#access-records tr[data-resource="user.consents"]').count() >= 1
    assert_accessible(page)
    # The same answer from the citizen's page, one click for an admin.
    page.goto(f"/console/citizens/{citizen['id']}")
    page.locator("#who-looked").click()
    page.wait_for_url(re.compile(rf"subject_id={citizen['id']}&since="))
    assert page.locator('#access-records tr[data-resource="user.rewards"]').count() >= 2

    month = datetime.now(SEOUL).strftime("%Y-%m")
    page.get_by_role("link", name="월간 점검").click()
    page.wait_for_url(re.compile(r"/access-records/review"))
    page.get_by_label("점검 월").fill(month)
    page.get_by_role("button", name="조회").click()
    page.wait_for_url(re.compile(rf"month={month}"))
    assert int(page.locator('[data-total="records"]').inner_text()) >= 3
    assert_accessible(page)

    page.get_by_role("link", name="동의 문구").click()
    page.wait_for_url(re.compile(r"/console/admin/consents$"))
    for purpose, text in CONSENT_TEXTS.items():
        section = page.locator(f'section[data-purpose="{purpose}"]')
        assert section.locator(f'[data-version="{text.version}"]').count() == 1
    assert_accessible(page)

    page.goto("/console/admin/access-records?lang=en")
    assert page.get_by_role("heading", level=1).inner_text() == "Access records"
    assert_accessible(page)
    page.goto("/console/admin/access-records?lang=ko")


def test_an_official_records_a_guardians_consent_and_the_dormancy_policy(tablet_page, live_server):
    page = tablet_page
    anonymous = Api(live_server)
    gangnam = next(
        m for m in anonymous.call("GET", "/api/v1/municipalities") if m["code"] == "11680"
    )
    child = anonymous.call(
        "POST",
        "/api/v1/auth/register",
        {
            "email": "child@gangnam.example",
            "password": DEMO_PASSWORD,
            "display_name": "김어린",
            "municipality_id": gangnam["id"],
            "birth_year": datetime.now(SEOUL).year - 10,
            "consents": [
                {"purpose": p, "version": t.version, "granted": t.required}
                for p, t in CONSENT_TEXTS.items()
            ],
        },
    )
    console_login(page, "official@gangnam.example")
    page.goto(f"/console/citizens/{child['id']}")
    assert page.locator('#guardian-state[data-guardian="needed"]').count() == 1
    assert page.locator('#consents tr[data-purpose="photos"][data-granted="no"]').count() == 1
    assert_accessible(page)
    page.get_by_label("동의를 받은 방법").select_option("phone_call")
    page.get_by_label("관계").fill("모")
    page.get_by_role("button", name="법정대리인 동의 기록").click()
    page.wait_for_url(re.compile(r"saved=1"))
    assert page.locator('#guardian-state[data-guardian="recorded"]').count() == 1
    assert_accessible(page)

    page.get_by_role("link", name="휴면 정책").first.click()
    page.wait_for_url(re.compile(r"/console/privacy/dormancy$"))
    assert_accessible(page)
    page.get_by_label("미사용 기간 (개월)").fill("12")
    page.get_by_label("이후 처리").select_option("restrict")
    page.get_by_label("사전 알림 (일 전)").fill("30")
    page.get_by_role("button", name="저장").click()
    page.wait_for_url(re.compile(r"saved=1"))
    assert page.locator('#dormancy-state[data-policy="set"]').count() == 1
    assert_accessible(page)

    page.get_by_role("link", name="본인확인 수준").click()
    page.wait_for_url(re.compile(r"/console/privacy/assurance$"))
    assert_accessible(page)
    row = page.locator("#assurance-committee tbody tr[data-target]").first
    target = row.get_attribute("data-target")
    row.locator("select").select_option("2")
    row.get_by_role("button", name="저장").click()
    page.wait_for_url(re.compile(r"saved=1"))
    assert page.locator(f'tr[data-target="{target}"]').get_attribute("data-level") == "2"
    assert_accessible(page)

    _switch(page, "analyst@mois.example")
    page.goto(f"/console/privacy/dormancy?municipality_id={gangnam['id']}")
    assert page.locator('#dormancy-state[data-policy="set"]').count() == 1
    # Analysts read the policy; only officials and admins set it (the API's rule).
    assert page.locator('input[name="inactive_months"]').count() == 0
    assert_accessible(page)


def test_other_municipalities_officials_and_citizens_are_refused(page, live_server):
    citizen = _me(live_server, "citizen1@gangnam.example")
    page.goto("/console/login")
    page.get_by_label(re.compile("이메일")).fill("citizen1@gangnam.example")
    page.get_by_label("비밀번호").fill(DEMO_PASSWORD)
    with page.expect_response(re.compile(r"/console/login$")) as answer:
        page.get_by_role("button", name="로그인").click()
    assert answer.value.status == 403
    assert page.goto("/console/admin/access-records").url.endswith(
        "/console/login?next=/console/admin/access-records"
    )

    console_login(page, "official@suwon.example")
    assert page.goto(f"/console/citizens/{citizen['id']}").status == 404
    assert_accessible(page)
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    refused = page.request.post(
        f"/console/citizens/{citizen['id']}/guardian-consent",
        form={"csrf_token": token, "method": "in_person", "relation": "모"},
    )
    assert refused.status == 404
    for path in (
        "/console/admin/access-records",
        "/console/admin/access-records/review",
        "/console/admin/consents",
    ):
        assert page.goto(path).status == 403, path
    assert_accessible(page)
    # The menu offers an official no access records.
    assert page.get_by_role("link", name="개인정보 접속기록").count() == 0

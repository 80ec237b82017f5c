"""The verifier app (/verify/) checks certificates in the browser, also with the network off."""

from __future__ import annotations

import base64
import json
import time

import pytest

from backend.certification.token import decode_qr_text
from tests.browser.api import Api
from tests.browser.conftest import assert_accessible, save_screenshot

HOLDER = "citizen1@gangnam.example"


@pytest.fixture(scope="module")
def demo_certificate(live_server: str) -> dict:
    """홍길동's demo certificate, as its holder sees it (with the QR text)."""
    items = Api(live_server, HOLDER).call("GET", "/api/v1/me/certificates")["items"]
    return next(item for item in items if item["status"] == "active")


def open_app(page) -> None:
    """Open the app and wait until it has its trust data."""
    page.goto("/verify/")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_function("document.getElementById('trust-refreshed').dataset.refreshedAt !== ''")


def check_text(page, text: str) -> str:
    """Paste text, press the check button, answer the status shown."""
    if not page.is_visible("#paste-text"):
        page.click("#again-button")
    page.fill("#paste-text", text)
    page.click("#paste-submit")
    page.wait_for_selector("#screen-result:not([hidden])")
    return page.get_attribute("#result-status", "data-status")


def test_paste_valid_then_offline_still_valid(page, demo_certificate) -> None:
    open_app(page)
    assert page.inner_text("#trust-refreshed").startswith("신뢰 정보 갱신:")
    assert_accessible(page)
    save_screenshot(page, "verifier-home")

    assert check_text(page, demo_certificate["qr_text"]) == "valid"
    assert page.get_attribute("#result-panel", "data-tone") == "green"
    assert page.inner_text("#result-status") == "유효"
    assert page.inner_text("[data-field=field_holder]") == "홍*동"
    assert page.inner_text("[data-field=field_municipality]") == "강남구"
    assert page.inner_text("[data-field=field_kind]") == "모범시민증"
    outcomes = page.eval_on_selector_all(
        "#result-checks li", "els => els.map(e => [e.dataset.check, e.dataset.outcome])"
    )
    assert dict(outcomes) == {
        "format": "ok",
        "key": "ok",
        "signature": "ok",
        "revocation": "ok",
        "validity": "ok",
    }
    assert_accessible(page)
    save_screenshot(page, "verifier-valid")

    # The service worker has the shell: the app opens and checks with the network off.
    page.evaluate("navigator.serviceWorker.ready")
    refreshed = page.get_attribute("#trust-refreshed", "data-refreshed-at")
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.is_visible("#offline-banner")
    assert check_text(page, demo_certificate["qr_text"]) == "valid"
    # A refresh that fails offline moves nothing.
    page.click("#again-button")
    page.click("#refresh-button")
    page.wait_for_function("!document.getElementById('refresh-button').disabled")
    assert page.get_attribute("#trust-refreshed", "data-refreshed-at") == refreshed
    assert_accessible(page)
    save_screenshot(page, "verifier-offline")


def test_english_switch(page, demo_certificate) -> None:
    open_app(page)
    page.click("#language")
    assert page.get_attribute("html", "lang") == "en"
    assert check_text(page, demo_certificate["qr_text"]) == "valid"
    assert page.inner_text("#result-status") == "Valid"
    assert page.inner_text("[data-field=field_municipality]") == "Gangnam-gu"
    page.click("#language")
    assert page.inner_text("#result-status") == "유효"


def _tampered(qr_text: str) -> str:
    """The token with its expiry pushed a year on, keeping the old signature."""
    header, payload, signature = decode_qr_text(qr_text).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["e"] += 365 * 24 * 3600
    raw = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()
    forged = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_tampered_token_is_invalid_signature_and_junk_is_malformed(page, demo_certificate) -> None:
    open_app(page)
    assert check_text(page, _tampered(demo_certificate["qr_text"])) == "invalid_signature"
    assert page.get_attribute("#result-panel", "data-tone") == "red"
    # Nothing from a token whose signature fails is shown.
    assert page.query_selector("[data-field=field_holder]") is None
    assert_accessible(page)
    save_screenshot(page, "verifier-invalid-signature")
    assert check_text(page, "CPC1:/123") == "malformed"
    assert check_text(page, "hello") == "malformed"


def test_revoked_on_the_server_shows_revoked_after_a_refresh(page, live_server) -> None:
    official = Api(live_server, "official@gangnam.example")
    holder = Api(live_server, "citizen2@gangnam.example")
    me = holder.call("GET", "/api/v1/me")
    # The console's browser test may have issued this citizen a certificate already (one active
    # certificate per kind): revoke that one, or issue one.
    mine = holder.call("GET", "/api/v1/me/certificates")["items"]
    active = [c for c in mine if c["status"] == "active"]
    issued = (
        active[0]
        if active
        else official.call(
            "POST", "/api/v1/certificates", {"user_id": me["id"], "kind": "model_citizen"}
        )
    )
    qr_text = holder.call("GET", f"/api/v1/me/certificates/{issued['id']}")["qr_text"]
    open_app(page)
    assert check_text(page, qr_text) == "valid"

    page.context.set_offline(True)
    official.call("POST", f"/api/v1/certificates/{issued['id']}/revoke", {"reason": "분실 신고"})
    assert check_text(page, qr_text) == "valid"  # offline: the revocation is not known yet

    # Each server worker re-reads revocations at most every 2 s (OFFLINE_VERIFICATION.md).
    time.sleep(2.5)
    page.context.set_offline(False)
    page.click("#again-button")
    before = page.get_attribute("#trust-refreshed", "data-refreshed-at")
    page.click("#refresh-button")
    page.wait_for_function(
        f"document.getElementById('trust-refreshed').dataset.refreshedAt !== '{before}'"
    )
    assert check_text(page, qr_text) == "revoked"
    assert page.get_attribute("#result-panel", "data-tone") == "red"
    assert page.inner_text("[data-field=field_holder]") == "김*희"
    assert_accessible(page)
    save_screenshot(page, "verifier-revoked")


def test_stale_trust_data_says_valid_as_of_in_amber(page, demo_certificate) -> None:
    page.clock.install()
    open_app(page)
    page.context.set_offline(True)
    # 49 hours later (Playwright takes seconds here), past the 48-hour grace period.
    page.clock.set_system_time(page.evaluate("Date.now()") / 1000 + 49 * 3600)
    assert check_text(page, demo_certificate["qr_text"]) == "valid"
    assert page.get_attribute("#result-panel", "data-tone") == "amber"
    assert page.inner_text("#result-status").endswith("기준 유효")
    assert_accessible(page)
    save_screenshot(page, "verifier-stale")


def test_a_wrong_device_clock_is_called_wrong_not_the_certificate(page, demo_certificate) -> None:
    # The phone's clock is three hours behind: the certificate (issued when the demo data was
    # loaded) would read "not yet valid" by it, but the server's time seen at the refresh wins.
    page.clock.install(time=time.time() - 3 * 3600)
    open_app(page)
    assert page.is_visible("#clock-banner")
    assert "180분" in page.inner_text("#clock-banner")
    assert check_text(page, demo_certificate["qr_text"]) == "valid"
    assert page.get_attribute("#result-panel", "data-tone") == "green"
    assert_accessible(page)


def test_typed_issue_number(page, demo_certificate) -> None:
    open_app(page)
    number = demo_certificate["issue_number"]
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)
    page.fill("#number-text", typo)
    page.click("#number-submit")
    page.wait_for_selector("#number-error:not(:empty)")
    assert "올바르지 않습니다" in page.inner_text("#number-error")
    assert_accessible(page)

    page.fill("#number-text", number.replace("-", " "))
    page.click("#number-submit")
    page.wait_for_selector("#screen-result:not([hidden])")
    assert page.get_attribute("#result-status", "data-status") == "valid"
    assert page.inner_text("[data-field=field_number]") == number
    assert page.inner_text("[data-field=field_holder]") == "홍*동"
    assert page.get_attribute("#result-checks li", "data-check") == "online"
    assert_accessible(page)
    save_screenshot(page, "verifier-issue-number")

    page.click("#again-button")
    page.context.set_offline(True)
    page.fill("#number-text", number)
    page.click("#number-submit")
    assert "인터넷 연결이 필요" in page.inner_text("#number-error")


def test_no_trust_data_yet_says_so_instead_of_unknown_key(page, demo_certificate) -> None:
    # First opened with no network: no keys, so no certificate can be judged.
    page.goto("/verify/")
    page.wait_for_selector("body[data-ready=true]")
    page.evaluate("navigator.serviceWorker.ready")
    page.context.set_offline(True)
    page.evaluate("localStorage.clear()")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#paste-text", demo_certificate["qr_text"])
    page.click("#paste-submit")
    page.wait_for_selector("#paste-error:not(:empty)")
    assert "신뢰 정보를 아직 받지 못했습니다" in page.inner_text("#paste-error")
    assert page.is_hidden("#screen-result")

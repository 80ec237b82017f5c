"""The browser harness itself: the real server answers a real Chromium, and axe-core runs."""

from __future__ import annotations

import json

from tests.browser.conftest import assert_accessible


def test_chromium_reaches_the_live_server(page) -> None:
    answer = page.goto("/healthz")
    assert answer is not None and answer.status == 200
    assert json.loads(page.inner_text("body"))["status"] == "ok"


def test_axe_reports_a_serious_violation_when_there_is_one(page) -> None:
    # An image without alternative text and a form field without a label are serious
    # violations: the helper must catch them, or a clean scan of a real page proves nothing.
    page.set_content('<html lang="ko"><body><main><img src="data:,"><input></main></body></html>')
    try:
        assert_accessible(page)
    except AssertionError as error:
        assert "image-alt" in str(error) or "label" in str(error)
    else:
        raise AssertionError("axe-core found nothing on a page with known violations")

"""A certificate QR shown to the phone's camera: Chromium's fake camera plays the real PNG."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.api import Api
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    _guard_other_hosts,
    assert_accessible,
    save_screenshot,
)
from tests.browser.test_verifier_certificates import HOLDER, open_app


def qr_video(png: Path, target: Path) -> Path:
    """A short 640×480 y4m clip of the QR image on white, the way a phone camera would see it."""
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", str(png), "-vf"]
        + ["scale=-1:400:flags=neighbor,pad=640:480:(ow-iw)/2:(oh-ih)/2:white,format=yuv420p"]
        + ["-frames:v", "15", "-r", "15", str(target)],
        check=True,
    )
    return target


@pytest.fixture
def camera_page(browser, live_server: str, tmp_path: Path) -> Iterator[object]:
    """A phone page in a Chromium whose camera shows 홍길동's certificate QR (the real PNG)."""
    holder = Api(live_server, HOLDER)
    certificate = next(
        item
        for item in holder.call("GET", "/api/v1/me/certificates")["items"]
        if item["status"] == "active"
    )
    status, png, headers = holder.request("GET", f"/api/v1/certificates/{certificate['id']}/qr.png")
    assert status == 200 and headers["Content-Type"] == "image/png"
    (tmp_path / "qr.png").write_bytes(png)
    video = qr_video(tmp_path / "qr.png", tmp_path / "qr.y4m")
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS
        + [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    context = chromium.new_context(
        base_url=live_server,
        locale="ko-KR",
        viewport={"width": 360, "height": 740},
        timezone_id="Asia/Seoul",
        permissions=["camera"],
    )
    outside = _guard_other_hosts(context, live_server)
    yield context.new_page()
    context.close()
    chromium.close()
    assert outside == []


def test_camera_scan_of_the_real_qr_png_reads_valid(camera_page) -> None:
    page = camera_page
    open_app(page)
    page.click("#scan-button")
    page.wait_for_selector("#screen-scan:not([hidden])")
    assert_accessible(page)
    page.wait_for_selector("#screen-result:not([hidden])", timeout=20000)
    assert page.get_attribute("#result-status", "data-status") == "valid"
    assert page.inner_text("[data-field=field_holder]") == "홍*동"
    # The camera was let go once the code was read.
    assert page.evaluate("document.getElementById('scan-video').srcObject") is None
    save_screenshot(page, "verifier-camera-valid")

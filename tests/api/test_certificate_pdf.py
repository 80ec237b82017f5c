"""The printable certificate PDF: rendered by poppler, its QR read back by zxing-cpp."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from backend.permissions import Role
from tests.api.test_certification_api import verify

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def issued(client, clock, as_role, create_user, auth_headers):
    """(staff view, holder's view, (official, headers), holder's headers)."""
    official = as_role(Role.OFFICIAL)
    holder = create_user(Role.CITIZEN, display_name="홍길동")
    staff = client.post("/api/v1/certificates", headers=official[1], json={"user_id": holder.id})
    assert staff.status_code == 201
    headers = auth_headers(holder)
    mine = client.get(f"/api/v1/me/certificates/{staff.json['id']}", headers=headers)
    return staff.json, mine.json, official, headers


def _render(pdf: bytes, tmp_path) -> Image.Image:
    (tmp_path / "certificate.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", "certificate.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    return Image.open(tmp_path / "page.png")


def _fonts(pdf: bytes, tmp_path) -> str:
    (tmp_path / "fonts.pdf").write_bytes(pdf)
    return subprocess.run(
        ["pdffonts", "fonts.pdf"], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout


def test_the_holder_prints_it_and_its_qr_verifies(client, issued, tmp_path):
    staff, mine, _, holder_headers = issued
    path = f"/api/v1/certificates/{staff['id']}/certificate.pdf"
    answer = client.get(path, headers=holder_headers)
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    pdf = answer.get_data()
    page = _render(pdf, tmp_path)
    # A4 at 150 dpi: 1240 × 1754 pixels.
    assert abs(page.width - 1240) <= 2 and abs(page.height - 1754) <= 2
    found = zxingcpp.read_barcodes(page.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1
    assert found[0].text == mine["qr_text"]
    assert found[0].ec_level == "Q"
    # The rendered page is README's picture of the printable certificate.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.convert("L").resize((620, 877)).save(SCREENSHOTS / "certificate-pdf.png", optimize=True)
    assert verify(client, found[0].text)["status"] == "valid"
    fonts = _fonts(pdf, tmp_path)
    assert "Nanum" in fonts and "yes" in fonts.split("\n")[2]  # embedded (emb column)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "certificate.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for expected in ("모범시민증", "홍길동", staff["issue_number"], "/verify/", "진위 확인"):
        assert expected in text


def test_officials_print_it_others_cannot_and_revoked_is_refused(
    client,
    issued,
    as_role,
    create_municipality,
):
    staff, _, official, _ = issued
    path = f"/api/v1/certificates/{staff['id']}/certificate.pdf"
    assert client.get(path, headers=official[1]).status_code == 200
    _, stranger = as_role(Role.CITIZEN)
    answer = client.get(path, headers=stranger)
    assert (answer.status_code, answer.json["error"]["code"]) == (404, "certificate_not_found")
    _, elsewhere = as_role(Role.OFFICIAL, municipality=create_municipality())
    assert client.get(path, headers=elsewhere).status_code == 404
    assert client.get(path).status_code == 401
    client.post(
        f"/api/v1/certificates/{staff['id']}/revoke", headers=official[1], json={"reason": "분실"}
    )
    refused = client.get(path, headers=official[1])
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "certificate_revoked")


def test_a_server_without_the_font_answers_503_in_the_error_shape(app, client, issued):
    staff, _mine, _official, holder_headers = issued
    path = f"/api/v1/certificates/{staff['id']}/certificate.pdf"
    configured = app.config["CERTIFICATE_PDF_FONT"]
    app.config["CERTIFICATE_PDF_FONT"] = "/nonexistent/NanumGothic.ttf"
    try:
        answer = client.get(path, headers=holder_headers)
    finally:
        app.config["CERTIFICATE_PDF_FONT"] = configured
    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "service_unavailable"
    assert set(answer.json["error"]) == {"code", "message", "fields"}

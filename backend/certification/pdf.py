"""The printable certificate: one A4 page with the Korean font embedded and the QR at level Q.

fpdf2 embeds a subset of a TrueType font (NanumGothic from Debian's fonts-nanum by default,
`CERTIFICATE_PDF_FONT`), so the page prints the same on any printer. The QR is drawn at level Q
(25% of it may be lost to a fold or a stain) and large (about 7 cm) so a phone reads it on paper.
"""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF

from backend.certification.models import Certificate, CertificateKind
from backend.certification.qr import render_png
from backend.clock import SEOUL
from backend.errors import Unavailable

KIND_TITLES = {
    CertificateKind.MODEL_CITIZEN: ("모범시민증", "Model Citizen Certificate"),
    CertificateKind.COMMITTEE_MEMBER: ("시민위원 인증서", "Citizen Committee Member Certificate"),
}
_QR_MM = 70


class FontMissing(Unavailable):
    """The configured TrueType font is not installed (Debian: fonts-nanum): a 503 in the error
    shape, not a 500; the request was fine and works once the font is there."""


def _date(moment) -> str:
    day = moment.astimezone(SEOUL).date() if hasattr(moment, "astimezone") else moment
    return f"{day.year}년 {day.month}월 {day.day}일"


def render_certificate_pdf(
    certificate: Certificate, *, verify_url: str, font: str, bold_font: str | None = None
) -> bytes:
    """The certificate as a one-page A4 PDF (bytes) for its holder or an official to print."""
    regular = Path(font)
    if not regular.is_file():
        raise FontMissing(f"font file {regular} is missing (install fonts-nanum)")
    bold = Path(bold_font) if bold_font and Path(bold_font).is_file() else regular
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(KIND_TITLES[certificate.kind][0])
    pdf.set_creator("co-production participation platform")
    pdf.set_auto_page_break(False)
    pdf.add_font("Korean", "", str(regular))
    pdf.add_font("Korean", "B", str(bold))
    pdf.add_page()
    width = pdf.w - 2 * 20
    pdf.set_draw_color(11, 61, 145)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)

    title, title_en = KIND_TITLES[certificate.kind]
    municipality = certificate.municipality
    pdf.set_xy(20, 26)
    pdf.set_font("Korean", "B", 30)
    pdf.cell(width, 14, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(20)
    pdf.set_font("Korean", "", 12)
    pdf.cell(width, 8, title_en, align="C", new_x="LMARGIN", new_y="NEXT")

    rows = [
        ("성명 Name", certificate.holder.display_name),
        ("종류 Kind", title),
        ("발급 기관 Issuer", f"{municipality.region} {municipality.name}"),
        ("발급일 Issued", _date(certificate.issued_at)),
        ("유효기간 Valid until", _date(certificate.valid_until)),
        ("발급번호 Issue no.", certificate.printed_issue_number),
    ]
    pdf.set_y(62)
    for label, value in rows:
        pdf.set_x(30)
        pdf.set_font("Korean", "", 13)
        pdf.cell(55, 11, label)
        pdf.set_font("Korean", "B", 15)
        pdf.cell(width - 65, 11, value, new_x="LMARGIN", new_y="NEXT")

    qr = render_png(certificate.token, level="Q", box_size=10, border=4)
    top = 140
    pdf.image(io.BytesIO(qr), x=(pdf.w - _QR_MM) / 2, y=top, w=_QR_MM, h=_QR_MM)

    pdf.set_xy(20, top + _QR_MM + 8)
    pdf.set_font("Korean", "B", 13)
    pdf.cell(width, 8, "진위 확인 방법 How to verify", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Korean", "", 11)
    lines = [
        f"1. 휴대폰으로 {verify_url} 를 열고 ‘카메라로 QR 스캔’을 눌러 위 QR을 비추세요.",
        "   인터넷이 없어도 확인됩니다.",
        f"2. 또는 같은 화면에서 발급번호 {certificate.printed_issue_number} 를 입력하세요.",
        f"Open {verify_url} on a phone and scan the QR, or type the issue number.",
    ]
    for line in lines:
        pdf.set_x(20)
        pdf.multi_cell(width, 6.5, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(20, pdf.h - 32)
    pdf.set_font("Korean", "B", 14)
    pdf.cell(width, 8, f"{municipality.name}장", align="C")
    return bytes(pdf.output())

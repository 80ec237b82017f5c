"""The appointment letter (위촉장): one printable HTML page, every value escaped."""

from __future__ import annotations

from datetime import date
from html import escape

from backend.clock import SEOUL
from backend.committees.models import Appointment, AppointmentRole

ROLE_NAMES_KO = {
    AppointmentRole.CHAIR: "위원장",
    AppointmentRole.VICE_CHAIR: "부위원장",
    AppointmentRole.MEMBER: "위원",
}
ROLE_NAMES_EN = {
    AppointmentRole.CHAIR: "Chair",
    AppointmentRole.VICE_CHAIR: "Vice-chair",
    AppointmentRole.MEMBER: "Member",
}

_STYLE = """
  @page { size: A4; margin: 25mm; }
  body { font-family: "Noto Serif KR", "Batang", serif; color: #111; max-width: 170mm;
         margin: 0 auto; line-height: 1.7; word-break: keep-all; }
  h1 { text-align: center; font-size: 32pt; letter-spacing: 1em; margin: 20mm 0 15mm; }
  .number { text-align: right; font-size: 10pt; color: #444; }
  dl { display: grid; grid-template-columns: 30mm 1fr; gap: 2mm 4mm; font-size: 13pt; }
  dt { font-weight: bold; }
  .body { font-size: 15pt; margin: 15mm 0; text-align: justify; }
  .date, .issuer { text-align: center; font-size: 15pt; }
  .issuer { font-size: 20pt; font-weight: bold; margin-top: 10mm; }
  .en { color: #555; font-size: 9pt; margin-top: 20mm; }
"""


def _korean_date(value: date) -> str:
    return f"{value.year}년 {value.month}월 {value.day}일"


def render_appointment_letter(appointment: Appointment, *, municipality_name: str) -> str:
    """The letter as a complete HTML document, ready to print (or save as PDF) in a browser."""
    role_ko = ROLE_NAMES_KO[appointment.role]
    role_en = ROLE_NAMES_EN[appointment.role]
    committee = escape(appointment.committee.name)
    person = escape(appointment.user.display_name)
    place = escape(municipality_name)
    start, end = appointment.term_start, appointment.term_end
    issued = appointment.created_at.astimezone(SEOUL).date()
    return f"""<!DOCTYPE html>
<html lang="ko">
<head>
<meta charset="utf-8">
<title>위촉장 - {person}</title>
<style>{_STYLE}</style>
</head>
<body>
<p class="number">제 {escape(appointment.id)} 호</p>
<h1>위촉장</h1>
<dl>
  <dt>성명</dt><dd>{person}</dd>
  <dt>위원회</dt><dd>{committee}</dd>
  <dt>직위</dt><dd>{role_ko}</dd>
  <dt>임기</dt><dd>{_korean_date(start)} ~ {_korean_date(end)}</dd>
</dl>
<p class="body">귀하를 {committee}의 {role_ko}으로 위촉합니다.
귀하의 참여가 시민과 행정이 함께 만드는 공공서비스에 큰 힘이 되기를 기대합니다.</p>
<p class="date">{_korean_date(issued)}</p>
<p class="issuer">{place}</p>
<p class="en">Letter of appointment: {person} is appointed {role_en} of {committee},
term {start.isoformat()} to {end.isoformat()}, by {place}.</p>
</body>
</html>
"""

"""Paper at the venue: a printable attendance sheet (PDF) and the import of a filled-in paper
sign-in sheet (CSV), previewed row by row before anything is written."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, request
from PIL import Image, ImageDraw, ImageFont

from backend.api import participation as api
from backend.clock import SEOUL
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.i18n import error_text, label, t
from backend.console.pages import done, page
from backend.errors import DomainError
from backend.extensions import db
from backend.identity.models import User
from backend.identity.services import normalize_email, normalize_phone
from backend.participation import services

#: Biggest sign-in sheet accepted (a venue's paper list, not a bulk migration).
MAX_CSV_BYTES = 256 * 1024
MAX_CSV_ROWS = 1000
_TRUE = {"1", "y", "yes", "true", "o", "출석", "예"}


@dataclass
class SheetRow:
    """One line of the paper sheet and what recording it would do."""

    line: int
    who: str
    attended: bool
    user_id: str | None = None
    name: str = ""
    error: str | None = None


def _read_rows(text: str) -> list[SheetRow]:
    """The CSV's rows: `user_id`, `email` or `phone` names the citizen; `attended` optional."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    rows = []
    for line, record in enumerate(reader, start=2):
        if line - 1 > MAX_CSV_ROWS:
            break
        record = {(k or "").strip().lower(): (v or "").strip() for k, v in record.items()}
        who = record.get("user_id") or record.get("email") or record.get("phone") or ""
        attended = record.get("attended", "1").lower() in _TRUE
        rows.append(SheetRow(line=line, who=who, attended=attended))
    return rows


def find_user(who: str) -> tuple[str, str] | None:
    """(id, name) of the account an id, e-mail or phone names; None when there is none.

    Only finds an id: whether the citizen may be recorded here is the service's decision.
    """
    if "@" in who:
        condition = User.email == normalize_email(who)
    elif who.replace("-", "").replace("+", "").replace(" ", "").isdigit():
        condition = User.phone == normalize_phone(who)
    else:
        condition = User.id == who
    found = db.session.execute(
        sa.select(User.id, User.display_name).where(condition, User.deleted_at.is_(None))
    ).first()
    return None if found is None else (found[0], found[1])


def _resolve(row: SheetRow) -> None:
    if not row.who:
        row.error = t("sheet.no_citizen")
        return
    found = find_user(row.who)
    if found is None:
        row.error = error_text("user_not_found", "No such citizen in this municipality.")
        return
    row.user_id, row.name = found


def _run(activity: Any, rows: list[SheetRow], *, keep: bool) -> None:
    """Record each row through the service, each in its own savepoint; keep=False undoes all."""
    actor = current_user()
    for row in rows:
        _resolve(row)
        if row.error:
            continue
        savepoint = db.session.begin_nested()
        try:
            services.record_participation(
                actor=actor, activity=activity, user_id=row.user_id, attended=row.attended
            )
        except DomainError as error:
            row.error = error_text(error.code, error.message)
            savepoint.rollback()
            continue
        if keep:
            savepoint.commit()
        else:
            savepoint.rollback()


@bp.route("/activities/<activity_id>/import", methods=["GET", "POST"])
@mirrors(api.join_activity)
def activity_import(activity_id: str) -> Any:
    """Upload a filled-in sign-in sheet: preview every row's outcome, then import the good ones."""
    actor = current_user()
    activity = services.get_activity(viewer=actor, activity_id=activity_id)
    if request.method == "GET":
        return page("activity_import.html", activity=activity, rows=None, text="")
    upload = request.files.get("sheet")
    raw = upload.read(MAX_CSV_BYTES + 1) if upload else request.form.get("text", "").encode()
    if len(raw) > MAX_CSV_BYTES:
        errors = {"_message": [t("sheet.too_big")]}
        return page(
            "activity_import.html", 422, activity=activity, rows=None, text="", errors=errors
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp949", errors="replace")  # Korean Excel's CSV
    rows = _read_rows(text)
    keep = request.form.get("step") == "import"
    _run(activity, rows, keep=keep)
    if keep:
        written = sum(1 for row in rows if row.error is None)
        return done("console.activity", activity_id=activity.id, imported=written)
    db.session.rollback()  # the preview writes nothing, whatever the answer's status
    good = sum(1 for row in rows if row.error is None)
    return page("activity_import.html", activity=activity, rows=rows, text=text, good=good)


def _font(size: int) -> ImageFont.ImageFont:
    configured = current_app.config.get("CONSOLE_PDF_FONT")
    candidates = [configured] if configured else []
    candidates += [
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    ]
    for path in candidates:
        if path and Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


#: A4 at 150 dpi.
_PAGE = (1240, 1754)
_ROWS_PER_PAGE = 30


def attendance_sheet_pdf(activity: Any, participants: list[Any], blank_rows: int) -> bytes:
    """The sheet: number, name, status and a signature box per registrant, then blank rows."""
    lines = [(p.user.display_name, label("participation", p.status)) for p in participants]
    lines += [("", "")] * blank_rows
    title_font, font = _font(34), _font(26)
    pages = []
    for start in range(0, max(len(lines), 1), _ROWS_PER_PAGE):
        image = Image.new("RGB", _PAGE, "white")
        draw = ImageDraw.Draw(image)
        draw.text((80, 70), f"{activity.title} — {t('sheet.title')}", font=title_font, fill="black")
        when = activity.starts_at.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M")
        draw.text((80, 120), f"{when} · {activity.place or ''}", font=font, fill="black")
        columns = [
            (80, "#"),
            (160, t("common.name")),
            (560, t("common.status")),
            (800, t("sheet.signature")),
        ]
        y = 190
        for x, heading in columns:
            draw.text((x, y), heading, font=font, fill="black")
        draw.line((70, y + 40, 1170, y + 40), fill="black", width=2)
        for number, (name, status) in enumerate(lines[start : start + _ROWS_PER_PAGE], start + 1):
            y += 48
            draw.text((80, y + 8), str(number), font=font, fill="black")
            draw.text((160, y + 8), name, font=font, fill="black")
            draw.text((560, y + 8), status, font=font, fill="black")
            draw.line((70, y + 46, 1170, y + 46), fill="#888888", width=1)
            draw.rectangle((790, y + 4, 1160, y + 42), outline="#444444", width=1)
        pages.append(image)
    buffer = io.BytesIO()
    pages[0].save(buffer, format="PDF", save_all=True, append_images=pages[1:], resolution=150)
    return buffer.getvalue()


@bp.route("/activities/<activity_id>/sheet.pdf")
@mirrors(api.list_activity_participations, api.join_activity)
def activity_sheet(activity_id: str) -> Any:
    """The printable attendance sheet, with blank rows for walk-ins."""
    activity = services.get_activity(viewer=current_user(), activity_id=activity_id)
    participants = []
    cursor = None
    while True:  # every registrant, a page of the API's size at a time
        result = services.list_activity_participations(activity=activity, limit=100, cursor=cursor)
        participants += [
            p for p in result.items if p.status.value in ("registered", "attended", "confirmed")
        ]
        cursor = result.next_cursor
        if cursor is None or len(participants) > 2000:
            break
    participants.sort(key=lambda p: p.user.display_name)
    pdf = attendance_sheet_pdf(activity, participants, blank_rows=10)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="attendance-{activity.id}.pdf"'
    return response

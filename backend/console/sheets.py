"""Paper at the venue: a printable attendance sheet (PDF) and the import of a filled-in paper
sign-in sheet (CSV), previewed row by row before anything is written."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from flask import Response, current_app, request
from PIL import Image, ImageDraw, ImageFont

from backend.api import participation as api
from backend.api.access_log import user_ids
from backend.clock import SEOUL
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.i18n import label, t
from backend.console.jobs import job_answer, new_job_token, request_key, row_error
from backend.console.pages import page
from backend.console.privacy import log_access
from backend.extensions import db
from backend.jobs import services as jobs
from backend.jobs.models import JobKind
from backend.participation import services
from backend.participation.sheets import SheetRow, read_rows, record_sheet_row
from backend.privacy.models import AccessAction

#: Biggest sign-in sheet accepted (a venue's paper list, not a bulk migration).
MAX_CSV_BYTES = 256 * 1024


def _preview(activity: Any, rows: list[SheetRow]) -> None:
    """Record every row and undo each (the same path as the import), to show its outcome."""
    actor = current_user()
    for row in rows:
        record_sheet_row(actor=actor, activity=activity, row=row, keep=False)


def _import_page(activity: Any, status: int = 200, **context: Any) -> Response:
    context.setdefault("rows", None)
    context.setdefault("text", "")
    return page(
        "activity_import.html",
        status,
        activity=activity,
        row_error=row_error,
        job_token=new_job_token(),
        **context,
    )


@bp.route("/activities/<activity_id>/import", methods=["GET", "POST"])
@mirrors(api.join_activity)
def activity_import(activity_id: str) -> Any:
    """Upload a filled-in sign-in sheet: preview every row's outcome, then import the good ones
    (a job: at once when small, else by the worker with a progress page)."""
    actor = current_user()
    activity = services.get_activity(viewer=actor, activity_id=activity_id)
    if request.method == "GET":
        return _import_page(activity)
    upload = request.files.get("sheet")
    raw = upload.read(MAX_CSV_BYTES + 1) if upload else request.form.get("text", "").encode()
    if len(raw) > MAX_CSV_BYTES:
        return _import_page(activity, 422, errors={"_message": [t("sheet.too_big")]})
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp949", errors="replace")  # Korean Excel's CSV
    rows = read_rows(text)
    if request.form.get("step") == "import":
        job = jobs.start_job(
            actor=actor,
            kind=JobKind.SHEET_IMPORT,
            activity=activity,
            items=[row.as_item() for row in rows],
            request_key=request_key(),
        )
        # The refused rows were in the preview: a finished import goes back to the activity.
        return job_answer(job, refusals_seen=True, imported=job.done - job.failed)
    _preview(activity, rows)
    db.session.rollback()  # the preview writes nothing, whatever the answer's status
    good = sum(1 for row in rows if row.error is None)
    return _import_page(activity, rows=rows, text=text, good=good)


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
    # A printed list of names is a download of personal data: recorded with its reason, refused
    # without one (the sheet shows full names on purpose: people find and sign their own line).
    log_access(
        AccessAction.EXPORT,
        "activity.sheet",
        user_ids(participants),
        resource_id=activity.id,
        reason=request.args.get("reason"),
    )
    pdf = attendance_sheet_pdf(activity, participants, blank_rows=10)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="attendance-{activity.id}.pdf"'
    return response

"""Small helpers every console page module uses: rendering, redirects after a write, paging."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backend.clock import SEOUL
from backend.console import bp
from backend.console.i18n import t
from backend.privacy.masking import mask_email, mask_name_or_blank, mask_phone


def page(template: str, status: int = 200, **context: Any) -> Response:
    """A console page; `?saved=1` (set after a write) shows the saved notice."""
    notice = t("common.saved") if request.args.get("saved") else None
    context.setdefault("notice", notice)
    context.setdefault("errors", {})
    return make_response(render_template(f"console/{template}", **context), status)


def done(endpoint: str, **values: Any) -> Response:
    """After a successful write: see the result with a GET (303), with the saved notice."""
    return redirect(url_for(endpoint, saved=1, **values), code=303)


def page_args(**extra: Any) -> dict[str, Any]:
    """`limit` and `cursor` of a list page, as the API reads them."""
    args: dict[str, Any] = {"limit": 20, "cursor": request.args.get("cursor") or None}
    args.update(extra)
    return args


@bp.app_template_global()
def pager_args(**changes: Any) -> dict[str, Any]:
    """The current query string with some arguments changed (None drops one)."""
    args = {k: v for k, v in request.args.items() if k not in ("saved",)}
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return args


@bp.app_template_filter("seoul")
def seoul(value: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time as Seoul reads it (dates unchanged)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(SEOUL).strftime(fmt)
    return value.isoformat()


@bp.app_template_filter("local_input")
def local_input(value: datetime | None) -> str:
    """A time as `<input type="datetime-local">` wants it (Seoul, no offset)."""
    return "" if value is None else value.astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M")


# The one masking rule (backend.privacy.masking), as the API's schemas apply it: a page shows a
# person other than its viewer masked, exactly as the JSON and CSV answers do.
bp.add_app_template_filter(mask_name_or_blank, "masked_name")
bp.add_app_template_filter(mask_phone, "masked_phone")
bp.add_app_template_filter(mask_email, "masked_email")

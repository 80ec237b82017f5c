"""HTTP for the brief's reports: JSON, or CSV with `?format=csv` or `Accept: text/csv`.

Officials read their own municipality; analysts and admins read across all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response, request

from backend.api.auth import current_caller, requires
from backend.api.blueprint import Blueprint
from backend.ministry.indicators import indicator_report
from backend.participation import reports
from backend.participation.schemas import (
    IndicatorArgsSchema,
    IndicatorReportSchema,
    ProjectProfileSchema,
    ReportFormatArgsSchema,
    StageModeArgsSchema,
    StageModeReportSchema,
)
from backend.permissions import Role

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/api/v1",
    description="Co-production reports (stage modes, project profiles, indicators)",
)

REPORT_READERS = (Role.OFFICIAL, Role.ANALYST, Role.ADMIN)
#: The CSV form of each report, documented beside its JSON (same status code).
CSV_RESPONSE = {
    "schema": {"type": "string", "format": "binary"},
    "content_type": "text/csv",
    "description": "The report as JSON, or as CSV (UTF-8 with a BOM) with "
    "`?format=csv` or `Accept: text/csv`.",
    "success": True,
}


def csv_requested(args: dict[str, Any]) -> bool:
    """Whether the caller asked for CSV (`?format=csv` or `Accept: text/csv`)."""
    return args.get("format") == "csv" or request.accept_mimetypes.best == "text/csv"


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    """A CSV download, UTF-8 with a BOM so that spreadsheet programs read Korean right."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            ["" if v is None else str(v).lower() if isinstance(v, bool) else v for v in row]
        )
    response = Response(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blp.route("/reports/stage-modes", methods=["GET"])
@requires(*REPORT_READERS)
@blp.arguments(StageModeArgsSchema, location="query")
@blp.response(200, StageModeReportSchema)
@blp.alt_response(200, **CSV_RESPONSE)
def stage_modes(args: dict[str, Any]) -> Any:
    """The brief's stage table from live data: per stage, projects that were government-only,
    citizen-only, joint or unclear, with shares in percent (drafts are not counted)."""
    wants_csv = csv_requested(args)
    args.pop("format")
    report = reports.stage_mode_report(viewer=current_caller(), **args)
    return stage_mode_csv(report) if wants_csv else report


def stage_mode_csv(report: Any) -> Response:
    """The stage-mode table as CSV (also the console's download)."""
    columns = ["stage", "total"] + [
        m for m in ("government", "citizen", "joint", "unclear") for m in (m, f"{m}_percent")
    ]
    rows = [
        [getattr(row, c) if c != "stage" else row.stage.value for c in columns]
        for row in report.stages
    ]
    return csv_response(columns, rows, "stage-modes.csv")


@blp.route("/reports/projects/<project_id>/profile", methods=["GET"])
@requires(*REPORT_READERS)
@blp.arguments(ReportFormatArgsSchema, location="query")
@blp.response(200, ProjectProfileSchema)
@blp.alt_response(200, **CSV_RESPONSE)
def project_profile(args: dict[str, Any], project_id: str) -> Any:
    """One project's co-production profile: its four stages with mode, citizens and hours."""
    profile = reports.project_profile(viewer=current_caller(), project_id=project_id)
    if not csv_requested(args):
        return profile
    columns = [
        "stage",
        "mode",
        "derived_mode",
        "mode_overridden",
        "government_work_count",
        "activity_count",
        "confirmed_participations",
        "confirmed_citizens",
        "hours",
    ]
    rows = [
        [
            getattr(s, c).value if c in ("stage", "mode", "derived_mode") else getattr(s, c)
            for c in columns
        ]
        for s in profile.stages
    ]
    return csv_response(columns, rows, f"project-{project_id}-profile.csv")


_INDICATOR_COLUMNS = [
    "municipality_code",
    "municipality_name",
    "region",
    "year",
    "projects",
    "ordinance_enacted",
    "ordinances",
    "dedicated_department",
    "trainings_basic",
    "trainings_advanced",
    "participants_trained",
    "course_completions",
    "promotions",
    "promotion_channel_count",
    "exchanges",
    "exchanges_held",
]


@blp.route("/reports/indicators", methods=["GET"])
@requires(*REPORT_READERS)
@blp.arguments(IndicatorArgsSchema, location="query")
@blp.response(200, IndicatorReportSchema)
@blp.alt_response(200, **CSV_RESPONSE)
def indicators(args: dict[str, Any]) -> Any:
    """The brief's evaluation indicators per municipality: administrative support, capacity
    building, promotion, transparency and residents' satisfaction."""
    wants_csv = csv_requested(args)
    args.pop("format")
    items = indicator_report(viewer=current_caller(), **args)
    if not wants_csv:
        return {"year": args.get("year"), "items": items}
    return indicator_csv(items)


def indicator_csv(items: Sequence[Any]) -> Response:
    """The indicator rows as CSV (also the console's download)."""
    columns = [
        *_INDICATOR_COLUMNS,
        "training_satisfaction_responses",
        "training_satisfaction_mean",
        "resident_satisfaction_responses",
        "resident_satisfaction_mean",
    ]
    rows = [
        [
            *(getattr(item, c) for c in _INDICATOR_COLUMNS),
            item.training_satisfaction.responses,
            item.training_satisfaction.mean,
            item.resident_satisfaction.responses,
            item.resident_satisfaction.mean,
        ]
        for item in items
    ]
    return csv_response(columns, rows, "indicators.csv")

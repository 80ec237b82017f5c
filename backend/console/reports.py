"""Reports: the brief's stage-mode table with a stacked-bar chart, the evaluation indicators,
filters (year, field; municipality for the ministry) and CSV downloads."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request

from backend.api import reports as api
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.charts import stacked_bars
from backend.console.i18n import label, t
from backend.console.pages import page
from backend.identity.services import list_municipalities
from backend.ministry.indicators import indicator_report
from backend.participation import reports
from backend.participation.models import ProjectField, Stage, StageMode
from backend.participation.schemas import IndicatorArgsSchema, StageModeArgsSchema
from backend.permissions import sees_all_municipalities


def _args(schema: ma.Schema, names: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    raw = {k: v for k, v in request.args.items() if v and k in names}
    try:
        args = schema.load(raw)
    except ma.ValidationError:
        raw, args = {}, schema.load({})
    args.pop("format", None)
    return args, raw


def _stage_mode_args() -> tuple[dict[str, Any], dict[str, str]]:
    return _args(StageModeArgsSchema(), ("year", "field", "municipality_id"))


def _chart(report: Any) -> str:
    return stacked_bars(
        [
            (label("stage", row.stage), [row.counts[m.value] for m in StageMode])
            for row in report.stages
        ],
        series=[(m.value, label("mode", m)) for m in StageMode],
        title=t("report.chart"),
    )


@bp.route("/reports")
@mirrors(api.stage_modes, api.indicators)
def reports_page() -> Any:
    """The stage-mode table and chart, and the indicators, for the filters chosen."""
    viewer = current_user()
    args, raw = _stage_mode_args()
    report = reports.stage_mode_report(viewer=viewer, **args)
    national = sees_all_municipalities(viewer)
    per_municipality = []
    if national and not args.get("municipality_id"):
        # The ministry's view: the country's total above, each municipality below it.
        for place in list_municipalities():
            one = reports.stage_mode_report(viewer=viewer, **{**args, "municipality_id": place.id})
            per_municipality.append((place, one))
    indicator_args, _ = _args(IndicatorArgsSchema(), ("year", "municipality_id"))
    indicators = indicator_report(viewer=viewer, **indicator_args)
    return page(
        "reports.html",
        report=report,
        chart=_chart(report),
        per_municipality=per_municipality,
        indicators=indicators,
        filters=raw,
        fields=list(ProjectField),
        stages=list(Stage),
        modes=list(StageMode),
        national=national,
        municipalities=list_municipalities() if national else [],
    )


@bp.route("/reports/stage-modes.csv")
@mirrors(api.stage_modes)
def reports_stage_modes_csv() -> Any:
    """The stage-mode table as the API's CSV."""
    args, _ = _stage_mode_args()
    return api.stage_mode_csv(reports.stage_mode_report(viewer=current_user(), **args))


@bp.route("/reports/indicators.csv")
@mirrors(api.indicators)
def reports_indicators_csv() -> Any:
    """The indicators as the API's CSV."""
    args, _ = _args(IndicatorArgsSchema(), ("year", "municipality_id"))
    return api.indicator_csv(indicator_report(viewer=current_user(), **args))

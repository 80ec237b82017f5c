"""Health and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import fields

from backend.api.auth import public
from backend.api.contract import render_openapi
from backend.extensions import db
from backend.ratelimit import redis_ready
from backend.schemas import OutputSchema

blp = Blueprint("system", __name__, description="Health probes")


class HealthSchema(OutputSchema):
    status = fields.String(required=True, metadata={"example": "ok"})


@blp.route("/healthz", methods=["GET"])
@public
@blp.response(200, HealthSchema)
def healthz() -> Any:
    """The process is up (no dependency is touched)."""
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@public
@blp.response(200, HealthSchema)
@blp.alt_response(
    503,
    schema=HealthSchema,
    description="A dependency is unreachable: `database_unreachable` or `redis_unreachable`.",
)
def readyz() -> Any:
    """The database (and Redis, when configured) answers; 503 otherwise, naming the one that
    failed, so a balancer stops sending traffic here."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return {"status": "database_unreachable"}, 503
    if redis_ready(current_app) is False:
        return {"status": "redis_unreachable"}, 503
    return {"status": "ok"}


@blp.route("/api/v1/openapi.json", methods=["GET"])
@public
@blp.doc(responses={"200": {"description": "This document."}})
def openapi_document() -> Response:
    """The mobile contract (OpenAPI 3), as committed in mobile_contract/openapi.json."""
    cached = current_app.extensions.get("openapi_text")
    if cached is None:
        cached = render_openapi(current_app._get_current_object())
        current_app.extensions["openapi_text"] = cached
    return Response(cached, content_type="application/json")

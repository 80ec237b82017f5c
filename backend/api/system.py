"""Health and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, current_app
from marshmallow import fields

from backend.api.auth import public
from backend.api.blueprint import Blueprint
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
@blp.alt_response(503, schema=HealthSchema, description="The database is unreachable.")
def readyz() -> Any:
    """`ok` when the database (and Redis, when configured) answers; else names the one that
    failed: `database_unreachable` with 503, so a balancer stops sending traffic here, or
    `redis_unreachable` with 200, since without Redis the shared rate limits let requests
    through and this server still serves (every server shares the one Redis: a 503 would take
    them all out of the balancer at once)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return {"status": "database_unreachable"}, 503
    if redis_ready(current_app) is False:
        return {"status": "redis_unreachable"}
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

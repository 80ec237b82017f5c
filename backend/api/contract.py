"""The mobile contract: the OpenAPI document generated from the code, plus what the app needs.

flask-smorest documents schemas from the views; this adds, from the one source of truth
(each view's `access` rule), the security requirement, the roles, the Idempotency-Key header
and the error answers, so the committed `mobile_contract/openapi.json` cannot drift from them.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from flask import Flask

from backend.api.messages import MESSAGES
from backend.extensions import api

CONTRACT_PATH = Path(__file__).resolve().parents[2] / "mobile_contract" / "openapi.json"
_RULE_ARGUMENT = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
ERROR_REF = {"$ref": "#/components/schemas/Error"}

ERROR_RESPONSES = {
    "BadRequest": "Malformed request: invalid JSON (`malformed_json`), or JSON nested deeper "
    "than 32 levels (`json_too_deep`).",
    "PayloadTooLarge": "The body is larger than 1 MiB (`payload_too_large`).",
    "UnsupportedMediaType": "A body that is not JSON: send `Content-Type: application/json` "
    "(`unsupported_media_type`).",
    "Unauthenticated": "No token, or a bad, expired or revoked one "
    "(`token_missing`, `token_invalid`, `token_expired`, `token_revoked`).",
    "Forbidden": "The caller's role may not do this (`permission_denied`).",
    "NotFound": "Not found, or not the caller's to see (`not_found`, `*_not_found`).",
    "Conflict": "The request clashes with the current state; `code` names the rule.",
    "ValidationFailed": "Field errors in `fields` (`validation_failed`, ...).",
    "RateLimited": "Too many attempts; see the Retry-After header.",
    "ServiceUnavailable": "The database cannot be reached for a moment; retry later "
    "(`service_unavailable`, with Retry-After).",
}


def _openapi_path(rule: str) -> str:
    return _RULE_ARGUMENT.sub(r"{\1}", rule)


def _access_by_operation(app: Flask) -> dict[tuple[str, str], Any]:
    found = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found[(_openapi_path(rule.rule), method.lower())] = getattr(view, "access", None)
    return found


def _error(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _decorate_operation(path: str, method: str, operation: dict[str, Any], access: Any) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("default", None)
    if method == "post":
        operation.setdefault("parameters", []).append(
            {"$ref": "#/components/parameters/IdempotencyKey"}
        )
    # Even public operations answer 401 to a bad bearer token: a token sent is a token checked.
    responses.setdefault("401", _error("Unauthenticated"))
    if access is None or access.public:
        operation["security"] = []
    else:
        operation["security"] = [{"bearerAuth": []}]
        operation["x-roles"] = sorted(role.value for role in access.roles)
        responses.setdefault("403", _error("Forbidden"))
    if "{" in path or "requestBody" in operation or operation.get("parameters"):
        # Ids in the path or in the body may name something absent or not the caller's.
        responses.setdefault("404", _error("NotFound"))
    if method in ("post", "put", "patch", "delete"):
        responses.setdefault("409", _error("Conflict"))
    if "requestBody" in operation or operation.get("parameters"):
        responses["422"] = _error("ValidationFailed")
    if "requestBody" in operation:
        responses.setdefault("400", _error("BadRequest"))
        responses.setdefault("413", _error("PayloadTooLarge"))
        responses.setdefault("415", _error("UnsupportedMediaType"))
    responses.setdefault("429", _error("RateLimited"))
    responses.setdefault("503", _error("ServiceUnavailable"))


def _components(spec: dict[str, Any]) -> None:
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearerAuth"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Access token from /api/v1/auth/login (refresh token for /auth/refresh).",
    }
    components.setdefault("parameters", {})["IdempotencyKey"] = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 128},
        "description": "Any unique string (a UUID). Retrying with the same key and body "
        "replays the first answer (header `Idempotency-Replayed: true`); the "
        "same key with another body is a 409 `idempotency_key_reused`.",
    }
    example = {
        "error": {
            "code": "validation_failed",
            "message": "입력값을 확인해 주세요.",
            "fields": {"display_name": ["Missing data for required field."]},
        }
    }
    components["responses"] = {
        name: {
            "description": text,
            "content": {"application/json": {"schema": ERROR_REF, "example": example}},
        }
        for name, text in ERROR_RESPONSES.items()
    }
    components["schemas"].pop("Error", None)
    components["schemas"]["Error"] = {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {"error": {"$ref": "#/components/schemas/ErrorBody"}},
    }
    components["schemas"]["ErrorBody"] = {
        "type": "object",
        "required": ["code", "message", "fields"],
        "properties": {
            "code": {
                "type": "string",
                "description": "Stable machine code.",
                "enum": sorted(MESSAGES),
            },
            "message": {
                "type": "string",
                "description": "For people: Korean, or English with Accept-Language: en.",
            },
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
    }
    components["schemas"].pop("ErrorBodySchema", None)


def build_openapi(app: Flask) -> dict[str, Any]:
    """The complete contract as a dict, deterministic for a given code base."""
    with app.app_context():
        spec = copy.deepcopy(api.spec.to_dict())
    access = _access_by_operation(app)
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if method in ("get", "post", "put", "patch", "delete"):
                _decorate_operation(path, method, operation, access.get((path, method)))
    _components(spec)
    spec["servers"] = [{"url": "/"}]
    return spec


def render_openapi(app: Flask) -> str:
    """The contract as the exact text committed in mobile_contract/openapi.json."""
    return json.dumps(build_openapi(app), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

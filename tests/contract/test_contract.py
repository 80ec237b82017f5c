"""The committed mobile contract is exactly what the code generates, and it is complete."""

from __future__ import annotations

import json

from backend.api.contract import CONTRACT_PATH, build_openapi, render_openapi

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_committed_contract_matches_the_code(app):
    committed = CONTRACT_PATH.read_text()
    assert committed == render_openapi(app), (
        "mobile_contract/openapi.json differs from the code: run `make contract` and "
        "log breaking changes in mobile_contract/CHANGES.md"
    )


def test_contract_is_served_as_committed(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json == json.loads(CONTRACT_PATH.read_text())


def test_every_operation_documents_auth_errors_and_an_answer(app):
    spec = build_openapi(app)
    operations = list(_operations(spec))
    assert len(operations) >= 10
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        assert "security" in operation, where
        assert operation.get("summary") or operation.get("description"), where
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert success, f"{where} documents no success answer"
        if operation["security"]:
            assert operation["x-roles"], where
            for code in ("401", "403"):
                assert operation["responses"][code]["$ref"].endswith(
                    ("Unauthenticated", "Forbidden")
                ), where
        if method == "post":
            refs = [p.get("$ref") for p in operation.get("parameters", [])]
            assert "#/components/parameters/IdempotencyKey" in refs, where
        if "requestBody" in operation:
            assert operation["responses"]["422"]["$ref"].endswith("ValidationFailed"), where


def test_error_shape_and_auth_scheme_are_documented(app):
    spec = build_openapi(app)
    error = spec["components"]["schemas"]["Error"]
    body = spec["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"]
    assert set(body["required"]) == {"code", "message", "fields"}
    assert "invalid_credentials" in body["properties"]["code"]["enum"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    example = spec["components"]["responses"]["ValidationFailed"]["content"]["application/json"]
    assert set(example["example"]["error"]) == {"code", "message", "fields"}

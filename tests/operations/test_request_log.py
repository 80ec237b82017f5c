"""One JSON line per request with its id; the id travels in X-Request-ID both ways."""

from __future__ import annotations

import json
import logging
import re

import pytest

from backend.operations.request_log import JsonFormatter


@pytest.fixture
def request_lines(caplog):
    caplog.set_level(logging.INFO, logger="coproduction.request")

    def lines() -> list[dict]:
        formatter = JsonFormatter()
        return [
            json.loads(formatter.format(record))
            for record in caplog.records
            if record.name == "coproduction.request"
        ]

    return lines


def test_a_given_request_id_is_kept_and_returned(client, request_lines):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-1234.abc"})
    assert response.headers["X-Request-ID"] == "lb-1234.abc"
    (line,) = request_lines()
    assert line["request_id"] == "lb-1234.abc"
    assert line["route"] == "/healthz" and line["status"] == 200 and line["method"] == "GET"
    assert line["duration_ms"] >= 0 and line["level"] == "info"


def test_a_missing_or_odd_request_id_is_replaced(client, request_lines):
    made = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    odd = client.get("/healthz", headers={"X-Request-ID": 'a b"c' + "x" * 80})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["X-Request-ID"])
    assert [line["request_id"] for line in request_lines()] == [
        made,
        odd.headers["X-Request-ID"],
    ]


def test_the_line_names_the_route_not_the_path(client, request_lines):
    secret = "feedtoken-not-to-be-logged"
    response = client.get(f"/api/v1/calendar-feeds/{secret}.ics?q=private")
    assert response.status_code == 404
    (line,) = request_lines()
    text = json.dumps(line)
    assert secret not in text and "private" not in text
    assert line["route"].startswith("/api/v1/calendar-feeds/<")
    assert line["error_code"] and line["status"] == 404


def test_error_answers_carry_the_request_id_too(client, request_lines):
    response = client.post("/api/v1/auth/login", json={}, headers={"X-Request-ID": "r-1"})
    assert response.status_code == 422 and response.headers["X-Request-ID"] == "r-1"
    assert request_lines()[-1]["error_code"] == "validation_failed"


def test_other_log_lines_written_during_a_request_carry_its_id(app, client, caplog):
    caplog.set_level(logging.INFO)
    seen = []

    def _note() -> None:
        logging.getLogger("backend.test").info("inside")

    app.before_request_funcs[None].append(_note)
    try:
        client.get("/healthz", headers={"X-Request-ID": "inner-1"})
    finally:
        app.before_request_funcs[None].remove(_note)
    formatter = JsonFormatter()
    for record in caplog.records:
        if record.name == "backend.test":
            seen.append(json.loads(formatter.format(record)))
    assert seen and seen[0]["request_id"] == "inner-1" and seen[0]["message"] == "inside"

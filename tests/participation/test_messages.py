"""Every error code the participation domain raises has a Korean and an English message."""

from __future__ import annotations

import re
from pathlib import Path

import backend
from backend.api.messages import MESSAGES
from backend.api.messages_participation import MESSAGES as PARTICIPATION_MESSAGES

SOURCES = [
    *Path(backend.__file__).parent.joinpath("participation").glob("*.py"),
    Path(backend.__file__).parent / "api" / "participation.py",
    Path(backend.__file__).parent / "api" / "reports.py",
]


def test_every_raised_code_is_catalogued_in_both_languages():
    raised = {
        code for path in SOURCES for code in re.findall(r'code="([a-z_]+)"', path.read_text())
    }
    assert len(raised) > 25
    missing = sorted(raised - set(MESSAGES))
    assert missing == []
    for code in PARTICIPATION_MESSAGES:
        korean, english = MESSAGES[code]
        assert korean and english and korean != english, code


def test_english_message_on_request(client, as_role):
    _official, headers = as_role("official")
    response = client.get(
        "/api/v1/projects/01JD8X7Q2M4N5P6R7S8T9V0W1X", headers={**headers, "Accept-Language": "en"}
    )
    assert response.status_code == 404
    assert response.json["error"] == {
        "code": "project_not_found",
        "message": "Project not found.",
        "fields": {},
    }
    korean = client.get("/api/v1/projects/01JD8X7Q2M4N5P6R7S8T9V0W1X", headers=headers)
    assert korean.json["error"]["message"] == "사업을 찾을 수 없습니다."

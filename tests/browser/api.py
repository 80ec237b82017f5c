"""A tiny JSON client for the live server, for browser tests that set the scene through the API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

DEMO_PASSWORD = "demo-password-1"


class Api:
    """Calls the live server's API as one logged-in person (or anonymously)."""

    def __init__(self, base_url: str, email: str | None = None) -> None:
        self.base_url = base_url
        self.token: str | None = None
        if email:
            answer = self.call(
                "POST", "/api/v1/auth/login", {"identifier": email, "password": DEMO_PASSWORD}
            )
            self.token = answer["access_token"]

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes, dict]:
        """Status, raw body and headers of one call."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.read(), dict(answer.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def call(self, method: str, path: str, body: Any = None, expect: int | None = None) -> Any:
        """The JSON answer of one call; fails unless the status is 2xx (or `expect`)."""
        status, raw, _ = self.request(method, path, body)
        ok = status == expect if expect is not None else 200 <= status < 300
        assert ok, f"{method} {path} -> {status}: {raw[:300]!r}"
        return json.loads(raw) if raw else None

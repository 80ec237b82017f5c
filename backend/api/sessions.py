"""No cookie sessions: the API authenticates with bearer tokens only.

Flask opens its signed-cookie session on every request once SECRET_KEY is set, which costs a
signing serializer per request (~15 us) for a session nothing here reads or writes.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SessionInterface


class NoCookieSessionInterface(SessionInterface):
    """Never read or write a session cookie; `flask.session` is the read-only null session."""

    def open_session(self, app: Flask, request: Any) -> None:
        return None

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        return None

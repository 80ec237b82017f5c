"""Console page tests: the Flask test client signs in through the login form."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.identity import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The form token a page carries."""
    match = _CSRF.search(html)
    assert match, "the page has no form token"
    return match.group(1)


@pytest.fixture
def console_login(app):
    """console_login(user) -> a test client signed in to the console as that user."""

    def login(user):
        client = app.test_client()
        page = client.get("/console/login")
        answer = client.post(
            "/console/login",
            data={
                "identifier": user.email,
                "password": PASSWORD,
                "csrf_token": csrf_of(page.get_data(as_text=True)),
            },
        )
        assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
        return client

    return login


@pytest.fixture
def form_token():
    """form_token(client, url) -> the token of the form on that page."""

    def token(client, url: str) -> str:
        return csrf_of(client.get(url).get_data(as_text=True))

    return token

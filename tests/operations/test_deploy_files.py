"""The deploy folder agrees with the app: proxy error bodies, limits, and every scheduled job."""

from __future__ import annotations

import json
import re
from pathlib import Path

from backend.api.messages import message_for

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_proxy_error_bodies_have_the_one_error_shape_and_known_codes():
    for path in sorted((DEPLOY / "nginx" / "errors").glob("*.json")):
        body = json.loads(path.read_text())
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
        code = body["error"]["code"]
        assert body["error"]["message"] == message_for(code, "?", english=False), path


def test_body_limit_matches_nginx(app, client):
    site = (DEPLOY / "nginx" / "coproduction.conf").read_text()
    megabytes = int(re.search(r"client_max_body_size (\d+)m;", site).group(1))
    assert app.config["MAX_CONTENT_LENGTH"] == megabytes * 1024 * 1024
    too_big = client.post(
        "/api/v1/auth/login",
        data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1),
        content_type="application/json",
    )
    assert too_big.status_code == 413
    assert too_big.json["error"]["code"] == "payload_too_large"


def test_every_readme_cron_job_has_a_timer():
    units = DEPLOY / "systemd"
    commands = {
        re.search(r"ExecStart=\S+/flask (.+)", path.read_text()).group(1).strip()
        for path in units.glob("coproduction-*.service")
        if path.with_suffix(".timer").exists()
    }
    for needed in (
        "purge-idempotency",
        "certificates expire",
        "notifications purge --days 30",
        "committees end-terms --days 14",
        "committees send-reminders --hours 24",
        "ministry remind-deadlines --days 7",
        "backup --keep-days 14",
    ):
        assert needed in commands


def test_env_template_names_every_setting_the_app_reads():
    from backend import config

    source = Path(config.__file__).read_text()
    read = set(re.findall(r'(?:environ\.get|_env_int|_env_float)\(\s*"([A-Z0-9_]+)"', source))
    template = (DEPLOY / "coproduction.env").read_text()
    named = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", template, flags=re.M))
    assert read - named == set()

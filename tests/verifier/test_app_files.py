"""The blueprint that serves the verifier app: its shell, the bundled decoder, its settings."""

from __future__ import annotations

import gzip

from backend.verifier.views import APP_DIR, JSQR_FILE, SHELL_FILES


def test_the_shell_is_served_under_verify(client) -> None:
    answer = client.get("/verify/")
    assert answer.status_code == 200
    assert answer.mimetype == "text/html"
    assert '<html lang="ko">' in answer.get_data(as_text=True)
    assert client.get("/verify").status_code == 308
    script = client.get("/verify/app.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    manifest = client.get("/verify/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.get_json()["start_url"] == "/verify/"
    worker = client.get("/verify/sw.js")
    assert worker.headers["Service-Worker-Allowed"] == "/verify/"


def test_only_the_shell_files_are_served(client) -> None:
    for path in ("/verify/package.json", "/verify/..%2Fpackage.json", "/verify/nope.js"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert answer.get_json()["error"]["code"] == "not_found"


def test_every_shell_file_exists_and_the_app_stays_small() -> None:
    total = 0
    for name in SHELL_FILES:
        total += len(gzip.compress((APP_DIR / name).read_bytes()))
    total += len(gzip.compress(JSQR_FILE.read_bytes()))
    assert total < 300 * 1024


def test_the_decoder_comes_from_the_lockfile(client) -> None:
    answer = client.get("/verify/vendor/jsQR.js")
    assert answer.status_code == 200
    assert b"jsQR" in answer.get_data()


def test_settings_come_from_config(app, client) -> None:
    answer = client.get("/verify/config.json").get_json()
    assert answer == {
        "refresh_seconds": app.config["VERIFIER_REFRESH_SECONDS"],
        "grace_seconds": 48 * 3600,
        "clock_tolerance_seconds": 300,
    }

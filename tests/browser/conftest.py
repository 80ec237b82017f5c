"""Browser tests: Debian's headless Chromium, driven by Playwright, against the real server.

The server is gunicorn running `wsgi:app` in a subprocess on its own SQLite file (migrated and
loaded with the demo data by the same commands `make run` uses), so these tests see exactly what a
person sees, and they never share the unit tests' database or transactions. Chromium is the
system's (`/usr/bin/chromium`, installed by `make test`); Playwright never downloads a browser.

Helpers for the pages' tests:
- `live_server`: the base URL (session-wide; one server for the whole run).
- `browser`: one Chromium for the run; `page`: a fresh context per test, Korean locale, a
  360 × 740 phone viewport (`tablet_page` for 1024 × 768).
- `assert_accessible(page)`: axe-core (bundled by axe-playwright-python, nothing from a CDN)
  finds no serious or critical violation.
- `save_screenshot(page, name)`: writes docs/screenshots/<name>.png for README's user guide.
- Every request the page makes to another host fails the test (nothing loaded from a CDN).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# Flags a root, sandbox-less CI machine with no outside network needs (see the env notes):
# without the background-networking ones Chromium keeps dialling hosts it cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every browser test and keep them on one xdist worker (one live server, in a row)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(instance_dir: Path) -> dict[str, str]:
    """The environment of the server subprocess: its own database and secrets, cheap Argon2."""
    env = dict(os.environ)
    env.pop("TEST_DATABASE_URL", None)
    env.update(
        {
            "FLASK_APP": "backend:create_app",
            "INSTANCE_DIR": str(instance_dir),
            "DATABASE_URL": f"sqlite:///{instance_dir / 'browser.db'}",
            "SECRET_KEY": "browser-test-secret-key-0123456789abcdef",
            "CERTIFICATE_KEY_SECRET": "browser-test-certificate-secret-0123456789",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not come up in time")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gunicorn serving the app with the demo data, as `make run` sets it up."""
    instance = tmp_path_factory.mktemp("browser-instance")
    env = server_environment(instance)
    flask = [sys.executable, "-m", "flask"]
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(flask + command, env=env, cwd=ROOT, check=True, capture_output=True)
    port = _free_port()
    log = (instance / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
        + ["--timeout", "60", "wsgi:app"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium (the system's) per test module.

    Not per session: while Playwright's sync API is open it keeps an asyncio loop running in
    the worker's thread, and any later test of that worker calling `asyncio.run` (the FCM
    sender's tests do) would fail. Per module, and with every browser module in one xdist
    group (below), the loop is gone before another kind of test runs there.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _guard_other_hosts(context, base_url: str) -> list[str]:
    """Fail any request to another host: the pages must load nothing from a CDN."""
    outside: list[str] = []

    def route(route, request):
        url = request.url
        if url.startswith(base_url) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", route)
    return outside


def _new_page(browser, live_server: str, viewport: dict[str, int]) -> Iterator[object]:
    context = browser.new_context(
        base_url=live_server, locale="ko-KR", viewport=viewport, timezone_id="Asia/Seoul"
    )
    outside = _guard_other_hosts(context, live_server)
    page = context.new_page()
    yield page
    context.close()
    assert outside == [], f"the page asked other hosts: {outside}"


@pytest.fixture
def page(browser, live_server: str) -> Iterator[object]:
    """A fresh phone-sized page (360 × 740, Korean) on the live server."""
    yield from _new_page(browser, live_server, {"width": 360, "height": 740})


@pytest.fixture
def tablet_page(browser, live_server: str) -> Iterator[object]:
    """A fresh tablet-sized page (1024 × 768, Korean) on the live server."""
    yield from _new_page(browser, live_server, {"width": 1024, "height": 768})


def assert_accessible(page) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert bad == [], "axe-core violations:\n" + "\n".join(bad)


def save_screenshot(page, name: str) -> Path:
    """Save a screenshot for README's user guide (docs/screenshots/<name>.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

"""Self-tests of the benchmark harness (no timing assertions: speed goals live in scenarios).

Run with ``.venv/bin/python -m pytest bench/tests``. The tests that need wrk are skipped when it
is missing (``bash bench/setup.sh``).
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from bench import harness
from bench.bare_app import DatabaseURL, app, count_rows, create_insert_app, ensure_table
from bench.harness import (
    BARE_HELLO,
    BenchError,
    GunicornServer,
    Scenario,
    ServerStartError,
    Target,
    bare_insert_target,
    build_lua,
    lua_string,
    parse_wrk_output,
    verdict_for,
)

needs_wrk = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed")

WRK_OUTPUT = """\
Running 5s test @ http://127.0.0.1:40000/hello
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  420.55us  15.50ms   90.12%
    Req/Sec     7.31k   312.00     7.80k    72.00%
  Latency Distribution
     50%    2.07ms
     75%    2.21ms
     90%    2.40ms
     99%    3.12ms
  36545 requests in 5.00s, 5.40MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   7309.00
Transfer/sec:      1.08MB
"""


def test_parse_wrk_output() -> None:
    result = parse_wrk_output(WRK_OUTPUT)
    assert result.requests == 36545
    assert result.duration_s == 5.0
    assert result.rps == 7309.0
    assert (result.p50_ms, result.p75_ms, result.p90_ms, result.p99_ms) == (
        2.07,
        2.21,
        2.40,
        3.12,
    )
    assert result.latency_avg_ms == 2.10
    assert result.latency_max_ms == 15.50
    assert result.non_2xx == 7
    assert (result.errors_read, result.errors_write, result.errors_timeout) == (3, 1, 2)
    assert result.socket_errors == 6


def test_parse_wrk_output_units_and_nan_stdev() -> None:
    text = WRK_OUTPUT.replace("420.55us", "-nan us").replace("2.07ms", "850.00us")
    text = text.replace("3.12ms", "1.50s")
    result = parse_wrk_output(text)
    assert result.p50_ms == pytest.approx(0.85)
    assert result.p99_ms == 1500.0
    assert result.latency_max_ms == 15.50


def test_parse_wrk_output_without_errors_lines() -> None:
    text = "\n".join(
        line for line in WRK_OUTPUT.splitlines() if not line.lstrip().startswith(("Socket", "Non"))
    )
    result = parse_wrk_output(text)
    assert result.non_2xx == 0
    assert result.socket_errors == 0


def test_parse_wrk_output_rejects_garbage() -> None:
    with pytest.raises(BenchError):
        parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused")
    with pytest.raises(BenchError, match="percentiles"):
        parse_wrk_output(WRK_OUTPUT.replace("     99%    3.12ms\n", ""))


def test_lua_string_escapes() -> None:
    assert lua_string('a"b\\c') == '"a\\"b\\\\c"'
    assert lua_string("x\ny") == '"x\\010y"'
    assert lua_string("é") == '"\\195\\169"'


def test_build_lua() -> None:
    assert build_lua() is None
    lua = build_lua("post", '{"a": 1}', {"Content-Type": "application/json"})
    assert lua is not None
    assert 'wrk.method = "POST"' in lua
    assert 'wrk.body = "{\\"a\\": 1}"' in lua
    assert 'wrk.headers["Content-Type"] = "application/json"' in lua
    assert "request = function" in (build_lua(lua="request = function() end") or "")


@pytest.mark.parametrize(
    ("ratio", "target", "p99", "max_p99", "expected"),
    [
        (1.0, None, 5.0, None, "REPORT"),
        (0.80, 0.80, 5.0, None, "PASS"),
        (0.75, 0.80, 5.0, None, "NOISE"),
        (0.70, 0.80, 5.0, None, "FAIL"),
        (0.90, 0.80, 12.0, 10.0, "FAIL"),
        (0.90, 0.80, 10.5, 10.0, "NOISE"),
        (0.90, None, 9.0, 10.0, "PASS"),
    ],
)
def test_verdict(
    ratio: float, target: float | None, p99: float, max_p99: float | None, expected: str
) -> None:
    assert verdict_for(ratio, target, p99, max_p99) == expected


def test_target_validation() -> None:
    with pytest.raises(ValueError, match="health_path"):
        Target(app="x:app", path="/write", method="POST")
    with pytest.raises(ValueError, match="start with"):
        Target(app="x:app", path="hello")
    assert Target(app="x:app", path="/a").resolved_health_path() == "/a"
    assert bare_insert_target().resolved_health_path() == "/hello"
    with pytest.raises(ValueError, match="scenario name"):
        Scenario(name="Bad Name", description="", candidate=BARE_HELLO)


def test_registry_loads_scenarios() -> None:
    errors = harness.load_scenarios()
    assert errors == {}
    names = harness.scenarios()
    assert {"healthz", "sanity-bare", "sanity-slow", "sanity-insert"} <= names.keys()
    with pytest.raises(ValueError, match="twice"):
        harness.register(Scenario(name="healthz", description="other", candidate=BARE_HELLO))
    with pytest.raises(KeyError, match="unknown scenario"):
        harness.get_scenario("no-such-scenario")


def test_database_url_parse() -> None:
    assert DatabaseURL.parse("sqlite:////tmp/x.db") == DatabaseURL("sqlite", "/tmp/x.db")
    assert DatabaseURL.parse("sqlite:///x.db") == DatabaseURL("sqlite", "x.db")
    assert DatabaseURL.parse("postgresql+psycopg2://u@127.0.0.1/d").target == (
        "postgresql://u@127.0.0.1/d"
    )
    for bad in ("sqlite:///:memory:", "mysql://x"):
        with pytest.raises(ValueError):
            DatabaseURL.parse(bad)


def test_bare_apps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert app.test_client().get("/hello").get_json() == {"ok": True}
    url = f"sqlite:///{tmp_path / 'bare.db'}"
    monkeypatch.setenv("BENCH_DATABASE_URL", url)
    client = create_insert_app().test_client()
    first = client.post("/insert", json={"subject": "a"})
    second = client.post("/insert", json={"subject": "b"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.get_json()["id"] == first.get_json()["id"] + 1
    assert count_rows(url) == 2
    ensure_table(url, empty=True)
    assert count_rows(url) == 0


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_gunicorn_server_starts_and_stops() -> None:
    server = GunicornServer("bench.bare_app:app", health_path="/hello")
    with server:
        assert server.running
        port = server.port
        assert port is not None
        status, body = harness.http_request(server.base_url, "GET", "/hello")
        assert (status, json.loads(body)) == (200, {"ok": True})
    assert not server.running
    assert not _port_open(port)


def test_gunicorn_server_reports_boot_failure() -> None:
    with pytest.raises(ServerStartError, match="No module named"):
        GunicornServer("bench.no_such_module:app", startup_timeout=20).start()


def test_http_request_refuses_other_hosts() -> None:
    with pytest.raises(BenchError, match="refusing"):
        harness.http_request("http://10.0.0.1:80", "GET", "/")


def test_missing_wrk_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    harness.load_scenarios()  # not left to another test of the same worker
    monkeypatch.setattr(harness.shutil, "which", lambda _name: None)
    with pytest.raises(harness.WrkNotFoundError, match="bench/setup.sh"):
        harness.compare(harness.get_scenario("sanity-bare"), rounds=1, duration=1)


@needs_wrk
def test_compare_end_to_end(tmp_path: Path) -> None:
    harness.load_scenarios()
    comparison = harness.compare(
        harness.get_scenario("sanity-insert"),
        rounds=1,
        duration=1,
        warmup=0,
        results_dir=tmp_path,
    )
    assert comparison.verdict != "INVALID", comparison.problems
    assert comparison.candidate_summary.requests > 0
    data = json.loads((tmp_path / "sanity-insert.json").read_text())
    assert data["scenario"] == "sanity-insert"
    assert len(data["runs"]) == 2
    assert (tmp_path / "logs" / "sanity-insert.candidate.log").exists()


@needs_wrk
def test_unique_request_lua_makes_every_body_unique(tmp_path: Path) -> None:
    import sqlite3

    url = f"sqlite:///{tmp_path / 'unique.db'}"
    target = bare_insert_target(url, lua=harness.unique_request_lua("X-Key", '{"subject": "{id}"}'))
    env = dict(target.setup(tmp_path) or {}) if target.setup else {}
    for _ in range(2):  # two runs: ids must not repeat across runs either
        with target.server(env) as server:
            result = target.load(server, duration=1, connections=4, threads=2)
            assert result.requests > 0
            assert result.non_2xx == 0
    with sqlite3.connect(tmp_path / "unique.db") as conn:
        total, distinct = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT subject) FROM bench_rows"
        ).fetchone()
    assert total == distinct > 0


def test_request_parts_expand_setup_variables() -> None:
    target = Target(
        app="x:app",
        path="/p/$PID",
        method="POST",
        body='{"a": "${VALUE}", "b": "$UNKNOWN"}',
        headers={"Authorization": "Bearer $TOKEN"},
        health_path="/h",
    )
    path, body, headers = target.request_parts({"PID": "7", "VALUE": "v", "TOKEN": "t"})
    assert path == "/p/7"
    assert body == '{"a": "v", "b": "$UNKNOWN"}'
    assert headers == {"Authorization": "Bearer t"}

"""Benchmark harness: gunicorn servers, wrk runs, and interleaved candidate/baseline comparisons.

The building blocks, each usable alone:

* :class:`GunicornServer` -- serve a WSGI app spec (``module:callable`` or ``module:factory()``)
  on 127.0.0.1 with N workers, wait for a health path, always stop it (context manager, atexit).
* :func:`run_wrk` / :func:`parse_wrk_output` -- one wrk run (``-t1 -c16 -d<secs> --latency``,
  optional Lua for method/body/headers) parsed into a :class:`WrkResult`.
* :class:`Target` / :class:`Scenario` / :func:`register` -- what to load and what to compare it
  with; scenarios live one per module in ``bench/scenarios/``.
* :func:`compare` -- start both servers, warm them up, interleave baseline and candidate runs for
  several rounds, take medians, compute the candidate/baseline ratio, print a table and write
  ``bench/results/<scenario>.json``.

Only 127.0.0.1 is ever bound or loaded. Timing goals live here, never in the test suite.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as _dt
import http.client
import importlib
import json
import os
import pkgutil
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
LOG_DIR = RESULTS_DIR / "logs"
DEFAULT_GUNICORN_CONFIG = BENCH_DIR / "gunicorn_conf.py"
HOST = "127.0.0.1"

#: Bounds that keep a run finite whatever the caller passes.
MAX_DURATION_S = 120
MAX_ROUNDS = 20
MAX_WARMUP_S = 30
MAX_WAIT_QUIET_S = 600
MAX_RETRY_BUSY = 20
#: A ratio within this fraction below its target is reported as NOISE, not FAIL.
NOISE_FRACTION = 0.10
#: Median CPU share of other processes during the runs above which results are flagged.
BUSY_OTHER_CPU_PCT = 10.0
#: Spread of one side's req/s across rounds ((max - min) / median) above which it is flagged.
MAX_SPREAD = 0.25

SETUP_HINT = "run `bash bench/setup.sh` (installs wrk with apt-get)"


class BenchError(RuntimeError):
    """A benchmark could not be run or its results are unusable."""


class WrkNotFoundError(BenchError):
    """wrk is not installed."""


class ServerStartError(BenchError):
    """A gunicorn server exited or never answered its health path."""


# --------------------------------------------------------------------------------------------
# Process hygiene: every server we start is stopped, whatever happens.

_LIVE_SERVERS: set[GunicornServer] = set()


def _stop_all_servers() -> None:
    for server in list(_LIVE_SERVERS):
        with contextlib.suppress(Exception):
            server.stop()


atexit.register(_stop_all_servers)


def install_signal_handlers() -> None:
    """Turn SIGTERM/SIGHUP into ``SystemExit`` so ``finally`` blocks and atexit stop servers.

    Python's default for these signals kills the process without unwinding; Ctrl-C already
    raises ``KeyboardInterrupt``. Call once from the main thread of a CLI.
    """

    def _raise(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise)


try:
    import ctypes

    _LIBC: Any = ctypes.CDLL(None, use_errno=True)
except (ImportError, OSError):  # not Linux/glibc: rely on stop() and atexit only
    _LIBC = None
_PR_SET_PDEATHSIG = 1


def _die_with_harness() -> Callable[[], None]:
    """A ``preexec_fn`` making Linux SIGTERM the child when the harness dies, even by SIGKILL."""
    harness_pid = os.getpid()

    def preexec() -> None:
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != harness_pid:  # the harness died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b")


def _tail(path: Path | None, lines: int = 30) -> str:
    """The informative part of a server log: the first exception raised, else the last lines."""
    if path is None or not path.exists():
        return ""
    text = path.read_text(errors="replace").splitlines()
    for index, line in enumerate(text):
        if _EXCEPTION_LINE.match(line):
            more = "\n  [...]" if len(text) > index + 1 else ""
            return "\n".join(text[max(0, index - 12) : index + 1]) + more
    return "\n".join(text[-lines:])


def find_free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (racy; prefer fd passing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------------------------
# gunicorn


class GunicornServer:
    """A gunicorn server on 127.0.0.1 for one WSGI app, as a context manager.

    By default the harness binds and listens on a free port itself and hands the socket to
    gunicorn (``--bind fd://N``), so there is no window in which another process can take the
    port. With ``reuse_port`` (needed for fair gthread benchmarks: every worker gets its own
    ``SO_REUSEPORT`` socket) gunicorn binds by address on a port picked just before.

    The server runs in its own session/process group; :meth:`stop` sends SIGTERM to the master,
    waits, then SIGKILLs the whole group, so no worker outlives the harness. Servers still
    running at interpreter exit are stopped by an atexit hook.
    """

    def __init__(
        self,
        app: str,
        *,
        workers: int = 2,
        worker_class: str = "sync",
        threads: int = 1,
        env: Mapping[str, str] | None = None,
        health_path: str = "/",
        startup_timeout: float = 60.0,
        log_path: Path | None = None,
        config: Path | None = None,
        extra_args: Sequence[str] = (),
        reuse_port: bool = False,
        cwd: Path = REPO_ROOT,
    ) -> None:
        """Describe the server; nothing starts until :meth:`start` (or ``with``)."""
        if workers < 1:
            raise ValueError("workers must be >= 1")
        if not health_path.startswith("/"):
            raise ValueError("health_path must start with '/'")
        self.app = app
        self.workers = workers
        self.worker_class = worker_class
        self.threads = threads
        self.env = dict(env or {})
        self.health_path = health_path
        self.startup_timeout = startup_timeout
        self.log_path = log_path
        self.config = config or DEFAULT_GUNICORN_CONFIG
        self.extra_args = tuple(extra_args)
        self.reuse_port = reuse_port
        self.cwd = cwd
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._own_log = False

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` of the running server."""
        if self.port is None:
            raise BenchError("server not started")
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the master process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """PID of the gunicorn master, which is also the id of the server's process group."""
        return self._proc.pid if self._proc is not None else None

    def command(self, bind: str) -> list[str]:
        """The gunicorn command line for a given ``--bind`` value."""
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(self.config),
            "--bind",
            bind,
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
        ]
        if self.threads > 1:
            cmd += ["--threads", str(self.threads)]
        if self.reuse_port:
            cmd.append("--reuse-port")
        cmd += [*self.extra_args, self.app]
        return cmd

    def process_env(self) -> dict[str, str]:
        """Environment for gunicorn: ours, minus gunicorn overrides, plus the target's."""
        env = dict(os.environ)
        env.pop("GUNICORN_CMD_ARGS", None)  # would silently change every benchmark
        pythonpath = [str(REPO_ROOT)]
        if env.get("PYTHONPATH"):
            pythonpath.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(pythonpath)
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.env)
        return env

    def start(self) -> GunicornServer:
        """Start gunicorn and block until ``health_path`` answers 2xx (or raise)."""
        if self._proc is not None:
            raise BenchError("server already started")
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="bench-gunicorn-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
            self._own_log = True
        self.log_path.parent.mkdir(parents=True, exist_ok=True)

        listener: socket.socket | None = None
        pass_fds: tuple[int, ...] = ()
        if self.reuse_port:
            self.port = find_free_port()
            bind = f"{HOST}:{self.port}"
        else:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((HOST, 0))
            listener.listen(2048)
            self.port = int(listener.getsockname()[1])
            pass_fds = (listener.fileno(),)
            bind = f"fd://{listener.fileno()}"

        try:
            with open(self.log_path, "wb") as log:
                self._proc = subprocess.Popen(
                    self.command(bind),
                    cwd=self.cwd,
                    env=self.process_env(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=pass_fds,
                    start_new_session=True,
                    preexec_fn=_die_with_harness(),
                )
            _LIVE_SERVERS.add(self)
        finally:
            if listener is not None:
                listener.close()  # gunicorn holds its own copy now

        try:
            self._wait_healthy()
        except BaseException:
            self._own_log = False  # keep the log the error message points to
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last = "no answer"
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise ServerStartError(
                    f"gunicorn for {self.app} exited with code {self._proc.returncode} "
                    f"before answering {self.health_path}; log {self.log_path}:\n"
                    f"{_tail(self.log_path)}"
                )
            try:
                status, _body = http_request(self.base_url, "GET", self.health_path, timeout=2.0)
            except OSError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if 200 <= status < 300:
                    return
                last = f"HTTP {status}"
            time.sleep(0.1)
        raise ServerStartError(
            f"gunicorn for {self.app} did not answer GET {self.health_path} with 2xx within "
            f"{self.startup_timeout:.0f} s (last: {last}); log {self.log_path}:\n"
            f"{_tail(self.log_path)}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server: SIGTERM to the master, then SIGKILL to its process group."""
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=5)
        finally:
            # Workers left behind by a crashed master are still in the group we created.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            self._proc = None
            _LIVE_SERVERS.discard(self)
            if self._own_log and self.log_path is not None:
                with contextlib.suppress(OSError):
                    self.log_path.unlink()

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def http_request(
    base_url: str,
    method: str,
    path: str,
    *,
    body: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 5.0,
) -> tuple[int, bytes]:
    """Send one request to a 127.0.0.1 server and return ``(status, body)``."""
    host_port = base_url.removeprefix("http://")
    host, _, port = host_port.partition(":")
    if host != HOST:
        raise BenchError(f"refusing to send traffic outside {HOST}: {base_url}")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# wrk


def require_wrk() -> str:
    """Return the path of wrk, or raise :class:`WrkNotFoundError` telling how to install it."""
    path = shutil.which("wrk")
    if path is None:
        raise WrkNotFoundError(f"wrk is not installed: {SETUP_HINT}")
    return path


def wrk_version() -> str:
    """First line of ``wrk -v`` (wrk exits 1 after printing it)."""
    out = subprocess.run(
        [require_wrk(), "-v"], capture_output=True, text=True, timeout=10, check=False
    )
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else ""


@dataclass(frozen=True)
class WrkResult:
    """The figures of one wrk run. Latencies are in milliseconds.

    ``non_2xx`` is wrk's "Non-2xx or 3xx responses" counter, i.e. responses with status >= 400.
    Socket errors: ``connect``/``write`` mean the server refused or dropped connections,
    ``read`` a connection closed before a response, ``timeout`` a response slower than wrk's
    ``--timeout`` (such requests are missing from the latency percentiles).
    """

    requests: int
    duration_s: float
    rps: float
    latency_avg_ms: float
    latency_max_ms: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int = 0
    errors_connect: int = 0
    errors_read: int = 0
    errors_write: int = 0
    errors_timeout: int = 0

    @property
    def socket_errors(self) -> int:
        """Total socket errors of all kinds."""
        return self.errors_connect + self.errors_read + self.errors_write + self.errors_timeout


_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_RE_TIME = r"([\d.]+)(us|ms|s|m|h)"
_RE_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_RE_TOTAL = re.compile(r"^\s*(\d+) requests in " + _RE_TIME, re.M)
_RE_PERCENTILE = re.compile(r"^\s*(50|75|90|99)(?:\.0+)?%\s+" + _RE_TIME, re.M)
# "Latency  <avg>  <stdev, may be -nan>  <max>  <+/- stdev %>"
_RE_THREAD_LATENCY = re.compile(
    r"^\s*Latency\s+" + _RE_TIME + r"\s.*\s" + _RE_TIME + r"\s+[\d.]+%", re.M
)
_RE_SOCKET = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.M
)
_RE_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)", re.M)


def _ms(value: str, unit: str) -> float:
    return float(value) * _TIME_UNITS_MS[unit]


def parse_wrk_output(text: str) -> WrkResult:
    """Parse the text wrk prints with ``--latency`` into a :class:`WrkResult`."""
    rps = _RE_RPS.search(text)
    total = _RE_TOTAL.search(text)
    if rps is None or total is None:
        raise BenchError(f"could not parse wrk output:\n{text}")
    percentiles = {m.group(1): _ms(m.group(2), m.group(3)) for m in _RE_PERCENTILE.finditer(text)}
    missing = {"50", "75", "90", "99"} - percentiles.keys()
    if missing:
        raise BenchError(f"wrk output lacks latency percentiles {sorted(missing)} (--latency?)")
    thread = _RE_THREAD_LATENCY.search(text)
    avg_ms = _ms(thread.group(1), thread.group(2)) if thread else float("nan")
    max_ms = _ms(thread.group(3), thread.group(4)) if thread else float("nan")
    sock = _RE_SOCKET.search(text)
    connect, read, write, timeout = (int(g) for g in sock.groups()) if sock else (0, 0, 0, 0)
    non2xx = _RE_NON2XX.search(text)
    return WrkResult(
        requests=int(total.group(1)),
        duration_s=_ms(total.group(2), total.group(3)) / 1000.0,
        rps=float(rps.group(1)),
        latency_avg_ms=avg_ms,
        latency_max_ms=max_ms,
        p50_ms=percentiles["50"],
        p75_ms=percentiles["75"],
        p90_ms=percentiles["90"],
        p99_ms=percentiles["99"],
        non_2xx=int(non2xx.group(1)) if non2xx else 0,
        errors_connect=connect,
        errors_read=read,
        errors_write=write,
        errors_timeout=timeout,
    )


def lua_string(value: str) -> str:
    """Quote ``value`` as a Lua string literal (bytes outside printable ASCII as ``\\ddd``)."""
    out = ['"']
    for byte in value.encode("utf-8"):
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    out.append('"')
    return "".join(out)


def build_lua(
    method: str = "GET",
    body: str | None = None,
    headers: Mapping[str, str] | None = None,
    script: Path | None = None,
    lua: str | None = None,
    run_id: str | None = None,
) -> str | None:
    """Lua for wrk setting method/body/headers, followed by a script file and inline Lua.

    When a script or inline Lua is given, the global ``bench_run_id`` (``run_id``, unique per
    wrk run) is defined first, so generated keys do not repeat across rounds.
    Returns ``None`` when a plain GET needs no script (wrk is fastest without one). A script
    that only assigns ``wrk.method``/``wrk.body``/``wrk.headers`` keeps wrk's pre-built request;
    defining ``request()`` (e.g. for a unique body per request) costs wrk some throughput, on
    the same machine as the server -- give the baseline the same script so both sides pay it.
    """
    parts: list[str] = []
    if (script is not None or lua) and run_id is not None:
        parts.append(f"bench_run_id = {lua_string(run_id)}")
    if method.upper() != "GET":
        parts.append(f"wrk.method = {lua_string(method.upper())}")
    if body is not None:
        parts.append(f"wrk.body = {lua_string(body)}")
    for name, value in (headers or {}).items():
        parts.append(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")
    if script is not None:
        parts.append(f"-- {script}\n" + Path(script).read_text())
    if lua:
        parts.append(lua)
    return "\n".join(parts) + "\n" if parts else None


def unique_request_lua(header: str | None = None, body_template: str | None = None) -> str:
    """Lua giving every request a unique id, in a header and/or in the body.

    The id is ``<bench_run_id>-<wrk thread>-<counter>``: unique across requests, wrk threads
    and runs. ``body_template`` has ``{id}`` where the id goes, e.g.
    ``'{"subject": "{id}"}'``. For write endpoints with idempotency keys (a repeated key would
    be a cheap replay, not a write) or unique constraints. Defining ``request()`` costs wrk
    some CPU: give the baseline the same Lua.
    """
    if header is None and body_template is None:
        raise ValueError("give a header and/or a body_template")
    lines = [
        "local bench_threads = 0",
        "function setup(thread)",
        "  bench_threads = bench_threads + 1",
        '  thread:set("bench_thread", bench_threads)',
        "end",
        "local bench_counter = 0",
        "function request()",
        "  bench_counter = bench_counter + 1",
        '  local id = string.format("%s-%d-%d", bench_run_id or "run", bench_thread or 0, '
        "bench_counter)",
    ]
    if header is not None:
        lines.append(f"  wrk.headers[{lua_string(header)}] = id")
    body = "nil"
    if body_template is not None:
        lines.append(f'  local body = string.gsub({lua_string(body_template)}, "{{id}}", id)')
        body = "body"
    lines += [f"  return wrk.format(nil, nil, nil, {body})", "end"]
    return "\n".join(lines) + "\n"


def run_wrk(
    url: str,
    *,
    duration: int = 5,
    connections: int = 16,
    threads: int = 1,
    method: str = "GET",
    body: str | None = None,
    headers: Mapping[str, str] | None = None,
    script: Path | None = None,
    lua: str | None = None,
    timeout_s: int = 5,
    env: Mapping[str, str] | None = None,
) -> WrkResult:
    """Run ``wrk -t<threads> -c<connections> -d<duration>s --latency`` against a local URL."""
    wrk = require_wrk()
    if not url.startswith(f"http://{HOST}:"):
        raise BenchError(f"refusing to load anything but {HOST}: {url}")
    if not 1 <= duration <= MAX_DURATION_S:
        raise ValueError(f"duration must be 1..{MAX_DURATION_S} s")
    if not 1 <= threads <= connections:
        raise ValueError("need 1 <= threads <= connections")
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={timeout_s}s",
        "--latency",
    ]
    source = build_lua(method, body, headers, script, lua, run_id=uuid.uuid4().hex[:12])
    lua_file: Path | None = None
    try:
        if source is not None:
            fd, name = tempfile.mkstemp(prefix="bench-wrk-", suffix=".lua")
            with os.fdopen(fd, "w") as handle:
                handle.write(source)
            lua_file = Path(name)
            cmd += ["-s", str(lua_file)]
        cmd.append(url)
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=duration + 30,
                check=False,
                env={**os.environ, **(env or {})},
                preexec_fn=_die_with_harness(),
            )
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"wrk did not finish within {duration + 30} s") from exc
        if proc.returncode != 0:
            raise BenchError(f"wrk failed ({proc.returncode}): {proc.stderr.strip()}")
        return parse_wrk_output(proc.stdout)
    finally:
        if lua_file is not None:
            with contextlib.suppress(OSError):
                lua_file.unlink()


# --------------------------------------------------------------------------------------------
# Targets and scenarios

#: ``setup(workdir) -> extra env``: prepares a target (database file, seed rows, keys) in a fresh
#: private directory before its server starts; the returned variables are given to gunicorn.
SetupFn = Callable[[Path], Mapping[str, str] | None]


@dataclass(frozen=True)
class Target:
    """One side of a comparison: an app served by gunicorn and the request wrk sends to it.

    ``app``            gunicorn app spec, ``module:callable`` or ``module:factory()``.
    ``path``/``method``/``body``/``headers``  the request; non-GET, body and headers are sent
                       through generated Lua (``wrk.method``/``wrk.body``/``wrk.headers``).
                       ``$VAR`` in them is replaced from the server's env (see
                       :meth:`request_parts`), e.g. a token minted by ``setup``.
    ``script``         a wrk Lua file appended after that (relative paths are from the repo
                       root), e.g. defining ``request()`` for a different body per request;
    ``lua``            the same, inline (see :func:`unique_request_lua`).
    ``env``            variables for the server; ``setup`` may add more (see :data:`SetupFn`).
    ``health_path``    GET path that must answer 2xx before loading; defaults to ``path`` for
                       plain GET targets and is required otherwise.
    ``preflight``      send the request once before loading and require 2xx (skipped when a
                       Lua ``script``/``lua`` builds the requests).
    ``workers``/``worker_class``/``threads``/``reuse_port``/``gunicorn_config``/
    ``gunicorn_args``  how gunicorn runs; sync workers by default (see PERFORMANCE.md).
    """

    app: str
    path: str = "/"
    method: str = "GET"
    body: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    script: Path | str | None = None
    lua: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    setup: SetupFn | None = None
    health_path: str | None = None
    preflight: bool = True
    workers: int = 2
    worker_class: str = "sync"
    threads: int = 1
    reuse_port: bool = False
    gunicorn_config: Path | str | None = None
    gunicorn_args: tuple[str, ...] = ()
    label: str = ""

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"path must start with '/': {self.path!r}")
        if self.resolved_health_path() is None:
            raise ValueError(f"{self.app} {self.method} {self.path}: give a GET health_path")

    def resolved_health_path(self) -> str | None:
        """The GET path polled until the server is ready."""
        if self.health_path:
            return self.health_path
        scripted = self.script is not None or self.lua is not None
        if self.method.upper() == "GET" and not scripted:
            return self.path
        return None

    def script_path(self) -> Path | None:
        """``script`` as an absolute path."""
        if self.script is None:
            return None
        path = Path(self.script)
        return path if path.is_absolute() else REPO_ROOT / path

    def describe(self) -> str:
        """One line: label, request, app and gunicorn settings."""
        kind = self.worker_class if self.threads <= 1 else f"{self.worker_class}×{self.threads}"
        label = f"{self.label}: " if self.label else ""
        gunicorn = f"gunicorn -w {self.workers} {kind}"
        return f"{label}{self.method.upper()} {self.path}  [{self.app}, {gunicorn}]"

    def server(self, env: Mapping[str, str], log_path: Path | None = None) -> GunicornServer:
        """A (not yet started) :class:`GunicornServer` for this target."""
        config = self.gunicorn_config
        if config is not None and not Path(config).is_absolute():
            config = REPO_ROOT / config
        return GunicornServer(
            self.app,
            workers=self.workers,
            worker_class=self.worker_class,
            threads=self.threads,
            env=env,
            health_path=self.resolved_health_path() or "/",
            log_path=log_path,
            config=Path(config) if config is not None else None,
            extra_args=self.gunicorn_args,
            reuse_port=self.reuse_port,
        )

    def request_parts(self, env: Mapping[str, str]) -> tuple[str, str | None, dict[str, str]]:
        """``path``, ``body`` and ``headers`` with ``$VAR``/``${VAR}`` taken from ``env``.

        ``env`` is the server's environment from ``env`` and ``setup`` (not the whole process
        environment), so a token minted by ``setup`` can go in a header:
        ``headers={"Authorization": "Bearer $BENCH_TOKEN"}``. Unknown names are left as is.
        """

        def expand(text: str) -> str:
            return string.Template(text).safe_substitute(env)

        body = expand(self.body) if self.body is not None else None
        headers = {name: expand(value) for name, value in self.headers.items()}
        return expand(self.path), body, headers

    def load(
        self, server: GunicornServer, *, duration: int, connections: int, threads: int
    ) -> WrkResult:
        """One wrk run against this target on its running server.

        wrk gets the server's environment too, so a Lua script can ``os.getenv`` what ``setup``
        produced.
        """
        path, body, headers = self.request_parts(server.env)
        return run_wrk(
            server.base_url + path,
            duration=duration,
            connections=connections,
            threads=threads,
            method=self.method,
            body=body,
            headers=headers,
            script=self.script_path(),
            lua=self.lua,
            env=server.env,
        )

    def check_once(self, server: GunicornServer) -> None:
        """Send the request once and raise :class:`BenchError` unless it answers 2xx."""
        if not self.preflight or self.script is not None or self.lua is not None:
            return
        path, body, headers = self.request_parts(server.env)
        status, answer = http_request(
            server.base_url, self.method.upper(), path, body=body, headers=headers
        )
        if not 200 <= status < 300:
            raise BenchError(
                f"{self.method.upper()} {path} on {self.app} answered {status}, not 2xx: "
                f"{answer[:300]!r}"
            )


#: The baseline of most scenarios: bare Flask answering ``GET /hello`` with ``{"ok": true}``.
BARE_HELLO = Target(app="bench.bare_app:app", path="/hello", label="bare Flask hello-world")


def bare_insert_target(
    database_url: str | None = None,
    *,
    table: str = "bench_rows",
    body: str = '{"subject": "bench"}',
    headers: Mapping[str, str] | None = None,
    script: Path | str | None = None,
    lua: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Target:
    """Baseline for write scenarios: bare Flask + one plain-driver INSERT per ``POST /insert``.

    With ``database_url=None`` each run gets a fresh SQLite file (WAL, ``synchronous=NORMAL``)
    in its private work directory; pass a ``postgresql://`` URL to compare against PostgreSQL
    (the table is emptied before the run). Give it the same body/headers/script as the
    candidate so both sides parse and send the same bytes.
    """

    def setup(workdir: Path) -> dict[str, str]:
        from bench.bare_app import ensure_table

        url = database_url or f"sqlite:///{workdir / 'bare_insert.db'}"
        ensure_table(url, table, empty=True)
        return {"BENCH_DATABASE_URL": url, "BENCH_TABLE": table}

    return Target(
        app="bench.bare_app:create_insert_app()",
        path="/insert",
        method="POST",
        body=body,
        headers={"Content-Type": "application/json", **(headers or {})},
        script=script,
        lua=lua,
        env=dict(env or {}),
        setup=setup,
        health_path="/hello",
        label="bare Flask + one INSERT",
    )


_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Scenario:
    """A named comparison of a candidate target against a baseline target.

    ``target_ratio``: candidate req/s divided by baseline req/s (median over rounds) must be at
    least this (``None``: report only).
    ``max_p99_ms``: optional ceiling on the candidate's median p99 latency.
    """

    name: str
    description: str
    candidate: Target
    baseline: Target = BARE_HELLO
    target_ratio: float | None = None
    max_p99_ms: float | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"scenario name must match {_NAME.pattern}: {self.name!r}")


_REGISTRY: dict[str, Scenario] = {}
_LOAD_ERRORS: dict[str, str] = {}


def register(scenario: Scenario) -> Scenario:
    """Add a scenario to the registry (call at import time of ``bench/scenarios/<name>.py``)."""
    existing = _REGISTRY.get(scenario.name)
    if existing is not None and existing != scenario:
        raise ValueError(f"scenario {scenario.name!r} registered twice")
    _REGISTRY[scenario.name] = scenario
    return scenario


def load_scenarios(package: str = "bench.scenarios") -> dict[str, str]:
    """Import every module of ``package`` so they register; return ``{module: error}``.

    A module that fails to import (e.g. the app it needs does not exist yet) does not stop the
    others from loading.
    """
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        name = f"{package}.{info.name}"
        if name in sys.modules or name in _LOAD_ERRORS:
            continue
        try:
            importlib.import_module(name)
        except Exception as exc:  # report, keep loading the others
            _LOAD_ERRORS[name] = f"{type(exc).__name__}: {exc}"
    return dict(_LOAD_ERRORS)


def scenarios() -> dict[str, Scenario]:
    """All registered scenarios by name (call :func:`load_scenarios` first)."""
    return dict(sorted(_REGISTRY.items()))


def get_scenario(name: str) -> Scenario:
    """The registered scenario ``name`` or :class:`KeyError` listing the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise KeyError(f"unknown scenario {name!r}; known: {known}") from None


# --------------------------------------------------------------------------------------------
# Comparison


@dataclass(frozen=True)
class Run:
    """One wrk run inside a comparison."""

    round: int
    side: str  # "baseline" or "candidate"
    other_cpu_pct: float  # CPU used by processes other than wrk and our servers, % of machine
    result: WrkResult


@dataclass(frozen=True)
class SideSummary:
    """Medians (and totals of problems) of one side over all rounds."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int

    @classmethod
    def of(cls, runs: Sequence[Run]) -> SideSummary:
        """Summarise the runs of one side."""
        return cls(
            rps=statistics.median(r.result.rps for r in runs),
            p50_ms=statistics.median(r.result.p50_ms for r in runs),
            p99_ms=statistics.median(r.result.p99_ms for r in runs),
            requests=sum(r.result.requests for r in runs),
            non_2xx=sum(r.result.non_2xx for r in runs),
            socket_errors=sum(r.result.socket_errors for r in runs),
        )


@dataclass
class Comparison:
    """Everything :func:`compare` measured, as written to ``bench/results/<name>.json``."""

    scenario: str
    description: str
    candidate: str
    baseline: str
    settings: dict[str, Any]
    environment: dict[str, Any]
    runs: list[Run]
    discarded_runs: list[Run]
    baseline_summary: SideSummary
    candidate_summary: SideSummary
    ratio: float
    ratio_of_medians: float
    round_ratios: list[float]
    target_ratio: float | None
    max_p99_ms: float | None
    verdict: str
    problems: list[str]
    warnings: list[str]

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (NaN latencies become ``null``)."""

        def clean(value: Any) -> Any:
            if isinstance(value, float) and value != value:  # NaN
                return None
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, list):
                return [clean(v) for v in value]
            return value

        data = clean(asdict(self))
        data["schema"] = 1
        return data


def verdict_for(
    ratio: float, target_ratio: float | None, p99_ms: float, max_p99_ms: float | None
) -> str:
    """PASS / NOISE (within 10 % under the target: re-run) / FAIL / REPORT (no target)."""
    if target_ratio is None and max_p99_ms is None:
        return "REPORT"
    if max_p99_ms is not None and p99_ms > max_p99_ms * (1 + NOISE_FRACTION):
        return "FAIL"
    if target_ratio is not None and ratio < target_ratio * (1 - NOISE_FRACTION):
        return "FAIL"
    below_ratio = target_ratio is not None and ratio < target_ratio
    above_p99 = max_p99_ms is not None and p99_ms > max_p99_ms
    return "NOISE" if below_ratio or above_p99 else "PASS"


_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_busy_s() -> float:
    """CPU seconds all CPUs spent busy since boot (``/proc/stat``; steal excluded)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / _CLK_TCK


def _group_cpu_s(pgids: Sequence[int]) -> float:
    """CPU seconds used so far by the live processes of the given process groups."""
    wanted = set(pgids)
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        # after "pid (comm)": state ppid pgrp session ... utime(12th) stime(13th)
        if int(fields[2]) in wanted:
            total += int(fields[11]) + int(fields[12])
    return total / _CLK_TCK


class CpuMeter:
    """Measure how much CPU *other* processes took while one wrk run was going on.

    Busy time of the whole machine (``/proc/stat``) minus what our gunicorn process groups, wrk
    (a reaped child: ``RUSAGE_CHILDREN``) and this process used, as a percentage of all CPUs over
    the run's wall time. Anything well above a few percent means a neighbour competed for the
    CPUs during that run. Returns NaN where ``/proc`` is unavailable.
    """

    def __init__(self, pgids: Sequence[int]) -> None:
        """Take the starting snapshot; ``pgids`` are the process groups counted as ours."""
        self.pgids = list(pgids)
        try:
            self._start = self._snapshot()
        except (OSError, ValueError, IndexError):
            self._start = None

    def _snapshot(self) -> tuple[float, float, float]:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        me = resource.getrusage(resource.RUSAGE_SELF)
        ours = (
            _group_cpu_s(self.pgids)
            + children.ru_utime
            + children.ru_stime
            + me.ru_utime
            + me.ru_stime
        )
        return time.monotonic(), _machine_busy_s(), ours

    def other_pct(self) -> float:
        """Percent of the machine's CPU used by other processes since construction."""
        if self._start is None:
            return float("nan")
        try:
            end = self._snapshot()
        except (OSError, ValueError, IndexError):
            return float("nan")
        wall = end[0] - self._start[0]
        cpus = os.cpu_count() or 1
        if wall <= 0:
            return float("nan")
        other = (end[1] - self._start[1]) - (end[2] - self._start[2])
        return max(0.0, 100.0 * other / (wall * cpus))


def _environment() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    def pkg(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    commit = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        commit = (out.stdout.strip() or None) if out.returncode == 0 else None
    return {
        "host": platform.node(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "flask": pkg("flask"),
        "gunicorn": pkg("gunicorn"),
        "wrk": wrk_version(),
        "loadavg_1m_at_start": _loadavg(),
        "git_commit": commit,
    }


def _loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def wait_for_quiet(
    pgids: Sequence[int], budget_s: float, sample_s: float = 1.0
) -> tuple[float, float]:
    """Wait until other processes use <= ``BUSY_OTHER_CPU_PCT`` of the CPUs over ``sample_s``.

    Gives up after ``budget_s`` seconds. Returns ``(seconds waited, last other-CPU %)``; the
    caller runs anyway when the machine stayed busy (and the comparison then warns).
    """
    start = time.monotonic()
    other = float("nan")
    while True:
        meter = CpuMeter(pgids)
        time.sleep(sample_s)
        other = meter.other_pct()
        waited = time.monotonic() - start
        if other != other or other <= BUSY_OTHER_CPU_PCT or waited >= budget_s:
            return waited, other


def _noise_warnings(runs: Sequence[Run]) -> list[str]:
    """Warnings about a busy machine or an unstable side, from the runs of a comparison."""
    warnings = []
    others = [r.other_cpu_pct for r in runs if r.other_cpu_pct == r.other_cpu_pct]
    if others and statistics.median(others) > BUSY_OTHER_CPU_PCT:
        warnings.append(
            f"other processes used {statistics.median(others):.0f}% of the CPUs (median; max "
            f"{max(others):.0f}%) during the runs: the machine was busy, the figures are "
            "unreliable; re-run when it is quiet"
        )
    for side in ("baseline", "candidate"):
        rps = [r.result.rps for r in runs if r.side == side]
        median = statistics.median(rps) if rps else 0.0
        if len(rps) > 1 and median > 0 and (max(rps) - min(rps)) / median > MAX_SPREAD:
            warnings.append(
                f"{side} req/s varied by {(max(rps) - min(rps)) / median:.0%} of its median "
                "between rounds; add rounds or re-run when the machine is quiet"
            )
    return warnings


def _fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def format_table(comparison: Comparison) -> str:
    """The human-readable report of a comparison."""
    c = comparison
    s = c.settings
    lines = [
        f"== {c.scenario}: {c.description}",
        f"   candidate: {c.candidate}",
        f"   baseline:  {c.baseline}",
        f"   wrk -t{s['threads']} -c{s['connections']} -d{s['duration']}s, {s['rounds']} rounds "
        f"interleaved, {s['warmup']} s warm-up per side, {c.environment.get('cpus')} CPUs",
        "",
        f"{'round':>5}  {'side':<10} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'non-2xx':>8} {'sock err':>8} {'other CPU':>9}",
    ]
    for run in c.runs:
        r = run.result
        lines.append(
            f"{run.round:>5}  {run.side:<10} {_fmt_int(r.rps):>10} {r.p50_ms:>8.2f} "
            f"{r.p99_ms:>8.2f} {r.non_2xx:>8} {r.socket_errors:>8} {run.other_cpu_pct:>8.0f}%"
        )
    if c.discarded_runs:
        lines.append(
            f"  (busy rounds discarded and re-run: {len(c.discarded_runs) // 2}; see JSON)"
        )
    for side, summary in (("baseline", c.baseline_summary), ("candidate", c.candidate_summary)):
        lines.append(
            f"{'median':>5}  {side:<10} {_fmt_int(summary.rps):>10} {summary.p50_ms:>8.2f} "
            f"{summary.p99_ms:>8.2f} {summary.non_2xx:>8} {summary.socket_errors:>8}"
        )
    per_round = ", ".join(f"{x:.2f}" for x in c.round_ratios)
    lines += [
        "",
        f"ratio candidate/baseline req/s: {c.ratio:.2f}  (median of per-round ratios "
        f"{per_round}; ratio of the medians {c.ratio_of_medians:.2f})",
    ]
    goals = []
    if c.target_ratio is not None:
        goals.append(f"ratio >= {c.target_ratio:.2f}")
    if c.max_p99_ms is not None:
        goals.append(f"candidate p99 <= {c.max_p99_ms:g} ms")
    goal = " and ".join(goals) if goals else "no target (report only)"
    lines.append(f"target: {goal}  ->  {c.verdict}")
    if c.verdict == "NOISE":
        lines.append("   (within 10 % of the target: noise on these machines; re-run to decide)")
    lines += [f"PROBLEM: {p}" for p in c.problems]
    lines += [f"WARNING: {w}" for w in c.warnings]
    return "\n".join(lines)


@contextlib.contextmanager
def _serve(
    target: Target, side: str, scenario: str, workdir: Path, log_dir: Path
) -> Iterator[GunicornServer]:
    env = dict(target.env)
    if target.setup is not None:
        env.update(target.setup(workdir) or {})
    log_dir.mkdir(parents=True, exist_ok=True)
    server = target.server(env, log_path=log_dir / f"{scenario}.{side}.log")
    with server:
        yield server


def compare(
    scenario: Scenario,
    rounds: int = 3,
    duration: int = 5,
    *,
    warmup: int = 2,
    connections: int = 16,
    threads: int = 1,
    wait_quiet: int = 0,
    retry_busy: int = 0,
    results_dir: Path | None = RESULTS_DIR,
    out: TextIO | None = None,
) -> Comparison:
    """Measure ``scenario``: interleaved baseline/candidate wrk runs, medians and their ratio.

    Both servers are started once (each target's ``setup`` runs first, in its own temporary
    directory) and stay up for the whole comparison; each gets ``warmup`` seconds of load that
    is thrown away. Then each round loads both sides one after the other, alternating which
    goes first (B C, C B, B C, ...), so slow drift of the shared machine hits both equally.
    The ratio is the median of the per-round ratios candidate req/s / baseline req/s (the two
    runs of a round are adjacent in time); the ratio of the two medians is reported beside it.
    Any error response or socket error is listed as a problem and makes the verdict INVALID;
    a busy machine or unstable rounds produce warnings (see :func:`_noise_warnings`). With
    ``wait_quiet`` > 0, each round first waits up to that many seconds for other processes to
    use at most ``BUSY_OTHER_CPU_PCT`` of the CPUs (see :func:`wait_for_quiet`). With
    ``retry_busy`` > 0, a round during which other processes took more than that is discarded
    and run again, at most ``retry_busy`` times in all (discarded runs stay in the JSON).
    Results go to ``<results_dir>/<name>.json`` unless ``results_dir`` is None.
    """
    out = out or sys.stdout
    if not 1 <= rounds <= MAX_ROUNDS:
        raise ValueError(f"rounds must be 1..{MAX_ROUNDS}")
    if not 1 <= duration <= MAX_DURATION_S:
        raise ValueError(f"duration must be 1..{MAX_DURATION_S} s")
    if not 0 <= warmup <= MAX_WARMUP_S:
        raise ValueError(f"warmup must be 0..{MAX_WARMUP_S} s")
    if not 0 <= retry_busy <= MAX_RETRY_BUSY:
        raise ValueError(f"retry_busy must be 0..{MAX_RETRY_BUSY}")
    if not 0 <= wait_quiet <= MAX_WAIT_QUIET_S:
        raise ValueError(f"wait_quiet must be 0..{MAX_WAIT_QUIET_S} s")
    require_wrk()  # fail before starting any server

    def say(message: str) -> None:
        print(message, file=out, flush=True)

    started_at = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    environment = _environment()
    log_dir = (results_dir or Path(tempfile.gettempdir())) / "logs"
    targets = {"baseline": scenario.baseline, "candidate": scenario.candidate}
    runs: list[Run] = []
    discarded: list[Run] = []
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-{scenario.name}-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        servers: dict[str, GunicornServer] = {}
        for side, target in targets.items():
            workdir = Path(tmp) / side
            workdir.mkdir()
            say(f"[{scenario.name}] starting {side}: {target.describe()}")
            servers[side] = stack.enter_context(
                _serve(target, side, scenario.name, workdir, log_dir)
            )
        pgids = [server.pid for server in servers.values() if server.pid is not None]
        for side, target in targets.items():
            target.check_once(servers[side])
        if warmup:
            for side, target in targets.items():
                say(f"[{scenario.name}] warm-up {side} {warmup} s")
                target.load(
                    servers[side],
                    duration=warmup,
                    connections=connections,
                    threads=threads,
                )
        retries_left = retry_busy
        while len(runs) < 2 * rounds:
            done = len(runs) // 2
            if wait_quiet:
                waited, other = wait_for_quiet(pgids, wait_quiet)
                if waited >= 1.5:
                    state = "quiet" if other <= BUSY_OTHER_CPU_PCT else "still busy"
                    say(
                        f"[{scenario.name}] waited {waited:.0f} s for a quiet machine "
                        f"({state}: other CPU {other:.0f}%)"
                    )
            order = ("baseline", "candidate") if done % 2 == 0 else ("candidate", "baseline")
            pair = []
            for side in order:
                meter = CpuMeter(pgids)
                result = targets[side].load(
                    servers[side],
                    duration=duration,
                    connections=connections,
                    threads=threads,
                )
                other = meter.other_pct()
                pair.append(Run(done + 1, side, other, result))
                say(
                    f"[{scenario.name}] round {done + 1}/{rounds} {side:<9} "
                    f"{_fmt_int(result.rps):>8} req/s  p50 {result.p50_ms:.2f} ms  "
                    f"p99 {result.p99_ms:.2f} ms  other CPU {other:.0f}%"
                )
            if retries_left > 0 and any(r.other_cpu_pct > BUSY_OTHER_CPU_PCT for r in pair):
                retries_left -= 1
                discarded.extend(pair)
                say(
                    f"[{scenario.name}] round {done + 1} discarded (machine busy); "
                    f"{retries_left} retries left"
                )
                continue
            runs.extend(pair)
        for side, server in servers.items():
            if not server.running:
                raise BenchError(f"{side} server died during the run; see {server.log_path}")

    base_runs = [r for r in runs if r.side == "baseline"]
    cand_runs = [r for r in runs if r.side == "candidate"]
    base, cand = SideSummary.of(base_runs), SideSummary.of(cand_runs)
    ratio_of_medians = cand.rps / base.rps if base.rps else float("nan")
    round_ratios = [
        c.result.rps / b.result.rps if b.result.rps else float("nan")
        for b, c in zip(
            sorted(base_runs, key=lambda r: r.round),
            sorted(cand_runs, key=lambda r: r.round),
            strict=True,
        )
    ]
    # The headline: runs of one round are adjacent in time, so they share the machine's state;
    # the median of the paired ratios resists a busy neighbour better than a ratio of medians.
    ratio = statistics.median(round_ratios)
    problems = []
    for side, summary in (("baseline", base), ("candidate", cand)):
        if summary.non_2xx:
            problems.append(f"{side}: {summary.non_2xx} responses with status >= 400")
        if summary.socket_errors:
            problems.append(f"{side}: {summary.socket_errors} socket errors (see JSON)")
        if summary.requests == 0:
            problems.append(f"{side}: no request completed")
    warnings = _noise_warnings(runs)
    verdict = verdict_for(ratio, scenario.target_ratio, cand.p99_ms, scenario.max_p99_ms)
    if problems:
        verdict = "INVALID"
    comparison = Comparison(
        scenario=scenario.name,
        description=scenario.description,
        candidate=scenario.candidate.describe(),
        baseline=scenario.baseline.describe(),
        settings={
            "rounds": rounds,
            "duration": duration,
            "warmup": warmup,
            "connections": connections,
            "threads": threads,
            "wait_quiet": wait_quiet,
            "retry_busy": retry_busy,
            "started_at": started_at,
        },
        environment=environment,
        runs=runs,
        discarded_runs=discarded,
        baseline_summary=base,
        candidate_summary=cand,
        ratio=ratio,
        ratio_of_medians=ratio_of_medians,
        round_ratios=round_ratios,
        target_ratio=scenario.target_ratio,
        max_p99_ms=scenario.max_p99_ms,
        verdict=verdict,
        problems=problems,
        warnings=warnings,
    )
    say("")
    say(format_table(comparison))
    if results_dir is not None:
        results_dir.mkdir(parents=True, exist_ok=True)
        path = results_dir / f"{scenario.name}.json"
        path.write_text(json.dumps(comparison.to_json(), indent=2) + "\n")
        say(f"results: {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    return comparison

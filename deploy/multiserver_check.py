"""Multi-server check: two API servers (gunicorn) behind nginx, two push workers, PostgreSQL
and Redis, all on 127.0.0.1; bounded (about two minutes, hard stop at --timeout seconds).

    sudo .venv/bin/python deploy/multiserver_check.py      # as root (nginx), from the repo root

It checks, printing one line per check:
  1. a flash crowd of meeting registrations spread over both servers, each sent twice (the retry
     with the same Idempotency-Key to the other server): at most `capacity` confirmed, nobody
     registered twice;
  2. a revocation made on one server is seen by the other within CERTIFICATE_REFRESH_SECONDS + 1;
  3. the verification rate limit holds across both servers (Redis): exactly `burst` answers;
  4. one API server killed (SIGKILL, whole process group) while announcements are being
     written through nginx, each retried with its Idempotency-Key until answered: every
     announcement exists exactly once;
  5. every push queued is sent exactly once by the two workers (fake FCM server on 127.0.0.1);
  6. the surviving server's /metrics adds up its workers and shows the pushes sent.

Exit status: 0 all checks passed, 1 a check failed, 2 the set-up failed (a missing program,
PostgreSQL or Redis not answering). The database it makes is dropped at the end.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import ExitStack, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402 - after the path set-up
import sqlalchemy as sa  # noqa: E402
import urllib3  # noqa: E402

from backend.privacy.consents import demo_consents  # noqa: E402
from tests.fakes.fake_fcm import FakeFcmServer  # noqa: E402

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"
PASSWORD = "demo-password-1"
API = "/api/v1"
VENV_BIN = Path(sys.executable).parent
REFRESH_SECONDS = 2
VERIFY_BURST = 10
#: Sign-up consents: every purpose granted at its current text version.
CONSENTS = demo_consents()


class SetupError(Exception):
    """The environment is not there (exit 2)."""


class CheckFailed(AssertionError):
    """A check did not hold (exit 1)."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float = 30.0, **kwargs: Any) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with suppress(requests.RequestException):
            if requests.get(url, timeout=2, **kwargs).status_code == 200:
                return
        time.sleep(0.2)
    raise SetupError(f"{url} did not answer 200 within {seconds:.0f} s")


class Processes:
    """Child processes, each in its own process group, all killed on exit."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.children: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        child = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.children[name] = child
        return child

    def kill(self, name: str) -> None:
        child = self.children[name]
        with suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=10)

    def stop_all(self) -> None:
        for child in self.children.values():
            with suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in self.children.values():
            with suppress(subprocess.TimeoutExpired):
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            with suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)


def nginx_config(work: Path, ports: tuple[int, int], https_port: int, http_port: int) -> Path:
    """The site of deploy/nginx with this run's ports, a throwaway certificate and paths."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1",
         "-keyout", str(work / "key.pem"), "-out", str(work / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    site = (ROOT / "deploy" / "nginx" / "coproduction.conf").read_text()
    site = site.replace("127.0.0.1:8001", f"127.0.0.1:{ports[0]}")
    site = site.replace("127.0.0.1:8002", f"127.0.0.1:{ports[1]}")
    site = re.sub(r"^\s*listen \[::\].*$", "", site, flags=re.M)
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl;")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace("/etc/ssl/certs/ssl-cert-snakeoil.pem", str(work / "cert.pem"))
    site = site.replace("/etc/ssl/private/ssl-cert-snakeoil.key", str(work / "key.pem"))
    site = site.replace("/var/log/nginx/", f"{work}/")
    # nginx's workers run as an unprivileged user: the error pages must be where they can read
    # them (a fresh clone under a 0700 temporary directory is not), so they are copied here.
    shutil.copytree(ROOT / "deploy" / "nginx" / "errors", work / "errors")
    work.chmod(0o755)
    site = site.replace("/srv/coproduction/deploy/nginx/errors", str(work / "errors"))
    site = site.replace("/srv/coproduction/deploy", str(ROOT / "deploy"))
    site = site.replace("/srv/coproduction/static", str(work / "static"))
    (work / "site.conf").write_text(site)
    conf = work / "nginx.conf"
    conf.write_text(
        f"""daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{}}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {work}/site.conf;
}}
"""
    )
    return conf


class Client:
    """HTTP to one base URL (an API server directly, or nginx)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.verify = False

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        # Per request: a REQUESTS_CA_BUNDLE in the environment would override the session's.
        kwargs.setdefault("verify", False)
        return self.session.request(method, self.base + API + path, **kwargs)


def login(client: Client, identifier: str) -> dict[str, str]:
    answer = client.call(
        "POST", "/auth/login", json={"identifier": identifier, "password": PASSWORD}
    )
    check(answer.status_code == 200, f"login {identifier}: {answer.status_code} {answer.text}")
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citizens", type=int, default=24)
    parser.add_argument("--capacity", type=int, default=5)
    parser.add_argument("--announcements", type=int, default=30)
    parser.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    options = parser.parse_args()

    def out_of_time(*_: object) -> None:
        raise CheckFailed(f"the run took longer than {options.timeout} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(options.timeout)
    for program in ("nginx", "openssl"):
        if shutil.which(program) is None and not Path(f"/usr/sbin/{program}").exists():
            print(f"SETUP FAILED: {program} is not installed (apt-get install nginx-light openssl)")
            return 2
    work = Path(tempfile.mkdtemp(prefix="multiserver-"))
    name = f"cp_multiserver_{os.getpid()}_{int(time.time())}"
    admin = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    processes = Processes(work)
    try:
        with ExitStack() as stack:
            try:
                with admin.connect() as connection:
                    connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
                import redis

                redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
            except Exception as error:
                print(f"SETUP FAILED: PostgreSQL or Redis on 127.0.0.1: {error}")
                return 2
            stack.callback(processes.stop_all)
            return run(options, work, name, processes)
    except CheckFailed as failure:
        print(f"FAILED: {failure}")
        print(f"logs: {work}")
        options.keep = True
        return 1
    except SetupError as error:
        print(f"SETUP FAILED: {error}")
        print(f"logs: {work}")
        options.keep = True
        return 2
    except Exception as error:  # an unexpected error is a failed run too, with its story
        import traceback

        traceback.print_exc()
        print(f"FAILED: {type(error).__name__}: {error}")
        print(f"logs: {work}")
        options.keep = True
        return 1
    finally:
        signal.alarm(0)
        if not options.keep:  # the logs stay after a failure; the database goes anyway
            shutil.rmtree(work, ignore_errors=True)
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(options: argparse.Namespace, work: Path, name: str, processes: Processes) -> int:
    database_url = f"{PG}/{name}"
    fcm = FakeFcmServer().start()
    env = {
        **os.environ,
        "FLASK_APP": "backend:create_app",
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": str(work / "instance"),
        "SECRET_KEY": "multiserver-secret-key-0123456789abcdef",
        "JWT_SECRET_KEY": "multiserver-jwt-key-0123456789abcdef",
        "CERTIFICATE_KEY_SECRET": "multiserver-certificate-key-0123456789",
        "REDIS_URL": REDIS_URL,
        "RATE_LIMIT_PREFIX": f"multiserver-{uuid.uuid4().hex}",
        "TRUSTED_PROXY_COUNT": "1",
        "CERTIFICATE_REFRESH_SECONDS": str(REFRESH_SECONDS),
        "CERTIFICATE_VERIFY_RATE": "0.5",
        "CERTIFICATE_VERIFY_BURST": str(VERIFY_BURST),
        "FCM_ENDPOINT": fcm.endpoint,
        "FCM_STATIC_TOKEN": "fake-access-token",
        "FIREBASE_PROJECT_ID": "multiserver",
        "NOTIFICATIONS_IDLE_SECONDS": "0.2",
        "NOTIFICATIONS_BATCH_SIZE": "100",
    }
    flask = str(VENV_BIN / "flask")
    for command in (["db", "upgrade"], ["seed-demo"]):
        done = subprocess.run([flask, *command], env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise SetupError(f"flask {' '.join(command)}: {done.stderr[-2000:]}")

    ports = (free_port(), free_port())
    for index, port in enumerate(ports):
        server_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(work / f"metrics-{index}")}
        processes.start(
            f"api-{index}",
            [str(VENV_BIN / "gunicorn"), "--config", str(ROOT / "deploy" / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}", "--workers", "2", "wsgi:app"],
            server_env,
        )  # fmt: skip
    for index in range(2):
        processes.start(f"worker-{index}", [flask, "notifications", "deliver"], env)
    https_port, http_port = free_port(), free_port()
    (work / "static").mkdir()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    conf = nginx_config(work, ports, https_port, http_port)
    processes.start("nginx", [nginx, "-p", str(work), "-c", str(conf)], env)
    servers = [Client(f"http://127.0.0.1:{port}") for port in ports]
    proxy = Client(f"https://127.0.0.1:{https_port}")
    for server in servers:
        wait_for(server.base + "/readyz")
    wait_for(proxy.base + "/readyz", verify=False)
    print(f"up: API servers on {ports}, nginx on {https_port}, 2 push workers, work {work}")

    engine = sa.create_engine(database_url)
    try:
        flash_crowd(options, servers, engine)
        revocation_seen_everywhere(servers)
        shared_rate_limit(servers)
        server_killed_mid_run(options, servers, proxy, processes, engine)
        sent = pushes_sent_once(fcm, engine)
        metrics_add_up(servers[1], sent)
    finally:
        engine.dispose()
        fcm.stop()
    print("ALL CHECKS PASSED")
    return 0


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def flash_crowd(options: argparse.Namespace, servers: list[Client], engine: sa.Engine) -> None:
    a, b = servers
    official = login(a, "official@gangnam.example")
    gangnam = next(m["id"] for m in a.call("GET", "/municipalities").json() if m["code"] == "11680")
    committee = a.call(
        "POST", "/committees", json={"name": "부하 시험 위원회", "seats": 10, "term_months": 12},
        headers=official,
    )  # fmt: skip
    check(committee.status_code == 201, f"committee: {committee.text}")
    now = datetime.now(UTC)
    meeting = a.call(
        "POST",
        f"/committees/{committee.json()['id']}/meetings",
        json={
            "title": "선착순 회의",
            "place": "구청 대회의실",
            "starts_at": _iso(now + timedelta(days=2)),
            "ends_at": _iso(now + timedelta(days=2, hours=2)),
            "capacity": options.capacity,
            "priority_opens_at": _iso(now - timedelta(hours=2)),
            "general_opens_at": _iso(now - timedelta(hours=1)),
        },
        headers=official,
    )
    check(meeting.status_code == 201, f"meeting: {meeting.text}")
    meeting_id = meeting.json()["id"]

    def new_citizen(index: int) -> dict[str, str]:
        server = servers[index % 2]
        email = f"crowd{index}@multiserver.example"
        made = server.call(
            "POST",
            "/auth/register",
            json={"email": email, "password": PASSWORD, "display_name": f"시민{index}",
                  "municipality_id": gangnam, "birth_year": 1990, "consents": CONSENTS},
        )  # fmt: skip
        check(made.status_code == 201, f"register {email}: {made.text}")
        headers = login(server, email)
        device = server.call(
            "POST", "/me/devices",
            json={"token": f"crowd-device-{index}", "platform": "android", "app_version": "1.0"},
            headers=headers,
        )  # fmt: skip
        check(device.status_code in (200, 201), f"device {email}: {device.text}")
        return headers

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        citizens = list(pool.map(new_citizen, range(options.citizens)))

    def register(index: int) -> tuple[int, int]:
        key = {"Idempotency-Key": f"crowd-{index}"}
        first, second = servers[index % 2], servers[(index + 1) % 2]
        path = f"/meetings/{meeting_id}/registrations"
        one = first.call("POST", path, json={}, headers={**citizens[index], **key})
        two = second.call("POST", path, json={}, headers={**citizens[index], **key})
        return one.status_code, two.status_code

    with concurrent.futures.ThreadPoolExecutor(options.citizens) as pool:
        answers = list(pool.map(register, range(options.citizens)))
    # The retry either replays the first answer or finds the first still in progress (409).
    check(all(one == 201 and two in (201, 409) for one, two in answers), f"answers: {answers}")
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT user_id, status FROM meeting_registrations WHERE meeting_id = :m"),
            {"m": meeting_id},
        ).all()
    statuses = Counter(status for _user, status in rows)
    users = Counter(user for user, _status in rows)
    check(len(rows) == options.citizens, f"{len(rows)} registrations for {options.citizens}")
    check(max(users.values()) == 1, "somebody is registered twice")
    check(statuses["confirmed"] == options.capacity, f"confirmed: {dict(statuses)}")
    print(f"ok 1 flash crowd: {dict(statuses)} for {options.capacity} seats, no duplicate")


def revocation_seen_everywhere(servers: list[Client]) -> None:
    a, b = servers
    holder = login(a, "citizen1@gangnam.example")
    certificate = a.call("GET", "/me/certificates", headers=holder).json()["items"][0]
    text = certificate["qr_text"]
    verify_counter = iter(range(1, 10_000))

    def status_on(server: Client) -> str:
        # A different client address per call: this check is not about the rate limit.
        n = next(verify_counter)
        forwarded = {"X-Forwarded-For": f"10.1.{n // 250}.{n % 250 + 1}"}
        answer = server.call("POST", "/certificates/verify", json={"text": text}, headers=forwarded)
        check(answer.status_code == 200, f"verify: {answer.status_code} {answer.text}")
        return answer.json()["status"]

    check(status_on(a) == "valid" and status_on(b) == "valid", "the demo certificate is not valid")
    official = login(a, "official@gangnam.example")
    revoked = a.call(
        "POST", f"/certificates/{certificate['id']}/revoke", json={"reason": "분실 신고"},
        headers=official,
    )  # fmt: skip
    check(revoked.status_code == 200, f"revoke: {revoked.text}")
    started = time.monotonic()
    while status_on(b) != "revoked":
        check(time.monotonic() - started < REFRESH_SECONDS + 1, "server B still says valid")
        time.sleep(0.1)
    seen_b = time.monotonic() - started
    while status_on(a) != "revoked":
        check(time.monotonic() - started < REFRESH_SECONDS + 1, "server A still says valid")
        time.sleep(0.1)
    print(
        f"ok 2 revocation seen on the other server after {seen_b:.1f} s "
        f"(promised {REFRESH_SECONDS} s)"
    )


def shared_rate_limit(servers: list[Client]) -> None:
    forwarded = {"X-Forwarded-For": "10.9.9.9"}
    statuses = [
        servers[i % 2]
        .call("POST", "/certificates/verify", json={"text": "CPC1:/x"}, headers=forwarded)
        .status_code
        for i in range(3 * VERIFY_BURST)
    ]
    allowed = statuses.count(200)
    check(
        allowed == VERIFY_BURST,
        f"{allowed} verifications allowed across both, burst {VERIFY_BURST}",
    )
    check(statuses.count(429) == 2 * VERIFY_BURST, f"statuses: {Counter(statuses)}")
    print(
        f"ok 3 rate limit shared: {allowed} of {len(statuses)} allowed over 2 servers x 2 workers"
    )


def server_killed_mid_run(
    options: argparse.Namespace,
    servers: list[Client],
    proxy: Client,
    processes: Processes,
    engine: sa.Engine,
) -> None:
    official = login(proxy, "official@gangnam.example")
    run_id = uuid.uuid4().hex[:8]
    prefix = f"부하 공지 {run_id}"
    done: list[int] = []
    retried = Counter()

    def announce(index: int) -> int:
        body = {"title": f"{prefix} {index}", "body": "서버 장애 시험"}
        headers = {**official, "Idempotency-Key": f"announce-{run_id}-{index}"}
        for attempt in range(20):
            try:
                answer = proxy.call(
                    "POST", "/announcements", json=body, headers=headers, timeout=10
                )
                if answer.status_code == 201:
                    done.append(index)
                    return attempt
                # 502/503/504: the proxy lost the server; 409: the first try is still running.
                check(answer.status_code in (409, 502, 503, 504), f"announce: {answer.text}")
            except requests.RequestException:
                pass
            retried[index] += 1
            time.sleep(0.3)
        raise CheckFailed(f"announcement {index} never got an answer")

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(announce, i) for i in range(options.announcements)]
        while len(done) < options.announcements // 3:
            failed = [f.exception() for f in futures if f.done() and f.exception()]
            check(not failed, f"announcing failed before the kill: {failed[:1]}")
            time.sleep(0.05)
        processes.kill("api-0")
        killed_after = len(done)
        for future in futures:
            future.result()
    check(servers[1].call("GET", "/municipalities").status_code == 200, "server B is down too")
    with engine.connect() as connection:
        titles = (
            connection.execute(
                sa.text("SELECT title FROM announcements WHERE title LIKE :p"), {"p": f"{prefix} %"}
            )
            .scalars()
            .all()
        )
    counts = Counter(titles)
    check(len(counts) == options.announcements, f"{len(counts)} of {options.announcements} written")
    check(max(counts.values()) == 1, f"doubled: {[t for t, n in counts.items() if n > 1]}")
    print(
        f"ok 4 server A killed after {killed_after} of {options.announcements} announcements: "
        f"each written once ({sum(retried.values())} client retries)"
    )


def pushes_sent_once(fcm: FakeFcmServer, engine: sa.Engine) -> int:
    deadline = time.monotonic() + 60
    while True:
        with engine.connect() as connection:
            pending = connection.execute(
                sa.text(
                    "SELECT (SELECT count(*) FROM notification_outbox WHERE status = 'pending')"
                    " + (SELECT count(*) FROM notification_events)"
                )
            ).scalar_one()
        if pending == 0:
            break
        check(time.monotonic() < deadline, f"{pending} pushes still pending after 60 s")
        time.sleep(0.5)
    with engine.connect() as connection:
        sent = connection.execute(
            sa.text("SELECT count(*) FROM notification_outbox WHERE status = 'sent'")
        ).scalar_one()
    messages = [json.dumps(r.body.get("message"), sort_keys=True) for r in fcm.requests]
    repeated = [m for m, n in Counter(messages).items() if n > 1]
    check(sent > 0, "no push was sent at all")
    check(not repeated, f"{len(repeated)} pushes sent more than once, e.g. {repeated[:1]}")
    check(len(messages) == sent, f"fake FCM got {len(messages)} messages, outbox says {sent} sent")
    print(f"ok 5 pushes: {sent} sent, each once, by two workers")
    return sent


def metrics_add_up(server: Client, sent: int) -> None:
    """The surviving server's /metrics adds up its two workers and reads the shared outbox."""
    from prometheus_client.parser import text_string_to_metric_families

    answer = requests.get(server.base + "/metrics", timeout=10)
    check(answer.status_code == 200, f"/metrics: {answer.status_code}")
    samples = [
        sample
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    ]
    requests_total = sum(s.value for s in samples if s.name == "coproduction_http_requests_total")
    pids = {s.labels.get("pid") for s in samples if s.name == "coproduction_http_requests_total"}
    pushed = [
        s.value
        for s in samples
        if s.name == "coproduction_pushes_total" and s.labels.get("outcome") == "sent"
    ]
    check(requests_total > 50, f"only {requests_total} requests counted")
    check(pids == {None}, "per-worker series leaked into the scrape (multi-process mode off?)")
    check(pushed == [sent], f"pushes sent in /metrics {pushed}, in the outbox {sent}")
    print(f"ok 6 /metrics: {requests_total:.0f} requests over the workers, {sent} pushes sent")


if __name__ == "__main__":
    sys.exit(main())

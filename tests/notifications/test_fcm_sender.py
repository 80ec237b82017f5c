"""FcmSender through the real firebase-admin SDK, against a fake FCM v1 server on 127.0.0.1.

How the SDK reaches the fake, and why through a private attribute (checked against
firebase-admin 7.7.0, installed and the newest the package index here offers; setup.cfg pins
>=7.1,<7.8). The issue asked for a supported setting or plain HTTP instead; there is none:

- No endpoint option or emulator switch for messaging. `messaging._MessagingService` formats
  the class constant `FCM_URL` (https://fcm.googleapis.com/...) into `self._fcm_url`, and the
  topic URL likewise; the app options it reads are `projectId` and `httpTimeout` only. The
  `*_EMULATOR_HOST` variables exist for auth, the realtime database and Cloud Tasks, not FCM.
  Upstream's 7.8.0 release notes and its current `messaging.py` change nothing here, and the
  maintainers declined such an option in the sister SDKs (firebase-admin-java #374/#375,
  firebase-admin-dotnet #158: "use black-box testing"); Go alone took `option.WithEndpoint`.
- No transport to hand in. The service builds its own `_http_client.JsonHttpClient`, whose
  google-auth `AuthorizedSession` is created inside; a requests adapter can be mounted on it
  only by reaching that private `_client` (which FcmSender does anyway, for its non-retrying
  pool), so an adapter that rewrites the URL would be the same private access, not less.
- An HTTP(S) proxy (`HTTPS_PROXY` + `REQUESTS_CA_BUNDLE`, which requests honours) is supported,
  but the SDK's URL is https: the proxy gets a CONNECT tunnel, so the fake would have to
  terminate TLS as fcm.googleapis.com with a test CA, FcmSender would still reach the private
  session (it turns `trust_env` off there for speed), and `FCM_ENDPOINT` is also what bench/
  and deploy/multiserver_check.py point at the plain-HTTP fake, with figures measured so.

So FcmSender keeps its one, guarded override (`_redirect_service`: the instance's `_fcm_url`,
never the class's; a RuntimeError if those internals move), these tests
pin that down (`test_google_endpoint_gets_the_same_non_retrying_pool`, and the class constant
left untouched in the two-senders test), and the narrow version range in setup.cfg makes an
SDK upgrade run them first.
"""

from __future__ import annotations

import json
import socket
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import firebase_admin
import google.auth.credentials
import google.auth.exceptions
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from firebase_admin import exceptions, messaging

from backend.notifications.fcm import (
    DEFAULT_FCM_ENDPOINT,
    LINK_DATA_KEY,
    MAX_BATCH_SIZE,
    FcmSender,
    Outcome,
    PushMessage,
    SendResult,
    StaticTokenCredentials,
    build_sender_from_config,
    classify_error,
    normalise_endpoint,
    parse_retry_after,
    retry_delay,
)
from tests.fakes.fake_fcm import (
    ExternalLookupError,
    FakeFcmServer,
    Reply,
    loopback_only_dns,
    running_fake_fcm,
)

PROJECT = "demo-coproduction"
BEARER = "test-bearer-token"


@pytest.fixture(autouse=True)
def dns_guard() -> Iterator[list[str]]:
    """Fail any test that looks up a host other than the loopback, even if the error was eaten."""
    with loopback_only_dns() as refused:
        yield refused
    assert not refused, f"a test tried to resolve {refused}: only 127.0.0.1/localhost allowed"


@pytest.fixture
def fcm() -> Iterator[FakeFcmServer]:
    with running_fake_fcm(expected_bearer=BEARER) as server:
        yield server


@pytest.fixture
def sender(fcm: FakeFcmServer) -> Iterator[FcmSender]:
    with FcmSender(
        project_id=PROJECT, credentials=StaticTokenCredentials(BEARER), endpoint=fcm.endpoint
    ) as push_sender:
        yield push_sender


def push(device: str, **overrides: Any) -> PushMessage:
    fields: dict[str, Any] = {
        "message_id": f"msg-{device}",
        "token": device,
        "title": "회의 일정 안내",
        "body": "시민위원회 회의가 내일 열립니다.",
        "data": {"kind": "meeting"},
        "link": "coproduction://meetings/42",
    }
    fields.update(overrides)
    return PushMessage(**fields)


def only(results: list[SendResult]) -> SendResult:
    assert len(results) == 1
    return results[0]


# --- what goes over the wire -----------------------------------------------------------------


def test_request_carries_the_message_url_and_bearer(sender: FcmSender, fcm: FakeFcmServer):
    result = only(sender.send([push("device-1")]))

    assert result.outcome is Outcome.SENT
    assert result.message_id == "msg-device-1"
    assert result.provider_message_id.startswith(f"projects/{PROJECT}/messages/")
    request = only(fcm.requests)
    assert request.method == "POST"
    assert request.path == f"/v1/projects/{PROJECT}/messages:send"
    assert request.headers["authorization"] == f"Bearer {BEARER}"
    message = request.body["message"]
    assert message["token"] == "device-1"
    assert "fid" not in message
    assert message["notification"] == {
        "title": "회의 일정 안내",
        "body": "시민위원회 회의가 내일 열립니다.",
    }
    assert message["data"] == {"kind": "meeting", LINK_DATA_KEY: "coproduction://meetings/42"}
    assert message["android"]["priority"] == "high"
    assert message["apns"]["headers"]["apns-priority"] == "10"
    assert message["apns"]["headers"]["apns-push-type"] == "alert"


def test_collapse_key_and_ttl_reach_android_and_apns(sender: FcmSender, fcm: FakeFcmServer):
    sender.send([push("device-1", collapse_key="meeting-42", ttl=3600)])

    message = only(fcm.requests).body["message"]
    assert message["android"]["collapse_key"] == "meeting-42"
    assert message["android"]["ttl"] == "3600s"
    apns_headers = message["apns"]["headers"]
    assert apns_headers["apns-collapse-id"] == "meeting-42"
    assert abs(int(apns_headers["apns-expiration"]) - (time.time() + 3600)) < 60


def test_topic_message_goes_to_the_topic_not_a_token(sender: FcmSender, fcm: FakeFcmServer):
    message = PushMessage(
        message_id="announcement-1",
        token=None,
        topic="municipality-01JD8X7Q2M4N5P6R7S8T9V0W1X",
        title="구청 공지",
        body="내일 주민 설명회가 열립니다.",
        collapse_key="announcement-1",
    )

    result = only(sender.send([message]))

    assert result.outcome is Outcome.SENT
    body = only(fcm.requests).body["message"]
    assert body["topic"] == "municipality-01JD8X7Q2M4N5P6R7S8T9V0W1X"
    assert "token" not in body
    assert fcm.requests_for("/topics/municipality-01JD8X7Q2M4N5P6R7S8T9V0W1X")


def test_topic_failures_are_scripted_by_topic(sender: FcmSender, fcm: FakeFcmServer):
    fcm.script("/topics/news", Reply.UNAVAILABLE)
    message = PushMessage(message_id="a-1", token=None, topic="news", title="t", body="b")

    assert only(sender.send([message])).outcome is Outcome.RETRY


def test_message_without_data_sends_no_data(sender: FcmSender, fcm: FakeFcmServer):
    sender.send([push("device-1", data={}, link=None)])

    assert "data" not in only(fcm.requests).body["message"]


def test_token_is_sent_without_a_deprecation_warning(sender: FcmSender):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = sender.send([push("device-1")])

    assert only(results).outcome is Outcome.SENT
    assert [w for w in caught if issubclass(w.category, DeprecationWarning)] == []


# --- classification --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "outcome", "error_code"),
    [
        (Reply.UNREGISTERED, Outcome.PRUNE_TOKEN, "UNREGISTERED"),
        (Reply.SENDER_ID_MISMATCH, Outcome.PRUNE_TOKEN, "SENDER_ID_MISMATCH"),
        (Reply.INVALID_ARGUMENT, Outcome.DEAD, "INVALID_ARGUMENT"),
        (Reply.QUOTA_EXCEEDED, Outcome.RETRY, "QUOTA_EXCEEDED"),
        (Reply.UNAVAILABLE, Outcome.RETRY, "UNAVAILABLE"),
        (Reply.INTERNAL, Outcome.RETRY, "INTERNAL"),
    ],
)
def test_each_fcm_error_is_classified(
    sender: FcmSender, fcm: FakeFcmServer, reply: Reply, outcome: Outcome, error_code: str
):
    fcm.script("device-1", reply)

    result = only(sender.send([push("device-1")]))

    assert (result.outcome, result.error_code) == (outcome, error_code)
    assert result.provider_message_id is None
    assert result.error_message


def test_mixed_batch_keeps_order_and_classifies_each(sender: FcmSender, fcm: FakeFcmServer):
    fcm.script("stale", Reply.UNREGISTERED)
    fcm.script("busy", Reply.UNAVAILABLE)
    tokens = ["ok-1", "stale", "ok-2", "busy", "ok-3"]

    results = sender.send([push(token) for token in tokens])

    assert [r.message_id for r in results] == [f"msg-{token}" for token in tokens]
    assert [r.outcome for r in results] == [
        Outcome.SENT,
        Outcome.PRUNE_TOKEN,
        Outcome.SENT,
        Outcome.RETRY,
        Outcome.SENT,
    ]


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (messaging.UnregisteredError("gone"), Outcome.PRUNE_TOKEN),
        (messaging.SenderIdMismatchError("other project"), Outcome.PRUNE_TOKEN),
        (messaging.QuotaExceededError("slow down"), Outcome.RETRY),
        (exceptions.UnavailableError("down"), Outcome.RETRY),
        (exceptions.InternalError("oops"), Outcome.RETRY),
        (exceptions.DeadlineExceededError("timeout"), Outcome.RETRY),
        (exceptions.UnknownError("502 from a proxy"), Outcome.RETRY),
        (exceptions.UnauthenticatedError("bad credentials"), Outcome.RETRY),
        (messaging.ThirdPartyAuthError("APNs key"), Outcome.RETRY),
        (exceptions.PermissionDeniedError("no FCM permission"), Outcome.RETRY),
        (exceptions.NotFoundError("wrong project"), Outcome.RETRY),
        (exceptions.InvalidArgumentError("bad payload"), Outcome.DEAD),
        (exceptions.FailedPreconditionError("?"), Outcome.DEAD),
        (ValueError("not from the SDK"), Outcome.DEAD),
    ],
)
def test_classify_error(error: BaseException, outcome: Outcome):
    assert classify_error(error) is outcome


# --- retries are the worker's, not the SDK's -------------------------------------------------


def test_429_retry_after_is_reported_not_slept(sender: FcmSender, fcm: FakeFcmServer):
    fcm.retry_after = 60
    fcm.script("device-1", Reply.QUOTA_EXCEEDED)

    started = time.monotonic()
    result = only(sender.send([push("device-1")]))
    elapsed = time.monotonic() - started

    assert elapsed < 2
    assert result.outcome is Outcome.RETRY
    assert result.retry_after == 60
    assert len(fcm.requests_for("device-1")) == 1


@pytest.mark.parametrize("reply", [Reply.UNAVAILABLE, Reply.INTERNAL])
def test_5xx_is_sent_once_per_call(sender: FcmSender, fcm: FakeFcmServer, reply: Reply):
    fcm.script("device-1", reply)

    started = time.monotonic()
    result = only(sender.send([push("device-1")]))

    assert time.monotonic() - started < 2
    assert result.outcome is Outcome.RETRY
    assert result.retry_after is None
    assert len(fcm.requests_for("device-1")) == 1


def test_google_endpoint_gets_the_same_non_retrying_pool():
    # The fake runs on http://127.0.0.1; this checks the production URL picks our adapter too,
    # not the SDK's retrying one mounted on https://fcm.googleapis.com.
    with FcmSender(project_id=PROJECT, credentials=StaticTokenCredentials(BEARER)) as google:
        session = google._service._client.session
        adapter = session.get_adapter(google.send_url)

    assert google.send_url == f"{DEFAULT_FCM_ENDPOINT}/v1/projects/{PROJECT}/messages:send"
    assert adapter.max_retries.status == 0
    assert adapter.max_retries.respect_retry_after_header is False
    assert adapter._pool_block is True


def test_scripted_failures_then_success(sender: FcmSender, fcm: FakeFcmServer):
    fcm.script("device-1", Reply.UNAVAILABLE, Reply.QUOTA_EXCEEDED, Reply.SUCCESS)

    outcomes = [only(sender.send([push("device-1")])).outcome for _ in range(4)]

    assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.SENT, Outcome.SENT]
    assert len(fcm.requests_for("device-1")) == 4


def test_refused_connection_is_a_quick_retry():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{closed_port}"
    with FcmSender(
        project_id=PROJECT, credentials=StaticTokenCredentials(BEARER), endpoint=endpoint
    ) as refused_sender:
        started = time.monotonic()
        result = only(refused_sender.send([push("device-1")]))

    assert time.monotonic() - started < 2
    assert (result.outcome, result.error_code) == (Outcome.RETRY, "UNAVAILABLE")


def test_timeout_is_a_retry():
    with (
        running_fake_fcm(latency=0.5) as slow_fcm,
        FcmSender(
            project_id=PROJECT,
            credentials=StaticTokenCredentials(BEARER),
            endpoint=slow_fcm.endpoint,
            timeout=0.1,
        ) as impatient_sender,
    ):
        result = only(impatient_sender.send([push("device-1")]))

    assert (result.outcome, result.error_code) == (Outcome.RETRY, "DEADLINE_EXCEEDED")


def test_wrong_bearer_is_a_retry_not_a_dead_message(fcm: FakeFcmServer):
    with FcmSender(
        project_id=PROJECT, credentials=StaticTokenCredentials("wrong"), endpoint=fcm.endpoint
    ) as misconfigured:
        result = only(misconfigured.send([push("device-1")]))

    assert (result.outcome, result.error_code) == (Outcome.RETRY, "UNAUTHENTICATED")
    # google-auth refreshes the credential and repeats the request twice on a 401.
    assert fcm.request_count == 3


def test_batch_level_failure_marks_every_message_retry(fcm: FakeFcmServer):
    class BrokenCredentials(google.auth.credentials.Credentials):
        def refresh(self, request: Any) -> None:
            raise google.auth.exceptions.RefreshError("token service said no")

    with FcmSender(
        project_id=PROJECT, credentials=BrokenCredentials(), endpoint=fcm.endpoint
    ) as broken:
        results = broken.send([push("device-1"), push("device-2")])

    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.RETRY]
    assert [r.message_id for r in results] == ["msg-device-1", "msg-device-2"]
    assert fcm.request_count == 0


# --- batching --------------------------------------------------------------------------------


def test_1201_messages_go_in_three_send_each_calls(
    sender: FcmSender, fcm: FakeFcmServer, monkeypatch: pytest.MonkeyPatch
):
    batch_sizes: list[int] = []
    real_send_each = messaging.send_each

    def counting_send_each(messages: list[messaging.Message], *args: Any, **kwargs: Any) -> Any:
        batch_sizes.append(len(messages))
        return real_send_each(messages, *args, **kwargs)

    monkeypatch.setattr(messaging, "send_each", counting_send_each)

    results = sender.send([push(f"device-{i}") for i in range(1201)])

    assert batch_sizes == [MAX_BATCH_SIZE, MAX_BATCH_SIZE, 201]
    assert len(results) == 1201
    assert {r.outcome for r in results} == {Outcome.SENT}
    assert fcm.request_count == 1201
    assert len({r.token for r in fcm.requests}) == 1201


def test_empty_list_sends_nothing(sender: FcmSender, fcm: FakeFcmServer):
    assert sender.send([]) == []
    assert fcm.request_count == 0


def test_batch_size_is_bounded_by_the_sdk_limit():
    with pytest.raises(ValueError):
        FcmSender(project_id=PROJECT, credentials=StaticTokenCredentials(BEARER), batch_size=501)


# --- isolation between apps ------------------------------------------------------------------


def test_two_senders_do_not_leak_endpoints_into_each_other_or_the_sdk(fcm: FakeFcmServer):
    with (
        running_fake_fcm(expected_bearer=BEARER) as other_fcm,
        FcmSender(
            project_id=PROJECT, credentials=StaticTokenCredentials(BEARER), endpoint=fcm.endpoint
        ) as first,
        FcmSender(
            project_id="other-project",
            credentials=StaticTokenCredentials(BEARER),
            endpoint=other_fcm.endpoint,
        ) as second,
    ):
        first.send([push("device-1")])
        second.send([push("device-2")])

        assert first.app_name != second.app_name
        assert [r.token for r in fcm.requests] == ["device-1"]
        assert [r.path for r in other_fcm.requests] == ["/v1/projects/other-project/messages:send"]
    assert messaging._MessagingService.FCM_URL.startswith(DEFAULT_FCM_ENDPOINT)
    assert firebase_admin._DEFAULT_APP_NAME not in firebase_admin._apps


def test_closed_sender_refuses_to_send_and_frees_its_app_name(fcm: FakeFcmServer):
    push_sender = FcmSender(
        project_id=PROJECT,
        credentials=StaticTokenCredentials(BEARER),
        endpoint=fcm.endpoint,
        app_name="fcm-test-reuse",
    )
    push_sender.close()

    with pytest.raises(RuntimeError):
        push_sender.send([push("device-1")])
    FcmSender(
        project_id=PROJECT, credentials=StaticTokenCredentials(BEARER), app_name="fcm-test-reuse"
    ).close()


def test_environment_proxy_is_still_honoured(fcm: FakeFcmServer, monkeypatch: pytest.MonkeyPatch):
    with running_fake_fcm() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.endpoint)
        for name in ("NO_PROXY", "no_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        with FcmSender(
            project_id=PROJECT, credentials=StaticTokenCredentials(BEARER), endpoint=fcm.endpoint
        ) as proxied:
            proxied.send([push("device-1")])

        # A proxy gets the absolute URL in the request line; the fake proxy answers 404 to it.
        assert [r.path for r in proxy.requests] == [
            f"{fcm.endpoint}/v1/projects/{PROJECT}/messages:send"
        ]
    assert fcm.request_count == 0


# --- configuration ---------------------------------------------------------------------------


@pytest.fixture
def no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)


def test_no_credentials_means_push_is_off(no_ambient_credentials: None):
    assert build_sender_from_config({}) is None
    assert build_sender_from_config({"FIREBASE_PROJECT_ID": PROJECT}) is None


def test_static_token_config_talks_to_the_configured_endpoint(
    fcm: FakeFcmServer, no_ambient_credentials: None
):
    config = {
        "FCM_STATIC_TOKEN": BEARER,
        "FIREBASE_PROJECT_ID": PROJECT,
        "FCM_ENDPOINT": fcm.endpoint + "/",
        "FCM_TIMEOUT_SECONDS": "5",
        "FCM_MAX_CONNECTIONS": "8",
    }
    with build_sender_from_config(config) as configured:
        assert only(configured.send([push("device-1")])).outcome is Outcome.SENT

    assert only(fcm.requests).headers["authorization"] == f"Bearer {BEARER}"


def test_static_token_without_project_is_a_config_error(no_ambient_credentials: None):
    with pytest.raises(ValueError, match="FIREBASE_PROJECT_ID"):
        build_sender_from_config({"FCM_STATIC_TOKEN": BEARER})


def test_key_file_and_static_token_together_are_a_config_error(tmp_path: Path):
    key_file = write_service_account(tmp_path, token_uri="http://127.0.0.1:9/token")
    with pytest.raises(ValueError, match="not both"):
        build_sender_from_config(
            {"FIREBASE_CREDENTIALS_FILE": str(key_file), "FCM_STATIC_TOKEN": BEARER}
        )


def test_service_account_file_gets_its_token_and_project_offline(
    tmp_path: Path, no_ambient_credentials: None
):
    with running_fake_fcm(expected_bearer="sa-access-token", access_token="sa-access-token") as sa:
        key_file = write_service_account(tmp_path, token_uri=f"{sa.endpoint}/token")
        config = {"FIREBASE_CREDENTIALS_FILE": str(key_file), "FCM_ENDPOINT": sa.endpoint}
        with build_sender_from_config(config) as configured:
            results = configured.send([push("device-1"), push("device-2")])

        assert {r.outcome for r in results} == {Outcome.SENT}
        token_requests = [r for r in sa.requests if r.path == "/token"]
        assert len(token_requests) >= 1
        assert token_requests[0].body["grant_type"].endswith("jwt-bearer")
        sends = [r for r in sa.requests if r.path != "/token"]
        assert {r.path for r in sends} == {"/v1/projects/sa-project/messages:send"}


def test_application_default_credentials_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    key_file = write_service_account(tmp_path, token_uri="http://127.0.0.1:9/token")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))

    with build_sender_from_config({"FCM_ENDPOINT": "http://127.0.0.1:9"}) as configured:
        assert configured.project_id == "sa-project"


def test_endpoint_is_a_base_url():
    assert normalise_endpoint("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert normalise_endpoint(DEFAULT_FCM_ENDPOINT) == DEFAULT_FCM_ENDPOINT
    for bad in ("127.0.0.1:8080", "ftp://fcm.example", "http://127.0.0.1/v1/projects"):
        with pytest.raises(ValueError):
            normalise_endpoint(bad)


# --- messages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"token": ""},
        {"message_id": ""},
        {"data": {"count": 3}},
        {"data": {"from": "x"}},
        {"data": {"google.sent_time": "x"}},
        {"data": {LINK_DATA_KEY: "x"}},
        {"ttl": -1},
        {"ttl": 29 * 24 * 3600},
        {"ttl": 1.5},
        {"collapse_key": ""},
        {"topic": "news"},
        {"token": None},
        {"token": None, "topic": "news/../other"},
        {"token": None, "topic": ""},
    ],
)
def test_invalid_push_messages_are_refused(overrides: dict[str, Any]):
    with pytest.raises(ValueError):
        push("device-1", **overrides)


def test_token_stays_out_of_repr():
    assert "secret-device-token" not in repr(push("secret-device-token", message_id="m-1"))


# --- Retry-After and backoff -----------------------------------------------------------------


def test_parse_retry_after():
    now = 1_700_000_000.0
    http_date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + 120))

    assert parse_retry_after("60") == 60
    assert parse_retry_after(" 5 ") == 5
    assert parse_retry_after(http_date, now=now) == 120
    assert parse_retry_after("Mon, 01 Jan 2001 00:00:00 GMT", now=now) == 0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


def test_retry_delay_grows_is_jittered_and_respects_retry_after():
    assert retry_delay(1, rand=lambda: 1.0) == 5
    assert retry_delay(4, rand=lambda: 1.0) == 40
    assert retry_delay(4, rand=lambda: 0.5) == 20
    assert retry_delay(50, rand=lambda: 1.0) == 3600
    assert retry_delay(1, retry_after=60, rand=lambda: 0.0) == 60
    assert retry_delay(2, retry_after=60, rand=lambda: 1.0) == 70
    with pytest.raises(ValueError):
        retry_delay(0)


# --- the guard itself ------------------------------------------------------------------------


def test_dns_guard_refuses_real_hosts_and_allows_the_loopback(dns_guard: list[str]):
    assert socket.getaddrinfo("localhost", 80)
    with pytest.raises(ExternalLookupError):
        socket.getaddrinfo("fcm.googleapis.com", 443)
    assert dns_guard == ["fcm.googleapis.com"]
    dns_guard.clear()

    # The SDK swallows the guard's error into a batch failure; the refused list still tells.
    with FcmSender(project_id=PROJECT, credentials=StaticTokenCredentials(BEARER)) as google:
        result = only(google.send([push("device-1")]))
    assert result.outcome is Outcome.RETRY
    assert dns_guard == ["fcm.googleapis.com"]
    dns_guard.clear()


def write_service_account(directory: Path, *, token_uri: str) -> Path:
    """Write a throwaway service-account key file whose token service is `token_uri`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "sa-project",
        "private_key_id": "test-key",
        "private_key": pem,
        "client_email": "push@sa-project.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path = directory / "service-account.json"
    path.write_text(json.dumps(info))
    return path

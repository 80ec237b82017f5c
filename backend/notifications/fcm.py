"""Push sending through Firebase Cloud Messaging (HTTP v1) with the firebase-admin SDK.

Pure of Flask and of the database: the outbox worker builds `PushMessage` values, calls
`FcmSender.send` and acts on each `SendResult` (mark sent, schedule a retry, prune the device
token, give up). The sender sends every message exactly once per call; retrying is the worker's
job, so that no HTTP call can stall a worker thread for the minutes a `Retry-After` may ask for.

Configuration keys read by `build_sender_from_config`:

- `FIREBASE_CREDENTIALS_FILE`: path of a service-account JSON key file.
- `GOOGLE_APPLICATION_CREDENTIALS` (environment variable): application default credentials.
- `FCM_STATIC_TOKEN`: a fixed bearer token, for a local fake FCM server only.
- `FIREBASE_PROJECT_ID`: the Firebase project; optional when the key file names it.
- `FCM_ENDPOINT`: base URL of the FCM v1 API (default `https://fcm.googleapis.com`); point it
  at a fake server in tests and local runs. Sends go to
  `<FCM_ENDPOINT>/v1/projects/<id>/messages:send`.
- `FCM_TIMEOUT_SECONDS` (default 10) and `FCM_MAX_CONNECTIONS` (default 100).

With none of the credential keys set, push is off (the embedded default) and the factory returns
None: notifications then reach the in-app inbox only.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import firebase_admin
import google.auth.credentials
import requests.adapters
import requests.utils
from firebase_admin import credentials as firebase_credentials
from firebase_admin import exceptions, messaging
from urllib3.util.retry import Retry

logger = logging.getLogger(__name__)

DEFAULT_FCM_ENDPOINT = "https://fcm.googleapis.com"
DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_CONNECTIONS = 100
# messaging.send_each raises ValueError above this many messages.
MAX_BATCH_SIZE = 500
# FCM keeps an undelivered message at most 28 days.
MAX_TTL_SECONDS = 28 * 24 * 3600
# The data key under which the app finds the screen to open when the notification is tapped.
LINK_DATA_KEY = "link"

_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# What FCM accepts as a topic name (the SDK's own check, applied early so a bad one never
# reaches send_each, which would raise for the whole batch).
_TOPIC_NAME = re.compile(r"[a-zA-Z0-9\-_.~%]{1,900}")
# FCM rejects these data keys (https://firebase.google.com/docs/cloud-messaging/concept-options).
_RESERVED_DATA_KEYS = frozenset({"from", "message_type"})
_RESERVED_DATA_PREFIXES = ("google", "gcm")
_FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"

Credential = google.auth.credentials.Credentials | firebase_credentials.Base

# Worth another try: FCM overloaded or throttling us, or the message never got an answer.
_TRANSIENT_ERRORS = (
    exceptions.ResourceExhaustedError,  # includes messaging.QuotaExceededError
    exceptions.UnavailableError,  # includes refused connections
    exceptions.InternalError,
    exceptions.DeadlineExceededError,  # timeouts
    exceptions.AbortedError,
    exceptions.CancelledError,
    exceptions.UnknownError,  # unmapped statuses such as a proxy's 502, broken responses
)
# Not the message's fault but ours (credentials, project, APNs key): the same message will go
# through once the configuration is fixed, and the worker's attempt cap bounds the cost meanwhile.
# NotFoundError here is a 404 without UNREGISTERED, i.e. a wrong project or endpoint.
_CONFIGURATION_ERRORS = (
    exceptions.UnauthenticatedError,  # includes messaging.ThirdPartyAuthError
    exceptions.PermissionDeniedError,
    exceptions.NotFoundError,
)


class Outcome(StrEnum):
    """What the worker should do with a message after one send attempt."""

    SENT = "sent"
    RETRY = "retry"
    PRUNE_TOKEN = "prune_token"
    DEAD = "dead"


@dataclass(frozen=True)
class PushMessage:
    """One notification to one device (`token`) or to a topic's subscribers (`topic`, with
    `token=None`); `message_id` is the caller's id, echoed in the result."""

    message_id: str
    token: str | None = field(repr=False)  # a device credential of sorts: keep it out of logs
    title: str
    body: str
    data: Mapping[str, str] = field(default_factory=dict)
    link: str | None = None
    collapse_key: str | None = None
    ttl: int | None = None
    topic: str | None = None

    def __post_init__(self) -> None:
        _require_text("message_id", self.message_id)
        if (self.token is None) == (self.topic is None):
            raise ValueError("give exactly one of token and topic")
        if self.token is not None:
            _require_text("token", self.token)
        if self.topic is not None and not (
            isinstance(self.topic, str) and _TOPIC_NAME.fullmatch(self.topic)
        ):
            raise ValueError("topic must be 1-900 characters of [a-zA-Z0-9-_.~%]")
        _require_str("title", self.title)
        _require_str("body", self.body)
        _check_data(self.data, self.link)
        if self.link is not None:
            _require_text("link", self.link)
        if self.collapse_key is not None:
            _require_text("collapse_key", self.collapse_key)
        _check_ttl(self.ttl)


@dataclass(frozen=True)
class SendResult:
    """The outcome of one message; `retry_after` is FCM's Retry-After in seconds, if it sent one."""

    message_id: str
    outcome: Outcome
    error_code: str | None = None
    retry_after: float | None = None
    provider_message_id: str | None = None
    error_message: str | None = None


class StaticTokenCredentials(google.auth.credentials.Credentials):
    """google.auth credentials with a fixed bearer token: for fake FCM servers, never for Google.

    With no expiry the token always counts as valid, so nothing ever calls Google's token service.
    """

    def __init__(self, token: str) -> None:
        super().__init__()
        _require_text("token", token)
        self.token = token

    def refresh(self, request: Any) -> None:
        """Keep the fixed token: there is no token service to ask for another."""


class FcmSender:
    """Sends push messages to one Firebase project through `messaging.send_each`."""

    def __init__(
        self,
        *,
        project_id: str,
        credentials: Credential,
        endpoint: str | None = None,
        app_name: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        batch_size: int = MAX_BATCH_SIZE,
    ) -> None:
        _require_text("project_id", project_id)
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}")
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.project_id = project_id
        self.endpoint = normalise_endpoint(endpoint or DEFAULT_FCM_ENDPOINT)
        self.batch_size = batch_size
        self.send_url = f"{self.endpoint}/v1/projects/{project_id}/messages:send"
        # A named app of our own: the default app, or another sender's, keeps its own settings.
        self._app: firebase_admin.App | None = firebase_admin.initialize_app(
            credentials,
            options={"projectId": project_id, "httpTimeout": timeout},
            name=app_name or f"fcm-sender-{uuid.uuid4().hex}",
        )
        try:
            self._service = messaging._get_messaging_service(self._app)
            _redirect_service(self._service, self.endpoint, self.send_url, max_connections)
        except Exception:
            firebase_admin.delete_app(self._app)
            self._app = None
            raise

    @property
    def app_name(self) -> str:
        """Name of the firebase app this sender owns."""
        return self._require_app().name

    def send(self, messages: Sequence[PushMessage]) -> list[SendResult]:
        """Send each message once; return one result per message, in the same order."""
        app = self._require_app()
        results: list[SendResult] = []
        for chunk in _chunks(messages, self.batch_size):
            results.extend(_send_chunk(chunk, app))
        return results

    def close(self) -> None:
        """Close the HTTP connections and delete the firebase app; later sends raise."""
        if self._app is None:
            return
        self._service._client.close()
        firebase_admin.delete_app(self._app)
        self._app = None

    def __enter__(self) -> FcmSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _require_app(self) -> firebase_admin.App:
        if self._app is None:
            raise RuntimeError("this FcmSender is closed")
        return self._app


def build_sender_from_config(config: Mapping[str, Any]) -> FcmSender | None:
    """Build the sender the configuration describes, or None when push is not configured."""
    credential = _credential_from_config(config)
    if credential is None:
        logger.info(
            "push is off (no FCM credentials configured): notifications reach the inbox only"
        )
        return None
    project_id = config.get("FIREBASE_PROJECT_ID") or _project_id_of(credential)
    if not project_id:
        raise ValueError("FIREBASE_PROJECT_ID is required when the credentials do not name one")
    return FcmSender(
        project_id=project_id,
        credentials=credential,
        endpoint=config.get("FCM_ENDPOINT") or None,
        timeout=float(config.get("FCM_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS),
        max_connections=int(config.get("FCM_MAX_CONNECTIONS") or DEFAULT_MAX_CONNECTIONS),
    )


def push_is_configured(config: Mapping[str, Any]) -> bool:
    """Whether the configuration names FCM credentials (without loading them)."""
    return bool(
        config.get("FIREBASE_CREDENTIALS_FILE")
        or config.get("FCM_STATIC_TOKEN")
        or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    )


def normalise_endpoint(endpoint: str) -> str:
    """Check an FCM base URL (scheme and host, no path) and return it without a trailing slash."""
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"FCM endpoint must be an http(s) URL, got {endpoint!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"FCM endpoint must be a base URL without a path, got {endpoint!r}")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        logger.warning("FCM endpoint %s is plain HTTP: device tokens travel unencrypted", endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def classify_error(error: BaseException) -> Outcome:
    """Map the exception the SDK attached to a failed message to what the worker should do."""
    if isinstance(error, messaging.UnregisteredError | messaging.SenderIdMismatchError):
        return Outcome.PRUNE_TOKEN
    if isinstance(error, _TRANSIENT_ERRORS + _CONFIGURATION_ERRORS):
        return Outcome.RETRY
    return Outcome.DEAD


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds a Retry-After header value asks to wait (delta-seconds or HTTP-date), else None."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def retry_delay(
    attempt: int,
    *,
    retry_after: float | None = None,
    base: float = 5.0,
    cap: float = 3600.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry `attempt` (1-based): jittered backoff after any Retry-After."""
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    # Full jitter spreads out the retries of a batch that failed together (a 429 or 503 hits
    # hundreds of messages at once); exponent capped so huge attempt counts cannot overflow.
    jittered = min(cap, base * 2 ** min(attempt - 1, 32)) * rand()
    if retry_after is None:
        return jittered
    return retry_after + jittered


def _send_chunk(chunk: Sequence[PushMessage], app: firebase_admin.App) -> list[SendResult]:
    """Send at most MAX_BATCH_SIZE messages through the SDK and classify each response."""
    sdk_messages = [_to_sdk_message(message) for message in chunk]
    try:
        batch = messaging.send_each(sdk_messages, app=app)
    except exceptions.FirebaseError as error:
        # send_each turns any failure it cannot pin on one message (a credential refresh error,
        # say) into one UnknownError for the whole call and drops the per-message results.
        logger.warning("FCM batch of %d failed as a whole: %s", len(chunk), error)
        return [_failure(message, error) for message in chunk]
    return [
        _result_of(message, response)
        for message, response in zip(chunk, batch.responses, strict=True)
    ]


def _result_of(message: PushMessage, response: messaging.SendResponse) -> SendResult:
    error = response.exception
    if error is None:
        # A 2xx means FCM accepted the message, even in the odd case of a body without a name.
        return SendResult(message.message_id, Outcome.SENT, provider_message_id=response.message_id)
    return _failure(message, error)


def _failure(message: PushMessage, error: BaseException) -> SendResult:
    outcome = classify_error(error)
    return SendResult(
        message_id=message.message_id,
        outcome=outcome,
        error_code=_error_code(error),
        retry_after=_retry_after_of(error) if outcome is Outcome.RETRY else None,
        error_message=str(error)[:500],
    )


def _to_sdk_message(message: PushMessage) -> messaging.Message:
    """Build the SDK message: a visible notification, data with the deep link, high priority."""
    sdk_message = messaging.Message(
        notification=messaging.Notification(title=message.title, body=message.body),
        data=_data_payload(message),
        android=messaging.AndroidConfig(
            priority="high", collapse_key=message.collapse_key, ttl=message.ttl
        ),
        apns=messaging.APNSConfig(
            headers=_apns_headers(message),
            payload=messaging.APNSPayload(aps=messaging.Aps(sound="default")),
        ),
    )
    # firebase-admin 7.7 deprecates Message(token=...) in favour of fid (Firebase installation
    # ids). The app hands us FCM registration tokens from getToken(), so `token` is the right
    # field on the wire. Passing it to __init__ would warn 500 times a batch, and silencing that
    # with warnings.catch_warnings() swaps process-wide filters, which is unsafe with several
    # worker threads; the public attribute is what the encoder validates and sends, so set it.
    if message.topic is not None:
        sdk_message.topic = message.topic
    else:
        sdk_message.token = message.token
    return sdk_message


def _data_payload(message: PushMessage) -> dict[str, str] | None:
    data = dict(message.data)
    if message.link is not None:
        data[LINK_DATA_KEY] = message.link
    return data or None


def _apns_headers(message: PushMessage) -> dict[str, str]:
    # APNs has no "high priority" flag of FCM's; priority 10 with an alert push type is its twin.
    headers = {"apns-priority": "10", "apns-push-type": "alert"}
    if message.collapse_key is not None:
        headers["apns-collapse-id"] = message.collapse_key
    if message.ttl is not None:
        # APNs wants an absolute expiry; 0 means "now or never", like an Android ttl of 0.
        expiry = 0 if message.ttl == 0 else int(time.time()) + message.ttl
        headers["apns-expiration"] = str(expiry)
    return headers


def _redirect_service(service: Any, endpoint: str, send_url: str, max_connections: int) -> None:
    """Point one app's messaging service at `endpoint` and replace its retrying HTTP adapter."""
    client = getattr(service, "_client", None)
    if not hasattr(service, "_fcm_url") or client is None:
        raise RuntimeError(
            "firebase-admin internals changed: _MessagingService has no _fcm_url/_client; "
            "check FcmSender against the installed SDK version"
        )
    # The SDK has no FCM emulator switch: it formats the class attribute FCM_URL into the
    # instance attribute _fcm_url when the app's service is created. Overriding the instance
    # attribute redirects this app only; mutating the class would leak into every other app.
    service._fcm_url = send_url
    # requests picks the adapter with the longest matching prefix, so this one wins over the
    # SDK's for every URL under the endpoint, on this app's session only.
    client.session.mount(f"{endpoint}/", _fcm_adapter(max_connections))
    _read_environment_once(client.session, send_url)


def _read_environment_once(session: requests.Session, url: str) -> None:
    """Resolve proxy and CA-bundle settings from the environment now, not on every request."""
    # requests re-reads them (and looks for ~/.netrc) per request when trust_env is on: a
    # quarter of the CPU each message costs (measured 1,170 -> 1,560 messages/s). Proxies
    # still apply (a closed government network may need one), resolved for the FCM URL at
    # start-up, NO_PROXY included.
    session.proxies.update(requests.utils.get_environ_proxies(url))
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    session.trust_env = False


def _fcm_adapter(max_connections: int) -> requests.adapters.HTTPAdapter:
    """A connection pool sized for send_each's threads, with the SDK's own retrying switched off."""
    # The SDK's adapter retries 500/503 four times with backoff and sleeps out a 429's
    # Retry-After (minutes) inside the call. We retry only a connection that could not be
    # opened, once and at once: nothing reached FCM, so it cannot duplicate a push.
    no_status_retries = Retry(
        total=1,
        connect=1,
        read=0,
        status=0,
        other=0,
        backoff_factor=0,
        respect_retry_after_header=False,
        raise_on_status=False,
    )
    # send_each runs one thread per message (up to 500); a blocking pool makes the surplus
    # threads wait for a kept-alive connection instead of opening and discarding extra ones.
    return requests.adapters.HTTPAdapter(
        pool_connections=1,
        pool_maxsize=max_connections,
        pool_block=True,
        max_retries=no_status_retries,
    )


def _error_code(error: BaseException) -> str:
    """FCM's own error code (UNREGISTERED, QUOTA_EXCEEDED...) if present, else the SDK's."""
    detail = _fcm_detail_code(getattr(error, "http_response", None))
    if detail:
        return detail
    code = getattr(error, "code", None)
    return str(code) if code else type(error).__name__


def _fcm_detail_code(response: Any) -> str | None:
    if response is None:
        return None
    try:
        details = response.json()["error"]["details"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, dict) and detail.get("@type") == _FCM_ERROR_TYPE:
            code = detail.get("errorCode")
            return str(code) if code else None
    return None


def _retry_after_of(error: BaseException) -> float | None:
    response = getattr(error, "http_response", None)
    headers = getattr(response, "headers", None)
    return parse_retry_after(headers.get("Retry-After")) if headers is not None else None


def _credential_from_config(config: Mapping[str, Any]) -> Credential | None:
    key_file = config.get("FIREBASE_CREDENTIALS_FILE")
    static_token = config.get("FCM_STATIC_TOKEN")
    if key_file and static_token:
        raise ValueError("set FIREBASE_CREDENTIALS_FILE or FCM_STATIC_TOKEN, not both")
    if key_file:
        return firebase_credentials.Certificate(os.fspath(key_file))
    if static_token:
        return StaticTokenCredentials(str(static_token))
    # Read from the environment, not the config: google.auth itself only looks there.
    if os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
        return firebase_credentials.ApplicationDefault()
    return None


def _project_id_of(credential: Credential) -> str | None:
    return getattr(credential, "project_id", None)


def _chunks(messages: Sequence[PushMessage], size: int) -> Iterator[Sequence[PushMessage]]:
    for start in range(0, len(messages), size):
        yield messages[start : start + size]


def _require_str(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")


def _require_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")


def _check_data(data: Mapping[str, str], link: str | None) -> None:
    if not isinstance(data, Mapping):
        raise ValueError("data must be a mapping of strings to strings")
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError("data must map strings to strings")
        lowered = key.lower()
        if lowered in _RESERVED_DATA_KEYS or lowered.startswith(_RESERVED_DATA_PREFIXES):
            raise ValueError(f"data key {key!r} is reserved by FCM")
    if link is not None and LINK_DATA_KEY in data:
        raise ValueError(f"give the deep link either as link or as data[{LINK_DATA_KEY!r}]")


def _check_ttl(ttl: int | None) -> None:
    if ttl is None:
        return
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl must be whole seconds between 0 and {MAX_TTL_SECONDS}")

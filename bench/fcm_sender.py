"""Raw FcmSender throughput against the fake FCM server, without a database.

    python -m bench.fcm_sender                 # 10,000 messages
    python -m bench.fcm_sender --messages 100000

One process sends every message through the real firebase-admin SDK (`send_each`, 500 a call)
to the fake FCM v1 server on 127.0.0.1, here in the same process (threads). This is the ceiling
a single delivery worker can reach; `bench/notifications_fanout.py` measures the whole path
(outbox, claiming, recording) with several worker processes. Moved here from the test suite:
timing goals live only in bench/.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from backend.notifications.fcm import FcmSender, Outcome, PushMessage, StaticTokenCredentials
from tests.fakes.fake_fcm import loopback_only_dns, running_fake_fcm

PROJECT = "bench-coproduction"
BEARER = "bench-bearer-token"


def main(argv: Sequence[str] | None = None) -> int:
    """Send N messages once and print messages per second; exit 1 if any was not SENT."""
    parser = argparse.ArgumentParser(prog="python -m bench.fcm_sender", description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args(argv)
    count = max(1, min(args.messages, 1_000_000))
    messages = [
        PushMessage(
            message_id=str(i),
            token=f"device-{i}",
            title="회의 일정 안내",
            body="시민위원회 회의가 내일 열립니다.",
            data={"kind": "meeting"},
            link="coproduction://meetings/42",
        )
        for i in range(count)
    ]
    with (
        loopback_only_dns(),
        running_fake_fcm(record=False) as fake,
        FcmSender(
            project_id=PROJECT, credentials=StaticTokenCredentials(BEARER), endpoint=fake.endpoint
        ) as sender,
    ):
        started = time.perf_counter()
        results = sender.send(messages)
        elapsed = time.perf_counter() - started
        received = fake.request_count
    sent = sum(result.outcome is Outcome.SENT for result in results)
    print(
        f"{count} messages in {elapsed:.1f} s: {count / elapsed:,.0f} messages/s "
        f"(sent {sent}, received by the fake {received})"
    )
    return 0 if sent == count == received else 1


if __name__ == "__main__":
    sys.exit(main())

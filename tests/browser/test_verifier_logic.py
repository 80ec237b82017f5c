"""The app's own verification code (verifier/app/verify.js) against the guide's worked example.

The same example is checked on the server side by tests/certification/test_token.py, so the
browser and the server give the same answers for the same token, keys and list.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "mobile_contract" / "OFFLINE_VERIFICATION.md"
CHECK = """async ([jwks, list, text, now]) => {
  const v = await import('/verify/verify.js');
  const keys = v.keysByKid(jwks);
  const decoded = await v.readStatusList(list, keys);
  const result = await v.checkText(text, {keys, lists: new Map([[decoded.issuer, decoded]])}, now);
  return [result.status, result.claims ? result.claims.holder : null, decoded.issuedAt];
}"""


@pytest.fixture(scope="module")
def example() -> dict[str, str]:
    blocks = re.findall(r"<!-- example: (\w+) -->\s*```\w*\n(.*?)\n```", GUIDE.read_text(), re.S)
    return dict(blocks)


def _check(page, example, text: str, now: int):
    jwks = json.loads(example["jwks"])
    return page.evaluate(CHECK, [jwks, example["status_list"], text, now])


@pytest.mark.parametrize(
    ("now", "status"),
    [
        (1748746800, "valid"),
        (1740786600, "not_yet_valid"),
        (1772323440, "valid"),
        (1772323500, "expired"),
    ],
)
def test_worked_example(page, example, now: int, status: str) -> None:
    page.goto("/verify/")
    assert _check(page, example, example["qr_text"], now) == [status, "홍*동", 1748736000]
    assert _check(page, example, example["token"], now)[0] == status


def test_every_changed_character_fails(page, example) -> None:
    page.goto("/verify/")
    text = example["qr_text"]
    statuses = set()
    # Every 7th digit, to keep it quick: each changed one must not read valid.
    for position in range(len("CPC1:/"), len(text), 7):
        digit = str((int(text[position]) + 1) % 10)
        changed = text[:position] + digit + text[position + 1 :]
        statuses.add(_check(page, example, changed, 1748746800)[0])
    assert statuses <= {"malformed", "unknown_key", "invalid_signature"}
    assert "invalid_signature" in statuses


def test_revoked_bits_and_a_forged_list(page, example) -> None:
    page.goto("/verify/")
    revoked = page.evaluate(
        """async ([jwks, list]) => {
          const v = await import('/verify/verify.js');
          const decoded = await v.readStatusList(list, v.keysByKid(jwks));
          return [7, 4242, 90210, 131072].map((i) => v.isRevoked(decoded, i));
        }""",
        [json.loads(example["jwks"]), example["status_list"]],
    )
    assert revoked == [True, True, False, True]
    header, payload, signature = example["status_list"].split(".")
    forged = f"{header}.{payload[:-2]}AA.{signature}"
    refused = page.evaluate(
        """async ([jwks, list]) => {
          const v = await import('/verify/verify.js');
          try { await v.readStatusList(list, v.keysByKid(jwks)); return false; }
          catch (e) { return e instanceof v.Malformed; }
        }""",
        [json.loads(example["jwks"]), forged],
    )
    assert refused is True

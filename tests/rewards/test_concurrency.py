"""Two workers at once: no double grant, no overspent budget (real concurrency: PostgreSQL)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from backend.errors import RuleViolation
from backend.extensions import db
from backend.identity.models import User
from backend.ids import new_id
from backend.permissions import Role
from backend.rewards import grants, services
from backend.rewards.models import Incentive, RewardBudget, RewardLedgerEntry

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.real_commits,  # threads: each has its own connection
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="needs PostgreSQL (TEST_DATABASE_URL) for real concurrent transactions",
    ),
]
CONFIRMED_AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def run_in_threads(app, count: int, work: Callable[[], object]) -> list[object]:
    """Run `work` in `count` threads, each in its own app context and transaction, at once."""
    start = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(slot: int) -> None:
        with app.app_context():
            start.wait()
            try:
                results[slot] = work()
                db.session.commit()
            except Exception as error:  # the outcome is what the test asserts on
                db.session.rollback()
                results[slot] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def confirm(user_id: str, municipality_id: str, participation_id: str) -> Callable[[], object]:
    def work() -> object:
        return services.grant_for_participation(
            participation_id=participation_id,
            user_id=user_id,
            municipality_id=municipality_id,
            stage="plan",
            activity_kind="workshop",
            hours=2.0,
            confirmed_at=CONFIRMED_AT,
            actor_id=None,
        )

    return work


def ledger_rows(user_id: str) -> list[RewardLedgerEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(sa.select(RewardLedgerEntry).where(RewardLedgerEntry.user_id == user_id))
    )


def test_two_workers_confirming_one_participation_grant_once(
    app, clock, create_user, create_rule, create_budget
):
    citizen = create_user(Role.CITIZEN)
    create_rule(amount=100)
    create_rule(name="상품권", incentive=Incentive.VOUCHER, amount=5_000)
    budget = create_budget(total_amount=100_000)
    participation = new_id()

    run_in_threads(app, 4, confirm(citizen.id, citizen.municipality_id, participation))

    rows = ledger_rows(citizen.id)
    assert sorted((row.incentive, row.amount) for row in rows) == [
        (Incentive.POINTS, 100),
        (Incentive.VOUCHER, 5_000),
    ]
    # The losers drew on the budget, found the grant made, and gave the money back.
    assert db.session.get(RewardBudget, budget.id).remaining_amount == 95_000


def test_the_unique_constraint_alone_stops_a_double_grant(
    app, clock, create_user, create_rule, create_budget, monkeypatch
):
    """Both workers pass the "already granted?" check; the database decides."""
    citizen = create_user(Role.CITIZEN)
    create_rule(name="상품권", incentive=Incentive.VOUCHER, amount=5_000)
    budget = create_budget(total_amount=100_000)
    both_checked = threading.Barrier(2)
    checked = grants._already_granted

    def check_then_wait(participation_id: str, incentive: Incentive) -> bool:
        found = checked(participation_id, incentive)
        both_checked.wait(timeout=10)
        return found

    monkeypatch.setattr(grants, "_already_granted", check_then_wait)
    results = run_in_threads(app, 2, confirm(citizen.id, citizen.municipality_id, new_id()))

    assert sorted(len(result) for result in results) == [0, 1]
    assert len(ledger_rows(citizen.id)) == 1
    assert db.session.get(RewardBudget, budget.id).remaining_amount == 95_000


def test_concurrent_official_grants_never_overspend_a_budget(
    app, clock, create_user, create_budget
):
    official = create_user(Role.OFFICIAL)
    citizen = create_user(Role.CITIZEN)
    budget = create_budget(incentive=Incentive.CASH, total_amount=25_000)

    def grant() -> object:
        return services.grant_reward(
            actor=db.session.get(User, official.id),
            user=db.session.get(User, citizen.id),
            incentive=Incentive.CASH,
            amount=10_000,
            reason="활동비",
        )

    results = run_in_threads(app, 6, grant)

    refused = [r for r in results if isinstance(r, RuleViolation)]
    assert len(refused) == 4 and {r.code for r in refused} == {"budget_exhausted"}
    assert len(ledger_rows(citizen.id)) == 2
    assert db.session.get(RewardBudget, budget.id).remaining_amount == 5_000


def test_concurrent_redemptions_never_overdraw(app, clock, create_user):
    official = create_user(Role.OFFICIAL)
    citizen = create_user(Role.CITIZEN)
    services.grant_reward(
        actor=official, user=citizen, incentive=Incentive.POINTS, amount=250, reason="x"
    )
    db.session.commit()

    def redeem() -> object:
        return services.record_redemption(
            actor=db.session.get(User, official.id),
            user=db.session.get(User, citizen.id),
            incentive=Incentive.POINTS,
            amount=100,
            reason="사용",
        )

    results = run_in_threads(app, 5, redeem)

    assert sum(isinstance(r, RuleViolation) for r in results) == 3
    assert services.balance_of(user_id=citizen.id, incentive=Incentive.POINTS) == 50

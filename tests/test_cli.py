"""The flask commands: demo data (idempotent), staff accounts, the contract check."""

from __future__ import annotations

from backend.identity.models import Municipality, User
from backend.permissions import Role


def test_seed_demo_is_idempotent_and_prints_logins(app, ctx, count_rows):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.example" in first.output and "demo-password-1" in first.output
    counts = (count_rows(User), count_rows(Municipality))
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert (count_rows(User), count_rows(Municipality)) == counts
    assert counts[1] == 2


def test_users_create_makes_a_staff_account(app, ctx, municipality):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "official",
            "--email",
            "cli@example.test",
            "--name",
            "CLI 공무원",
            "--municipality",
            municipality.code,
        ],
        input="a-long-password\na-long-password\n",
    )
    assert result.exit_code == 0, result.output
    user = User.query.filter_by(email="cli@example.test").one()
    assert user.role == Role.OFFICIAL and user.municipality_id == municipality.id


def test_users_create_refuses_bad_placement(app, ctx):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "official",
            "--email",
            "cli2@example.test",
            "--name",
            "x",
        ],
        input="a-long-password\na-long-password\n",
    )
    assert result.exit_code != 0
    assert User.query.filter_by(email="cli2@example.test").count() == 0


def test_contract_check_passes_on_the_committed_contract(app):
    result = app.test_cli_runner().invoke(args=["contract", "check"])
    assert result.exit_code == 0, result.output


def test_seed_demo_adds_participation_projects_once(app, ctx, count_rows):
    from backend.participation.models import (
        Activity,
        IndicatorRecord,
        Participation,
        Project,
        ProjectStage,
    )

    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    models = (Project, ProjectStage, Activity, Participation, IndicatorRecord)
    counts = [count_rows(m) for m in models]
    assert counts[0] == 4 and counts[1] == 16  # two projects in each of the two municipalities
    assert counts[2] == 14 and counts[3] > 0 and counts[4] == 10
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert [count_rows(m) for m in models] == counts

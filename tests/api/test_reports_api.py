"""The reports over HTTP: JSON and CSV, and who may read what."""

from __future__ import annotations

import csv
import io

from backend.permissions import Role
from tests.fixtures.participation import BRIEF, MODES, build_brief_projects

API = "/api/v1"


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # spreadsheet programs need the BOM for Korean
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_stage_mode_table_as_json_and_csv(client, official, as_role, create_user, clock):
    build_brief_projects(official, create_user(Role.CITIZEN))
    _analyst, headers = as_role(Role.ANALYST)

    report = client.get(f"{API}/reports/stage-modes?year=2018", headers=headers)
    assert report.status_code == 200
    assert report.json["project_count"] == 235
    for row in report.json["stages"]:
        counts, percents = BRIEF[row["stage"]]
        assert tuple(row[m] for m in MODES) == counts
        assert tuple(row[f"{m}_percent"] for m in MODES) == percents

    by_format = _csv(client.get(f"{API}/reports/stage-modes?year=2018&format=csv", headers=headers))
    by_accept = _csv(
        client.get(
            f"{API}/reports/stage-modes?year=2018", headers={**headers, "Accept": "text/csv"}
        )
    )
    assert by_format == by_accept
    evaluate = by_format[3]
    assert evaluate["stage"] == "evaluate"
    assert (evaluate["unclear"], evaluate["unclear_percent"], evaluate["joint_percent"]) == (
        "45",
        "19.1",
        "41.3",
    )

    other_field = client.get(f"{API}/reports/stage-modes?field=youth", headers=headers).json
    assert other_field["project_count"] == 0


def test_officials_read_their_own_municipality_only(client, as_role, other_municipality):
    _official, headers = as_role(Role.OFFICIAL)
    mine = client.get(f"{API}/reports/stage-modes", headers=headers)
    assert mine.status_code == 200 and mine.json["municipality_id"] == _official.municipality_id
    theirs = client.get(
        f"{API}/reports/stage-modes?municipality_id={other_municipality.id}", headers=headers
    )
    assert theirs.status_code == 404
    _citizen, citizen_headers = as_role(Role.CITIZEN)
    assert client.get(f"{API}/reports/stage-modes", headers=citizen_headers).status_code == 403


def test_indicators_as_json_and_csv(client, as_role, other_municipality):
    _official, headers = as_role(Role.OFFICIAL)
    for body in (
        {"kind": "ordinance", "title": "공동생산 조례", "occurred_on": "2026-01-05"},
        {
            "kind": "exchange",
            "title": "주민자치회 간담회",
            "occurred_on": "2026-02-05",
            "partner": "residents_association",
        },
    ):
        assert (
            client.post(f"{API}/indicator-records", json=body, headers=headers).status_code == 201
        )
    _analyst, analyst_headers = as_role(Role.ANALYST)
    report = client.get(f"{API}/reports/indicators?year=2026", headers=analyst_headers).json
    rows = {r["municipality_id"]: r for r in report["items"]}
    assert set(rows) == {_official.municipality_id, other_municipality.id}
    assert rows[_official.municipality_id]["ordinance_enacted"] is True
    assert rows[_official.municipality_id]["exchanges"] == 1
    assert rows[other_municipality.id]["ordinance_enacted"] is False

    table = _csv(
        client.get(f"{API}/reports/indicators?year=2026&format=csv", headers=analyst_headers)
    )
    by_code = {r["municipality_code"]: r for r in table}
    assert by_code["11680"]["ordinance_enacted"] == "true"
    assert by_code["11680"]["exchanges_held"] == "true"
    assert by_code["41110"]["ordinance_enacted"] == "false"

"""Personal data in the console: access records and their monthly review (admins), the consent
texts and their versions, a municipality's dormancy policy, the identity assurance level its
activities and committees require, and the one way console pages write an access record
(`log_access`, the API's own helper)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import request

from backend.api import access_log
from backend.api import privacy as api_privacy
from backend.api.errors import flatten_field_errors
from backend.clock import SEOUL, utcnow
from backend.committees.committee import get_committee, list_committees
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.forms import submit
from backend.console.i18n import t
from backend.console.pages import done, page, page_args
from backend.errors import NotFound
from backend.extensions import db
from backend.identity import services as identity
from backend.participation.activities import get_activity, list_activities
from backend.permissions import can_see_municipality, sees_all_municipalities
from backend.privacy import access, assurance, consents, rights
from backend.privacy.models import AccessAction, AssuranceRequirement
from backend.privacy.schemas import (
    AccessRecordArgsSchema,
    AssuranceRequirementSchema,
    DormancyPolicySchema,
    ReviewArgsSchema,
)

#: The filters of the access-record list (the two days are converted to the API's times).
_FILTERS = ("subject_id", "actor_id", "action", "resource", "since", "until")


def log_access(
    action: AccessAction, resource: str, subject_ids: Iterable[str], **details: Any
) -> None:
    """Record a staff read of citizens' data from a console page: the API's own helper, with the
    console's signed-in user as the actor."""
    access_log.log_access(action, resource, subject_ids, actor=current_user(), **details)


# ---- access records (admins) ----------------------------------------------------------------


def _day_start(value: str, *, days: int = 0) -> str | None:
    # `<input type="date">` sends a Seoul day; the API's filter wants an aware time.
    try:
        day = date.fromisoformat(value) + timedelta(days=days)
    except ValueError:
        return None
    return datetime.combine(day, time(), tzinfo=SEOUL).isoformat()


def _record_filters() -> tuple[dict[str, Any] | None, dict[str, str], dict[str, list[str]]]:
    """The list's filters loaded by the API's schema, the values to show again in the form, and
    the errors (then no list: "who looked at X" must not answer with everyone's records).
    `until` is a day included in the range (the API's bound is exclusive)."""
    raw = {k: v.strip() for k, v in request.args.items() if v.strip() and k in _FILTERS}
    values: dict[str, Any] = {k: v for k, v in raw.items() if k not in ("since", "until")}
    errors: dict[str, list[str]] = {}
    for name, days in (("since", 0), ("until", 1)):
        if name in raw:
            values[name] = _day_start(raw[name], days=days)
            if values[name] is None:
                errors[name] = [t("form.errors")]
    try:
        args = AccessRecordArgsSchema().load(values)
    except ma.ValidationError as error:
        errors.update(flatten_field_errors(error.messages))
    if errors:
        return None, raw, errors
    args.update(page_args())
    return args, raw, {}


def a_year_ago() -> str:
    """The Seoul day a year back: the start of "who looked at this citizen in the last year"."""
    return (utcnow().astimezone(SEOUL).date() - timedelta(days=365)).isoformat()


@bp.route("/admin/access-records")
@mirrors(api_privacy.list_access_records)
def access_records() -> Any:
    """Who read, exported, changed or deleted citizens' data, newest first, with filters;
    `?subject_id=...&since=<a year ago>` answers "who looked at this citizen"."""
    args, raw, errors = _record_filters()
    result = None if args is None else access.list_access_records(viewer=current_user(), **args)
    return page(
        "access_records.html",
        422 if errors else 200,
        result=result,
        errors=errors,
        filters=raw,
        actions=list(AccessAction),
        a_year_ago=a_year_ago(),
    )


def _previous_month() -> str:
    first = utcnow().astimezone(SEOUL).date().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


@bp.route("/admin/access-records/review")
@mirrors(api_privacy.access_review)
def access_review() -> Any:
    """The monthly review (the month just ended unless `?month=` says which): totals and the
    flagged patterns, each linked to the account's records of that month."""
    asked = request.args.get("month", "").strip() or _previous_month()
    try:
        args = ReviewArgsSchema().load({"month": asked})
    except ma.ValidationError:
        args = {"month": _previous_month()}
    review = access.monthly_review(viewer=current_user(), **args)
    year, number = (int(part) for part in review["month"].split("-"))
    first = date(year, number, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return page("access_review.html", review=review, first=first, last=last)


# ---- consent texts (admins) -----------------------------------------------------------------


@bp.route("/admin/consents")
# The texts are public (GET /consent-texts); this page is the privacy officer's, as the
# access records are: admins.
@mirrors(api_privacy.list_access_records)
def consent_texts() -> Any:
    """The consent texts with their current versions, and how a new version is published."""
    return page("consents.html", texts=list(consents.CONSENT_TEXTS.values()))


# ---- dormancy policy ------------------------------------------------------------------------


def _municipality_id() -> str:
    """The municipality the page is about: an official's own; national staff choose one."""
    user = current_user()
    chosen = request.args.get("municipality_id", "").strip()
    if not sees_all_municipalities(user):
        return user.municipality_id or ""
    if chosen:
        return chosen
    first = next(iter(identity.list_municipalities()), None)
    if first is None:
        raise NotFound("Municipality not found.", code="municipality_not_found")
    return first.id


def _dormancy_page(municipality_id: str, status: int = 200, **context: Any) -> Any:
    user = current_user()
    policy = rights.get_dormancy_policy(viewer=user, municipality_id=municipality_id)
    return page(
        "dormancy.html",
        status,
        municipality_id=municipality_id,
        municipalities=identity.list_municipalities() if sees_all_municipalities(user) else [],
        policy=DormancyPolicySchema().dump(policy) if policy is not None else None,
        form=request.form,
        **context,
    )


@bp.route("/privacy/dormancy")
@mirrors(api_privacy.get_dormancy_policy)
def dormancy() -> Any:
    """A municipality's dormancy policy (휴면 정책); none means accounts never become dormant."""
    return _dormancy_page(_municipality_id())


@bp.route("/privacy/dormancy", methods=["POST"])
@mirrors(api_privacy.set_dormancy_policy)
def dormancy_set() -> Any:
    """Set the policy through the API's schema and service."""
    municipality_id = _municipality_id()
    # National staff name the municipality in the form's address (the schema's body has none).
    query = {"municipality_id": municipality_id} if sees_all_municipalities(current_user()) else {}

    def write(**data: Any) -> Any:
        return rights.set_dormancy_policy(
            actor=current_user(), municipality_id=municipality_id, **data
        )

    saved, errors = submit(
        DormancyPolicySchema(), write, lambda _: done("console.dormancy", **query)
    )
    return saved or _dormancy_page(municipality_id, 422, errors=errors)


# ---- identity assurance required by activities and committees (officials) -------------------

#: How many of the newest activities and committees the page offers.
_ASSURANCE_ROWS = 50


def _assurance_page(status: int = 200, **context: Any) -> Any:
    user = current_user()
    # Only what the official may set: their municipality's (the service's own predicate).
    targets = {
        "activity": [
            a
            for a in list_activities(viewer=user, limit=_ASSURANCE_ROWS, cursor=None).items
            if can_see_municipality(user, a.municipality_id)
        ],
        "committee": list_committees(viewer=user, limit=_ASSURANCE_ROWS, cursor=None).items,
    }
    ids = [t.id for rows in targets.values() for t in rows]
    levels = {
        (r.target_type, r.target_id): r.level
        for r in db.session.scalars(
            sa.select(AssuranceRequirement).where(AssuranceRequirement.target_id.in_(ids))
        )
    }
    return page(
        "assurance.html",
        status,
        targets=targets,
        levels=levels,
        choices=assurance.LEVELS,
        **context,
    )


@bp.route("/privacy/assurance")
@mirrors(api_privacy.require_activity_level, api_privacy.require_committee_level)
def assurance_requirements() -> Any:
    """The level each activity and committee requires of its citizens, to change."""
    return _assurance_page()


def _require(target_type: str, target: Any) -> Any:
    def write(**data: Any) -> Any:
        return assurance.set_requirement(
            actor=current_user(),
            target_type=target_type,
            target_id=target.id,
            municipality_id=target.municipality_id,
            level=data["level"],
        )

    saved, errors = submit(
        AssuranceRequirementSchema(), write, lambda _: done("console.assurance_requirements")
    )
    return saved or _assurance_page(422, errors=errors)


@bp.route("/privacy/assurance/activity/<activity_id>", methods=["POST"])
@mirrors(api_privacy.require_activity_level)
def assurance_activity(activity_id: str) -> Any:
    """Require a level of citizens joining the activity."""
    return _require("activity", get_activity(viewer=current_user(), activity_id=activity_id))


@bp.route("/privacy/assurance/committee/<committee_id>", methods=["POST"])
@mirrors(api_privacy.require_committee_level)
def assurance_committee(committee_id: str) -> Any:
    """Require a level of citizens appointed to the committee."""
    return _require("committee", get_committee(viewer=current_user(), committee_id=committee_id))

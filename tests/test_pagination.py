"""The shared list helpers in backend.pagination."""

import sqlalchemy as sa

from backend.extensions import db
from backend.identity.models import User
from backend.pagination import where_given
from backend.permissions import Role


def test_where_given_filters_only_given_values(create_user):
    citizen = create_user("citizen")
    official = create_user("official")
    query = sa.select(User).where(User.id.in_([citizen.id, official.id]))

    filtered = where_given(query, {User.role: Role.CITIZEN, User.email: None})
    assert list(db.session.scalars(filtered)) == [citizen]

    unfiltered = where_given(query, {User.role: None, User.email: None})
    assert {user.id for user in db.session.scalars(unfiltered)} == {citizen.id, official.id}
    assert str(unfiltered) == str(query)

"""Flask extensions, created unbound and bound to the app in the factory."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_smorest import Api as SmorestApi
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

# Deterministic constraint names keep Alembic autogenerate and SQLite batch migrations stable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Api(SmorestApi):
    """flask-smorest Api whose errors are documented and produced in our one error shape."""

    def _register_error_handlers(self) -> None:
        # backend.api.errors registers the handlers that produce {"error": {...}}.
        return None


db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
api = Api()

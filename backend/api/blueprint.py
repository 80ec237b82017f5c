"""The platform's flask-smorest Blueprint: every API module declares its routes with it.

flask-smorest hands ``@blp.arguments(SomeSchema)`` to webargs as the schema *class*, and
webargs then builds a new schema instance for every request (~30 us for a small schema, more
for big ones: marshmallow copies every declared field). A schema holds no per-request state,
so the parser here builds one instance per class and reuses it; the OpenAPI document is made
from the same declarations as before, unchanged.
"""

from __future__ import annotations

from typing import Any

import flask_smorest
import marshmallow as ma
from webargs.flaskparser import FlaskParser


class SchemaReusingParser(FlaskParser):
    """webargs' Flask parser with one instance per schema class (built on first use)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._instances: dict[type[ma.Schema], ma.Schema] = {}

    def _get_schema(self, argmap: Any, req: Any) -> ma.Schema:
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            schema = self._instances.get(argmap)
            if schema is None:
                schema = self._instances[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the schema-reusing argument parser."""

    ARGUMENTS_PARSER = SchemaReusingParser()

"""Extensions, created unbound; `create_app` binds them."""
from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from marketplace import jsoncodec

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# JSON columns through orjson (defaults: SQLALCHEMY_ENGINE_OPTIONS may override)
db = SQLAlchemy(model_class=Base, engine_options={"json_serializer": jsoncodec.dumps,
                                                  "json_deserializer": jsoncodec.loads})
migrate = Migrate()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)

from marketplace.openapi import MarketplaceApi  # noqa: E402  (needs nothing from above; kept here so every extension lives in one place)

api = MarketplaceApi()

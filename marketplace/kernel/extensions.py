"""Extensions, created unbound; `create_app` binds them."""
from __future__ import annotations

import ipaddress

from flask import current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from marketplace.kernel import jsoncodec
from marketplace.kernel import ratelimit_storage  # noqa: F401  (registers the `sqlite` rate-limit storage scheme)

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


def client_address() -> str:
    """Who a rate limit counts: the peer's address, or behind `RATELIMIT_TRUSTED_PROXIES` = n proxies of
    our own the n-th address from the right of `X-Forwarded-For` (the one our outermost proxy saw;
    anything further left is whatever the client wrote). With 0, the default, the header is ignored,
    so a client cannot pose as many addresses by sending it. An IPv6 client counts as its /64 network,
    the block one subscriber holds."""
    address = request.remote_addr or ""
    trusted = int(current_app.config.get("RATELIMIT_TRUSTED_PROXIES") or 0)
    if trusted > 0:
        forwarded = [hop.strip() for header in request.headers.getlist("X-Forwarded-For")
                     for hop in header.split(",") if hop.strip()]
        if len(forwarded) >= trusted:
            address = forwarded[-trusted]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "-"
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


limiter = Limiter(key_func=client_address)

from marketplace.kernel.openapi import MarketplaceApi  # noqa: E402  (needs nothing from above; kept here so every extension lives in one place)

api = MarketplaceApi()

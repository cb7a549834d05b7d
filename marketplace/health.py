from flask.views import MethodView
from marketplace.kernel.openapi import Blueprint
from marshmallow import fields
from sqlalchemy import text

from marketplace.kernel import outbox
from marketplace.kernel.extensions import db
from marketplace.kernel.schemas import BaseSchema
from marketplace.storefront.search.backend import health as search_health

blp = Blueprint("health", __name__, description="Service health")


class ComponentSchema(BaseSchema):
    status = fields.String(required=True, metadata={"example": "ok"})
    detail = fields.String()


class SearchHealthSchema(ComponentSchema):
    documents = fields.Integer(allow_none=True)


class OutboxSchema(BaseSchema):
    backlog = fields.Integer(allow_none=True, metadata={"description": "Events not yet delivered."})


class HealthSchema(BaseSchema):
    status = fields.String(required=True)
    database = fields.Nested(ComponentSchema, required=True)
    search = fields.Nested(SearchHealthSchema, required=True)
    outbox = fields.Nested(OutboxSchema, required=True)


class PingSchema(BaseSchema):
    pong = fields.Boolean(required=True)


def database_health() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
        return {"status": "ok", "detail": db.engine.dialect.name}
    except Exception as error:  # the point is to report it, not to fail
        db.session.rollback()
        return {"status": "down", "detail": type(error).__name__}


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    def get(self):
        """Database, search engine and outbox state"""
        database = database_health()
        search = search_health()
        backlog = outbox.backlog(db.session) if database["status"] == "ok" else None
        healthy = database["status"] == "ok" and search["status"] == "ok"
        return {"status": "ok" if healthy else "degraded", "database": database, "search": search,
                "outbox": {"backlog": backlog}}


@blp.route("/ping")
class Ping(MethodView):
    @blp.response(200, PingSchema)
    def get(self):
        """A trivial JSON answer (a baseline for benchmarks)"""
        return {"pong": True}

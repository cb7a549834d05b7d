from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields
from sqlalchemy import text

from marketplace.extensions import db
from marketplace.schemas import BaseSchema

blp = Blueprint("health", __name__, description="Service health")


class ComponentSchema(BaseSchema):
    status = fields.String(required=True, metadata={"example": "ok"})
    detail = fields.String()


class HealthSchema(BaseSchema):
    status = fields.String(required=True)
    database = fields.Nested(ComponentSchema, required=True)


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
        return {"status": "ok" if database["status"] == "ok" else "degraded", "database": database}


@blp.route("/ping")
class Ping(MethodView):
    @blp.response(200, PingSchema)
    def get(self):
        """A trivial JSON answer (a baseline for benchmarks)"""
        return {"pong": True}

from collections.abc import Callable

from flask import jsonify, request
from flask.views import MethodView

from marketplace.accounts.auth import auth_required, current_user
from marketplace.accounts.models import Role
from marketplace.aftersale.returns import answering, requesting, services
from marketplace.aftersale.returns.models import Return
from marketplace.aftersale.returns.schemas import (
    RejectSchema,
    ReturnArgs,
    ReturnPageSchema,
    ReturnRequestSchema,
    ReturnSchema,
    ReturnShipSchema,
    WithdrawSchema,
)
from marketplace.kernel import idempotency
from marketplace.kernel.extensions import db
from marketplace.kernel.openapi import Blueprint

blp = Blueprint("returns", __name__, description="Returns of delivered goods: request, answer, ship back, refund")
#: Answers given under an Idempotency-Key are dumped by hand (they are stored for replays of the key).
RETURN = ReturnSchema()
#: A change of a return takes an Idempotency-Key if the client sends one: a retry then gets the first answer
#: (without one, a repeated change answers 409 with the state it already reached).
OPTIONAL_KEY = {"in": "header", "name": "Idempotency-Key", "required": False,
                "schema": {"type": "string", "maxLength": 255}}


def _change(return_id: int, action: str, data: dict | None, change: Callable[[], Return]):
    """Run one change of a return, once per Idempotency-Key when the request carries one."""
    if not request.headers.get(idempotency.HEADER):
        return change()
    user = current_user()
    key = idempotency.request_key()
    body = {"return_id": return_id, "action": action, "body": data}
    status, answer = idempotency.run(db.session, f"user:{user.id}", key, body,
                                     lambda _record: (200, RETURN.dump(change())))
    return jsonify(answer), status


@blp.route("/orders/<id:order_id>/returns")
class OrderReturns(MethodView):
    @auth_required(blp, Role.SHOPPER)
    @blp.arguments(ReturnRequestSchema)
    @blp.response(201, ReturnSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "required": True,
                          "schema": {"type": "string", "maxLength": 255}}])
    def post(self, data, order_id):
        """Ask to return units of a delivered vendor order, for a refund or a replacement (needs an
        Idempotency-Key header)"""
        user = current_user()
        key = idempotency.request_key()

        def action(record):
            return 201, RETURN.dump(requesting.request_return(db.session, user, order_id, data, record))

        body = {"order_id": order_id, "return": request.get_json()}
        status, answer = idempotency.run(db.session, f"user:{user.id}", key, body, action)
        return jsonify(answer), status


@blp.route("/returns")
class Returns(MethodView):
    @auth_required(blp, Role.SHOPPER, Role.ADMIN)
    @blp.arguments(ReturnArgs, location="query")
    @blp.response(200, ReturnPageSchema)
    def get(self, args):
        """The caller's own returns, newest first"""
        return services.returns_of(db.session, current_user(), args.get("status"), args["page"], args["per_page"])


@blp.route("/vendor/returns")
class VendorReturns(MethodView):
    @auth_required(blp, Role.VENDOR)
    @blp.arguments(ReturnArgs, location="query")
    @blp.response(200, ReturnPageSchema)
    def get(self, args):
        """The returns of the caller's vendor, newest first"""
        return services.vendor_returns_of(db.session, current_user(), args.get("status"), args["page"],
                                          args["per_page"])


@blp.route("/returns/<id:return_id>")
class ReturnItem(MethodView):
    @auth_required(blp, Role.SHOPPER, Role.VENDOR, Role.ADMIN)
    @blp.response(200, ReturnSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, return_id):
        """One return with its history (its shopper, its vendor, operators)"""
        return services.return_for(db.session, current_user(), return_id)[0]


@blp.route("/returns/<id:return_id>/approve")
class ReturnApprove(MethodView):
    @auth_required(blp, Role.VENDOR, Role.ADMIN)
    @blp.response(200, ReturnSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(parameters=[OPTIONAL_KEY])
    def post(self, return_id):
        """The vendor accepts a requested return"""
        return _change(return_id, "approve", None, lambda: answering.approve(db.session, current_user(), return_id))


@blp.route("/returns/<id:return_id>/reject")
class ReturnReject(MethodView):
    @auth_required(blp, Role.VENDOR, Role.ADMIN)
    @blp.arguments(RejectSchema)
    @blp.response(200, ReturnSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(parameters=[OPTIONAL_KEY])
    def post(self, data, return_id):
        """The vendor refuses a requested return, saying why"""
        return _change(return_id, "reject", data,
                       lambda: answering.reject(db.session, current_user(), return_id, data["reason"]))


@blp.route("/returns/<id:return_id>/ship")
class ReturnShip(MethodView):
    @auth_required(blp, Role.SHOPPER)
    @blp.arguments(ReturnShipSchema)
    @blp.response(200, ReturnSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(parameters=[OPTIONAL_KEY])
    def post(self, data, return_id):
        """The shopper sends the goods of an approved return back"""
        return _change(return_id, "ship", data, lambda: answering.ship(
            db.session, current_user(), return_id, data["carrier"], data["tracking_number"]))


@blp.route("/returns/<id:return_id>/receive")
class ReturnReceive(MethodView):
    @auth_required(blp, Role.VENDOR, Role.ADMIN)
    @blp.response(200, ReturnSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(502, response="BAD_GATEWAY")
    @blp.doc(parameters=[OPTIONAL_KEY])
    def post(self, return_id):
        """The vendor has the goods back: a refund return is refunded at once, a replacement one replaced"""
        return _change(return_id, "receive", None, lambda: answering.receive(db.session, current_user(), return_id))


@blp.route("/returns/<id:return_id>/withdraw")
class ReturnWithdraw(MethodView):
    @auth_required(blp, Role.SHOPPER)
    @blp.arguments(WithdrawSchema)
    @blp.response(200, ReturnSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(parameters=[OPTIONAL_KEY])
    def post(self, data, return_id):
        """The shopper withdraws a return not shipped yet (closed)"""
        return _change(return_id, "withdraw", data,
                       lambda: answering.withdraw(db.session, current_user(), return_id, data.get("reason")))


@blp.route("/returns/<id:return_id>/close")
class ReturnClose(MethodView):
    @auth_required(blp, Role.ADMIN)
    @blp.arguments(RejectSchema)
    @blp.response(200, ReturnSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(parameters=[OPTIONAL_KEY])
    def post(self, data, return_id):
        """An operator closes a received return whose refund was settled otherwise"""
        return _change(return_id, "close", data,
                       lambda: answering.close(db.session, current_user(), return_id, data["reason"]))

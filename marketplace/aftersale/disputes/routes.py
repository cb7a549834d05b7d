from collections.abc import Callable

from flask import jsonify, request
from flask.views import MethodView

from marketplace.accounts.auth import auth_required, current_user
from marketplace.accounts.models import Role, User
from marketplace.aftersale.disputes import negotiation, services, settlement
from marketplace.aftersale.disputes.models import Dispute
from marketplace.aftersale.disputes.schemas import (
    DisputeArgs,
    DisputeCreateSchema,
    DisputeDecisionCreateSchema,
    DisputePageSchema,
    DisputeProposalCreateSchema,
    DisputeReasonSchema,
    DisputeSchema,
)
from marketplace.kernel import idempotency
from marketplace.kernel.extensions import db
from marketplace.kernel.openapi import Blueprint

blp = Blueprint("disputes", __name__, description="Online dispute resolution: negotiation, facilitated settlement, "
                                                  "an operator's decision")
#: Answers are dumped by hand (they are stored for replays under an Idempotency-Key).
DISPUTE = DisputeSchema()
KEY_HEADER = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string", "maxLength": 255}}
PARTIES = (Role.SHOPPER, Role.VENDOR, Role.ADMIN)


def _answer(user: User, status: int, step: Callable[[], Dispute], required: bool = False):
    """Run a step and answer the dispute; with an Idempotency-Key (required for opening, honoured by every
    step) a retry gets the stored answer instead of a second step."""
    if not required and not request.headers.get(idempotency.HEADER):
        return jsonify(DISPUTE.dump(step())), status

    def action(_record):
        return status, DISPUTE.dump(step())

    body = {"path": request.path, "body": request.get_json(silent=True)}
    status, answer = idempotency.run(db.session, f"user:{user.id}", idempotency.request_key(), body, action)
    return jsonify(answer), status


@blp.route("/disputes")
class Disputes(MethodView):
    @auth_required(blp, *PARTIES)
    @blp.arguments(DisputeArgs, location="query")
    @blp.response(200, DisputePageSchema)
    def get(self, args):
        """Operators: every dispute (the queue, `overdue=true` for those past a deadline); shoppers and vendors:
        their own. Earliest resolve-by first"""
        return services.disputes_of(db.session, current_user(), args.get("status"), args.get("overdue"),
                                    args["page"], args["per_page"])

    @auth_required(blp, Role.SHOPPER)
    @blp.arguments(DisputeCreateSchema)
    @blp.response(201, DisputeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(parameters=[{**KEY_HEADER, "required": True}])
    def post(self, data):
        """The shopper who bought opens a dispute about a paid, shipped or delivered vendor order (needs an
        Idempotency-Key header); the vendor order's payout is held until it closes"""
        user = current_user()
        return _answer(user, 201, lambda: services.create_dispute(db.session, user, data), required=True)


@blp.route("/disputes/<id:dispute_id>")
class DisputeItem(MethodView):
    @auth_required(blp, *PARTIES)
    @blp.response(200, DisputeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, dispute_id):
        """One dispute (its shopper, its vendor, operators): proposals, decision, deadlines and history"""
        return services.dispute_for(db.session, current_user(), dispute_id)[0]


@blp.route("/disputes/<id:dispute_id>/proposals")
class DisputeProposals(MethodView):
    @auth_required(blp, Role.SHOPPER, Role.VENDOR)
    @blp.arguments(DisputeProposalCreateSchema)
    @blp.response(201, DisputeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(parameters=[KEY_HEADER])
    def post(self, data, dispute_id):
        """A party proposes a settlement: a refund (zero: none) and a note"""
        user = current_user()
        return _answer(user, 201, lambda: negotiation.propose(db.session, user, dispute_id, data["refund"],
                                                              data.get("note")))


@blp.route("/disputes/<id:dispute_id>/proposals/<id:proposal_id>/accept")
class ProposalAccept(MethodView):
    @auth_required(blp, Role.SHOPPER, Role.VENDOR)
    @blp.response(200, DisputeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(502, response="BAD_GATEWAY")
    @blp.doc(parameters=[KEY_HEADER])
    def post(self, dispute_id, proposal_id):
        """The other party accepts: the refund is made through the payment provider and the dispute closes"""
        user = current_user()
        return _answer(user, 200, lambda: negotiation.accept(db.session, user, dispute_id, proposal_id))


@blp.route("/disputes/<id:dispute_id>/proposals/<id:proposal_id>/decline")
class ProposalDecline(MethodView):
    @auth_required(blp, Role.SHOPPER, Role.VENDOR)
    @blp.arguments(DisputeReasonSchema)
    @blp.response(200, DisputeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(parameters=[KEY_HEADER])
    def post(self, data, dispute_id, proposal_id):
        """The other party declines a proposal"""
        user = current_user()
        return _answer(user, 200, lambda: negotiation.decline(db.session, user, dispute_id, proposal_id,
                                                              data.get("reason")))


@blp.route("/disputes/<id:dispute_id>/escalate")
class DisputeEscalate(MethodView):
    @auth_required(blp, *PARTIES)
    @blp.arguments(DisputeReasonSchema)
    @blp.response(200, DisputeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(parameters=[KEY_HEADER])
    def post(self, data, dispute_id):
        """Ask an operator in: negotiation -> facilitated"""
        user = current_user()
        return _answer(user, 200, lambda: negotiation.escalate(db.session, user, dispute_id, data.get("reason")))


@blp.route("/disputes/<id:dispute_id>/withdraw")
class DisputeWithdraw(MethodView):
    @auth_required(blp, Role.SHOPPER)
    @blp.arguments(DisputeReasonSchema)
    @blp.response(200, DisputeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(parameters=[KEY_HEADER])
    def post(self, data, dispute_id):
        """The shopper withdraws the dispute (it closes without a refund)"""
        user = current_user()
        return _answer(user, 200, lambda: negotiation.withdraw(db.session, user, dispute_id, data.get("reason")))


@blp.route("/disputes/<id:dispute_id>/decision")
class DisputeDecision(MethodView):
    @auth_required(blp, Role.ADMIN)
    @blp.arguments(DisputeDecisionCreateSchema)
    @blp.response(200, DisputeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(502, response="BAD_GATEWAY")
    @blp.doc(parameters=[KEY_HEADER])
    def post(self, data, dispute_id):
        """An operator decides a facilitated dispute: a refund (made at once through the payment provider) or
        none (null), with reasons; the dispute closes"""
        user = current_user()
        return _answer(user, 200, lambda: settlement.decide(db.session, user, dispute_id, data["refund"],
                                                            data["reasons"]))

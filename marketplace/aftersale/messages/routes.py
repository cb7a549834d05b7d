from flask import jsonify, request
from flask.views import MethodView

from marketplace.accounts.auth import auth_required, current_user
from marketplace.accounts.models import Role
from marketplace.aftersale.messages import services
from marketplace.aftersale.messages.schemas import MessageArgs, MessageCreateSchema, MessagePageSchema, MessageSchema
from marketplace.kernel import idempotency
from marketplace.kernel.extensions import db
from marketplace.kernel.i18n import current_locale
from marketplace.kernel.openapi import Blueprint

blp = Blueprint("order_messages", __name__, description="One message thread per vendor order")
MESSAGE = MessageSchema()
#: A message takes an Idempotency-Key if the client sends one: a retry then gets the first answer instead of
#: posting the message twice.
OPTIONAL_KEY = {"in": "header", "name": "Idempotency-Key", "required": False,
                "schema": {"type": "string", "maxLength": 255}}


@blp.route("/vendor-orders/<id:vendor_order_id>/messages")
class OrderMessages(MethodView):
    @auth_required(blp, Role.SHOPPER, Role.VENDOR, Role.ADMIN)
    @blp.arguments(MessageArgs, location="query")
    @blp.response(200, MessagePageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, vendor_order_id):
        """The thread (the shopper, the vendor, operators): oldest first, or newest first with order=newest"""
        return services.messages_of(db.session, current_user(), vendor_order_id, args["order"], args["page"],
                                    args["per_page"], current_locale())

    @auth_required(blp, Role.SHOPPER, Role.VENDOR, Role.ADMIN)
    @blp.arguments(MessageCreateSchema)
    @blp.response(201, MessageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(parameters=[OPTIONAL_KEY])
    def post(self, data, vendor_order_id):
        """Write in the thread; e-mail addresses and phone numbers are masked (an Idempotency-Key makes a retry
        safe)"""
        user = current_user()

        def post_once(_record=None):
            message = services.post_message(db.session, user, vendor_order_id, data["body"], data["locale"])
            return services.view(message, current_locale())

        if not request.headers.get(idempotency.HEADER):
            return post_once()
        body = {"vendor_order_id": vendor_order_id, "message": request.get_json()}
        status, answer = idempotency.run(db.session, f"user:{user.id}", idempotency.request_key(), body,
                                         lambda record: (201, MESSAGE.dump(post_once(record))))
        return jsonify(answer), status

from flask import Response, current_app, jsonify, request
from flask.views import MethodView

from marketplace.kernel import idempotency
from marketplace.accounts.auth import auth_required, current_user
from marketplace.accounts.models import Role
from marketplace.checkout import cart as carts
from marketplace.checkout import declarations, fulfilment, landed, orders, paying, payouts, placing, refunds, webhooks
from marketplace.checkout.errors import CheckoutErrorCode
from marketplace.checkout.payments.base import InvalidSignature
from marketplace.checkout.schemas import (
    CartArgs,
    CartItemCreateSchema,
    CartItemUpdateSchema,
    CartSchema,
    CartWithShippingSchema,
    CbecQuotaSchema,
    CheckoutResultSchema,
    CheckoutSchema,
    CurrencyArgs,
    DeclarationArgs,
    DeclarationSchema,
    OrderPageSchema,
    OrderSchema,
    PayoutPageSchema,
    QuotaArgs,
    QuoteRequestSchema,
    QuoteSchema,
    RefundRequestSchema,
    RefundSchema,
    ShipSchema,
    VendorOrderArgs,
    VendorOrderPageSchema,
    VendorOrderSchema,
    WebhookAckSchema,
)
from marketplace.kernel.clock import now
from marketplace.kernel.errors import BadRequest, ErrorCode, NotFound
from marketplace.kernel.extensions import db
from marketplace.kernel.i18n import current_locale
from marketplace.kernel.openapi import Blueprint
from marketplace.kernel.schemas import PageArgs

blp = Blueprint("checkout", __name__, description="Cart, checkout, orders, payments and payouts")
#: The checkout's answer is dumped by hand (it is stored for replays): one schema for every request, as the
#: response decorators keep theirs, instead of building its nested schemas again each time.
CHECKOUT_RESULT = CheckoutResultSchema()


def _currency(args) -> str:
    return args.get("currency") or current_app.config["BASE_CURRENCY"]


@blp.route("/cart")
class CartView(MethodView):
    @auth_required(blp, Role.SHOPPER)
    @blp.arguments(CartArgs, location="query")
    @blp.response(200, CartWithShippingSchema)
    def get(self, args):
        """The cart, priced in `currency`, grouped by vendor; problems are flagged. With `country`, each
        vendor's shipping options there and the one checkout takes by default"""
        view = carts.view(db.session, current_user(), _currency(args), current_locale())
        return landed.annotate_shipping(db.session, view, args["country"]) if args.get("country") else view


@blp.route("/cart/items")
class CartItems(MethodView):
    @auth_required(blp, Role.SHOPPER)
    @blp.arguments(CurrencyArgs, location="query", as_kwargs=True)
    @blp.arguments(CartItemCreateSchema)
    @blp.response(201, CartSchema)
    def post(self, data, **args):
        """Add a product (adds to the quantity if it is already in the cart)"""
        carts.add_item(db.session, current_user(), data["product_id"], data["quantity"])
        return carts.view(db.session, current_user(), _currency(args), current_locale())


@blp.route("/cart/items/<id:item_id>")
class CartItem(MethodView):
    @auth_required(blp, Role.SHOPPER)
    @blp.arguments(CurrencyArgs, location="query", as_kwargs=True)
    @blp.arguments(CartItemUpdateSchema)
    @blp.response(200, CartSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, data, item_id, **args):
        """Set a line's quantity"""
        carts.update_item(db.session, current_user(), item_id, data["quantity"])
        return carts.view(db.session, current_user(), _currency(args), current_locale())

    @auth_required(blp, Role.SHOPPER)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, item_id):
        """Remove a line"""
        carts.remove_item(db.session, current_user(), item_id)


@blp.route("/checkout")
class Checkout(MethodView):
    @auth_required(blp, Role.SHOPPER)
    @blp.arguments(CheckoutSchema)
    @blp.response(201, CheckoutResultSchema)
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(502, response="BAD_GATEWAY")
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "required": True,
                          "schema": {"type": "string", "maxLength": 255}}])
    def post(self, data):
        """Turn the cart into an order and start its payment (needs an Idempotency-Key header)"""
        user = current_user()
        key = idempotency.request_key()

        def action(record):
            order = placing.checkout(db.session, user, data, record)
            return 201, CHECKOUT_RESULT.dump({"order": order, "payment": order.payment})

        status, body = idempotency.run(db.session, f"user:{user.id}", key, request.get_json(), action)
        return jsonify(body), status  # already serialized (and stored for replays)


@blp.route("/checkout/quote")
class CheckoutQuote(MethodView):
    @auth_required(blp, Role.SHOPPER)
    @blp.arguments(QuoteRequestSchema)
    @blp.response(200, QuoteSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data):
        """The landed cost of the cart delivered to the shipping address: per vendor, goods, shipping and the
        destination's duties and import taxes with the rule each follows (nothing is reserved or charged)"""
        return landed.quote(db.session, current_user(), data, current_locale())


@blp.route("/me/cbec-quota")
class CbecQuota(MethodView):
    @auth_required(blp, Role.SHOPPER)
    @blp.arguments(QuotaArgs, location="query")
    @blp.response(200, CbecQuotaSchema)
    def get(self, args):
        """What the caller's customs identity may still import to China this year (cross-border retail
        imports: the annual limit per identity, across every order and account)"""
        return landed.cbec_quota(db.session, current_user(), args.get("year") or now().year)


@blp.route("/orders")
class Orders(MethodView):
    @auth_required(blp, Role.SHOPPER, Role.ADMIN)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, OrderPageSchema)
    def get(self, args):
        """The caller's orders, newest first"""
        return orders.orders_of(db.session, current_user(), args["page"], args["per_page"])


@blp.route("/orders/<id:order_id>")
class OrderItem(MethodView):
    @auth_required(blp, Role.SHOPPER, Role.ADMIN)
    @blp.response(200, OrderSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, order_id):
        """One of the caller's orders"""
        return orders.order_for(db.session, current_user(), order_id)


@blp.route("/orders/<id:order_id>/cancel")
class OrderCancel(MethodView):
    @auth_required(blp, Role.SHOPPER)
    @blp.response(200, OrderSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, order_id):
        """Cancel an order that is not paid yet (its stock is released)"""
        return fulfilment.cancel_by_shopper(db.session, current_user(), order_id)


@blp.route("/orders/<id:order_id>/payment/confirm")
class ManualPaymentConfirm(MethodView):
    @auth_required(blp, Role.SHOPPER)
    @blp.response(200, OrderSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, order_id):
        """Mark an order paid (only with PAYMENT_PROVIDER=manual; 404 otherwise)"""
        if current_app.config["PAYMENT_PROVIDER"] != "manual":
            raise NotFound(ErrorCode.NOT_FOUND, "Manual payment confirmation exists only with the manual provider.")
        return paying.confirm_manual_payment(db.session, current_user(), order_id)


@blp.route("/orders/<id:order_id>/refunds")
class OrderRefunds(MethodView):
    @auth_required(blp, Role.ADMIN)
    @blp.arguments(RefundRequestSchema)
    @blp.response(201, RefundSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(502, response="BAD_GATEWAY")
    def post(self, data, order_id):
        """Refund the whole order or one vendor order, through the payment provider"""
        return refunds.refund(db.session, current_user(), order_id, data.get("vendor_order_id"),
                               data.get("amount"), data.get("reason"))


@blp.route("/vendor/orders")
class VendorOrders(MethodView):
    @auth_required(blp, Role.VENDOR)
    @blp.arguments(VendorOrderArgs, location="query")
    @blp.response(200, VendorOrderPageSchema)
    def get(self, args):
        """The caller's vendor orders (never another vendor's)"""
        return orders.vendor_orders_of(db.session, current_user(), args.get("status"), args["page"],
                                       args["per_page"])


@blp.route("/vendor/orders/<id:vendor_order_id>/ship")
class VendorOrderShip(MethodView):
    @auth_required(blp, Role.VENDOR)
    @blp.arguments(ShipSchema)
    @blp.response(200, VendorOrderSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, vendor_order_id):
        """Ship a paid vendor order, with carrier and tracking number"""
        return fulfilment.ship(db.session, current_user(), vendor_order_id, data["carrier"], data["tracking_number"])


@blp.route("/vendor/orders/<id:vendor_order_id>/deliver")
class VendorOrderDeliver(MethodView):
    @auth_required(blp, Role.VENDOR)
    @blp.response(200, VendorOrderSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, vendor_order_id):
        """Mark a shipped vendor order delivered (the order completes when every part is)"""
        return fulfilment.deliver(db.session, current_user(), vendor_order_id)


@blp.route("/vendor/orders/<id:vendor_order_id>/customs")
class VendorOrderCustoms(MethodView):
    @auth_required(blp, Role.VENDOR)
    @blp.arguments(DeclarationArgs, location="query")
    @blp.response(200, DeclarationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, vendor_order_id):
        """The customs declaration of what the vendor ships (CN22 or CN23 by value); `?format=pdf` prints it"""
        data = declarations.declaration(db.session, current_user(), vendor_order_id)
        if args["format"] == "pdf":
            return Response(declarations.pdf(data), mimetype="application/pdf", headers={
                "Content-Disposition": f'inline; filename="{data["invoice_number"]}-{data["form"]}.pdf"'})
        return data


@blp.route("/vendor/payouts")
class VendorPayouts(MethodView):
    @auth_required(blp, Role.VENDOR)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, PayoutPageSchema)
    def get(self, args):
        """The caller's payout ledger (vendor currency) and balances"""
        return payouts.payouts_of(db.session, current_user(), args["page"], args["per_page"])


@blp.route("/payments/stripe/webhook")
class StripeWebhook(MethodView):
    @blp.response(200, WebhookAckSchema)
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": {"type": "object"}}}})
    def post(self):
        """Stripe events (signature verified on the raw body; each event applied once)"""
        if current_app.config["PAYMENT_PROVIDER"] != "stripe":
            raise NotFound(ErrorCode.NOT_FOUND, "Stripe webhooks are accepted only with PAYMENT_PROVIDER=stripe.")
        try:
            result = webhooks.handle_webhook(db.session, request.get_data(), request.headers.get("Stripe-Signature"))
        except InvalidSignature as error:
            raise BadRequest(CheckoutErrorCode.INVALID_WEBHOOK, str(error) or "Invalid signature.") from None
        return {"result": result}

from flask.views import MethodView
from marketplace.kernel.openapi import Blueprint

from marketplace.accounts.auth import auth_required, current_user, optional_user
from marketplace.accounts.models import Role
from marketplace.kernel.extensions import db
from marketplace.kernel.schemas import LocaleArgs
from vendors import services, shipping
from vendors.schemas import (
    HistorySchema,
    OptionalReasonSchema,
    ReasonSchema,
    ShippingProfileInSchema,
    ShippingProfileSchema,
    VendorCreateSchema,
    VendorPageSchema,
    VendorQueueArgs,
    VendorSchema,
    VendorUpdateSchema,
    vendor_view,
)

blp = Blueprint("vendors", __name__, description="MSME vendor onboarding and review")


@blp.route("/vendors")
class Vendors(MethodView):
    @auth_required(blp, Role.VENDOR)
    @blp.arguments(VendorCreateSchema)
    @blp.response(201, VendorSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data):
        """Create the caller's vendor profile (sent for review)"""
        return services.create_vendor(db.session, current_user(), data)

    @auth_required(blp, Role.ADMIN)
    @blp.arguments(VendorQueueArgs, location="query")
    @blp.response(200, VendorPageSchema)
    def get(self, args):
        """The review queue (admins): vendors by status, oldest first"""
        return services.review_queue(db.session, args.get("status"), args["page"], args["per_page"])


@blp.route("/vendors/<id:vendor_id>")
class VendorItem(MethodView):
    @blp.arguments(LocaleArgs, location="query")
    @blp.response(200, VendorSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(security=[{}, {"bearerAuth": []}])
    def get(self, _args, vendor_id):
        """A vendor: public fields for anyone, private ones for its owner and admins"""
        vendor, private = services.get_vendor(db.session, vendor_id, optional_user())
        return vendor_view(vendor, private)

    @auth_required(blp, Role.VENDOR)
    @blp.arguments(VendorUpdateSchema(partial=True))
    @blp.response(200, VendorSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data, vendor_id):
        """Change the caller's own vendor profile"""
        return services.update_vendor(db.session, current_user(), vendor_id, data)


@blp.route("/vendors/<id:vendor_id>/history")
class VendorHistory(MethodView):
    @auth_required(blp)
    @blp.response(200, HistorySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, vendor_id):
        """Every review transition: who, when, from, to and why"""
        return {"items": services.vendor_history(db.session, vendor_id, current_user())}


def _transition(action: str, schema):
    @auth_required(blp, Role.ADMIN)
    @blp.arguments(schema)
    @blp.response(200, VendorSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, vendor_id):
        return services.change_status(db.session, current_user(), vendor_id, action, data.get("reason"))

    post.__doc__ = f"{action.capitalize()} a vendor (admins)"
    return type(f"Vendor{action.capitalize()}", (MethodView,), {"post": post})


blp.route("/vendors/<id:vendor_id>/approve")(_transition("approve", OptionalReasonSchema))
blp.route("/vendors/<id:vendor_id>/reject")(_transition("reject", ReasonSchema))
blp.route("/vendors/<id:vendor_id>/suspend")(_transition("suspend", ReasonSchema))


@blp.route("/vendor/shipping-profile")
class MyShippingProfile(MethodView):
    @auth_required(blp, Role.VENDOR)
    @blp.response(200, ShippingProfileSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self):
        """The caller's shipping profile"""
        return shipping.shown(shipping.my_profile(db.session, current_user()))

    @auth_required(blp, Role.VENDOR)
    @blp.arguments(ShippingProfileInSchema)
    @blp.response(200, ShippingProfileSchema)
    def put(self, data):
        """Set where the caller ships and at what price (zones of countries, each with its services' rates, in
        the vendor's currency); a country without a zone is one the vendor does not sell to"""
        return shipping.shown(shipping.set_profile(db.session, current_user(), data["zones"]))


@blp.route("/vendors/<id:vendor_id>/shipping-profile")
class VendorShippingProfile(MethodView):
    @blp.response(200, ShippingProfileSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, vendor_id):
        """Where an approved vendor ships and at what price"""
        return shipping.shown(shipping.public_profile(db.session, vendor_id))

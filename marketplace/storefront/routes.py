from flask import Response, current_app
from flask.views import MethodView

from catalog import services
from catalog.schemas import ProductCreateSchema, ProductUpdateSchema
from marketplace.accounts.auth import auth_required, current_user, optional_user
from marketplace.accounts.models import Role
from marketplace.kernel.extensions import db
from marketplace.kernel.i18n import current_locale
from marketplace.kernel.openapi import Blueprint
from marketplace.kernel.schemas import LocaleArgs
from marketplace.storefront import presenting
from marketplace.storefront.schemas import (
    CampaignProductsArgs,
    CategoryTreeSchema,
    ProductPageSchema,
    ProductSchema,
    SearchArgs,
    SearchResultSchema,
    SuggestArgs,
    SuggestSchema,
    VendorProductsArgs,
    ViewArgs,
)
from marketplace.storefront.search import cache as search_cache, querying
from promotions import campaigns

blp = Blueprint("catalog", __name__, description="Products, categories and search")
OPTIONAL_AUTH = [{}, {"bearerAuth": []}]


def _currency(args) -> str:
    return args.get("currency") or current_app.config["BASE_CURRENCY"]


@blp.route("/categories")
class Categories(MethodView):
    @blp.arguments(LocaleArgs, location="query")
    @blp.response(200, CategoryTreeSchema)
    def get(self, _args):
        """The category tree, names in the asked locale"""
        return {"items": services.category_tree(db.session, current_locale())}


@blp.route("/products")
class Products(MethodView):
    @auth_required(blp, Role.VENDOR)
    @blp.arguments(ViewArgs, location="query", as_kwargs=True)
    @blp.arguments(ProductCreateSchema)
    @blp.response(201, ProductSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, **args):
        """List a product (the caller's vendor)"""
        product = services.create_product(db.session, current_user(), data)
        return presenting.present_product(db.session, product, current_locale(), _currency(args))


@blp.route("/products/<id:product_id>")
class ProductItem(MethodView):
    @blp.arguments(ViewArgs, location="query")
    @blp.response(200, ProductSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(security=OPTIONAL_AUTH)
    def get(self, args, product_id):
        """A product, localized (`locale`) and priced in `currency`"""
        product = services.get_product(db.session, product_id, optional_user())
        return presenting.present_product(db.session, product, current_locale(), _currency(args))

    @auth_required(blp, Role.VENDOR)
    @blp.arguments(ViewArgs, location="query", as_kwargs=True)
    @blp.arguments(ProductUpdateSchema)
    @blp.response(200, ProductSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data, product_id, **args):
        """Change the caller's product (translations merge; a locale set to null is removed)"""
        product = services.update_product(db.session, current_user(), product_id, data)
        return presenting.present_product(db.session, product, current_locale(), _currency(args))

    @auth_required(blp, Role.VENDOR)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, product_id):
        """Archive the caller's product (it leaves search and the public catalog)"""
        services.archive_product(db.session, current_user(), product_id)


@blp.route("/vendors/<id:vendor_id>/products")
class VendorProducts(MethodView):
    @blp.arguments(VendorProductsArgs, location="query")
    @blp.response(200, ProductPageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(security=OPTIONAL_AUTH)
    def get(self, args, vendor_id):
        """A vendor's products: active ones for everyone, all of them for the vendor and admins"""
        page = services.vendor_products(db.session, vendor_id, optional_user(), args.get("status"), args["page"],
                                        args["per_page"])
        currency, locale = _currency(args), current_locale()
        return {**page, "items": [presenting.present_product(db.session, p, locale, currency) for p in page["items"]]}


@blp.route("/search")
class Search(MethodView):
    @blp.arguments(SearchArgs(), location="query")
    @blp.response(200, SearchResultSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self, args):
        """Search public products in any supported language, with facets"""
        return Response(search_cache.rendered(db.session, args, current_locale()), mimetype="application/json")


@blp.route("/campaigns/<string:slug>/products", tags=["promotions"])  # documented with the campaigns
class CampaignProducts(MethodView):
    @blp.arguments(CampaignProductsArgs(), location="query")
    @blp.response(200, SearchResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, slug):
        """The campaign's products: the same items and filters as search"""
        campaigns.find_public(db.session, slug, optional_user())
        return Response(search_cache.rendered(db.session, {**args, "campaign": slug}, current_locale()),
                        mimetype="application/json")


@blp.route("/search/suggest")
class Suggest(MethodView):
    @blp.arguments(SuggestArgs(), location="query")
    @blp.response(200, SuggestSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self, args):
        """Title completions for a prefix (cheap enough for every keystroke)"""
        return {"suggestions": querying.suggest(args["q"], current_locale(), args["limit"])}

from flask.views import MethodView

from marketplace.accounts.auth import auth_required, current_user, optional_user
from marketplace.accounts.models import Role
from marketplace.aftersale.reviews import record, services
from marketplace.aftersale.reviews.models import ReviewStatus
from marketplace.aftersale.reviews.schemas import (
    ReviewHistorySchema,
    ReviewPublishSchema,
    ReviewQueueArgs,
    ReviewQueuePageSchema,
    ReviewRejectSchema,
    ReviewReplyCreateSchema,
    ReviewReportCreateSchema,
    ReviewReportSchema,
    ReviewCreateSchema,
    ReviewPageSchema,
    ReviewSchema,
    VendorRecordSchema,
)
from marketplace.kernel.extensions import db
from marketplace.kernel.openapi import Blueprint
from marketplace.kernel.schemas import LocaleArgs, PageArgs

blp = Blueprint("reviews", __name__, description="Verified reviews, ratings and vendors' public record")
PUBLIC = [{}, {"bearerAuth": []}]


@blp.route("/orders/<id:order_id>/lines/<id:line_id>/review")
class LineReview(MethodView):
    @auth_required(blp)
    @blp.arguments(ReviewCreateSchema)
    @blp.response(201, ReviewSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, order_id, line_id):
        """Review a delivered line of your order (once per line); it waits for moderation"""
        return services.write_review(db.session, current_user(), order_id, line_id, data)


@blp.route("/reviews")
class ReviewQueue(MethodView):
    @auth_required(blp, Role.ADMIN)
    @blp.arguments(ReviewQueueArgs, location="query")
    @blp.response(200, ReviewQueuePageSchema)
    def get(self, args):
        """Reviews for moderation, oldest first (`status=pending`: the queue), with their report counts"""
        return services.queue(db.session, args.get("status"), args["page"], args["per_page"])


@blp.route("/reviews/<id:review_id>")
class ReviewView(MethodView):
    @blp.arguments(LocaleArgs, location="query")
    @blp.response(200, ReviewSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(security=PUBLIC)
    def get(self, _args, review_id):
        """A published review for anyone; a pending or rejected one for its author, the vendor and admins"""
        return services.get_review(db.session, review_id, optional_user())


@blp.route("/reviews/<id:review_id>/history")
class ReviewHistory(MethodView):
    @auth_required(blp)
    @blp.response(200, ReviewHistorySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, review_id):
        """The review's moderation steps: who, when, from, to, why (its author, the vendor and admins)"""
        return {"items": services.history(db.session, review_id, current_user())}


@blp.route("/reviews/<id:review_id>/publish")
class ReviewPublish(MethodView):
    @auth_required(blp, Role.ADMIN)
    @blp.arguments(ReviewPublishSchema)
    @blp.response(200, ReviewSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, review_id):
        """Publish a pending (or rejected) review: it counts in the product's rating"""
        return services.moderate(db.session, current_user(), review_id, ReviewStatus.PUBLISHED, data.get("reason"))


@blp.route("/reviews/<id:review_id>/reject")
class ReviewReject(MethodView):
    @auth_required(blp, Role.ADMIN)
    @blp.arguments(ReviewRejectSchema)
    @blp.response(200, ReviewSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, review_id):
        """Reject a pending review, or take a published one down, with a reason"""
        return services.moderate(db.session, current_user(), review_id, ReviewStatus.REJECTED, data["reason"])


@blp.route("/reviews/<id:review_id>/reply")
class ReviewReply(MethodView):
    @auth_required(blp, Role.VENDOR)
    @blp.arguments(ReviewReplyCreateSchema)
    @blp.response(201, ReviewSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, review_id):
        """The product's vendor answers a review, once"""
        return services.reply(db.session, current_user(), review_id, data["body"])


@blp.route("/reviews/<id:review_id>/report")
class ReviewReport(MethodView):
    @auth_required(blp)
    @blp.arguments(ReviewReportCreateSchema)
    @blp.response(201, ReviewReportSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, review_id):
        """Report a review to the operators (once per user and review)"""
        return services.report(db.session, current_user(), review_id, data["reason"])


@blp.route("/products/<id:product_id>/reviews")
class ProductReviews(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ReviewPageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(security=PUBLIC)
    def get(self, args, product_id):
        """A public product's published reviews, newest first"""
        return services.product_reviews(db.session, product_id, args["page"], args["per_page"])


@blp.route("/vendors/<id:vendor_id>/record")
class VendorRecord(MethodView):
    @blp.arguments(LocaleArgs, location="query")
    @blp.response(200, VendorRecordSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(security=PUBLIC)
    def get(self, _args, vendor_id):
        """A vendor's public record: average rating, on-time shipping, dispute rate, answer time"""
        return record.vendor_record(db.session, vendor_id, optional_user())

"""The partner API (`/api/v1/partner/...`, partner API keys) and vendors' grants (`/api/v1/vendors/{id}/partners`)."""
from __future__ import annotations

import time
from datetime import timedelta

from flask import current_app, jsonify, request
from flask.views import MethodView
from flask_babel import gettext as _

from marketplace.kernel import idempotency
from marketplace.accounts.auth import auth_required, current_user
from marketplace.accounts.models import Role
from marketplace.kernel.extensions import api, db, limiter
from marketplace.kernel.openapi import Blueprint
from marketplace.partners import feed, grants, jobs, listings, webhooks
from marketplace.partners.results import summary
from marketplace.partners.auth import (
    SECURITY_SCHEME,
    current_partner,
    partner_required,
    problem_response,
    rate_limit_key,
)
from marketplace.partners.errors import PartnerErrorCode, UnsupportedMediaType
from marketplace.partners.models import Scope
from marketplace.partners.schemas import (
    DeliveryArgs,
    DeliveryPageSchema,
    DeliverySchema,
    FeedArgs,
    FeedSchema,
    GrantCreateSchema,
    GrantListSchema,
    GrantSchema,
    JobArgs,
    JobDetailSchema,
    JobPageSchema,
    JobSchema,
    ListingSyncSchema,
    ListingUpdatesSchema,
    PageArgs,
    PartnerMeSchema,
    SyncResultSchema,
    WebhookCreatedSchema,
    WebhookCreateSchema,
    WebhookPageSchema,
)

blp = Blueprint("partners", __name__, description="Partner API: listing sync and webhooks (partner API keys)")
grants_blp = Blueprint("partner_grants", __name__, description="Vendors authorize partners to manage their listings")

JSON_LINES = ("application/x-ndjson", "application/jsonl")
IDEMPOTENCY_HEADER_DOC = {"in": "header", "name": "Idempotency-Key", "required": False,
                          "description": "Optional: the same key with the same body returns the stored answer.",
                          "schema": {"type": "string", "maxLength": 255}}
RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
#: What a job upload's Idempotency-Key fingerprint is taken over (with the raw body).
JOB_FINGERPRINT_LABEL = "POST /partner/listings/jobs"

# Per-partner fair use: one budget per partner across the whole partner API.
limiter.shared_limit(lambda: current_app.config["PARTNER_RATE_LIMIT"], scope="partner-api",
                     key_func=rate_limit_key)(blp)


@blp.record_once
def _document_security(_state) -> None:
    if "partnerKey" not in api.spec.components.security_schemes:
        api.spec.components.security_scheme("partnerKey", SECURITY_SCHEME)


@blp.before_request
def _body_limits() -> None:
    """Listing syncs carry more than the API's usual body limit; only these routes are raised."""
    limits = {"partners.Listings": "PARTNER_SYNC_MAX_BYTES", "partners.ListingJobs": "PARTNER_JOB_MAX_BYTES"}
    name = limits.get(request.endpoint or "")
    if name and request.method in ("PUT", "PATCH", "POST"):
        request.max_content_length = current_app.config[name]


@blp.after_request
def _rate_limit_headers(response):
    """`RateLimit-Limit/Remaining/Reset` (IETF draft names) on every partner response, 429s included."""
    current = limiter.current_limit
    if current is not None:
        response.headers["RateLimit-Limit"] = str(current.limit.amount)
        response.headers["RateLimit-Remaining"] = str(max(0, current.remaining))
        response.headers["RateLimit-Reset"] = str(max(0, int(current.reset_at - time.time())))
    return response


def _idempotent(action):
    """Run `action() -> body` once per Idempotency-Key when the header is sent (optional here)."""
    if not (request.headers.get(idempotency.HEADER) or "").strip():
        return jsonify(action()), 200
    key = idempotency.request_key()
    status, body = idempotency.run(db.session, current_partner().idempotency_scope, key, request.get_json(),
                                   lambda _record: (200, action()))
    return jsonify(body), status


def _idempotent_upload(create):
    """Run `create(stream, record) -> job` once per Idempotency-Key when the header is sent (optional here).

    A job body may be far larger than a JSON request, so it is never parsed here: its raw
    bytes are fingerprinted while being copied to a spool, which the job then reads.
    """
    if not (request.headers.get(idempotency.HEADER) or "").strip():
        return create(request.stream, None), 202
    key = idempotency.request_key()
    with idempotency.fingerprint_stream(request.stream, JOB_FINGERPRINT_LABEL) as (digest, body):
        status, answer = idempotency.run(db.session, current_partner().idempotency_scope, key, None,
                                         lambda record: (202, JobSchema().dump(create(body, record))), digest=digest)
    return jsonify(answer), status


def _sync_answer(results: list[dict]) -> dict:
    return {"results": results, "summary": summary(results)}


@blp.route("/partner/me")
class Me(MethodView):
    @partner_required(blp)
    @blp.response(200, PartnerMeSchema)
    def get(self):
        """The partner behind the API key, and the key's scopes"""
        principal = current_partner()
        return {"id": principal.partner_id, "name": principal.name, "scopes": list(principal.scopes)}


@blp.route("/partner/listings")
class Listings(MethodView):
    @partner_required(blp, Scope.LISTINGS_WRITE)
    @blp.arguments(ListingSyncSchema)
    @blp.response(200, SyncResultSchema)
    @blp.doc(parameters=[IDEMPOTENCY_HEADER_DOC])
    def put(self, data):
        """Upsert up to 1000 listings by external_id; one result per listing

        Each listing is validated on its own: `created`, `updated`, `unchanged`
        (same content: nothing written), `stale` (a lower `version` than stored:
        nothing changes) or `error` (with `errors` as in a 422). Listings of
        vendors that have not authorized the partner are `error`
        (`vendor_not_authorized`)."""
        partner_id = current_partner().partner_id
        return _idempotent(lambda: _sync_answer(listings.sync_listings(db.session, partner_id, data["listings"])))

    @partner_required(blp, Scope.LISTINGS_WRITE)
    @blp.arguments(ListingUpdatesSchema)
    @blp.response(200, SyncResultSchema)
    @blp.doc(parameters=[IDEMPOTENCY_HEADER_DOC])
    def patch(self, data):
        """Change stock and/or price of up to 1000 listings by external_id; one result per update"""
        partner_id = current_partner().partner_id
        return _idempotent(lambda: _sync_answer(listings.update_listings(db.session, partner_id, data["updates"])))

    @partner_required(blp, Scope.LISTINGS_READ)
    @blp.arguments(FeedArgs, location="query")
    @blp.response(200, FeedSchema)
    @problem_response(blp, 422, "Invalid argument (e.g. a cursor this API did not give out)")
    def get(self, args):
        """The partner's listings as the marketplace holds them: a delta feed, oldest change first

        Ordered by change (any write to the listing's product, whoever made
        it), with keyset pagination encoded in an opaque `next_cursor`: no
        listing is skipped or repeated while paging, even while writes go on;
        one that changes meanwhile comes again later with its new content (as
        a delta feed should). Keep the last `next_cursor` to poll for later
        changes. A change shows as soon as it has committed (on PostgreSQL,
        once every transaction that started writing before it has finished).
        Listings of vendors that withdrew their authorization are left out."""
        return feed.listing_feed(db.session, current_partner().partner_id, args.get("updated_since"),
                                     args.get("cursor"), args["limit"],
                                     timedelta(seconds=current_app.config["PARTNER_FEED_SETTLE_SECONDS"]))


@blp.route("/partner/listings/<path:external_id>")
class ListingItem(MethodView):
    @partner_required(blp, Scope.LISTINGS_WRITE)
    @blp.response(204)
    @problem_response(blp, 404, "No listing with this external_id")
    def delete(self, external_id):
        """Archive the listing's product (it leaves search and the public catalog)"""
        listings.archive_listing(db.session, current_partner().partner_id, external_id)


@blp.route("/partner/listings/jobs")
class ListingJobs(MethodView):
    @partner_required(blp, Scope.LISTINGS_WRITE)
    @blp.response(202, JobSchema)
    @blp.doc(requestBody={"required": True, "description": "One listing (as in PUT) per line; up to 100,000.",
                          "content": {media: {"schema": {"type": "string"}} for media in JSON_LINES}},
             parameters=[{**IDEMPOTENCY_HEADER_DOC,
                          "description": "Optional: the same key with the same body (byte for byte) returns the "
                                         "first answer and the same job; another body with it is a 422."}])
    @problem_response(blp, 409, "A request with this Idempotency-Key is still in progress")
    @problem_response(blp, 413, "More listings (or bytes) than a job accepts")
    @problem_response(blp, 415, "Not application/x-ndjson or application/jsonl")
    @problem_response(blp, 422, "Invalid body, or an Idempotency-Key already used with another body")
    def post(self):
        """Start a large sync from a JSON Lines body; `flask worker` processes it in chunks"""
        if request.mimetype not in JSON_LINES:
            raise UnsupportedMediaType(PartnerErrorCode.INVALID_LINE,
                                       _("Send the listings as application/x-ndjson or application/jsonl."),
                                       field="Content-Type")
        partner_id, max_lines = current_partner().partner_id, current_app.config["PARTNER_JOB_MAX_LINES"]
        return _idempotent_upload(
            lambda stream, record: jobs.create_job(db.session, partner_id, stream, max_lines, record))

    @partner_required(blp, Scope.LISTINGS_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, JobPageSchema)
    def get(self, args):
        """The partner's sync jobs, newest first"""
        return jobs.jobs_of(db.session, current_partner().partner_id, args["page"], args["per_page"])


@blp.route("/partner/listings/jobs/<id:job_id>")
class ListingJob(MethodView):
    @partner_required(blp, Scope.LISTINGS_READ)
    @blp.arguments(JobArgs, location="query")
    @blp.response(200, JobDetailSchema)
    @problem_response(blp, 404, "No such job (or another partner's)")
    def get(self, args, job_id):
        """A sync job's progress and its per-line results (paginated; `status=error` for the failures)"""
        job = jobs.own_job(db.session, current_partner().partner_id, job_id)
        return jobs.job_results(db.session, job, args.get("status"), args["page"], args["per_page"])


@blp.route("/partner/webhooks")
class Webhooks(MethodView):
    @partner_required(blp, Scope.WEBHOOKS_MANAGE)
    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, WebhookCreatedSchema)
    @problem_response(blp, 409, "The partner has the most webhooks allowed")
    def post(self, data):
        """Subscribe a URL to events; the answer holds the signing secret, shown only once

        Deliveries are POSTs with `X-BuyBRICS-Timestamp` (unix seconds) and
        `X-BuyBRICS-Signature: v1=<hex HMAC-SHA256 of "{timestamp}.{raw body}">`."""
        webhook, secret = webhooks.create_webhook(db.session, current_partner(), data["url"], data["events"])
        return {"id": webhook.id, "url": webhook.url, "events": webhook.events, "created_at": webhook.created_at,
                "secret": secret}

    @partner_required(blp, Scope.WEBHOOKS_MANAGE)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, WebhookPageSchema)
    def get(self, args):
        """The partner's webhooks (without secrets)"""
        return webhooks.webhooks_of(db.session, current_partner().partner_id, args["page"], args["per_page"])


@blp.route("/partner/webhooks/<id:webhook_id>")
class WebhookItem(MethodView):
    @partner_required(blp, Scope.WEBHOOKS_MANAGE)
    @blp.response(204)
    @problem_response(blp, 404, "No such webhook (or another partner's)")
    def delete(self, webhook_id):
        """Delete a webhook and its delivery log"""
        webhooks.delete_webhook(db.session, current_partner().partner_id, webhook_id)


@blp.route("/partner/webhooks/<id:webhook_id>/deliveries")
class Deliveries(MethodView):
    @partner_required(blp, Scope.WEBHOOKS_MANAGE)
    @blp.arguments(DeliveryArgs, location="query")
    @blp.response(200, DeliveryPageSchema)
    @problem_response(blp, 404, "No such webhook (or another partner's)")
    def get(self, args, webhook_id):
        """A webhook's deliveries, newest first, each with its attempts (status code, error, duration)"""
        return webhooks.deliveries_of(db.session, current_partner().partner_id, webhook_id, args.get("status"),
                                      args["page"], args["per_page"])


@blp.route("/partner/webhooks/<id:webhook_id>/deliveries/<id:delivery_id>/redeliver")
class Redeliver(MethodView):
    @partner_required(blp, Scope.WEBHOOKS_MANAGE)
    @blp.response(202, DeliverySchema)
    @problem_response(blp, 404, "No such delivery (or another partner's)")
    def post(self, webhook_id, delivery_id):
        """Queue a delivery again (same event id and body; a fresh retry schedule)"""
        return webhooks.redeliver(db.session, current_partner().partner_id, webhook_id, delivery_id)


@grants_blp.route("/vendors/<id:vendor_id>/partners")
class VendorPartners(MethodView):
    @auth_required(grants_blp, Role.VENDOR)
    @grants_blp.arguments(GrantCreateSchema)
    @grants_blp.response(201, GrantSchema)
    @grants_blp.alt_response(200, schema=GrantSchema, description="The partner was already authorized",
                             success=True)
    @grants_blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, vendor_id):
        """Authorize a partner to manage this vendor's listings and hear about its orders (the vendor's owner)"""
        grant, created = grants.grant_partner(db.session, current_user(), vendor_id, data["partner_id"])
        return grant, 201 if created else 200

    @auth_required(grants_blp, Role.VENDOR)
    @grants_blp.response(200, GrantListSchema)
    @grants_blp.alt_response(404, response="NOT_FOUND")
    def get(self, vendor_id):
        """The partners this vendor has authorized (the vendor's owner)"""
        return {"items": grants.vendor_grants(db.session, current_user(), vendor_id)}


@grants_blp.route("/vendors/<id:vendor_id>/partners/<id:partner_id>")
class VendorPartnerItem(MethodView):
    @auth_required(grants_blp, Role.VENDOR)
    @grants_blp.response(204)
    @grants_blp.alt_response(404, response="NOT_FOUND")
    def delete(self, vendor_id, partner_id):
        """Withdraw a partner's authorization (its writes for this vendor fail from now on)"""
        grants.revoke_grant(db.session, current_user(), vendor_id, partner_id)

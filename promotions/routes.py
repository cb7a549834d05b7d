from flask import Response
from flask.views import MethodView

from marketplace.accounts.auth import auth_required, current_user, optional_user
from marketplace.accounts.models import Role
from marketplace.kernel.extensions import db
from marketplace.kernel.openapi import Blueprint
from marketplace.rates import services as rates
from marketplace.kernel.schemas import LocaleArgs
from promotions import campaigns, enrollment, report
from promotions.schemas import (
    CampaignCreateSchema,
    CampaignListArgs,
    CampaignPageSchema,
    CampaignSchema,
    CampaignUpdateSchema,
    DecisionSchema,
    EnrollmentListSchema,
    EnrollmentSchema,
    EnrollRequestSchema,
    EnrollResultsSchema,
    ReportArgs,
    ReportSchema,
)

blp = Blueprint("promotions", __name__, description="Festival campaigns: \"Buy BRICS\" special events")
OPTIONAL_AUTH = [{}, {"bearerAuth": []}]
MANAGERS = campaigns.MANAGERS


@blp.route("/campaigns")
class Campaigns(MethodView):
    @auth_required(blp, *MANAGERS)
    @blp.arguments(CampaignCreateSchema)
    @blp.response(201, CampaignSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data):
        """Create a campaign (draft)"""
        return campaigns.create(db.session, current_user(), data)

    @blp.arguments(CampaignListArgs, location="query")
    @blp.response(200, CampaignPageSchema)
    @blp.doc(security=OPTIONAL_AUTH)
    def get(self, args):
        """Campaigns (drafts only for managers), with their status at this instant"""
        return campaigns.list_campaigns(db.session, optional_user(), args.get("status"), args["page"],
                                        args["per_page"])


@blp.route("/campaigns/<id:campaign_id>")
class CampaignItem(MethodView):
    @auth_required(blp, *MANAGERS)
    @blp.arguments(CampaignUpdateSchema(partial=True))
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data, campaign_id):
        """Change a campaign (a live one only in what is safe to change)"""
        return campaigns.update_campaign(db.session, current_user(), campaign_id, data)


def _transition(action: str):
    @auth_required(blp, *MANAGERS)
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, campaign_id):
        return campaigns.transition(db.session, current_user(), campaign_id, action)

    post.__doc__ = f"{action.capitalize()} a campaign"
    return type(f"Campaign{action.capitalize()}", (MethodView,), {"post": post})


for _action in ("launch", "pause", "resume", "end"):
    blp.route(f"/campaigns/<id:campaign_id>/{_action}")(_transition(_action))


@blp.route("/campaigns/<string:slug>")
class CampaignBySlug(MethodView):
    @blp.arguments(LocaleArgs, location="query")
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(security=OPTIONAL_AUTH)
    def get(self, _args, slug):
        """A campaign by slug, its name in the asked locale"""
        return campaigns.find_public(db.session, slug, optional_user())


@blp.route("/campaigns/<id:campaign_id>/enrollments")
class Enrollments(MethodView):
    @auth_required(blp, Role.VENDOR)
    @blp.arguments(EnrollRequestSchema)
    @blp.response(200, EnrollResultsSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, campaign_id):
        """Enroll the caller's products; each is checked against the eligibility rules"""
        return {"results": enrollment.enroll(db.session, current_user(), campaign_id, data["product_ids"],
                                             rates.current_table(db.session))}

    @auth_required(blp, Role.VENDOR, *MANAGERS)
    @blp.response(200, EnrollmentListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, campaign_id):
        """Enrollments: all for managers, the caller's own for a vendor"""
        return {"items": enrollment.enrollments_for(db.session, current_user(), campaign_id)}


def _decision(approve: bool):
    @auth_required(blp, *MANAGERS)
    @blp.arguments(DecisionSchema)
    @blp.response(200, EnrollmentSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, campaign_id, enrollment_id):
        return enrollment.decide(db.session, current_user(), campaign_id, enrollment_id, approve, data.get("reason"))

    post.__doc__ = "Approve a pending enrollment" if approve else "Reject a pending enrollment"
    return type("EnrollmentApprove" if approve else "EnrollmentReject", (MethodView,), {"post": post})


blp.route("/campaigns/<id:campaign_id>/enrollments/<id:enrollment_id>/approve")(_decision(True))
blp.route("/campaigns/<id:campaign_id>/enrollments/<id:enrollment_id>/reject")(_decision(False))


@blp.route("/campaigns/<id:campaign_id>/enrollments/<id:enrollment_id>")
class EnrollmentItem(MethodView):
    @auth_required(blp, Role.VENDOR)
    @blp.response(200, EnrollmentSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, campaign_id, enrollment_id):
        """Withdraw an enrollment (before the campaign starts)"""
        return enrollment.withdraw(db.session, current_user(), campaign_id, enrollment_id)


@blp.route("/campaigns/<id:campaign_id>/report")
class CampaignReport(MethodView):
    @auth_required(blp, *MANAGERS)
    @blp.arguments(ReportArgs, location="query")
    @blp.response(200, ReportSchema, content_type="application/json")
    @blp.alt_response(200, description="The same report as CSV (?format=csv)", content_type="text/csv",
                      success=True)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, campaign_id):
        """Results: orders, units, GMV and discount per currency and converted, by country and vendor, MSME share"""
        currency = report.report_currency(args.get("currency"))
        data = report.report(db.session, current_user(), campaign_id, currency, rates.current_table(db.session))
        if args["format"] == "csv":
            return Response(report.report_csv(data), mimetype="text/csv",
                            headers={"Content-Disposition": f"attachment; filename=campaign-{campaign_id}.csv"})
        return data

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from marketplace.extensions import db
from marketplace.i18n import current_locale
from marketplace.rates import services
from marketplace.rates.schemas import CurrencyListSchema
from marketplace.schemas import LocaleArgs

blp = Blueprint("currencies", __name__, description="Supported currencies and exchange rates")


@blp.route("/currencies")
class Currencies(MethodView):
    # webargs ignores unknown query parameters by default; refuse them like unknown body fields.
    @blp.arguments(LocaleArgs, location="query", unknown=ma.RAISE)
    @blp.response(200, CurrencyListSchema)
    def get(self, _args):
        """Supported currencies, localized, with their rate to the base currency"""
        return services.currency_overview(db.session, current_locale())

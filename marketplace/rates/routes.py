from flask.views import MethodView
from marketplace.kernel.openapi import Blueprint

from marketplace.kernel.extensions import db
from marketplace.kernel.i18n import current_locale
from marketplace.rates import services
from marketplace.rates.schemas import CurrencyListSchema
from marketplace.kernel.schemas import LocaleArgs

blp = Blueprint("currencies", __name__, description="Supported currencies and exchange rates")


@blp.route("/currencies")
class Currencies(MethodView):
    @blp.arguments(LocaleArgs, location="query")
    @blp.response(200, CurrencyListSchema)
    def get(self, _args):
        """Supported currencies, localized, with their rate to the base currency"""
        return services.currency_overview(db.session, current_locale())

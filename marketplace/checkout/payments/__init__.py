"""Payment providers: `manual` (default, needs nothing outside) and `stripe`."""
from __future__ import annotations

from flask import Flask

from marketplace.checkout.payments.base import PaymentProvider


def build_provider(app: Flask) -> PaymentProvider:
    name = app.config["PAYMENT_PROVIDER"]
    if name == "manual":
        from marketplace.checkout.payments.manual import ManualProvider

        return ManualProvider()
    if name == "stripe":
        from marketplace.checkout.payments.stripe_provider import StripeProvider

        missing = [key for key in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET") if not app.config.get(key)]
        if missing:
            raise RuntimeError(f"PAYMENT_PROVIDER=stripe needs {', '.join(missing)}")
        return StripeProvider(app.config["STRIPE_SECRET_KEY"], app.config["STRIPE_WEBHOOK_SECRET"],
                              api_base=app.config.get("STRIPE_API_BASE") or None)
    raise RuntimeError(f"PAYMENT_PROVIDER must be 'manual' or 'stripe', not {name!r}")

"""Payment providers: `manual` (default, needs nothing outside) and `stripe`."""
from __future__ import annotations

from flask import Flask, current_app

from marketplace.checkout.payments.base import PaymentProvider
from marketplace.checkout.payments.manual import ManualProvider
from marketplace.checkout.payments.stripe_provider import StripeProvider


def build_provider(app: Flask) -> PaymentProvider:
    name = app.config["PAYMENT_PROVIDER"]
    if name == "manual":
        return ManualProvider()
    if name == "stripe":
        missing = [key for key in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET") if not app.config.get(key)]
        if missing:
            raise RuntimeError(f"PAYMENT_PROVIDER=stripe needs {', '.join(missing)}")
        return StripeProvider(app.config["STRIPE_SECRET_KEY"], app.config["STRIPE_WEBHOOK_SECRET"],
                              api_base=app.config.get("STRIPE_API_BASE") or None)
    raise RuntimeError(f"PAYMENT_PROVIDER must be 'manual' or 'stripe', not {name!r}")


def provider() -> PaymentProvider:
    """The current app's payment provider (built once by the factory)."""
    return current_app.extensions["payment_provider"]

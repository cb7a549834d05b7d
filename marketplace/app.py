"""Buy BRICS marketplace: the application factory."""
from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from flask import Flask

from config import Config, ProductionConfig, config_for_env
from marketplace import health
from marketplace.accounts import routes as accounts_routes
from marketplace.accounts.cli import users_cli
from marketplace.aftersale.disputes import escalation as dispute_escalation, routes as disputes_routes
from marketplace.aftersale.messages import routes as messages_routes
from marketplace.aftersale.reviews import routes as reviews_routes
from marketplace.aftersale.returns import escalation as return_escalation, routes as returns_routes
from marketplace.checkout import fulfilment, payouts, routes as checkout_routes, sales as checkout_sales
from marketplace.checkout.payments import build_provider
from marketplace.demo import seed_demo_command
from marketplace.kernel import errors, events, idempotency, outbox, worker
from marketplace.kernel.db_events import register_sqlite_pragmas
from marketplace.kernel.extensions import api, babel, db, limiter, migrate
from marketplace.kernel.i18n import init_i18n, select_locale
from marketplace.kernel.openapi import IdConverter
from marketplace.partners import deliveries as partner_deliveries, jobs as partner_jobs, routes as partners_routes
from marketplace.partners.cli import partners_cli
from marketplace.rates import routes as rates_routes
from marketplace.rates.cli import fx_cli
from marketplace.storefront import routes as storefront_routes
from marketplace.storefront.cli import search_cli
from marketplace.storefront.search.startup import init_search
from promotions import announcements, enrollment, report, routes as promotions_routes
from vendors import routes as vendors_routes, services as vendor_services

ROOT = Path(__file__).resolve().parent.parent


def freeze_startup_heap() -> None:
    """For server processes (wsgi.py): collect once, then move everything allocated so far (the app, its
    catalogs and dictionaries) out of the cyclic collector's sight with `gc.freeze()`, as Python's gc
    documentation recommends before a pre-forking server forks. Full collections then stop rescanning
    those long-lived objects on busy write paths, and forked workers keep sharing their pages. Not for
    tests or other processes that build many apps: frozen objects are never collected."""
    gc.collect()
    gc.freeze()


def create_app(config_class: type[Config] | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """The app: configuration, then extensions bound, then the areas plugged in, each in a named step."""
    config_class = config_class or config_for_env()
    if config_class is ProductionConfig or issubclass(config_class, ProductionConfig):
        ProductionConfig.check()
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config_class)
    app.config.update(overrides or {})
    register_extensions(app)
    register_adapters(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_outbox_handlers(app)
    register_listeners(app)
    register_jobs(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions of `kernel.extensions` (database, migrations, i18n, limits, API)."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app.url_map.converters["id"] = IdConverter
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    init_i18n(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    api.init_app(app)
    register_sqlite_pragmas(app)
    if app.config["OUTBOX_DRAIN_INLINE"]:
        outbox.deliver_inline(app)


def register_adapters(app: Flask) -> None:
    """The engines behind small interfaces, chosen by configuration: search engine, payment provider."""
    init_search(app)
    app.extensions["payment_provider"] = build_provider(app)


def register_blueprints(app: Flask) -> None:
    for blueprint in (health.blp, accounts_routes.blp, rates_routes.blp, vendors_routes.blp, storefront_routes.blp,
                      checkout_routes.blp, promotions_routes.blp, partners_routes.blp, partners_routes.grants_blp,
                      returns_routes.blp, messages_routes.blp, reviews_routes.blp, disputes_routes.blp):
        api.register_blueprint(blueprint, url_prefix="/api/v1")


def register_error_handlers(app: Flask) -> None:
    errors.register_error_handlers(app)


def register_outbox_handlers(app: Flask) -> None:
    """Who delivers each outbox topic (the search index registers its own in `init_search`)."""
    outbox.register(app, events.TOPIC, partner_deliveries.fan_out)


def register_listeners(app: Flask) -> None:
    """Where a lower area must learn of something a higher one owns, the higher one is plugged in here."""
    vendor_services.on_eligibility_change(app, enrollment.recheck_vendor)
    report.register_sales_source(app, checkout_sales.campaign_sales)


def register_jobs(app: Flask) -> None:
    """Periodic work the `flask worker` command runs."""
    worker.register(app, "expire-reservations", fulfilment.expire_reservations)
    worker.register(app, "transfer-payouts", payouts.transfer_payouts)
    worker.register(app, "sweep-idempotency-keys", idempotency.sweep)
    worker.register(app, "partner-sync-jobs", partner_jobs.process_sync_jobs)
    worker.register(app, "partner-webhooks", partner_deliveries.send_due)
    worker.register(app, "announce-campaigns", announcements.announce)
    worker.register(app, "escalate-returns", return_escalation.escalate_overdue)
    worker.register(app, "escalate-disputes", dispute_escalation.escalate_overdue)


def register_commands(app: Flask) -> None:
    for command in (users_cli, fx_cli, seed_demo_command, search_cli, worker.worker_command, partners_cli):
        app.cli.add_command(command)

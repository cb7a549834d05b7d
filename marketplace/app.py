"""Buy BRICS marketplace: the application factory."""
from __future__ import annotations

import gc
from typing import Any

from flask import Flask

from config import Config, ProductionConfig, config_for_env


def freeze_startup_heap() -> None:
    """For server processes (wsgi.py): collect once, then move everything allocated so far (the app, its
    catalogs and dictionaries) out of the cyclic collector's sight with `gc.freeze()`, as Python's gc
    documentation recommends before a pre-forking server forks. Full collections then stop rescanning
    those long-lived objects on busy write paths, and forked workers keep sharing their pages. Not for
    tests or other processes that build many apps: frozen objects are never collected."""
    gc.collect()
    gc.freeze()


def create_app(config_class: type[Config] | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    config_class = config_class or config_for_env()
    if config_class is ProductionConfig or issubclass(config_class, ProductionConfig):
        ProductionConfig.check()
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config_class)
    app.config.update(overrides or {})
    from marketplace.kernel.openapi import IdConverter

    app.url_map.converters["id"] = IdConverter

    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from marketplace.kernel.extensions import api, babel, db, limiter, migrate
    from marketplace.kernel.i18n import init_i18n, select_locale

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        from pathlib import Path

        Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_root() / "migrations"), render_as_batch=True, compare_type=True)
    init_i18n(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    api.init_app(app)

    from marketplace.kernel.db_events import register_sqlite_pragmas

    register_sqlite_pragmas(app)

    from marketplace.storefront.search.services import init_search
    from marketplace.kernel.outbox import deliver_inline

    init_search(app)

    from marketplace.checkout.payments import build_provider

    app.extensions["payment_provider"] = build_provider(app)
    register_jobs()
    if app.config["OUTBOX_DRAIN_INLINE"]:
        deliver_inline(app)


def register_blueprints(app: Flask) -> None:
    from marketplace.storefront.routes import blp as catalog_blp
    from marketplace.checkout.routes import blp as checkout_blp
    from promotions.routes import blp as promotions_blp
    from marketplace.accounts.routes import blp as accounts_blp
    from marketplace.kernel.extensions import api
    from marketplace.health import blp as health_blp
    from marketplace.partners.routes import blp as partners_blp, grants_blp as partner_grants_blp
    from marketplace.rates.routes import blp as rates_blp
    from vendors.routes import blp as vendors_blp

    for blueprint in (health_blp, accounts_blp, rates_blp, vendors_blp, catalog_blp, checkout_blp, promotions_blp):
        api.register_blueprint(blueprint, url_prefix="/api/v1")
    for blueprint in (partners_blp, partner_grants_blp):
        api.register_blueprint(blueprint, url_prefix="/api/v1")


def register_error_handlers(app: Flask) -> None:
    from marketplace.kernel.errors import register_error_handlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from marketplace.storefront.cli import search_cli
    from marketplace.accounts.cli import users_cli
    from marketplace.demo import seed_demo_command
    from marketplace.partners.cli import partners_cli
    from marketplace.rates.cli import fx_cli
    from marketplace.kernel.worker import worker_command

    app.cli.add_command(users_cli)
    app.cli.add_command(fx_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(search_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(partners_cli)


def register_jobs() -> None:
    """Periodic work the `flask worker` command runs."""
    from marketplace.kernel import idempotency, worker
    from marketplace.checkout import services as checkout
    from promotions import services as promotions

    worker.register("expire-reservations", checkout.expire_reservations)
    worker.register("transfer-payouts", checkout.transfer_payouts)
    worker.register("sweep-idempotency-keys", idempotency.sweep)
    from marketplace.kernel import events, outbox
    from marketplace.partners import services as partners, webhooks as partner_webhooks

    outbox.register(events.TOPIC, partner_webhooks.fan_out)
    worker.register("partner-sync-jobs", partners.process_sync_jobs)
    worker.register("partner-webhooks", partner_webhooks.send_due)
    worker.register("announce-campaigns", promotions.announce)


def _root():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent

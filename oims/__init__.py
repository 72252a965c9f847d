"""OIMS — Open Innovation Matching Square.

`create_app()` builds the Flask application; see README.md for configuration.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask

from . import config as config_module
from .extensions import babel, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Application factory.

    `config` overrides what the environment gives (tests pass their own
    mapping); the instance folder holds the SQLite file, secret key, uploads
    and the matcher's index unless configured otherwise.
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        instance_path=(config or {}).get("INSTANCE_PATH") or os.environ.get("OIMS_INSTANCE_PATH") or None,
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    from . import inputs

    inputs.init_app(app)  # request class and URL converters: before any route is added
    app.config.from_mapping(config_module.from_environment(app.instance_path))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    if config:
        app.config.from_mapping(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = config_module.normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    if proxies := int(app.config.get("OIMS_TRUSTED_PROXIES") or 0):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    # Flask-Limiter keeps one global on/off switch; an app with limits off
    # (tests, or OIMS_RATELIMIT_ENABLED=0) must not switch them off for another
    # app in the same process, so the switch is read per app at request time.
    app.config["OIMS_LIMITS_ON"] = app.config.get("RATELIMIT_ENABLED", True)
    app.config["RATELIMIT_ENABLED"] = True
    limiter.init_app(app)

    from . import errors, i18n, security, templating

    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)

    from .auth import bp as auth_bp
    from .main import bp as main_bp
    from .orgs import bp as orgs_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(orgs_bp)
    _register_optional_blueprints(app)

    from . import cli

    cli.init_app(app)
    return app


def _register_optional_blueprints(app: Flask) -> None:
    """Feature blueprints; each feature package exposes `bp`."""
    import importlib

    for name in ("needs", "proposals", "brokerage", "insight", "api", "accounts", "matchfeed", "fairdeal",
                 "checkins", "endorsements", "imports", "audit", "calls", "ratings"):
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # feature not built yet
            raise
        app.register_blueprint(module.bp)
        if hasattr(module, "init_app"):
            module.init_app(app)

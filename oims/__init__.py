"""OIMS — Open Innovation Matching Square.

`create_app()` builds the Flask application; see README.md for configuration.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask

from oims import config as config_module
from oims.extensions import babel, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Application factory.

    `config` overrides what the environment gives (tests pass their own
    mapping); the instance folder holds only the SQLite file and the secret key
    unless configured otherwise — uploaded files and the matcher's vectors live
    in the database, so any number of hosts can serve the same data.
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        instance_path=(config or {}).get("INSTANCE_PATH") or os.environ.get("OIMS_INSTANCE_PATH") or None,
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    from oims.web import inputs

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
    from oims.web import server_timing

    server_timing.init_app(app)  # OIMS_SERVER_TIMING=1: the Server-Timing header

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

    from oims.web import errors, i18n, security, templating

    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)

    _register_blueprints(app)
    _register_template_helpers(app)
    _register_panels(app)
    _register_listeners(app)
    _register_cli(app)

    from oims.matcher import service as matching_service

    matching_service.init_app(app)
    return app


# Everything a feature adds to the app is listed below, in one place and in
# order: no registry is filled as a side effect of importing a module.


def _register_blueprints(app: Flask) -> None:
    """One blueprint per feature package, defined in its `views.py`. The API's
    and insight's pages span several modules; each is imported here."""
    from oims.accounts import views as accounts
    from oims.api import auth as api_auth
    from oims.api import docs as api_docs  # noqa: F401 - routes on the api blueprint
    from oims.api import kpi as api_kpi  # noqa: F401 - routes on the api blueprint
    from oims.api import matches as api_matches  # noqa: F401 - routes on the api blueprint
    from oims.api import meetings as api_meetings  # noqa: F401 - routes on the api blueprint
    from oims.api import needs as api_needs  # noqa: F401 - routes on the api blueprint
    from oims.api import proposals as api_proposals  # noqa: F401 - routes on the api blueprint
    from oims.api import tokens as api_tokens  # noqa: F401 - routes on the api blueprint
    from oims.api import views as api
    from oims.audit import views as audit
    from oims.auth import views as auth
    from oims.brokerage import shortlist_views as brokerage_shortlist  # noqa: F401 - routes on the brokerage blueprint
    from oims.brokerage import views as brokerage
    from oims.calls import views as calls
    from oims.checkins import views as checkins
    from oims.endorsements import views as endorsements
    from oims.extensions import csrf
    from oims.fairdeal import views as fairdeal
    from oims.imports import views as imports
    from oims.insight import strength_views as insight_strength  # noqa: F401 - routes on the insight blueprint
    from oims.insight import views as insight
    from oims.main import views as main
    from oims.matchfeed import views as matchfeed
    from oims.needs import views as needs
    from oims.orgs import views as orgs
    from oims.proposals import stages as proposal_stages  # noqa: F401 - routes on the proposals blueprint
    from oims.proposals import views as proposals
    from oims.ratings import views as ratings

    # The API reads no cookie session, only bearer tokens, so cross-site request
    # forgery has nothing to ride on (the token pages validate their CSRF token
    # through Flask-WTF forms); one rate limit per token for the whole blueprint.
    csrf.exempt(api.bp)
    api_auth.rate_limited(api.bp)
    for feature in (main, auth, orgs, needs, proposals, brokerage, insight, api, accounts, matchfeed, fairdeal,
                    checkins, endorsements, imports, audit, calls, ratings):
        app.register_blueprint(feature.bp)


def _register_template_helpers(app: Flask) -> None:
    """Functions and filters the templates of several features call."""
    from oims.audit.services import first_owner_view
    from oims.brokerage.highlight import highlight
    from oims.calls.services import open_calls
    from oims.checkins.services import answer_labels, case_checkins, unanswered_checkins
    from oims.core.timeutil import today_local
    from oims.endorsements.services import endorsed, endorser_kind
    from oims.fairdeal.views import case_panel
    from oims.matcher.bands import BAND_LABELS
    from oims.ratings.services import owner_fairness, rating_state

    app.jinja_env.filters["highlight"] = highlight
    app.jinja_env.globals.update(
        first_owner_view=first_owner_view,
        open_calls=open_calls,
        unanswered_checkins=unanswered_checkins,
        case_checkins=case_checkins,
        checkin_answer_labels=answer_labels,
        endorsed=endorsed,
        endorser_kind=endorser_kind,
        fairdeal_panel=case_panel,
        owner_fairness=owner_fairness,
        rating_state=rating_state,
    )
    app.jinja_env.globals.setdefault("today_local", today_local)

    @app.context_processor
    def inject_bands():
        return {"band_labels": BAND_LABELS}


def _register_panels(app: Flask) -> None:
    """The dashboard's panels, in the order they show (`oims.main.dashboard`)."""
    from oims.brokerage import panels as brokerage
    from oims.insight import panels as insight
    from oims.needs import panels as needs
    from oims.proposals import panels as proposals

    app.extensions["oims.panels"] = (
        needs.owner_panel,
        needs.coordinator_panel,
        needs.proposer_panel,
        proposals.screening_panel,
        brokerage.invitations,
        proposals.proposer_panel,
        brokerage.needs_for_you,
        brokerage.my_cases,
        brokerage.stalled,
        brokerage.awaiting_answer,
        insight.kpi_panel,
    )


def _register_listeners(app: Flask) -> None:
    """ORM events: the matcher's change log and the KPI cache's invalidation
    (uploaded files are rows, so they follow their transaction without one).
    Each registers once per process."""
    from oims.insight import cache as kpi_cache
    from oims.matcher import events as matcher_events

    matcher_events.register_events()
    kpi_cache.register_events()


def _register_cli(app: Flask) -> None:
    """`flask oims ...`: the group lives in `oims.cli`; features add their commands here."""
    from oims import cli
    from oims.brokerage import cli as brokerage
    from oims.checkins import cli as checkins
    from oims.imports import cli as imports
    from oims.insight import cli as insight
    from oims.matchfeed import cli as matchfeed
    from oims.needs import cli as needs

    for command in (
        brokerage.reindex, brokerage.worker, brokerage.remind_meetings,
        checkins.send_checkins_command,
        imports.import_orgs_command,
        insight.refresh_kpi_command,
        matchfeed.export_judgments, matchfeed.send_digest,
        needs.remind_deadlines_command, needs.close_needs_command, needs.clean_anonymous_attachments_command,
    ):
        cli.oims_cli.add_command(command)
    cli.init_app(app)

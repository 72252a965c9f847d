"""`flask oims ...` commands."""

from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from oims.core import reference as ref
from oims.extensions import db

oims_cli = AppGroup("oims", help="OIMS administration commands.")


@oims_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.code for r in ref.ROLES]), required=True)
@click.option("--org", "org_name", required=True, help="Name of an existing organisation, or a new support body.")
@click.option("--prefecture", default="11", show_default=True, help="JIS code, used when the organisation is new.")
@click.password_option()
def create_user(email, name, role, org_name, prefecture, password):
    """Create an account (the only way, with the admin page, to create coordinators and admins)."""
    from oims.auth.services import create_user as create
    from oims.core.exceptions import ValidationFailed
    from oims.models import Organisation

    org = db.session.scalar(select(Organisation).where(Organisation.name == org_name))
    if org is None:
        if prefecture not in ref.PREFECTURE_BY_CODE:
            raise click.BadParameter("unknown prefecture code", param_hint="--prefecture")
        org = Organisation(name=org_name, kind="support" if role in ("coordinator", "admin") else "sme",
                           industry="S" if role in ("coordinator", "admin") else "E", employee_band="51-300")
        org.set_prefecture(prefecture)
        db.session.add(org)
    try:
        user = create(email=email, name=name, password=password, role=role, organisation=org,
                      is_org_admin=True)
    except ValidationFailed as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} in {org.name}")


@oims_cli.command("demo")
@click.option("--password", default="oims-demo-2026", show_default=True, help="Password of every demo login.")
def demo(password):
    """Load the demo data set (idempotent: running it again changes nothing)."""
    from oims.demo.loader import load_demo

    summary = load_demo(password=password)
    for key, value in summary["counts"].items():
        click.echo(f"{key}: {value}")
    click.echo(f"\nDemo logins (password: {password}):")
    for role, email in summary["logins"].items():
        click.echo(f"  {role:12s} {email}")


@oims_cli.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep running, delivering every --interval seconds.")
@click.option("--interval", default=30, show_default=True)
def send_mail(loop, interval):
    """Deliver the outbox (SMTP when OIMS_MAIL_BACKEND=smtp, else log)."""
    from oims.core.mail import deliver_pending

    while True:
        sent, failed = deliver_pending()
        click.echo(f"sent {sent}, failed {failed}")
        if not loop:
            break
        time.sleep(interval)


def init_app(app: Flask) -> None:
    app.cli.add_command(oims_cli)

"""The outbox: every e-mail is a row first, then a sender delivers it.

Features call `enqueue()` inside their transaction, so a message exists
exactly when the change that caused it was committed. `deliver_pending()`
(the `flask oims send-mail` command and its periodic job) sends them; a
failure is recorded and retried later with back-off, never lost.
"""

from __future__ import annotations

import base64
import logging
import smtplib
from contextlib import contextmanager
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app, render_template
from flask_babel import force_locale
from jinja2 import TemplateNotFound
from sqlalchemy import insert, select

from oims.extensions import db
from oims.models import Notification, OutboxMessage, User
from oims.models.base import utcnow

log = logging.getLogger(__name__)


_BATCH = "oims_mail_batch"


@contextmanager
def batch():
    """Notifications and e-mails made inside (by `notify` and `enqueue`) are
    written when the block ends, one INSERT per table whatever the number of
    recipients (an executemany on the session's connection), in the caller's
    transaction. When the block raises, nothing is written (the caller rolls
    back). Nested blocks write with the outermost one."""
    session = db.session()
    if _BATCH in session.info:
        yield
        return
    rows = session.info[_BATCH] = {"notification": [], "outbox": []}
    try:
        yield
        _write(session, rows)
    finally:
        session.info.pop(_BATCH, None)


def _write(session, rows: dict) -> None:
    conn = session.connection()
    if rows["notification"]:
        conn.execute(insert(Notification.__table__), rows["notification"])
    if rows["outbox"]:
        conn.execute(insert(OutboxMessage.__table__), rows["outbox"])


def _batch_rows() -> dict | None:
    return db.session().info.get(_BATCH)


def enqueue(
    to: str,
    subject: str,
    template: str,
    *,
    locale: str = "ja",
    attachments: list[tuple[str, str, bytes]] | None = None,
    **context,
) -> OutboxMessage | None:
    """Render `templates/email/<template>.txt` (and `.html` when present) in
    `locale` and add the message to the outbox: to the session, written with
    the caller's next flush or commit (the caller's transaction either way)."""
    html = _html_version(template)
    with force_locale(locale):
        body_text = render_template(f"email/{template}.txt", **context)
        body_html = ""
        if html:
            try:
                body_html = render_template(html, **context)
            except Exception:  # noqa: BLE001 - an HTML version is optional
                log.warning("E-mail template %s failed; sending the text version only", html, exc_info=True)
    values = {
        "to": to,
        "subject": subject,
        "body_text": body_text,
        "body_html": body_html,
        "attachments": [
            {"filename": n, "content_type": ct, "data": base64.b64encode(data).decode()}
            for n, ct, data in (attachments or [])
        ],
    }
    if (rows := _batch_rows()) is not None:
        now = utcnow()
        rows["outbox"].append(values | {"status": "pending", "attempts": 0, "last_error": "",
                                        "next_attempt_at": now, "created_at": now})
        return None
    msg = OutboxMessage(**values)
    db.session.add(msg)
    return msg


def _html_version(template: str) -> str | None:
    """`email/<template>.html` when it exists. Looked up once per process (a
    miss walks every template folder and raises), or every time while
    templates auto-reload (debug)."""
    name = f"email/{template}.html"
    env = current_app.jinja_env
    known = current_app.extensions.setdefault("oims_mail_html", {})
    if name not in known or env.auto_reload:
        try:
            env.get_template(name)
        except TemplateNotFound:
            known[name] = False
        else:
            known[name] = True
    return name if known[name] else None


def notify(user: User, kind: str, text: str, url: str = "", *, email_template: str | None = None,
           subject: str | None = None, attachments=None, **context) -> Notification | None:
    """In-app notification, plus an e-mail through the outbox when a template is given.

    `text`/`subject` are callables or strings; callables are evaluated in the
    recipient's language so each person reads their own. Both rows are added
    to the session, not flushed: the caller's next flush or commit writes them,
    in the caller's transaction. Inside `batch()` they are written when the
    batch ends, one INSERT per table for every recipient, and None is returned.
    """
    locale = user.language or current_app.config.get("BABEL_DEFAULT_LOCALE", "ja")
    with force_locale(locale):
        text_value = text() if callable(text) else text
        subject_value = subject() if callable(subject) else subject
    if (rows := _batch_rows()) is not None:
        rows["notification"].append({"user_id": user.id, "kind": kind, "text": text_value[:500], "url": url,
                                     "created_at": utcnow(), "read_at": None})
        note = None
    else:
        note = Notification(user_id=user.id, kind=kind, text=text_value[:500], url=url)
        db.session.add(note)
    if email_template:
        enqueue(user.email, subject_value or text_value, email_template, locale=locale,
                attachments=attachments, user=user, url=url, text=text_value, **context)
    return note


def _to_email(msg: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["OIMS_MAIL_FROM"]
    email["To"] = msg.to
    email["Subject"] = msg.subject
    email["Message-ID"] = f"<oims-{msg.id}@{current_app.config['OIMS_MAIL_FROM'].split('@')[-1].strip('>')}>"
    email.set_content(msg.body_text)
    if msg.body_html:
        email.add_alternative(msg.body_html, subtype="html")
    for att in msg.attachments or []:
        maintype, _, subtype = att["content_type"].partition("/")
        email.add_attachment(
            base64.b64decode(att["data"]), maintype=maintype, subtype=subtype, filename=att["filename"]
        )
    return email


def _smtp_send(email: EmailMessage) -> None:
    cfg = current_app.config
    host, port, tls = cfg["OIMS_SMTP_HOST"], cfg["OIMS_SMTP_PORT"], cfg["OIMS_SMTP_TLS"]
    cls = smtplib.SMTP_SSL if tls == "ssl" else smtplib.SMTP
    with cls(host, port, timeout=30) as smtp:
        if tls == "starttls":
            smtp.starttls()
        if cfg["OIMS_SMTP_USER"]:
            smtp.login(cfg["OIMS_SMTP_USER"], cfg["OIMS_SMTP_PASSWORD"])
        smtp.send_message(email)


def deliver_pending(limit: int = 200) -> tuple[int, int]:
    """Send due outbox messages. Returns (sent, failed_this_round).

    Each message is committed on its own, so a crash mid-batch neither loses
    nor re-sends the messages already handled.
    """
    backend = current_app.config["OIMS_MAIL_BACKEND"]
    max_attempts = current_app.config["OIMS_MAIL_MAX_ATTEMPTS"]
    now = utcnow()
    ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    for msg_id in ids:
        msg = db.session.get(OutboxMessage, msg_id)
        if msg is None or msg.status != "pending":
            continue
        try:
            email = _to_email(msg)
            if backend == "smtp":
                _smtp_send(email)
            else:
                log.info("E-mail (not sent, backend=%s) to %s: %s\n%s", backend, msg.to, msg.subject, msg.body_text)
        except Exception as exc:  # noqa: BLE001 - any delivery failure is retried
            msg.attempts += 1
            msg.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            # Exponential back-off: 1, 2, 4 ... minutes, capped at 6 hours.
            msg.next_attempt_at = utcnow() + timedelta(minutes=min(2 ** (msg.attempts - 1), 360))
            if msg.attempts >= max_attempts:
                msg.status = "failed"
            failed += 1
            log.warning("Delivery of outbox message %s failed: %s", msg.id, msg.last_error)
        else:
            msg.status = "sent"
            msg.attempts += 1
            msg.sent_at = utcnow()
            sent += 1
        db.session.commit()
    return sent, failed

"""uploaded files in the database: stored_file, attachment.file_id; files moved from disk

Revision ID: hu_stored_files
Revises: h13_themed_calls
Create Date: 2026-12-02 09:00:00

Data: every attachment's file is read from the upload folder (OIMS_UPLOAD_DIR,
default <instance>/uploads) into `stored_file` (one row per distinct SHA-256)
and the attachment points at it; `attachment.stored_name` goes. A file that is
missing is logged and skipped: its attachment keeps file_id NULL (downloads
answer 404, as they did). The moved files are deleted from the folder once the
migration's transaction commits (not before: a failed upgrade leaves them).

Downgrade writes every stored file back into the upload folder under a new
random name and drops `stored_file`.
"""
import hashlib
import logging
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "hu_stored_files"
down_revision = "h13_themed_calls"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


def _upload_dir() -> Path | None:
    try:
        from flask import current_app

        folder = current_app.config.get("OIMS_UPLOAD_DIR")
    except RuntimeError:  # no app (plain alembic)
        folder = None
    folder = folder or os.environ.get("OIMS_UPLOAD_DIR")
    return Path(folder) if folder else None


def _on_commit(conn, paths: list[Path]) -> None:
    """Delete `paths` when the migration's transaction commits (not on rollback)."""
    def remove(_conn):
        for path in paths:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                log.warning("could not delete the moved file %s", path)
        paths.clear()

    sa.event.listen(conn, "commit", remove, once=True)


def _on_rollback(conn, paths: list[Path]) -> None:
    def remove(_conn):
        for path in paths:
            path.unlink(missing_ok=True)

    sa.event.listen(conn, "rollback", remove, once=True)


attachment = sa.table("attachment", sa.column("id", sa.Integer), sa.column("stored_name", sa.String),
                      sa.column("file_id", sa.Integer), sa.column("content_type", sa.String),
                      sa.column("size", sa.Integer), sa.column("sha256", sa.String))
stored_file = sa.table("stored_file", sa.column("id", sa.Integer), sa.column("sha256", sa.String),
                       sa.column("size", sa.Integer), sa.column("content_type", sa.String),
                       sa.column("data", sa.LargeBinary), sa.column("created_at", sa.DateTime))


def upgrade():
    op.create_table(
        "stored_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_file")),
        sa.UniqueConstraint("sha256", name=op.f("uq_stored_file_sha256")),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("file_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_attachment_file_id"), ["file_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_attachment_file_id_stored_file"), "stored_file",
                                    ["file_id"], ["id"])

    conn = op.get_bind()
    folder = _upload_dir()
    moved: list[Path] = []
    ids: dict[str, int] = {}
    missing = 0
    rows = conn.execute(sa.select(attachment.c.id, attachment.c.stored_name, attachment.c.content_type)
                        .order_by(attachment.c.id)).all()
    for att_id, stored_name, content_type in rows:
        path = folder / stored_name if folder is not None and stored_name else None
        if path is None or not path.is_file():
            missing += 1
            log.warning("attachment %s: file %s is missing; skipped (downloads answer 404)", att_id, path)
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest not in ids:
            ids[digest] = conn.execute(stored_file.insert().values(
                sha256=digest, size=len(data), content_type=content_type, data=data,
                created_at=datetime.now(UTC).replace(tzinfo=None)).returning(stored_file.c.id)).scalar_one()
        conn.execute(attachment.update().where(attachment.c.id == att_id).values(
            file_id=ids[digest], size=len(data), sha256=digest))
        moved.append(path)
    log.info("moved %d attachment files (%d distinct) into the database; %d missing",
             len(moved), len(ids), missing)
    _on_commit(conn, moved)

    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_attachment_stored_name"), type_="unique")
        batch_op.drop_column("stored_name")


def downgrade():
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stored_name", sa.String(length=80), nullable=True))

    conn = op.get_bind()
    folder = _upload_dir()
    written: list[Path] = []
    rows = conn.execute(sa.select(attachment.c.id, attachment.c.file_id, attachment.c.content_type)
                        .order_by(attachment.c.id)).all()
    for att_id, file_id, content_type in rows:
        stored_name = secrets.token_hex(16) + "." + EXTENSIONS.get(content_type, "bin")
        if file_id is not None:
            if folder is None:
                raise RuntimeError("OIMS_UPLOAD_DIR is needed to write the files back to disk")
            folder.mkdir(parents=True, exist_ok=True)
            data = conn.execute(sa.select(stored_file.c.data).where(stored_file.c.id == file_id)).scalar_one()
            (folder / stored_name).write_bytes(bytes(data))
            written.append(folder / stored_name)
        conn.execute(attachment.update().where(attachment.c.id == att_id).values(stored_name=stored_name))
    _on_rollback(conn, written)

    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.alter_column("stored_name", existing_type=sa.String(length=80), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_attachment_stored_name"), ["stored_name"])
        batch_op.drop_constraint(batch_op.f("fk_attachment_file_id_stored_file"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_attachment_file_id"))
        batch_op.drop_column("file_id")
    op.drop_table("stored_file")

"""anonymity: one random alias per anonymous need, organisation brands, cleaned attachments

Revision ID: h5_anonymity
Revises: h7_row_version
Create Date: 2026-12-02 05:40:00

Data: every anonymous need gets its own random alias (「大手製造業・案件K7Q2」);
before, all anonymous needs of one firm shared 「大手製造業A社」, which linked
them. The industry/size descriptor of the old alias is kept. Existing files
are marked not anonymised; `flask oims clean-anonymous-attachments` rebuilds
those of anonymous needs.
"""
import re
import secrets
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "h5_anonymity"
down_revision = "h3_bulk_import"
branch_labels = None
depends_on = None

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _norm(text):
    return unicodedata.normalize("NFKC", text or "").lower()


def upgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("brands", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymised", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("need", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_need_alias"), ["alias"], unique=False)

    need = sa.table("need", sa.column("id", sa.Integer), sa.column("anonymous", sa.Boolean),
                    sa.column("alias", sa.String), sa.column("alias_en", sa.String),
                    sa.column("search_text", sa.Text))
    conn = op.get_bind()
    rows = conn.execute(sa.select(need.c.id, need.c.alias, need.c.alias_en, need.c.search_text)
                        .where(need.c.anonymous.is_(True)).order_by(need.c.id)).all()
    used = set()
    for row in rows:
        code = "".join(secrets.choice(ALPHABET) for _ in range(4))
        while code in used:
            code = "".join(secrets.choice(ALPHABET) for _ in range(4))
        used.add(code)
        m_ja = re.match(r"^(.*?)[A-Z]+社$", row.alias or "")
        m_en = re.match(r"^(.*) [A-Z]+$", row.alias_en or "")
        base_ja = m_ja.group(1) if m_ja and m_ja.group(1) else "企業"
        base_en = m_en.group(1) if m_en and m_en.group(1) and m_ja else "Company"
        alias, alias_en = f"{base_ja}・案件{code}", f"{base_en}, case {code}"
        text = row.search_text or ""
        for old, new in ((row.alias, alias), (row.alias_en, alias_en)):
            if old:
                text = text.replace(_norm(old), _norm(new))
        if row.alias == "" and row.alias_en == "":
            text = f"{text}\n{_norm(alias)}\n{_norm(alias_en)}"
        conn.execute(sa.update(need).where(need.c.id == row.id).values(
            alias=alias, alias_en=alias_en, search_text=text))


def downgrade():
    # The random aliases are kept: going back to shared aliases would link the needs again.
    with op.batch_alter_table("need", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_need_alias"))
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("anonymised")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("brands")

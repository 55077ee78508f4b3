"""site-wide totals of users and posts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 11:30:00

`totals` holds counters spread over slots (see microblog/totals.py), filled here from the rows
that exist.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "totals",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", "slot", name=op.f("pk_totals")),
    )
    op.execute("INSERT INTO totals (name, slot, value) SELECT 'users', 0, count(*) FROM users")
    op.execute("INSERT INTO totals (name, slot, value) SELECT 'posts', 0, count(*) FROM posts")


def downgrade() -> None:
    op.drop_table("totals")

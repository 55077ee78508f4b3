"""web sessions join API tokens in the tokens table: kind, label, last_used_at

Revision ID: 0006_sessions
Revises: 0006_task_expiry
Create Date: 2026-12-03 16:45:00

A web session becomes a row like an API token (its key stored as a SHA-256), so a person can
list and end both, and ending one kills every copy of its cookies. Existing rows are API
tokens, last used (as far as anyone knows) when they were made.
"""

import sqlalchemy as sa
from alembic import op

import microblog.db

Timestamp = microblog.db.UTCDateTime(timezone=True)

revision = "0006_sessions"
down_revision = "0006_task_expiry"
branch_labels = None
depends_on = None


# Recreating tokens on SQLite reflects it; following its foreign key would reflect users too,
# whose index on lower(username) SQLAlchemy cannot read (and warns about). The table keeps
# AUTOINCREMENT (0006_ids_never_reused): a token's id is never handed out twice.
_ALONE = {"resolve_fks": False}
_KEPT = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="api", nullable=False)
        )
        batch_op.add_column(
            sa.Column("label", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("last_used_at", Timestamp, nullable=True))
    op.execute("UPDATE tokens SET last_used_at = created_at")
    with op.batch_alter_table("tokens", reflect_kwargs=_ALONE, table_kwargs=_KEPT) as batch_op:
        batch_op.alter_column("last_used_at", existing_type=Timestamp, nullable=False)


def downgrade() -> None:
    # Web sessions have no place in the older schema: they end (their people sign in again).
    op.execute("DELETE FROM tokens WHERE kind <> 'api'")
    with op.batch_alter_table("tokens", reflect_kwargs=_ALONE, table_kwargs=_KEPT) as batch_op:
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("label")
        batch_op.drop_column("kind")

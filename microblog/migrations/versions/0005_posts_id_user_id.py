"""an index of posts by (id, user_id) for the feed

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 12:15:00

The feed's page of ids is found by walking posts newest first and keeping those by the
people followed: with the author beside the id in this index, that walk never reads the
table (see microblog/api/pagination.py). A plain CREATE INDEX: no table is recreated, so
SQLite's full-text triggers (0003) are untouched.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_posts_id_user_id", "posts", ["id", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_posts_id_user_id", table_name="posts")

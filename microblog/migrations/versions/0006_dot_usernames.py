"""rename the accounts named '.' or '..'

Revision ID: 0006_dot_usernames
Revises: 0005
Create Date: 2026-12-03 17:00:00

Such a name is a dot-segment of a URL path: a browser resolves /user/.. to / and /user/. to
/user/, so its profile could not be reached and every link to it led elsewhere. The rule now
refuses them (microblog/accounts/rules.py); an account that already had one is renamed
`user-<id>` (or `user-<id>-<n>` if that is taken). Its owner signs in with their email address,
as before, and may choose another name on the profile page. The old names are not restored on
downgrade: they were never usable.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_dot_usernames"
down_revision = "0005"
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String))


def upgrade() -> None:
    connection = op.get_bind()
    dotted = connection.scalars(sa.select(users.c.id).where(users.c.username.in_((".", ".."))))
    for user_id in list(dotted):
        name = _free_name(connection, f"user-{user_id}")
        connection.execute(sa.update(users).where(users.c.id == user_id).values(username=name))


def _free_name(connection: sa.Connection, wanted: str) -> str:
    """`wanted`, or `wanted-2`, `wanted-3` ...: the first no one has (names are unique
    whatever their case)."""
    name, number = wanted, 1
    while connection.scalar(
        sa.select(sa.func.count())
        .select_from(users)
        .where(sa.func.lower(users.c.username) == name.lower())
    ):
        number += 1
        name = f"{wanted}-{number}"
    return name


def downgrade() -> None:
    pass

"""export results in a table of their own, apart from the tasks

Revision ID: 0006_task_expiry
Revises: 0006_ids_never_reused
Create Date: 2026-12-03 17:20:00

A result is megabytes of JSON. Kept in `tasks.result`, listing tasks read it on SQLite even
when not selected (a column after a long value is found by walking its overflow pages), and
it could not be removed without touching the task. In `task_results` it is read only when
fetched, and removed when it expires (EXPORT_RESULT_TTL) with one DELETE. SQLite drops the
column in place (ALTER TABLE ... DROP COLUMN, SQLite 3.35+): the table, its partial unique
index and the other tables' triggers are left as they are.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_task_expiry"
down_revision = "0006_ids_never_reused"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_results",
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_task_results_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_task_results")),
    )
    op.execute(
        "INSERT INTO task_results (task_id, body) "
        "SELECT id, result FROM tasks WHERE result IS NOT NULL"
    )
    op.execute("ALTER TABLE tasks DROP COLUMN result")


def downgrade() -> None:
    op.execute("ALTER TABLE tasks ADD COLUMN result TEXT")
    op.execute(
        "UPDATE tasks SET result = "
        "(SELECT body FROM task_results WHERE task_results.task_id = tasks.id)"
    )
    op.drop_table("task_results")

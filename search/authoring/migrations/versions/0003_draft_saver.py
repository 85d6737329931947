"""drafts remember who saved last (a stale save names that person)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("updated_by_id", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_drafts_updated_by", "users", ["updated_by_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        batch.drop_constraint("fk_drafts_updated_by", type_="foreignkey")
        batch.drop_column("updated_by_id")

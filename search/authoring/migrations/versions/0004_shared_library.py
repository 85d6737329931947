"""shared store: published library versions (index and site files) and the search log of every replica

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "library_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("writer", sa.String(200), nullable=False),
        sa.Column("manifest", sa.Text, nullable=False),
        sa.Column("files", sa.Integer, nullable=False),
        sa.Column("bytes", sa.Integer, nullable=False),
    )
    op.create_table(
        "library_files",
        sa.Column("version_id", sa.Integer, sa.ForeignKey("library_versions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("path", sa.String(400), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "search_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ts", sa.Float, nullable=False, index=True),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("top_slug", sa.String(80), nullable=True),
        sa.Column("top_score", sa.Float, nullable=True),
        sa.Column("results", sa.Integer, nullable=False),
        sa.Column("weak", sa.Boolean, nullable=False),
        sa.Column("category", sa.String(40), nullable=True),
        sa.Column("level", sa.String(40), nullable=True),
        sa.Column("replica", sa.String(200), nullable=False),
    )
    op.create_table(
        "search_feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ts", sa.Float, nullable=False, index=True),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("slug", sa.String(80), nullable=False),
        sa.Column("useful", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    for t in ("search_feedback", "search_log", "library_files", "library_versions"):
        op.drop_table(t)

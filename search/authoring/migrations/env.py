"""Alembic environment: db.migrate() passes an open connection in config.attributes, so
migrations run in-process on the app's own engine (no alembic.ini, no URL in a file)."""

from alembic import context

from search.authoring.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()

"""Alembic environment: always run with a connection handed over by fupin.warehouse.db."""

from alembic import context

from fupin.warehouse.schema import full_metadata

connection = context.config.attributes["connection"]
# the platform's tables and the active contracts' (what autogenerate compares against)
context.configure(connection=connection, target_metadata=full_metadata(), render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

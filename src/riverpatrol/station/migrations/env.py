"""Alembic environment: runs on the connection the station hands over (see ``store.upgrade``)."""

from __future__ import annotations

from alembic import context

from riverpatrol.station.models import Base

context.configure(connection=context.config.attributes["connection"], target_metadata=Base.metadata,
                  render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

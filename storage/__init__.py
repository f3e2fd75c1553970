"""Durable storage: one schema on SQLAlchemy 2 (async), Alembic migrations, SQLite or PostgreSQL."""

"""Migrations build the whole schema from empty on SQLite and PostgreSQL, matching the models."""

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import revoque.models  # noqa: F401  (registers every table)
from revoque.db import get_engine, upgrade_database
from revoque.settings import PROJECT_ROOT
from tests.conftest import drop_pg_database, pg_admin, pg_url, use_settings


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        use_settings(monkeypatch, database_url=f"sqlite:///{tmp_path / 'empty.db'}")
        yield request.param
        return
    name = f"revoque_mig_{uuid.uuid4().hex[:10]}"
    pg_admin(f'CREATE DATABASE "{name}"')
    use_settings(monkeypatch, database_url=pg_url(name))
    yield request.param
    from revoque.db import reset_engines

    reset_engines()
    drop_pg_database(name)


def _schema_differences() -> list:
    with get_engine().connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)


def test_upgrade_from_empty_matches_the_models(empty_database):
    assert inspect(get_engine()).get_table_names() == []
    upgrade_database()
    tables = set(inspect(get_engine()).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    assert _schema_differences() == []


def test_downgrade_to_empty_and_upgrade_again(empty_database):
    upgrade_database()
    command.downgrade(Config(str(PROJECT_ROOT / "alembic.ini")), "base")
    assert set(inspect(get_engine()).get_table_names()) <= {"alembic_version"}
    upgrade_database()
    assert _schema_differences() == []

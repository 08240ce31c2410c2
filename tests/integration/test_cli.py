"""The CLI as a user runs it: configuration mistakes end with one clear line, never a traceback."""

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from revoque.adapters.vectors import NumpyStore
from revoque.settings import PROJECT_ROOT


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "revoque.cli", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://nobody@127.0.0.1:1/nothing", "cannot be reached"),
        ("not a url", "not a valid database URL"),
        ("mysql://user@host/db", "cannot use"),
    ],
)
def test_a_broken_database_url_gives_one_clear_error(url, says, tmp_path):
    result = run_cli("migrate", DATABASE_URL=url, DATA_DIR=str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: DATABASE_URL") and says in result.stderr


def test_an_invalid_setting_is_named(tmp_path):
    result = run_cli("check", PAGE_SIZE="lots", DATA_DIR=str(tmp_path))
    assert result.returncode == 2 and "PAGE_SIZE" in result.stderr and "Traceback" not in result.stderr


def test_setup_migrates_and_seeds_once(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "DATA_DIR": str(tmp_path)}
    first = run_cli("setup", **env)
    assert first.returncode == 0, first.stderr
    assert "seeded the demo catalog" in first.stdout
    second = run_cli("setup", **env)
    assert second.returncode == 0 and "nothing seeded" in second.stdout
    assert any((tmp_path / "media" / "products").iterdir())


def active_product_ids(database: Path) -> set[int]:
    with closing(sqlite3.connect(database)) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM product WHERE status = 'active'")}


def embedded_ids(data_dir: Path) -> set[int]:
    return NumpyStore(data_dir / "vectors").ids("products")


def test_seed_alone_does_not_embed_and_setup_embeds_only_when_the_vectors_differ(tmp_path):
    database = tmp_path / "cli.db"
    env = {"DATABASE_URL": f"sqlite:///{database}", "DATA_DIR": str(tmp_path), "QDRANT_URL": ""}
    assert run_cli("migrate", **env).returncode == 0
    seeded = run_cli("seed", **env)
    assert seeded.returncode == 0, seeded.stderr
    active = active_product_ids(database)
    assert f"indexed {len(active)} products for search" in seeded.stdout
    assert "embedded" not in seeded.stdout and embedded_ids(tmp_path) == set()

    first = run_cli("setup", **env)
    assert first.returncode == 0, first.stderr
    assert "nothing seeded" in first.stdout and "indexed" not in first.stdout  # the keyword index matched already
    assert f"embedded {len(active)} products" in first.stdout
    assert f"embedding [{'#' * 30}] {len(active)}/{len(active)}" in first.stderr
    assert embedded_ids(tmp_path) == active

    second = run_cli("setup", **env)
    assert second.returncode == 0 and "embedded" not in second.stdout

    NumpyStore(tmp_path / "vectors").delete("products", [min(active)])  # the vectors fell behind the catalog
    third = run_cli("setup", **env)
    assert f"embedded {len(active)} products" in third.stdout
    assert embedded_ids(tmp_path) == active

    engine_down = run_cli("setup", **env | {"QDRANT_URL": "http://127.0.0.1:9"})
    assert engine_down.returncode == 0 and "Traceback" not in engine_down.stderr
    assert engine_down.stderr.startswith("warning: Qdrant at http://127.0.0.1:9 cannot be reached")
    assert "python -m revoque.cli reindex" in engine_down.stderr


def test_reindex_rebuilds_the_keyword_index_and_the_embeddings(tmp_path):
    database = tmp_path / "cli.db"
    env = {"DATABASE_URL": f"sqlite:///{database}", "DATA_DIR": str(tmp_path), "QDRANT_URL": ""}
    assert run_cli("migrate", **env).returncode == 0
    assert run_cli("seed", **env).returncode == 0
    active = active_product_ids(database)

    result = run_cli("reindex", **env)
    assert result.returncode == 0, result.stderr
    assert f"indexed {len(active)} products for search" in result.stdout
    assert f"embedded {len(active)} products" in result.stdout
    total = f"{len(active)}/{len(active)}"
    assert f"indexing [{'#' * 30}] {total}" in result.stderr and f"embedding [{'#' * 30}] {total}" in result.stderr
    assert embedded_ids(tmp_path) == active

    broken = run_cli("reindex", **env | {"MEILI_URL": "http://127.0.0.1:9", "MEILI_MASTER_KEY": "nothing"})
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    assert f"embedded {len(active)} products" in broken.stdout  # the embeddings were still rebuilt
    errors = [line for line in broken.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: reindex did not finish: Search is unavailable")

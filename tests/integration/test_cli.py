"""The CLI as a user runs it: configuration mistakes end with one clear line, never a traceback."""

import os
import subprocess
import sys

import pytest

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

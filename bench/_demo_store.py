"""A fresh demo store for the benchmarks that measure search and the assistant on the seeded
catalog, with the embedded engines only."""

from __future__ import annotations

import os
from pathlib import Path


def build_demo_store(data_dir: Path, database: str) -> None:
    """Migrate, seed, index and embed the demo catalog under ``data_dir`` (settings are read once
    per process, so the environment is set before anything reads it)."""
    os.environ.update(
        {
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite:///{data_dir / database}",
            "REDIS_URL": "",
            "MEILI_URL": "",
            "QDRANT_URL": "",
            "GEMINI_API_KEY": "",
        }
    )
    from revoque.adapters.storage import get_storage
    from revoque.db import reset_engines, session_scope, upgrade_database
    from revoque.services.search import reindex_all
    from revoque.services.seed import seed_demo_catalog
    from revoque.services.vector_index import reembed_all
    from revoque.settings import get_settings

    get_settings.cache_clear()
    reset_engines()
    upgrade_database()
    with session_scope(write=True) as session:
        seed_demo_catalog(session, get_storage())
    reindex_all()
    reembed_all()

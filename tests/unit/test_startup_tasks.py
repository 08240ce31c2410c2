"""The app's start-up task that applies the search index settings: done off the
event loop, and a search engine that is down is logged, never fatal."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from revoque import revoque as app_module
from revoque.adapters.search import SearchUnavailable


def test_index_settings_are_applied_in_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[threading.Thread] = []
    monkeypatch.setattr(app_module, "warm_up", lambda: threads.append(threading.current_thread()))

    asyncio.run(app_module.warm_up_search())

    assert len(threads) == 1 and threads[0] is not threading.main_thread()


def test_a_search_engine_that_is_down_is_logged_not_fatal(monkeypatch, caplog) -> None:
    def down() -> None:
        raise SearchUnavailable("Search is unavailable (index setup failed).")

    monkeypatch.setattr(app_module, "warm_up", down)
    with caplog.at_level(logging.WARNING, logger=app_module.__name__):
        asyncio.run(app_module.warm_up_search())  # returns instead of raising

    assert "could not warm up search at start" in caplog.text
    assert "SearchUnavailable" in caplog.text

"""The app's start-up tasks: the search index settings are applied off the event loop (an engine
that is down is logged, never fatal), and the embedding model loads before the worker serves."""

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


def test_the_embedding_model_is_loaded_before_the_worker_serves(monkeypatch) -> None:
    """A plain (not async) lifespan task: Reflex runs it to the end before the app takes requests."""
    from revoque.services import vector_index

    queries: list[str] = []

    class Recording:
        def embed_query(self, text: str):
            queries.append(text)

    monkeypatch.setattr(vector_index, "get_embedder", Recording)
    assert not asyncio.iscoroutinefunction(app_module.load_search_model)
    app_module.load_search_model()
    assert queries == ["warm up"]


def test_a_model_that_cannot_load_leaves_search_by_meaning_off_without_stopping_the_start(monkeypatch, caplog):
    from revoque.adapters.embedder import EmbedderError
    from revoque.services import vector_index

    class Broken:
        def embed_query(self, _text: str):
            raise EmbedderError("The packaged embedding model is not installed")

    monkeypatch.setattr(vector_index, "get_embedder", Broken)
    with caplog.at_level(logging.ERROR, logger=vector_index.__name__):
        app_module.load_search_model()
    assert "search by meaning stays off" in caplog.text


def test_handlers_get_enough_threads_for_their_database_round_trips() -> None:
    """Under load every handler thread waited on PostgreSQL while the CPU had room: asyncio's
    default pool (cores + 4) was the bottleneck, so each worker sizes its own."""

    async def scenario() -> set[str]:
        app_module.give_handlers_threads()
        barrier = threading.Barrier(app_module.HANDLER_THREADS, timeout=10)

        def wait_for_all() -> str:
            barrier.wait()  # only returns once HANDLER_THREADS threads are in here at once
            return threading.current_thread().name

        return set(await asyncio.gather(*(asyncio.to_thread(wait_for_all) for _ in range(app_module.HANDLER_THREADS))))

    names = asyncio.run(scenario())

    assert len(names) == app_module.HANDLER_THREADS > 6
    assert all(name.startswith("revoque-handler") for name in names)

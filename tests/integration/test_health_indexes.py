"""/api/health reports how many documents and vectors the indexes hold and how far each lags behind
the active catalog, on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from revoque.adapters.vectors import VectorPoint, get_vector_store
from revoque.api.health import health
from revoque.db import session_scope
from revoque.services.search import reindex_all
from revoque.services.vector_index import products_collection
from tests.conftest import use_settings
from tests.factories import add_product

DIMENSION = 8  # health only counts points, so small made-up vectors stand in for the model's


def health_body() -> dict:
    with TestClient(Starlette(routes=[Route("/api/health", health)])) as client:
        response = client.get("/api/health")
    assert response.status_code == 200
    return response.json()


def store_vectors(product_ids: list[int]) -> None:
    store, name = get_vector_store(), products_collection()
    store.ensure_collection(name, DIMENSION)
    rng = np.random.default_rng(7)
    store.upsert(name, [VectorPoint(i, rng.standard_normal(DIMENSION)) for i in product_ids])


def test_health_reports_index_counts_and_their_lag(database, monkeypatch) -> None:
    use_settings(monkeypatch, meili_url="", qdrant_url="")
    with session_scope(write=True) as session:
        active = [add_product(session, title).id for title in ("Kettle", "Toaster", "Blender")]
        add_product(session, "Old kettle", status="archived")

    body = health_body()
    assert body["catalog"] == {"ok": True, "active_products": 3}
    assert body["search"]["documents"] == 0 and body["vectors"] == {"ok": True, "engine": "numpy", "vectors": 0}
    assert body["lag"] == {"search": 3, "vectors": 3}
    assert body["status"] == "ok"  # a lag is reported, not a fault: jobs close it

    reindex_all()
    store_vectors(active[:2])
    body = health_body()
    assert body["search"]["documents"] == 3 and body["vectors"]["vectors"] == 2
    assert body["lag"] == {"search": 0, "vectors": 1}


def test_a_vector_engine_that_is_down_degrades_health_and_leaves_its_lag_unknown(database, monkeypatch) -> None:
    use_settings(monkeypatch, meili_url="", qdrant_url="http://127.0.0.1:9")
    with session_scope(write=True) as session:
        add_product(session, "Kettle")
    reindex_all()

    body = health_body()
    assert body["vectors"] == {"ok": False, "error": "VectorStoreError"}
    assert body["status"] == "degraded"
    assert body["lag"] == {"search": 0, "vectors": None}
    assert body["catalog"]["active_products"] == 1

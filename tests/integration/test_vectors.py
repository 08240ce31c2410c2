"""One behavioural suite for every vector store: the embedded numpy index, QdrantStore against the
local fake Qdrant (tests/support/fake_qdrant.py), and QdrantStore against a real Qdrant server when
TEST_QDRANT_URL is set (TEST_QDRANT_API_KEY optional)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from revoque.adapters.vectors import (
    NumpyStore,
    QdrantStore,
    VectorFilter,
    VectorPoint,
    VectorStore,
    VectorStoreError,
    get_vector_store,
)
from revoque.errors import ConfigError
from tests.conftest import use_settings
from tests.support.fake_qdrant import FakeQdrant, fake_qdrant

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DIM = 4


def payload(
    categories: list[str], brand: str, price: int, in_stock: bool, sizes: tuple = (), colours: tuple = ()
) -> dict:
    return {
        "category_slugs": categories,
        "brand": brand,
        "price_min": price,
        "in_stock": in_stock,
        "sizes": list(sizes),
        "colours": list(colours),
    }


DRESS = ["fashion", "dresses"]
SHOE = ["fashion", "shoes"]
LAPTOP = ["electronics", "laptops"]

# Similarity to the query [1, 0, 0, 0] falls with the id: 1 is the nearest, 6 the farthest.
POINTS = [
    VectorPoint(1, [1.0, 0.0, 0.0, 0.0], payload(DRESS, "ankara-house", 5_000, True, ("S", "M"), ("Red",))),
    VectorPoint(2, [0.9, 0.3, 0.0, 0.0], payload(DRESS, "lagos-loom", 12_000, False, ("M", "L"), ("Blue",))),
    VectorPoint(3, [0.8, 0.0, 0.5, 0.0], payload(SHOE, "ankara-house", 20_000, True, ("42",), ("Red", "Black"))),
    VectorPoint(4, [0.6, 0.0, 0.0, 0.8], payload(SHOE, "stride", 30_000, True, ("43",))),
    VectorPoint(5, [0.3, 0.9, 0.3, 0.0], payload(LAPTOP, "techno", 450_000, True)),
    VectorPoint(6, [0.0, 0.0, 1.0, 0.0], payload(LAPTOP, "techno", 900_000, False)),
]
QUERY = [1.0, 0.0, 0.0, 0.0]


@dataclass
class Backend:
    make: Callable[[], VectorStore]
    collection: str
    fake: FakeQdrant | None = None


@pytest.fixture(params=["numpy", "fake-qdrant", "qdrant-server"])
def backend(request, tmp_path) -> Iterator[Backend]:
    collection = f"test_{uuid.uuid4().hex[:10]}"
    if request.param == "numpy":
        yield Backend(lambda: NumpyStore(tmp_path / "vectors"), collection)
    elif request.param == "fake-qdrant":
        with fake_qdrant() as fake:
            yield Backend(lambda: QdrantStore(fake.url), collection, fake)
    else:
        url = os.environ.get("TEST_QDRANT_URL", "").strip()
        if not url:
            pytest.skip("TEST_QDRANT_URL is not set: no real Qdrant server to check QdrantStore against")
        api_key = os.environ.get("TEST_QDRANT_API_KEY", "")
        yield Backend(lambda: QdrantStore(url, api_key), collection)
        from qdrant_client import QdrantClient

        client = QdrantClient(url=url, api_key=api_key or None, prefer_grpc=False)
        for made in client.get_collections().collections:  # the test's collection and any it derived
            if made.name.startswith(collection):
                client.delete_collection(made.name)


@pytest.fixture
def store(backend: Backend) -> VectorStore:
    """A store whose collection holds POINTS."""
    store = backend.make()
    store.ensure_collection(backend.collection, DIM)
    store.upsert(backend.collection, POINTS)
    return store


def ids(hits: list[tuple[int, float]]) -> list[int]:
    return [point_id for point_id, _ in hits]


def test_nearest_neighbours_come_best_first_with_cosine_scores(backend: Backend, store: VectorStore) -> None:
    hits = store.search(backend.collection, QUERY, limit=4)

    assert ids(hits) == [1, 2, 3, 4]
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == pytest.approx(1.0, abs=1e-5)
    assert scores[3] == pytest.approx(0.6, abs=1e-5)  # cosine: the stored vector's length does not count
    assert ids(store.search(backend.collection, [0, 0, 5, 0], limit=1)) == [6]


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (VectorFilter(category_slugs=["dresses"]), [1, 2]),
        (VectorFilter(category_slugs=["fashion"]), [1, 2, 3, 4]),  # an ancestor category matches its products
        (VectorFilter(category_slugs=["dresses", "laptops"]), [1, 2, 5, 6]),
        (VectorFilter(brands=["ankara-house"]), [1, 3]),
        (VectorFilter(brands=["techno", "stride"]), [4, 5, 6]),
        (VectorFilter(price_min=12_000, price_max=30_000), [2, 3, 4]),  # both bounds inclusive
        (VectorFilter(price_max=5_000), [1]),
        (VectorFilter(price_min=450_001), [6]),
        (VectorFilter(in_stock=True), [1, 3, 4, 5]),
        (VectorFilter(in_stock=False), [2, 6]),
        (VectorFilter(exclude_ids=[1, 3, 99]), [2, 4, 5, 6]),
        (VectorFilter(sizes=["M"]), [1, 2]),
        (VectorFilter(sizes=["L", "42"], colours=["Red", "Blue"]), [2, 3]),
        (VectorFilter(colours=["Black"], in_stock=True), [3]),
        (VectorFilter(category_slugs=["fashion"], in_stock=True, price_max=25_000, exclude_ids=[1]), [3]),
        (VectorFilter(category_slugs=["toys"]), []),
        (VectorFilter(), [1, 2, 3, 4, 5, 6]),
    ],
)
def test_filters(backend: Backend, store: VectorStore, conditions: VectorFilter, expected: list[int]) -> None:
    assert ids(store.search(backend.collection, QUERY, limit=10, filter=conditions)) == expected


def test_limit_applies_after_filtering(backend: Backend, store: VectorStore) -> None:
    hits = store.search(backend.collection, QUERY, limit=2, filter=VectorFilter(in_stock=True))
    assert ids(hits) == [1, 3]
    assert store.search(backend.collection, QUERY, limit=0) == []


def test_upsert_replaces_vector_and_payload(backend: Backend, store: VectorStore) -> None:
    store.upsert(backend.collection, [VectorPoint(1, [0.0, 0.0, 0.0, 1.0], payload(LAPTOP, "techno", 1, True))])

    assert store.count(backend.collection) == 6
    assert ids(store.search(backend.collection, QUERY, limit=2)) == [2, 3]
    assert ids(store.search(backend.collection, [0, 0, 0, 1], limit=1)) == [1]
    assert ids(store.search(backend.collection, QUERY, limit=10, filter=VectorFilter(category_slugs=["dresses"]))) == [
        2
    ]
    assert 1 in ids(store.search(backend.collection, QUERY, limit=10, filter=VectorFilter(brands=["techno"])))


def test_delete_removes_points_and_ignores_unknown_ids(backend: Backend, store: VectorStore) -> None:
    store.delete(backend.collection, [1, 4, 12345])

    assert store.count(backend.collection) == 4
    assert store.ids(backend.collection) == {2, 3, 5, 6}
    assert ids(store.search(backend.collection, QUERY, limit=10)) == [2, 3, 5, 6]
    assert store.vector(backend.collection, 1) is None
    store.delete(backend.collection, [1])  # again: a retry changes nothing
    assert store.count(backend.collection) == 4


def test_count_ids_and_stored_vectors(backend: Backend, store: VectorStore) -> None:
    assert store.count(backend.collection) == 6
    assert store.ids(backend.collection) == {1, 2, 3, 4, 5, 6}
    stored = store.vector(backend.collection, 4)
    np.testing.assert_allclose(stored, [0.6, 0.0, 0.0, 0.8], atol=1e-6)  # kept as a unit vector


def test_a_collection_nobody_wrote_to_is_empty(backend: Backend) -> None:
    store = backend.make()
    name = f"{backend.collection}_missing"
    assert store.count(name) == 0
    assert store.ids(name) == set()
    assert store.search(name, QUERY, limit=5) == []
    assert store.vector(name, 1) is None
    store.delete(name, [1])  # nothing to delete is fine


def test_ensure_collection_is_idempotent_and_refuses_another_dimension(backend: Backend, store: VectorStore) -> None:
    store.ensure_collection(backend.collection, DIM)
    assert store.count(backend.collection) == 6
    with pytest.raises(VectorStoreError, match="4-dimensional"):
        store.ensure_collection(backend.collection, 8)


def test_several_collections_are_independent(backend: Backend, store: VectorStore) -> None:
    passages = f"{backend.collection}_passages"
    store.ensure_collection(passages, 3)
    store.upsert(passages, [VectorPoint(1, [0.0, 1.0, 0.0])])
    assert store.count(passages) == 1
    assert store.count(backend.collection) == 6
    assert ids(store.search(passages, [0, 1, 0], limit=5)) == [1]


def test_a_second_instance_sees_writes_made_by_another(backend: Backend, store: VectorStore) -> None:
    """The web process reads while a job worker writes: each has its own store instance."""
    reader, writer = backend.make(), backend.make()
    assert ids(reader.search(backend.collection, QUERY, limit=1)) == [1]

    writer.upsert(backend.collection, [VectorPoint(7, [1.0, 0.01, 0.0, 0.0], payload(DRESS, "new", 1, True))])
    writer.delete(backend.collection, [1])

    assert ids(reader.search(backend.collection, QUERY, limit=2)) == [7, 2]
    assert reader.count(backend.collection) == 6
    assert ids(reader.search(backend.collection, QUERY, limit=5, filter=VectorFilter(brands=["new"]))) == [7]


# --- QdrantStore specifics (against the fake) ----------------------------------------------------


def test_qdrant_gets_payload_indexes_and_native_filters(tmp_path) -> None:
    with fake_qdrant() as fake:
        store = QdrantStore(fake.url)
        store.ensure_collection("products", DIM)
        store.ensure_collection("products", DIM)  # indexes already there: not created twice
        store.search(
            "products",
            QUERY,
            limit=3,
            filter=VectorFilter(
                category_slugs=["dresses"],
                brands=["stride"],
                sizes=["M", "L"],
                colours=["Red"],
                in_stock=True,
                price_min=100,
                price_max=900,
                exclude_ids=[7],
            ),
        )

        assert fake.bodies("PUT", "/collections/products") == [{"vectors": {"size": DIM, "distance": "Cosine"}}]
        assert fake.bodies("PUT", "/index") == [
            {"field_name": "category_slugs", "field_schema": "keyword"},
            {"field_name": "brand", "field_schema": "keyword"},
            {"field_name": "price_min", "field_schema": "integer"},
            {"field_name": "in_stock", "field_schema": "bool"},
            {"field_name": "sizes", "field_schema": "keyword"},
            {"field_name": "colours", "field_schema": "keyword"},
        ]
        [query] = fake.bodies("POST", "/points/query")
        assert query["limit"] == 3
        assert query["filter"] == {
            "must": [
                {"key": "category_slugs", "match": {"any": ["dresses"]}},
                {"key": "brand", "match": {"any": ["stride"]}},
                {"key": "sizes", "match": {"any": ["M", "L"]}},
                {"key": "colours", "match": {"any": ["Red"]}},
                {"key": "in_stock", "match": {"value": True}},
                {"key": "price_min", "range": {"gte": 100, "lte": 900}},
            ],
            "must_not": [{"has_id": [7]}],
        }


def test_qdrant_sends_the_api_key(tmp_path) -> None:
    with fake_qdrant(api_key="s3cret") as fake, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # qdrant-client warns about an API key over plain http
        QdrantStore(fake.url, "s3cret").ensure_collection("products", DIM)
        with pytest.raises(VectorStoreError, match="HTTP 401"):
            QdrantStore(fake.url, "wrong").count("products")


def test_qdrant_down_is_a_vector_store_error() -> None:
    store = QdrantStore("http://127.0.0.1:9", timeout=2)  # the discard port: nothing listens there
    with pytest.raises(VectorStoreError, match="cannot be reached to search 'products'"):
        store.search("products", QUERY, limit=3)


# --- the embedded store's files -----------------------------------------------------------------


def test_numpy_store_compacts_and_stays_exact(tmp_path) -> None:
    store = NumpyStore(tmp_path / "vectors")
    store.COMPACT_MIN_ROWS = 10
    store.ensure_collection("products", DIM)
    rng = np.random.default_rng(3)
    vectors = {}
    for _round in range(6):  # rewriting the same 20 ids leaves stale rows behind until compaction
        batch = {i: rng.normal(size=DIM) for i in range(1, 21)}
        vectors |= batch
        store.upsert("products", [VectorPoint(i, v, payload(DRESS, "b", i, i % 2 == 0)) for i, v in batch.items()])
    store.delete("products", [5])
    del vectors[5]

    folder = tmp_path / "vectors" / "products"
    assert json.loads((folder / "state.json").read_text())["rows"] < 6 * 20  # stale rows were dropped
    assert len(list(folder.glob("vectors-*.f32"))) <= 2  # the current one, the previous for readers switching
    query = rng.normal(size=DIM)
    expected = sorted(
        (i for i in vectors if i % 2 == 0),
        key=lambda i: -float(np.dot(vectors[i], query) / np.linalg.norm(vectors[i])),
    )
    assert ids(store.search("products", query, limit=20, filter=VectorFilter(in_stock=True))) == expected


def test_numpy_store_writers_in_two_processes_lose_nothing(tmp_path) -> None:
    root = tmp_path / "vectors"
    NumpyStore(root).ensure_collection("products", DIM)
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from revoque.adapters.vectors import NumpyStore, VectorPoint
        store, first = NumpyStore(Path(sys.argv[1])), int(sys.argv[2])
        for i in range(first, first + 40):
            store.upsert("products", [VectorPoint(i, [1.0, i, 0.0, 0.0], {"brand": str(i)})])
        """
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", script, str(root), str(first)], cwd=PROJECT_ROOT) for first in (1, 1001)
    ]
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0]

    store = NumpyStore(root)
    assert store.ids("products") == set(range(1, 41)) | set(range(1001, 1041))
    assert ids(store.search("products", [1, 1030, 0, 0], limit=1, filter=VectorFilter(brands=["1030"]))) == [1030]


# --- choosing the store -------------------------------------------------------------------------


def test_the_embedded_store_is_the_default_and_qdrant_needs_its_url(tmp_path, monkeypatch) -> None:
    use_settings(monkeypatch, data_dir=str(tmp_path / "data"), qdrant_url="", qdrant_api_key="")
    store = get_vector_store()
    assert isinstance(store, NumpyStore) and store.root == tmp_path / "data" / "vectors"

    use_settings(monkeypatch, qdrant_url="http://127.0.0.1:6333")
    assert isinstance(get_vector_store(), QdrantStore)

    use_settings(monkeypatch, qdrant_url="", qdrant_api_key="key")
    with pytest.raises(ConfigError, match="QDRANT_URL"):
        get_vector_store()

"""Product embeddings: keeping the vector index in step with the catalog, semantic search and
"more like this" recommendations.

Each active product is one point in the VECTOR_COLLECTION collection: the embedding of its text
(``embedding_text``: title, brand, category path, tags, option values, description) with a payload
of category slugs, brand slug, lowest price, stock, sizes and colours for filtering. The text comes from the same
documents keyword search indexes (``services.search_documents``), so both indexes describe a
product alike.

Sync: whatever changes a product's text or status calls ``schedule_product_embedding`` in the same
transaction; the ``embed_product`` job runs after commit, re-reads the product and replaces its point
(or deletes it when the product is no longer active), so it is idempotent and safe to retry.
``reembed_all`` rebuilds every point into the live collection while it keeps answering.

The payload's stock flag is as fresh as the last embedding, so results are checked against the
database (active, and in stock when asked) before they are returned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import exists, or_
from sqlmodel import Session, col, select

from revoque import jobs
from revoque.adapters.embedder import Embedder, EmbedderError, get_embedder
from revoque.adapters.queue import enqueue_after_commit
from revoque.adapters.vectors import (
    BRAND_FIELD,
    CATEGORY_FIELD,
    COLOUR_FIELD,
    PRICE_FIELD,
    SIZE_FIELD,
    STOCK_FIELD,
    VectorFilter,
    VectorPoint,
    VectorStoreError,
    get_vector_store,
)
from revoque.db import session_scope
from revoque.models import Product, ProductStatus, Variant
from revoque.services import catalog_cache
from revoque.services.catalog_cache import CATALOG, LISTINGS, SEARCH, VECTORS, cache_key
from revoque.services.search_documents import Document, active_product_ids, build_document, iter_documents
from revoque.settings import get_settings

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

DESCRIPTION_CHARS = 1000  # the model reads 256 word pieces (~1,000 characters); the rest is ignored anyway
REEMBED_BATCH = 256
SAME_CATEGORY_BOOST = 0.1  # cosine points: a boost, not a filter, so a close match from a sibling category still shows
RELATED_CANDIDATES = 4  # fetch this many times the wanted related products, to re-rank and check


def embedding_text(doc: Document) -> str:
    """The text a product is embedded from: what it is first (title, brand, where it sits in the
    catalog), then how it is described, so the part the model reads holds the most telling words."""
    parts = [
        doc["title"],
        f"Brand: {doc['brand']}" if doc.get("brand") else "",
        f"Category: {' > '.join(doc['category_path'])}" if doc.get("category_path") else "",
        f"Tags: {', '.join(doc['tags'])}" if doc.get("tags") else "",
        f"Options: {', '.join(doc['option_values'])}" if doc.get("option_values") else "",
        (doc.get("description") or "").strip()[:DESCRIPTION_CHARS],
    ]
    return ". ".join(part for part in parts if part)


def vector_payload(doc: Document) -> dict[str, Any]:
    """The payload filters use (see ``revoque.adapters.vectors.PAYLOAD_FIELDS``)."""
    return {
        CATEGORY_FIELD: list(doc.get("category_slugs") or []),
        BRAND_FIELD: doc.get("brand_slug") or "",
        PRICE_FIELD: int(doc["price_min"]),
        STOCK_FIELD: bool(doc["in_stock"]),
        SIZE_FIELD: list(doc.get("sizes") or []),
        COLOUR_FIELD: list(doc.get("colours") or []),
    }


def products_collection() -> str:
    return get_settings().vector_collection


# --- keeping the index in step ------------------------------------------------------------------


def schedule_product_embedding(session: Session, product_id: int) -> None:
    """Re-embed the product once ``session`` commits (nothing if it rolls back). The job id makes a
    burst of edits to one product queue one job while it waits."""
    enqueue_after_commit(session, jobs.embed_product, product_id, job_id=f"embed-product-{product_id}")


def embed_products(session: Session, product_ids: Sequence[int]) -> int:
    """Replace the points of these products from the database: active ones are embedded again,
    the rest (drafts, archived, deleted) are removed. Returns how many were embedded."""
    wanted = list(dict.fromkeys(product_ids))
    docs = [doc for doc in (build_document(session, product_id) for product_id in wanted) if doc is not None]
    _store_embeddings(docs)
    embedded = {doc["id"] for doc in docs}
    get_vector_store().delete(products_collection(), [i for i in wanted if i not in embedded])
    return len(docs)


def _no_progress(_done: int, _total: int) -> None:
    """The default progress report: none."""


def reembed_all(progress: Progress = _no_progress, batch_size: int = REEMBED_BATCH) -> int:
    """Embed every active product into the live collection, batch by batch (semantic search keeps
    answering throughout), then drop points of products no longer active. Returns products embedded.
    Embedding runs at ~100 products/s here, so the read transaction ends before each batch embeds."""
    written = 0
    with session_scope() as session:
        total = len(active_product_ids(session))
        progress(0, total)
        for docs in iter_documents(session, batch_size):
            session.commit()  # no read transaction held open while the batch embeds
            _store_embeddings(docs)
            written += len(docs)
            progress(written, max(total, written))
        active = active_product_ids(session)  # read after writing: products activated meanwhile stay
    store, name = get_vector_store(), products_collection()
    store.delete(name, sorted(store.ids(name) - active))
    return written


def embeddings_match_catalog() -> bool:
    """Whether the collection holds exactly the active products, so setup can skip re-embedding a
    catalog that is already there (and never load the model to find that out). Ids, not counts:
    a database re-created with as many products must not keep another catalog's vectors."""
    with session_scope() as session:
        active = active_product_ids(session)
    return get_vector_store().ids(products_collection()) == active


def vector_count() -> int:
    """Points in the products collection (0 before anything was embedded): the health report."""
    return get_vector_store().count(products_collection())


def _store_embeddings(docs: list[Document]) -> None:
    if not docs:
        return
    embedder, store, name = get_embedder(), get_vector_store(), products_collection()
    vectors = embedder.embed([embedding_text(doc) for doc in docs])
    store.ensure_collection(name, embedder.dimension)
    points = [VectorPoint(doc["id"], vector, vector_payload(doc)) for doc, vector in zip(docs, vectors, strict=True)]
    store.upsert(name, points)


# --- reading --------------------------------------------------------------------------------------


def semantic_search(
    session: Session, text: str, filter: VectorFilter | None = None, limit: int = 20
) -> list[tuple[int, float]]:
    """(product id, cosine similarity) of the active products closest in meaning to ``text``, best
    first. Raises VectorStoreError or EmbedderError when the engine or model is unavailable, so a
    hybrid search can fall back to keywords and say so."""
    text = text.strip()
    if not text or limit <= 0:
        return []
    store, name = get_vector_store(), products_collection()
    if not store.count(name):  # nothing embedded yet: no need to load the model
        return []
    hits = store.search(name, _ready_embedder().embed_query(text), limit, filter)
    visible = _visible(session, [product_id for product_id, _ in hits], in_stock=bool(filter and filter.in_stock))
    return [(product_id, score) for product_id, score in hits if product_id in visible]


def load_model_before_serving() -> None:
    """Load the embedding model (and run one query through it) now. Web workers call it at start,
    before they take connections: loaded on a worker's first search instead, its imports hold the
    interpreter for seconds while every shopper's events on that worker wait (``bench/load.py`` saw
    state locks expire on fresh workers). A model that cannot load leaves search by meaning off."""
    try:
        get_embedder().embed_query("warm up")
    except EmbedderError:
        log.exception("The embedding model could not be loaded; search by meaning stays off")


def _ready_embedder() -> Embedder:
    """The embedder once its model is loaded. A web worker loads it before serving; any other
    process on its first search, in the background (6-10 s and ~1 GB): searches in the meantime get
    keyword results instead of waiting."""
    embedder = get_embedder()
    if not embedder.ready():
        embedder.load_soon()
        raise EmbedderError("The embedding model is still loading; keyword results only until it is ready")
    return embedder


def related_products(session: Session, product_id: int, limit: int = 8) -> list[int]:
    """Active, in-stock products most like this one (by its stored embedding), the same category
    favoured by ``SAME_CATEGORY_BOOST``. Empty when the product is not embedded yet or the vector
    engine is down: recommendations are optional, the product page must still show.

    Cached like search results (every product page asks): what changes the answer drops it, an
    edit, a status change or a variant selling out or coming back (``listings``), a new embedding
    (``vectors``); an answer given while the engine is down is not kept."""
    if limit <= 0:
        return []
    try:
        return catalog_cache.cached(
            session,
            cache_key("related", product_id, limit),
            (CATALOG, LISTINGS, VECTORS),
            list[int],
            lambda s: _related(s, product_id, limit),
            transaction_independent=True,
        )
    except (VectorStoreError, EmbedderError) as exc:
        log.warning("No related products for product %s: %s", product_id, exc)
        return []


def forget_vector_answers() -> None:
    """Drop what was cached from the old vectors once the embedding jobs have written new ones:
    related products, and the search results that fused them in."""
    catalog_cache.invalidate_now(SEARCH, VECTORS)


def _related(session: Session, product_id: int, limit: int) -> list[int]:
    product = session.get(Product, product_id)
    if product is None:
        return []
    store, name = get_vector_store(), products_collection()
    unwanted = VectorFilter(in_stock=True, exclude_ids=[product_id])
    vector = store.vector(name, product_id)
    hits = store.search(name, vector, limit * RELATED_CANDIDATES, unwanted) if vector is not None else []
    categories = _visible(session, [hit_id for hit_id, _ in hits], in_stock=True)

    def boosted(hit: tuple[int, float]) -> float:
        same = product.category_id is not None and categories[hit[0]] == product.category_id
        return hit[1] + (SAME_CATEGORY_BOOST if same else 0.0)

    ranked = sorted((hit for hit in hits if hit[0] in categories), key=boosted, reverse=True)
    return [hit_id for hit_id, _ in ranked[:limit]]


def _visible(session: Session, product_ids: list[int], in_stock: bool) -> dict[int, int | None]:
    """Category id of each of these products a shopper may see now: active, and with a variant on
    the shelf (or one that does not track stock) when ``in_stock``."""
    if not product_ids:
        return {}
    statement = select(Product.id, Product.category_id).where(
        col(Product.id).in_(product_ids), Product.status == ProductStatus.ACTIVE
    )
    if in_stock:
        on_shelf = or_(col(Variant.stock_on_hand) > 0, col(Variant.track_inventory).is_(False))
        statement = statement.where(exists().where(col(Variant.product_id) == col(Product.id), on_shelf))
    return dict(session.exec(statement).all())

"""Product search for the storefront: result pages with facets, search-as-you-type, and keeping the
keyword index in step with the catalog.

The engine (``revoque.adapters.search``) returns ids, highlights and facet counts; this module turns
them into the catalog's product cards and labelled facets. When the engine cannot answer, the
results page falls back to the catalog's title search (``degraded=True``: no typo tolerance, facets
or filters other than category) and suggestions go quiet, so search trouble never stops a sale.

Results pages and suggestions are cached for repeated queries (keyed by the query with its text
lowercased and its spaces collapsed), tagged ``listings`` (dropped by every product change at its
commit) and ``search`` (dropped again when an index job has changed the engine: a search between
the commit and the job would have cached the old index's answer). A job whose document changed only
in units sold (an order) drops just the pages ordered by them (``popularity``): at a few orders a
second, dropping every cached search left search nearly uncached. Degraded answers are not cached.

Index sync: whatever changes a product's document (an edit, a status change) calls
``schedule_product_index`` in the same transaction (stock sold or put back: ``schedule_stock_index``);
the ``index_product`` job runs after commit and rebuilds that one document from the database, so it
is idempotent and safe to retry. ``reindex_all`` rebuilds everything into the live index (replace by
id, then delete what is no longer active), so searches keep answering while it runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlmodel import Session, col, select

from revoque import jobs
from revoque.adapters.cache import get_cache
from revoque.adapters.embedder import EmbedderError
from revoque.adapters.queue import enqueue_after_commit
from revoque.adapters.search import (
    PRICE_BUCKETS,
    Facet,
    PriceBucket,
    SearchEngine,
    SearchFilters,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
    SortKey,
    edit_distance,
    effective_sort,
    get_search_engine,
    normalize_words,
    typo_budget,
)
from revoque.adapters.vectors import VectorFilter, VectorStoreError, get_vector_store
from revoque.db import session_scope
from revoque.errors import NotFound
from revoque.models import Brand, Category, Product, ProductStatus
from revoque.services import catalog_cache, store_identity
from revoque.services.catalog import (
    ProductPage,
    SortOrder,
    cards_for_products,
    clamp_page,
    list_products,
)
from revoque.services.catalog_cache import CATALOG, LISTINGS, POPULARITY, SEARCH, cache_key
from revoque.services.money import format_money
from revoque.services.query_parsing import describe_limits, parse_price_limits
from revoque.services.search_documents import Document, active_product_ids, build_document, iter_documents
from revoque.services.vector_index import products_collection, semantic_search

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

SUGGEST_MIN_CHARS = 2
HYBRID_CANDIDATES = 100  # keyword matches fused with the semantic list; deeper pages follow keyword order
# Measured with bench/relevance.py on the demo catalog (all-MiniLM-L6-v2): products judged good
# matches have a median cosine of ~0.37 and 40% fall below 0.34, while unrelated ones stay under
# ~0.23 (90th percentile). A 0.2 floor with 20 candidates took hybrid NDCG@10 from 0.765 to 0.862.
SEMANTIC_CANDIDATES = 20  # nearest products considered per query
SEMANTIC_MIN_SCORE = 0.2  # cosine similarity below which a product is not a match by meaning
RRF_K = 60
VOCABULARY_CACHE_KEY = "search:vocabulary"
VOCABULARY_TTL_SECONDS = 600
RESULT_TAGS = (CATALOG, LISTINGS, SEARCH)  # cached results pages and suggestions

SEARCH_SORT_LABELS: dict[str, str] = {
    SortKey.RELEVANCE: "Best match",
    SortKey.POPULAR: "Most popular",
    SortKey.NEWEST: "Newest",
    SortKey.PRICE_ASC: "Price: low to high",
    SortKey.PRICE_DESC: "Price: high to low",
}
FACET_TITLES: dict[Facet, str] = {
    Facet.CATEGORY: "Category",
    Facet.BRAND: "Brand",
    Facet.SIZE: "Size",
    Facet.COLOUR: "Colour",
    Facet.PRICE: "Price",
}
# The catalog's database listing has no relevance or popularity; "featured first" stands in.
_DATABASE_SORTS: dict[SortKey, SortOrder] = {
    SortKey.RELEVANCE: SortOrder.FEATURED,
    SortKey.POPULAR: SortOrder.FEATURED,
    SortKey.NEWEST: SortOrder.NEWEST,
    SortKey.PRICE_ASC: SortOrder.PRICE_ASC,
    SortKey.PRICE_DESC: SortOrder.PRICE_DESC,
}
# Words shoppers use interchangeably; each word finds the others. Single words only: the embedded
# engine expands one query word at a time.
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("sneakers", "trainers", "kicks"),
    ("phone", "smartphone", "mobile"),
    ("headphones", "earphones", "headset"),
    ("perfume", "fragrance", "scent"),
    ("sofa", "couch"),
    ("jeans", "denim"),
    ("bag", "handbag", "purse"),
)


def synonym_map(groups: Iterable[tuple[str, ...]]) -> dict[str, list[str]]:
    """Meilisearch's synonym setting for groups of mutual synonyms: each word → the others."""
    return {word: [other for other in group if other != word] for group in groups for word in group}


SYNONYMS = synonym_map(SYNONYM_GROUPS)


@dataclass
class Highlight:
    product_id: int
    title_html: str  # escaped HTML, matched words in <mark>
    snippet_html: str  # a cropped piece of the description, same format


@dataclass
class FacetOption:
    value: str  # what goes back into SearchFilters (a slug, a size, a price band key)
    label: str
    count: int
    selected: bool


@dataclass
class FacetGroup:
    facet: str  # the Facet value
    title: str
    options: list[FacetOption]


@dataclass
class SearchPage(ProductPage):
    """A results page; ``items``/``total``/``page``… as in any listing, so listing states show it."""

    query: str = ""
    highlights: list[Highlight] = field(default_factory=list)  # one per item, same order
    facets: list[FacetGroup] = field(default_factory=list)
    suggestion: str = ""  # "did you mean" text when nothing matched and a spelling does
    price_note: str = ""  # a price limit read from the query text ("Under ₦30,000"), applied as a filter
    degraded: bool = False  # the engine was unavailable: a plain database title search


@dataclass
class Suggestion:
    title: str
    href: str
    image_url: str
    price_text: str
    title_html: str


def search_engine() -> SearchEngine:
    """The configured engine with its index settings applied (once per process; retried after a
    failure because SearchUnavailable escapes before anything is remembered)."""
    engine = get_search_engine()
    engine.ensure_index(SYNONYMS)
    return engine


def warm_up() -> None:
    """Apply the index settings at start, so the first shopper's search does not pay for it (the
    embedding model is loaded by ``vector_index.load_model_before_serving``)."""
    search_engine()


# --- results page -------------------------------------------------------------------------------


def search_products(session: Session, query: SearchQuery) -> SearchPage:
    """One page of hybrid results with facets; a page past the end lands on the last one. A price
    limit written in the words ("under 30000") becomes a price filter, and the rest is searched.

    Cached by the understood query (see the module docstring); the page says the query as this
    shopper typed it. While the engine is unavailable: the database's title search, never cached."""
    query, price_note = understand(session, query)
    searched = replace(query, text=normalized_text(query.text))
    try:
        page = catalog_cache.cached(
            session,
            _results_key(searched),
            (*RESULT_TAGS, POPULARITY) if effective_sort(searched) is SortKey.POPULAR else RESULT_TAGS,
            SearchPage,
            lambda s: _results_page(s, searched),
            transaction_independent=True,
        )
    except SearchUnavailable:
        return replace(_database_search(session, query), price_note=price_note)
    return replace(page, query=query.text, price_note=price_note)


def normalized_text(text: str) -> str:
    """Query text as the engines read it: lowercased, spaces collapsed, but a trailing space kept
    (it makes the last word whole rather than a prefix)."""
    words = " ".join(text.lower().split())
    return words + " " if words and text[-1].isspace() else words


def _results_key(query: SearchQuery) -> str:
    return cache_key("search", json.dumps(dataclasses.asdict(query), sort_keys=True, separators=(",", ":")))


def _results_page(session: Session, query: SearchQuery) -> SearchPage:
    """The uncached results page for an understood query; SearchUnavailable when the engine fails."""
    engine = search_engine()
    matches = _matches(session, engine, query)
    page, pages = clamp_page(query.page, matches.total, query.page_size)
    ranked = matches.page_ids(engine, replace(query, page=page))
    suggestion = "" if matches.total else _did_you_mean(session, engine, query)
    cards = cards_for_products(session, ranked)
    titles = _marked_titles(engine, query, ranked)
    return SearchPage(
        items=cards,
        total=matches.total,
        page=page,
        pages=pages,
        page_size=query.page_size,
        sort=query.sort.value,
        query=query.text,
        highlights=[Highlight(card.id, titles.get(card.id) or html.escape(card.title), "") for card in cards],
        facets=_facet_groups(session, query, matches.facets),
        suggestion=suggestion,
    )


def understand(session: Session, query: SearchQuery) -> tuple[SearchQuery, str]:
    """The query with a price limit in its words moved into the filters (narrowing any price band
    already chosen), and how that limit reads ("Under ₦30,000"); unchanged when there is none.
    Amounts are read in the store's currency."""
    currency = store_identity.currency(session)
    limits = parse_price_limits(query.text, currency)
    if not limits.found:
        return query, ""
    chosen = query.filters
    low = max((b for b in (chosen.price_min, limits.minimum) if b is not None), default=None)
    high = min((b for b in (chosen.price_max, limits.maximum) if b is not None), default=None)
    filters = replace(chosen, price_min=low, price_max=high)
    return replace(query, text=limits.text, filters=filters), describe_limits(limits.minimum, limits.maximum, currency)


def keyword_ranking(session: Session, query: SearchQuery, limit: int = HYBRID_CANDIDATES) -> list[int]:
    """Product ids the keyword engine ranks best for ``query`` (price words understood)."""
    query, _note = understand(session, query)
    return [hit.id for hit in search_engine().search(_top(query, limit)).hits]


def vector_ranking(session: Session, query: SearchQuery, limit: int = HYBRID_CANDIDATES) -> list[int]:
    """Product ids closest in meaning to ``query`` under the same filters, with no similarity floor."""
    query, _note = understand(session, query)
    return [product_id for product_id, _score in _semantic_hits(session, query, limit)]


def hybrid_ranking(session: Session, query: SearchQuery, limit: int = HYBRID_CANDIDATES) -> list[int]:
    """The results page's order for ``query``: keyword and meaning lists fused, best first."""
    query, _note = understand(session, query)
    engine = search_engine()
    keyword = [hit.id for hit in engine.search(_top(query, HYBRID_CANDIDATES)).hits]
    return reciprocal_rank_fusion([keyword, _close_meanings(session, query)])[:limit]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[int]:
    """Ids ordered by the sum of 1/(k + rank) over the lists holding them (Cormack et al., 2009):
    agreement between lists wins, and no list's raw scores need to be comparable to another's."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda item: -scores[item])


@dataclass
class _Matches:
    """What a hybrid search matched: every keyword match plus ``extras``, products close in meaning
    that no keyword matched. Counts and facets cover both; pages are cut from the fused order (or
    from the chosen sort over both)."""

    query: SearchQuery
    keyword: SearchResult  # the best HYBRID_CANDIDATES keyword matches, with facets over all of them
    semantic: list[int]  # products close in meaning, best first (some also keyword matches)
    extras: list[int]
    facets: dict[str, dict[str, int]]

    @property
    def total(self) -> int:
        return self.keyword.total + len(self.extras)

    def page_ids(self, engine: SearchEngine, query: SearchQuery) -> list[int]:
        start, end = (query.page - 1) * query.page_size, query.page * query.page_size
        if query.sort is SortKey.RELEVANCE:
            return self._fused(engine, end)[start:end]
        return self._sorted(engine, end)[start:end]

    def _fused(self, engine: SearchEngine, end: int) -> list[int]:
        fused = reciprocal_rank_fusion([[hit.id for hit in self.keyword.hits], self.semantic])
        fetched = len(self.keyword.hits)
        if end > len(fused) and self.keyword.total > fetched:  # deep pages: keyword order continues
            deeper = engine.search(_top(replace(self.query, sort=SortKey.RELEVANCE), fetched + end)).hits
            seen = set(fused)
            fused += [hit.id for hit in deeper[fetched:] if hit.id not in seen]
        return fused

    def _sorted(self, engine: SearchEngine, end: int) -> list[int]:
        """The first ``end`` matches in the chosen sort: they are among the first ``end`` keyword
        matches in that sort and the extras, so one more search over those ids orders them."""
        leading = [hit.id for hit in engine.search(_top(self.query, end)).hits]
        if not self.extras:
            return leading
        both = SearchFilters(ids=tuple(leading + self.extras))
        return [hit.id for hit in engine.search(_top(SearchQuery(filters=both, sort=self.query.sort), end)).hits]


def _matches(session: Session, engine: SearchEngine, query: SearchQuery) -> _Matches:
    keyword = engine.search(replace(_top(query, HYBRID_CANDIDATES), sort=SortKey.RELEVANCE, facets=query.facets))
    semantic = _close_meanings(session, query)
    extras = _unmatched_by_keywords(engine, query, keyword, semantic)
    facets = keyword.facets
    if extras and query.facets:
        extra_query = SearchQuery(
            filters=replace(query.filters, ids=tuple(extras)), facets=query.facets, page_size=1, ids_only=True
        )
        facets = _summed(facets, engine.search(extra_query).facets)
    return _Matches(query, keyword, semantic, extras, facets)


def _top(query: SearchQuery, count: int) -> SearchQuery:
    """The ids of the first ``count`` results of ``query`` (no highlights or facet counting: hybrid
    search ranks 100 candidates to show 20, and marking words in all of them was most of its cost)."""
    return replace(query, page=1, page_size=max(1, count), facets=(), ids_only=True)


def _marked_titles(engine: SearchEngine, query: SearchQuery, product_ids: list[int]) -> dict[int, str]:
    """Titles with the matched words marked, for the keyword matches among these products."""
    if not query.text.strip() or not product_ids:
        return {}
    among = replace(query.filters, ids=tuple(product_ids))
    found = engine.search(SearchQuery(text=query.text, filters=among, page_size=len(product_ids)))
    return {hit.id: hit.title_html for hit in found.hits}


def _close_meanings(session: Session, query: SearchQuery) -> list[int]:
    """Products similar enough in meaning to count as matches, under the query's filters."""
    return [pid for pid, score in _semantic_hits(session, query, SEMANTIC_CANDIDATES) if score >= SEMANTIC_MIN_SCORE]


def _semantic_hits(session: Session, query: SearchQuery, limit: int) -> list[tuple[int, float]]:
    """Nearest products by meaning; none for an empty query or while the vector engine or model is
    unavailable (keyword results still answer)."""
    if not query.text.strip():
        return []
    try:
        return semantic_search(session, query.text, vector_filter(query.filters), limit)
    except (VectorStoreError, EmbedderError) as exc:
        log.warning("Search by meaning unavailable, keywords only: %s", exc)
        return []


def vector_filter(filters: SearchFilters) -> VectorFilter:
    """The keyword engine's filters, said to the vector store."""
    return VectorFilter(
        category_slugs=filters.categories,
        brands=filters.brands,
        sizes=filters.sizes,
        colours=filters.colours,
        in_stock=True if filters.in_stock else None,
        price_min=filters.price_min,
        price_max=filters.price_max,
    )


def _unmatched_by_keywords(
    engine: SearchEngine, query: SearchQuery, keyword: SearchResult, semantic: list[int]
) -> list[int]:
    """The semantic matches that are not keyword matches (asked of the engine only for those not
    among the keyword hits already fetched)."""
    fetched = {hit.id for hit in keyword.hits}
    unknown = [pid for pid in semantic if pid not in fetched]
    if not unknown or keyword.total <= len(fetched):
        return unknown
    among = replace(query.filters, ids=tuple(unknown))
    matched = {hit.id for hit in engine.search(replace(_top(query, len(unknown)), filters=among)).hits}
    return [pid for pid in unknown if pid not in matched]


def _summed(
    first: Mapping[str, Mapping[str, int]], second: Mapping[str, Mapping[str, int]]
) -> dict[str, dict[str, int]]:
    """Facet counts of two disjoint result sets added up."""
    total: dict[str, dict[str, int]] = {name: dict(counts) for name, counts in first.items()}
    for name, counts in second.items():
        merged = total.setdefault(name, {})
        for value, count in counts.items():
            merged[value] = merged.get(value, 0) + count
    return total


def _database_search(session: Session, query: SearchQuery) -> SearchPage:
    """The catalog's own title search, so shoppers still find things while the engine is down."""
    categories = query.filters.categories
    try:
        listing = list_products(
            session,
            category_slug=categories[0] if categories else None,
            query=query.text,
            sort=_DATABASE_SORTS[query.sort],
            page=query.page,
            page_size=query.page_size,
        )
    except NotFound:
        listing = ProductPage([], 0, 1, 1, query.page_size, query.sort.value)
    return SearchPage(**{**vars(listing), "sort": query.sort.value}, query=query.text, degraded=True)


# --- facets -------------------------------------------------------------------------------------


def price_range(bucket: PriceBucket) -> tuple[int | None, int | None]:
    """The inclusive (price_min, price_max) filter that selects exactly this price band."""
    return bucket.low, bucket.high - 1 if bucket.high is not None else None


def price_label(bucket: PriceBucket, currency: str) -> str:
    """A price band as the facet names it; the bands are amounts, in whatever the store's currency is."""
    if bucket.low is None:
        return f"Under {format_money(bucket.high, currency)}"
    if bucket.high is None:
        return f"Over {format_money(bucket.low, currency)}"
    return f"{format_money(bucket.low, currency)} – {format_money(bucket.high, currency)}"


def _facet_groups(session: Session, query: SearchQuery, counts: Mapping[str, Mapping[str, int]]) -> list[FacetGroup]:
    builders: dict[Facet, Callable[[Session, SearchQuery, dict[str, int]], list[FacetOption]]] = {
        Facet.CATEGORY: _category_options,
        Facet.BRAND: _brand_options,
        Facet.SIZE: _value_options(lambda q: q.filters.sizes),
        Facet.COLOUR: _value_options(lambda q: q.filters.colours),
        Facet.PRICE: _price_options,
    }
    return [
        FacetGroup(facet.value, FACET_TITLES[facet], builders[facet](session, query, counts.get(facet, {})))
        for facet in query.facets
    ]


def _by_count(options: list[FacetOption]) -> list[FacetOption]:
    return sorted(options, key=lambda o: (-o.count, o.label.lower()))


def _category_options(session: Session, query: SearchQuery, counts: Mapping[str, int]) -> list[FacetOption]:
    """The chosen categories and their subcategories, or the top level when none is chosen (counts
    cover whole subtrees, since documents carry every category on their path)."""
    selected = set(query.filters.categories)
    categories = list(session.exec(select(Category)))
    parent_ids = {c.id for c in categories if c.slug in selected} or {None}
    shown = [c for c in categories if c.slug in selected or (c.parent_id in parent_ids and counts.get(c.slug))]
    return _by_count([FacetOption(c.slug, c.name, counts.get(c.slug, 0), c.slug in selected) for c in shown])


def _brand_options(session: Session, query: SearchQuery, counts: Mapping[str, int]) -> list[FacetOption]:
    rows = session.exec(select(Brand.slug, Brand.name).where(col(Brand.slug).in_(list(counts))))
    names = {slug: name for slug, name in rows}
    selected = set(query.filters.brands)
    return _by_count([FacetOption(slug, names.get(slug, slug), n, slug in selected) for slug, n in counts.items()])


def _value_options(
    chosen: Callable[[SearchQuery], tuple[str, ...]],
) -> Callable[[Session, SearchQuery, Mapping[str, int]], list[FacetOption]]:
    """Sizes and colours are shown as they are named on the products."""

    def options(_session: Session, query: SearchQuery, counts: Mapping[str, int]) -> list[FacetOption]:
        selected = set(chosen(query))
        return _by_count([FacetOption(value, value, n, value in selected) for value, n in counts.items()])

    return options


def _price_options(session: Session, query: SearchQuery, counts: Mapping[str, int]) -> list[FacetOption]:
    chosen = (query.filters.price_min, query.filters.price_max)
    currency = store_identity.currency(session)
    return [
        FacetOption(b.key, price_label(b, currency), counts.get(b.key, 0), price_range(b) == chosen)
        for b in PRICE_BUCKETS
        if counts.get(b.key) or price_range(b) == chosen
    ]


# --- did you mean -------------------------------------------------------------------------------


def _did_you_mean(session: Session, engine: SearchEngine, query: SearchQuery) -> str:
    """Each unknown word replaced by the closest catalog word, offered only if that search finds
    something under the same filters."""
    words = normalize_words(query.text)
    if not words:
        return ""
    vocabulary = get_cache().get_or_set(VOCABULARY_CACHE_KEY, VOCABULARY_TTL_SECONDS, lambda: _vocabulary(session))
    corrected = [_closest_word(word, vocabulary) for word in words]
    if corrected == words:
        return ""
    suggestion = " ".join(corrected)
    found = engine.search(replace(query, text=suggestion, page=1, page_size=1, facets=()))
    return suggestion if found.total else ""


def _vocabulary(session: Session) -> dict[str, int]:
    """Words of active product titles, brand and category names, with how many use each."""
    texts = [
        *session.exec(select(Product.title).where(Product.status == ProductStatus.ACTIVE)),
        *session.exec(select(Brand.name)),
        *session.exec(select(Category.name)),
    ]
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(set(normalize_words(text)))
    return dict(counts)


def _closest_word(word: str, vocabulary: Mapping[str, int]) -> str:
    """The most common catalog word within one typo more than search tolerates, else ``word``."""
    if word in vocabulary:
        return word
    limit = typo_budget(word) + 1
    candidates = (
        (edit_distance(word, known), -uses, known)
        for known, uses in vocabulary.items()
        if abs(len(known) - len(word)) <= limit
    )
    best = min(candidates, default=None)
    return best[2] if best is not None and best[0] <= limit else word


# --- search as you type -------------------------------------------------------------------------


def suggest(session: Session, text: str, limit: int = 6) -> list[Suggestion]:
    """Top matches for the header box while the shopper types (the last word as a prefix, typos
    forgiven), cached by the normalized text. Quietly empty (and not cached) when the engine is
    unavailable: the results page still works."""
    if len(text.strip()) < SUGGEST_MIN_CHARS:
        return []
    typed = normalized_text(text)
    try:
        return catalog_cache.cached(
            session,
            cache_key("suggest", limit, typed),
            RESULT_TAGS,
            list[Suggestion],
            lambda s: _load_suggestions(s, typed, limit),
            transaction_independent=True,
        )
    except SearchUnavailable:
        return []


def _load_suggestions(session: Session, text: str, limit: int) -> list[Suggestion]:
    result = search_engine().search(SearchQuery(text=text, page_size=limit))
    titles = {hit.id: hit.title_html for hit in result.hits}
    return [
        Suggestion(card.title, card.href, card.image_url, card.price_text, titles[card.id])
        for card in cards_for_products(session, list(titles))
    ]


# --- keeping the index in step ------------------------------------------------------------------


def schedule_product_index(session: Session, *product_ids: int) -> None:
    """Re-index these products once ``session`` commits (nothing if it rolls back). The job id makes
    a burst of changes to one product queue one job while it waits. Every product change passes
    here, so this is also where the storefront's cached product pages and listings are dropped
    (synchronously after the commit, not by the job: a stale price must not outlive the write)."""
    catalog_cache.invalidate_products(session, *product_ids)
    _index_after_commit(session, product_ids)


def schedule_stock_index(session: Session, *product_ids: int, availability_changed: bool) -> None:
    """``schedule_product_index`` for a change to stock or units sold alone (an order, a restock).
    The products' pages, cards and documents change; listings show stock only as their cards'
    in-stock flag, so they are dropped only when a variant sold out or came back
    (``availability_changed``, from ``inventory.move_stock``): at a few orders a second, dropping
    them on every order left the category pages nearly uncached under load."""
    if availability_changed:
        catalog_cache.invalidate_products(session, *product_ids)
    else:
        catalog_cache.invalidate_product_pages(session, *product_ids)
    _index_after_commit(session, product_ids)


def _index_after_commit(session: Session, product_ids: Iterable[int]) -> None:
    for product_id in sorted(set(product_ids)):
        enqueue_after_commit(session, jobs.index_product, product_id, job_id=f"index-product-{product_id}")


def index_product(product_id: int) -> bool:
    """Bring one product's document in line with the database: replaced when active, deleted
    otherwise. Returns whether it is now in the index."""
    with session_scope() as session:
        document = build_document(session, product_id)
    engine = search_engine()
    if document is None:
        engine.delete_documents([product_id])
    else:
        engine.replace_documents([document])
    if _only_popularity_changed(product_id, document):
        catalog_cache.invalidate_now(POPULARITY)
    else:
        forget_search_results()
    return document is not None


def _only_popularity_changed(product_id: int, document: Document | None) -> bool:
    """Whether the engine's document for the product changed in units sold alone since the last
    index job, by a fingerprint of the rest kept in the cache (gone, or Redis down: it changed)."""
    key = cache_key("search-document", product_id)
    fingerprint = None if document is None else _fingerprint_without_popularity(document)
    unchanged = fingerprint is not None and get_cache().get(key) == fingerprint
    get_cache().set(key, fingerprint)
    return unchanged


def _fingerprint_without_popularity(document: Document) -> str:
    rest = {name: value for name, value in document.items() if name != "popularity"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, default=str).encode()).hexdigest()


def forget_search_results() -> None:
    """Drop the cached results pages and suggestions once the keyword engine holds new documents:
    they may have been cached from the old ones after the change's commit dropped them."""
    catalog_cache.invalidate_now(SEARCH)


def _no_progress(_done: int, _total: int) -> None:
    """The default progress report: none."""


def reindex_all(progress: Progress = _no_progress, batch_size: int = 500) -> int:
    """Rebuild every document into the live index and drop the ones no longer active; searches keep
    answering throughout (documents are replaced by id, batch by batch). Returns documents written."""
    engine = search_engine()
    written = 0
    with session_scope() as session:
        total = len(active_product_ids(session))
        progress(0, total)
        for batch in iter_documents(session, batch_size):
            engine.replace_documents(batch)
            written += len(batch)
            progress(written, max(total, written))
    with session_scope() as session:
        active = active_product_ids(session)  # read after writing: products activated meanwhile stay
    engine.delete_documents(engine.document_ids() - active)
    forget_search_results()
    return written


@dataclass(frozen=True)
class IndexStatus:
    """How far each index is behind the catalog, for the admin dashboard (``/api/health`` reports
    the same counts as JSON). A count is None when its engine could not be asked."""

    active_products: int
    documents: int | None
    vectors: int | None

    @property
    def summary(self) -> str:
        return f"Search index: {_count_text(self.documents, self.active_products)} · " + (
            f"Meaning index: {_count_text(self.vectors, self.active_products)}"
        )


def _count_text(held: int | None, active: int) -> str:
    if held is None:
        return "unavailable"
    lag = active - held
    return f"{held:,} of {active:,} products" + (f" ({lag:+,} behind, being updated)" if lag else ", up to date")


def index_status() -> IndexStatus:
    with session_scope() as session:
        active = len(active_product_ids(session))
    try:
        documents: int | None = search_engine().count()
    except SearchUnavailable:
        documents = None
    try:
        vectors: int | None = get_vector_store().count(products_collection())
    except VectorStoreError:
        vectors = None
    return IndexStatus(active, documents, vectors)


def index_matches_catalog() -> bool:
    """Whether the index holds as many documents as there are active products (a cheap check
    that setup uses to skip rebuilding an index that is already there)."""
    with session_scope() as session:
        active = len(active_product_ids(session))
    return search_engine().count() == active

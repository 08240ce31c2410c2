"""Spreadsheet transfers: product imports and product/order exports, with their progress and results.

A ``DataImport`` is created when staff upload a file; the file itself waits in private storage
(``exports`` bucket, ``imports/…`` keys) so that any worker machine can read it. The import job
writes its progress (``rows_done`` of ``rows_total``, ``stage``) into the row in the same transaction
as each batch of products, so what a page polls is exactly what is committed.

A ``DataExport`` is the exports history: what was asked for, when, by whom, and the private file it
produced. Download links are signed on demand and expire (``SIGNED_URL_SECONDS``), so none is stored.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, DateTime
from sqlmodel import Field, SQLModel

from revoque.models.base import created_at_field, updated_at_field


class TransferStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ExportKind(StrEnum):
    PRODUCTS = "products"
    ORDERS = "orders"


class DataImport(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="products", max_length=20)
    filename: str = Field(max_length=255)
    file_key: str = Field(max_length=300)  # in the private exports bucket
    shape: str = Field(default="", max_length=20)  # template | shopify | mapped
    mapping: dict = Field(default_factory=dict, sa_type=JSON)  # header -> field, for mapped sheets
    only_valid_rows: bool = Field(default=False)
    status: str = Field(default=TransferStatus.PENDING.value, max_length=16, index=True)
    stage: str = Field(default="", max_length=20)  # reading | checking | writing | indexing | done
    rows_total: int = Field(default=0)
    rows_done: int = Field(default=0)
    summary: dict = Field(default_factory=dict, sa_type=JSON)  # counts written, see ImportResult
    problems: list = Field(default_factory=list, sa_type=JSON)  # the first problems, row/column/reason
    error: str = Field(default="", max_length=1000)
    requested_by: str = Field(default="", max_length=254)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class DataExport(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)  # products | orders
    filters: dict = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default=TransferStatus.PENDING.value, max_length=16, index=True)
    filename: str = Field(default="", max_length=255)
    storage_key: str = Field(default="", max_length=300)  # in the private exports bucket
    row_count: int = Field(default=0)
    size_bytes: int = Field(default=0)
    error: str = Field(default="", max_length=1000)
    requested_by: str = Field(default="", max_length=254)
    created_at: datetime = created_at_field()
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

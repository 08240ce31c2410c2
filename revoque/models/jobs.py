"""Jobs that failed for good (every retry used up), kept for staff to read and run again.

RQ keeps its own failed-job registry in Redis, and the embedded queue keeps none, so both queues
write here when a job gives up: one place, in the database, that outlives Redis restarts and that
the admin can list whichever queue is configured.
"""

from datetime import datetime

from sqlalchemy import JSON, DateTime
from sqlmodel import Field, SQLModel

from revoque.models.base import created_at_field


class FailedJob(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(default="", max_length=200, index=True)
    function: str = Field(max_length=200)  # dotted path, a function of revoque.jobs
    args: list = Field(default_factory=list, sa_type=JSON)
    kwargs: dict = Field(default_factory=dict, sa_type=JSON)
    error: str = Field(default="", max_length=4000)  # the last attempt's exception and traceback tail
    attempts: int = Field(default=1)
    failed_at: datetime = created_at_field()
    retried_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    retried_by: str = Field(default="", max_length=254)

"""One Redis client per URL, shared by the cache, the job queue, the worker and the health check.

Timeouts are short on purpose: Redis is optional for selling, so a slow or dead Redis must cost a
page at most a second before the callers fall back (the RQ worker raises the read timeout itself
for its blocking dequeue).
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import redis

from revoque.errors import ConfigError
from revoque.settings import get_settings

CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0
REDIS_RETRY_AFTER_SECONDS = 5.0  # after a failure, callers leave Redis alone this long

log = logging.getLogger(__name__)

# What a dead, unreachable or overloaded Redis raises; callers that degrade catch exactly these.
REDIS_DOWN_ERRORS: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)


class RedisOutage:
    """One caller's view of whether Redis is down. After a failure the caller skips Redis for
    ``REDIS_RETRY_AFTER_SECONDS`` instead of paying a timeout on every request, and the outage and
    the recovery are each logged once, not once per request."""

    def __init__(self, failed_message: str, recovered_message: str) -> None:
        self._failed_message, self._recovered_message = failed_message, recovered_message
        self._skip_until = 0.0
        self.down = False

    def skipping(self) -> bool:
        return time.monotonic() < self._skip_until

    def failed(self, reason: object) -> None:
        self._skip_until = time.monotonic() + REDIS_RETRY_AFTER_SECONDS
        if not self.down:
            self.down = True
            log.warning("%s: %s", self._failed_message, reason)

    def recovered(self) -> None:
        if self.down:
            self.down = False
            log.info(self._recovered_message)


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=READ_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


def redis_client() -> redis.Redis:
    """The client for REDIS_URL (cached per URL so tests can switch by changing settings)."""
    url = get_settings().redis_url.strip()
    if not url:
        raise ConfigError("REDIS_URL is not set; the embedded mode does not use Redis")
    return _client_for(url)


def redacted_url(url: str) -> str:
    """REDIS_URL without its password, fit for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))

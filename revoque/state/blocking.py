"""Synchronous event handlers whose work is database or cache reads, run off the event loop.

Each backend worker serves every tab connected to it on one asyncio loop. A query run inside a
handler holds that loop for its whole round trip, so under load every other tab on the worker waits
for it: profiled at 200 simulated shoppers, the loop spent a third of its time blocked on
PostgreSQL and Redis sockets while the CPU had room to spare. Handlers therefore do their blocking
work in worker threads (``asyncio.to_thread``), and ``off_loop`` does that for a whole handler.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

S = TypeVar("S")
P = ParamSpec("P")
R = TypeVar("R")


def off_loop(handler: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Run a synchronous handler's body in a worker thread. Safe for handlers that touch only their
    own state: Reflex holds the tab's lock for the whole event, so nothing else reads or writes the
    tab's states meanwhile. The body must not call the async state API (``get_state``)."""

    @functools.wraps(handler)
    async def run(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(handler, self, *args, **kwargs)

    return run
